"""Simulated posts as Bluesky Jetstream commit events, one per line.

Posts are `app.bsky.feed.post` creates with their tags in facets; reposts are separate
`app.bsky.feed.repost` records that name their subject and carry no text, so they match a
movement by neither tag nor phrase. Jetstream says nothing about accounts (no followers,
no handles), and no event carries another post in full, so nothing is stored as referenced.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from .ids import bluesky_uri, cid, did, tid
from .model import Post, World, iso
from .render import tag_spans, truncated

NAME = "jetstream"
PLATFORM = "bluesky"
SUFFIX = ".jsonl"
LABEL = "Bluesky Jetstream commit events, one JSON object per line"
REFERENCED_KINDS: frozenset[str] = frozenset()
SHOWS_REPOST_TEXT = False
SERVER_DELAY_US = 250_000  # the relay sees a record a quarter of a second after its client time


class Writer:
    def __init__(self, world: World):
        self.world = world

    def line_count(self, count: int) -> int:
        """Lines that `count` posts become."""
        return count

    def header(self) -> bytes | None:
        return None

    def lines(self, posts: list[Post]) -> list[bytes]:
        return [orjson.dumps(self.event(post)) for post in posts]

    def broken(self, post: Post, rng: random.Random) -> bytes:
        return truncated(orjson.dumps(self.event(post)), rng)

    def event(self, post: Post) -> dict[str, Any]:
        collection = "app.bsky.feed.repost" if post.kind == "repost" else "app.bsky.feed.post"
        return {
            "did": did(post.author), "time_us": post.ms * 1000 + SERVER_DELAY_US, "kind": "commit",
            "commit": {"rev": tid(post.ms + 250, post.serial), "operation": "create", "collection": collection,
                       "rkey": bluesky_uri(post).rsplit("/", 1)[1], "record": self.record(post), "cid": cid(post)},
            "synthetic": True,
        }

    def record(self, post: Post) -> dict[str, Any]:
        parent = post.parent
        if post.kind == "repost" and parent is not None:
            return {"$type": "app.bsky.feed.repost", "subject": _ref(parent), "createdAt": iso(post.ms)}
        text = post.text or ""
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": iso(post.ms), "langs": [post.lang], "text": text}
        if post.tags and not post.trailing:
            record["facets"] = _facets(text, post.tags)
        if post.kind == "reply" and parent is not None:
            record["reply"] = {"root": _ref(post.conversation or parent), "parent": _ref(parent)}
        elif post.kind == "quote" and parent is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": _ref(parent)}
        return record


def _ref(post: Post) -> dict[str, str]:
    return {"uri": post.pid, "cid": cid(post)}


def _facets(text: str, tags: tuple[str, ...]) -> list[dict[str, Any]]:
    """Tag facets with UTF-8 byte offsets, as Bluesky clients write them."""
    facets = []
    for tag, start, end in tag_spans(text, tags):
        byte_start = len(text[:start].encode())
        byte_end = byte_start + len(text[start:end].encode())
        facets.append({"index": {"byteStart": byte_start, "byteEnd": byte_end},
                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    return facets
