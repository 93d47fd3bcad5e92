"""Simulated posts as a twarc-csv table (Twitter API v2 tweets flattened to columns).

A table cannot carry a referenced tweet in full, so nothing is stored as referenced. Every
row has a `synthetic` column set to true. A broken row is one whose id a spreadsheet has
turned into a floating-point number (`9.19E+17`): its digits are lost, so it is rejected.
"""

from __future__ import annotations

import csv
import io
import random

import orjson

from .ids import handle, twitter_user_id
from .model import Post, World, iso
from .render import Engagement, engagement, repost_text, tag_spans

NAME = "csv"
PLATFORM = "twitter"
SUFFIX = ".csv"
LABEL = "a twarc-csv table of Twitter API v2 tweets, with a header row"
REFERENCED_KINDS: frozenset[str] = frozenset()
SHOWS_REPOST_TEXT = True
COLUMNS = (
    "id", "conversation_id", "referenced_tweets.replied_to.id", "referenced_tweets.retweeted.id",
    "referenced_tweets.quoted.id", "author_id", "in_reply_to_user_id", "created_at", "text", "lang",
    "entities.hashtags", "author.username", "author.name", "author.verified",
    "author.public_metrics.followers_count", "author.public_metrics.following_count",
    "public_metrics.like_count", "public_metrics.retweet_count", "public_metrics.reply_count",
    "public_metrics.quote_count", "__twarc.retrieved_at", "synthetic",
)
_REF_COLUMN = {"reply": 2, "repost": 3, "quote": 4}
_NONE = Engagement()


class Writer:
    def __init__(self, world: World):
        self.counts = engagement(world)
        self.retrieved = iso(world.cut_ms + 3_600_000)

    def line_count(self, count: int) -> int:
        """Lines that `count` posts become."""
        return count

    def header(self) -> bytes | None:
        return _line(list(COLUMNS))

    def lines(self, posts: list[Post]) -> list[bytes]:
        return [_line(self.row(post)) for post in posts]

    def broken(self, post: Post, rng: random.Random) -> bytes:
        row = self.row(post)
        row[0] = f"{float(row[0]):.14E}"
        return _line(row)

    def row(self, post: Post) -> list[str]:
        counts = self.counts.get(id(post), _NONE)
        parent, content, user = post.parent, post.content, post.author
        text = repost_text(post, handle(parent.author)) if post.kind == "repost" and parent else post.text or ""
        offset = len(text) - len(content.text or "")
        tags = "" if content.trailing else orjson.dumps(
            [{"start": s + offset, "end": e + offset, "tag": t} for t, s, e in tag_spans(content.text or "", content.tags)]
        ).decode()
        row = [post.pid, (post.conversation or post).pid, "", "", "", twitter_user_id(user), "", iso(post.ms), text,
               post.lang, "" if tags == "[]" else tags, handle(user), f"Synthetic User {user.index}", str(user.verified),
               str(user.followers), str(user.following), str(counts.likes), str(counts.reposts), str(counts.replies),
               str(counts.quotes), self.retrieved, "true"]
        if parent is not None:
            row[_REF_COLUMN[post.kind]] = parent.pid
            if post.kind == "reply":
                row[6] = twitter_user_id(parent.author)
        return row


def _line(cells: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()[:-1].encode()  # the archive adds the line ends
