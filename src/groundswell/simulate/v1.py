"""Simulated posts as Twitter API v1.1 tweets, one per line (a search or filter collection).

Retweets and quotes carry the tweet they refer to in full, as v1.1 does, so those are stored
as referenced posts when they were not themselves collected. Engagement counts are the
totals the process reached (as a later search would see them).
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from .ids import handle, twitter_user_id
from .model import Post, User, World
from .render import Engagement, engagement, repost_text, tag_spans, truncated, twitter_date

NAME = "v1"
PLATFORM = "twitter"
SUFFIX = ".jsonl.gz"
LABEL = "Twitter API v1.1 tweets, one JSON object per line, gzipped"
REFERENCED_KINDS = frozenset({"repost", "quote"})  # whose parent a record carries in full
SHOWS_REPOST_TEXT = True
_NONE = Engagement()


class Writer:
    def __init__(self, world: World):
        self.counts = engagement(world)
        self.users: dict[int, dict[str, Any]] = {}

    def line_count(self, count: int) -> int:
        """Lines that `count` posts become."""
        return count

    def header(self) -> bytes | None:
        return None

    def lines(self, posts: list[Post]) -> list[bytes]:
        return [orjson.dumps(self.tweet(post)) for post in posts]

    def broken(self, post: Post, rng: random.Random) -> bytes:
        return truncated(orjson.dumps(self.tweet(post)), rng)

    def user(self, user: User) -> dict[str, Any]:
        found = self.users.get(user.index)
        if found is None:
            uid = twitter_user_id(user)
            found = self.users[user.index] = {
                "id": int(uid), "id_str": uid, "screen_name": handle(user), "name": f"Synthetic User {user.index}",
                "followers_count": user.followers, "friends_count": user.following, "verified": user.verified,
                "description": "[synthetic] an invented account",
            }
        return found

    def tweet(self, post: Post, top: bool = True) -> dict[str, Any]:
        counts = self.counts.get(id(post), _NONE)
        tweet: dict[str, Any] = {
            "synthetic": True, "created_at": twitter_date(post.ms), "id": int(post.pid), "id_str": post.pid,
            "text": post.text, "truncated": False, "user": self.user(post.author), "lang": post.lang,
            "is_quote_status": post.kind == "quote",
            "retweet_count": counts.reposts, "favorite_count": counts.likes,
            "reply_count": counts.replies, "quote_count": counts.quotes,
        }
        if top:
            tweet["timestamp_ms"] = str(post.ms)
        content = post.content
        if not content.trailing:
            tweet["entities"] = _entities(content, post)
        parent = post.parent
        if post.kind == "repost" and parent is not None:
            tweet["text"] = repost_text(post, handle(parent.author))
            tweet["retweeted_status"] = self.tweet(parent, top=False)
        elif post.kind == "reply" and parent is not None:
            tweet["in_reply_to_status_id"], tweet["in_reply_to_status_id_str"] = int(parent.pid), parent.pid
            uid = twitter_user_id(parent.author)
            tweet["in_reply_to_user_id"], tweet["in_reply_to_user_id_str"] = int(uid), uid
            tweet["in_reply_to_screen_name"] = handle(parent.author)
        elif post.kind == "quote" and parent is not None:
            tweet["quoted_status_id"], tweet["quoted_status_id_str"] = int(parent.pid), parent.pid
            if top:  # an embedded tweet names its quote but does not nest it
                tweet["quoted_status"] = self.tweet(parent, top=False)
        return tweet


def _entities(content: Post, post: Post) -> dict[str, Any]:
    text = content.text or ""
    mentions = []
    if post.kind == "repost" and post.parent is not None:
        author = post.parent.author
        mentions.append({"screen_name": handle(author), "id_str": twitter_user_id(author), "indices": [3, 4 + len(handle(author))]})
        offset = len(f"RT @{handle(author)}: ")
    else:
        offset = 0
    tags = [{"text": tag, "indices": [start + offset, end + offset]} for tag, start, end in tag_spans(text, content.tags)]
    return {"hashtags": tags, "user_mentions": mentions, "urls": [], "symbols": []}
