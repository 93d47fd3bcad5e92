"""The true cascade of a post: the tree of replies, quotes and reposts that reach it.

A node belongs to the observed tree when its own record is in the store (collected, or
referenced in full by a collected record) and its parent belongs to it: that is what a
walk over the store's reference columns can find. Definitions are in docs/simulate.md.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from .model import Post

MILESTONES = (10, 100, 1000)


def cascade_figures(posts: list[Post], root: Post, visible: Callable[[Post], bool],
                    views: dict[int, Any] | None) -> dict[str, Any]:
    children: dict[int, list[Post]] = defaultdict(list)
    for post in posts:
        if post.parent is not None:
            children[id(post.parent)].append(post)
    order, depth_of = [root], {id(root): 0}
    for node in order:  # breadth first; `order` grows while it is walked
        for child in children.get(id(node), ()):
            if visible(child):
                depth_of[id(child)] = depth_of[id(node)] + 1
                order.append(child)
    responses = order[1:]
    breadth: dict[int, int] = defaultdict(int)
    for node in responses:
        breadth[depth_of[id(node)]] += 1
    kinds = {kind: 0 for kind in ("repost", "reply", "quote")}
    for node in responses:
        kinds[node.kind] += 1
    figures: dict[str, Any] = {
        "size": len(order), "responses": len(responses), "by_kind": kinds,
        "depth": max(breadth, default=0), "max_breadth": max(breadth.values(), default=0),
        "breadth_by_depth": [breadth[d] for d in range(1, max(breadth, default=0) + 1)],
        "structural_virality": _structural_virality(order, depth_of),
        "seconds_to_responses": _milestones(root, responses),
    }
    if views is not None:
        figures["collected_replies"] = _reply_match(responses, views)
    return figures


def _structural_virality(order: list[Post], depth_of: dict[int, int]) -> float:
    """Mean distance between two nodes (Goel et al. 2016), via the Wiener index of the tree:
    each edge lies on s * (n - s) of the paths, s being the size of the subtree below it."""
    n = len(order)
    if n < 2:
        return 0.0
    size = {id(node): 1 for node in order}
    total = 0
    for node in reversed(order[1:]):
        s = size[id(node)]
        total += s * (n - s)
        size[id(node.parent)] += s
    return total / (n * (n - 1) / 2)


def _milestones(root: Post, responses: list[Post]) -> dict[str, float | None]:
    times = sorted(node.ms for node in responses)
    return {str(k): (times[k - 1] - root.ms) / 1000 if len(times) >= k else None for k in MILESTONES}


def _reply_match(responses: list[Post], views: dict[int, Any]) -> dict[str, int]:
    """Collected replies in the tree: with a movement hashtag, with only its phrase, with neither."""
    counts = {"hashtag": 0, "phrase_only": 0, "neither": 0}
    for node in responses:
        view = views.get(id(node))
        if node.kind != "reply" or view is None:
            continue
        keys, phrase = view
        counts["hashtag" if keys else "phrase_only" if phrase else "neither"] += 1
    return counts
