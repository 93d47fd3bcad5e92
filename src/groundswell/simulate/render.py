"""What the format writers share: engagement counts, entity spans, dates, broken copies."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from .model import Post, World, from_ms

TWITTER_DATE = "%a %b %d %H:%M:%S +0000 %Y"


@dataclass(frozen=True)
class Engagement:
    reposts: int = 0
    replies: int = 0
    quotes: int = 0

    @property
    def likes(self) -> int:
        """No likes are simulated: a fixed rule keeps engagement reproducible and plausible."""
        return 2 * self.reposts + self.replies


def engagement(world: World) -> dict[int, Engagement]:
    """Responses each post received in the whole observed process (by id() of the Post)."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    slot = {"repost": 0, "reply": 1, "quote": 2}
    for post in world.posts:
        if post.parent is not None:
            counts[id(post.parent)][slot[post.kind]] += 1
    return {key: Engagement(*value) for key, value in counts.items()}


def tag_spans(text: str, tags: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(tag, start, end) in code points for each `#tag` written with a leading '#'."""
    spans = []
    for tag in tags:
        start = text.find(f"#{tag}")
        if start >= 0:
            spans.append((tag, start, start + 1 + len(tag)))
    return spans


def twitter_date(ms: int) -> str:
    return from_ms(ms).strftime(TWITTER_DATE)


def truncated(line: bytes, rng: random.Random) -> bytes:
    """A line cut off part-way (a crash mid-write), at an ASCII byte so the rest stays UTF-8."""
    cut = rng.randrange(len(line) // 3, 2 * len(line) // 3)
    while cut > 1 and line[cut - 1] >= 0x80:
        cut -= 1
    return line[:cut]


def repost_text(post: Post, handle: str) -> str:
    """The `RT @handle: ` form that Twitter gives a retweet's text."""
    return f"RT @{handle}: {post.content.text}"
