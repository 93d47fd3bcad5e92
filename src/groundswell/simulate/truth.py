"""The ground truth of a simulated collection: every figure as ingest and the store must see it.

Figures are computed from the abstract world and the format's rules (which references a
record carries in full, whether a repost shows its original's text), never by reading the
written files back, so a test that compares them with the store checks the whole pipeline.
Each figure is defined in docs/simulate.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from types import ModuleType
from typing import Any, Iterable

from .. import __version__
from ..movement.definition import Movement
from ..movement.normalize import hashtag_key
from .archive import Facts
from .ids import did, handle, twitter_user_id
from .model import HOUR_MS, Post, User, World, hour_key, iso
from .spread import cascade_figures

KINDS = ("original", "repost", "reply", "quote")


class _Matcher:
    """The movement as the store will see each written post: its keys and phrase family."""

    def __init__(self, movement: Movement, fmt: ModuleType):
        self.family_of = movement.stored_forms()
        self.fold = movement.accent_fold
        self.phrase_family = {p: g.label for g in movement.phrases for p in g.patterns}
        self.shows_repost = fmt.SHOWS_REPOST_TEXT

    def view(self, post: Post) -> tuple[list[str], str | None]:
        """(movement keys of its tags, the family of the phrase its text says)."""
        if post.kind == "repost" and not self.shows_repost:
            return [], None
        content = post.content
        keys = [k for k in dict.fromkeys(hashtag_key(t, fold_accents=self.fold) for t in content.tags) if k in self.family_of]
        return keys, self.phrase_family.get(content.phrase) if content.phrase else None


def ground_truth(world: World, fmt: ModuleType, facts: Facts, movement: Movement) -> dict[str, Any]:
    written = world.written
    written_ids = {id(post) for post in written}
    referenced = {id(p.parent): p.parent for p in written
                  if p.parent is not None and p.kind in fmt.REFERENCED_KINDS and id(p.parent) not in written_ids}
    matcher = _Matcher(movement, fmt)
    views = {id(post): matcher.view(post) for post in written}
    author_id = twitter_user_id if fmt.PLATFORM == "twitter" else did
    p = world.params
    lo, hi = p.gap_ms
    return {
        "synthetic": True,
        "generator": {"command": "groundswell simulate", "version": __version__, "format": fmt.NAME,
                      "format_label": fmt.LABEL, "platform": fmt.PLATFORM, "seed": p.seed, "posts": p.posts,
                      "start": iso(p.start_ms), "movement": movement.name},
        "files": facts.files,
        "records_written": facts.records,
        "collected_posts": len(written),
        "duplicates": facts.duplicates,
        "broken_lines": facts.broken_lines,
        "referenced_only_posts": len(referenced),
        "by_kind": _by_kind(written),
        "distinct_authors": len({post.author.index for post in written}),
        "first_post": iso(written[0].ms),
        "last_post": iso(written[-1].ms),
        "true_start": iso(world.cta.ms),
        "burst_onset_hour": hour_key(world.cta.ms),
        "first_24_hours": _first_day(written, views, world.cta.ms),
        "per_hour": _per_hour(written),
        "per_hour_matched": _per_hour(post for post in written if _matched(views[id(post)])),
        "empty_hours": [h for h, n in _per_hour(written).items() if n == 0],
        "matching": _matching(written, views, movement),
        "variants": _variants(world, written, views, movement),
        "call_to_action": _call(world, written_ids, referenced, views, author_id),
        "gap": {"start": iso(lo), "end": iso(hi), "hours": p.gap_hours, "posts_lost": len(world.lost),
                "posts_lost_by_kind": _by_kind(world.lost),
                "movement_posts_lost": sum(1 for post in world.lost if post.family is not None),
                "referenced_only_in_gap": sum(1 for post in referenced.values() if lo <= post.ms < hi)},
        "notable_accounts": _notables(world, written, views, author_id),
        "process": {"movement_posts_generated": world.movement_generated, "posts_up_to_cut": len(world.posts),
                    "observed_until": iso(world.cut_ms), "parameters": _parameters(world)},
    }


def _by_kind(posts: Iterable[Post]) -> dict[str, int]:
    counts = Counter(post.kind for post in posts)
    return {kind: counts.get(kind, 0) for kind in KINDS}


def _matched(view: tuple[list[str], str | None]) -> bool:
    return bool(view[0]) or view[1] is not None


def _per_hour(posts: Iterable[Post]) -> dict[str, int]:
    """Posts per UTC hour, every hour from the first post's to the last's, empty hours as 0."""
    counts = Counter(post.ms // HOUR_MS for post in posts)
    if not counts:
        return {}
    return {hour_key(h * HOUR_MS): counts.get(h, 0) for h in range(min(counts), max(counts) + 1)}


def _first_day(written: list[Post], views: dict[int, Any], start: int) -> dict[str, int]:
    day = [post for post in written if start <= post.ms < start + 24 * HOUR_MS]
    return {"posts": len(day), "matched": sum(1 for post in day if _matched(views[id(post)]))}


def _matching(written: list[Post], views: dict[int, Any], movement: Movement) -> dict[str, Any]:
    classes: dict[str, list[Post]] = defaultdict(list)
    families: dict[str, list[Post]] = defaultdict(list)
    variants: dict[str, list[Post]] = defaultdict(list)
    forms = movement.stored_forms()
    for post in written:
        keys, phrase = views[id(post)]
        label = "both" if keys and phrase else "hashtag_only" if keys else "phrase_only" if phrase else "unmatched"
        classes[label].append(post)
        for family in sorted({forms[k] for k in keys} | ({phrase} if phrase else set())):
            families[family].append(post)
        for key in keys:
            variants[key].append(post)
    figure = _figure
    by_hashtag = classes["hashtag_only"] + classes["both"]
    by_phrase = classes["phrase_only"] + classes["both"]
    return {
        **{name: figure(classes[name]) for name in ("hashtag_only", "phrase_only", "both", "unmatched")},
        "by_hashtag": figure(by_hashtag), "by_phrase": figure(by_phrase),
        "matched": figure(by_hashtag + classes["phrase_only"]),
        "phrase_only_replies": sum(1 for post in classes["phrase_only"] if post.kind == "reply"),
        "by_family": {label: figure(families[label]) for label in movement.labels() if label in families},
        "by_variant": {key: figure(posts) for key, posts in sorted(variants.items(), key=lambda kv: -len(kv[1]))},
    }


def _figure(posts: list[Post]) -> dict[str, int]:
    return {"posts": len(posts), "distinct_authors": len({post.author.index for post in posts})}


def _variants(world: World, written: list[Post], views: dict[int, Any], movement: Movement) -> list[dict[str, Any]]:
    """Each simulated variant: the lag it was given, and when its key is first seen in the data."""
    first: dict[str, int] = {}
    for post in written:
        for key in views[id(post)][0]:
            first.setdefault(key, post.ms)
    forms = movement.stored_forms()
    out = []
    core_key = hashtag_key(world.params.core_tags[0][0], fold_accents=movement.accent_fold)
    entries = [("core", world.params.core_tags[0][0], 0.0, world.cta)] + [
        (v.family, v.tag, v.lag_hours, world.seeds[v.tag]) for v in world.params.variants]
    for family, tag, lag, seed in entries:
        key = core_key if family == "core" else hashtag_key(tag, fold_accents=movement.accent_fold)
        out.append({"family": family, "tag": tag, "key": key, "in_family": forms.get(key),
                    "language": seed.lang, "lag_hours": lag, "onset": iso(seed.ms), "onset_hour": hour_key(seed.ms),
                    "first_seen": iso(first[key]) if key in first else None, "onset_post_id": seed.pid})
    return out


def _call(world: World, written_ids: set[int], referenced: dict[int, Post], views: dict[int, Any],
          author_id: Any) -> dict[str, Any]:
    cta = world.cta
    stored = written_ids | referenced.keys()
    return {
        "post_id": cta.pid, "author_id": author_id(cta.author), "author_handle": handle(cta.author),
        "created_at": iso(cta.ms), "author_followers": cta.author.followers,
        "cascade": cascade_figures(world.posts, cta, lambda post: id(post) in stored, views),
        "process_cascade": cascade_figures(world.posts, cta, lambda post: True, None),
    }


def _notables(world: World, written: list[Post], views: dict[int, Any], author_id: Any) -> list[dict[str, Any]]:
    first: dict[int, int] = {}
    for post in written:
        if post.author.verified and _matched(views[id(post)]):
            first.setdefault(post.author.index, post.ms)
    users: list[User] = [user for user in world.users if user.verified]
    return [{"author_id": author_id(u), "handle": handle(u), "followers": u.followers,
             "first_movement_post": iso(first[u.index]) if u.index in first else None} for u in users]


def _parameters(world: World) -> dict[str, Any]:
    params = world.params
    out = {name: getattr(params, name) for name in params.__dataclass_fields__ if name not in ("variants", "start")}
    out["core_tags"] = [list(pair) for pair in params.core_tags]
    out["variants"] = [
        {"family": v.family, "tag": v.tag, "lag_hours": v.lag_hours, "share": v.share, "trailing_share": v.trailing_share}
        for v in params.variants]
    return out
