"""Simulated posts as Twitter API v2 response pages, as twarc2 writes them (one page per line).

Each page holds up to 100 tweets in `data`, their authors in `includes.users`, and every
tweet they reply to, quote or retweet in `includes.tweets`, as the API's expansions give
them; those are stored as referenced posts when they were not themselves collected. A page
cannot take a top-level key of its own, so the synthetic mark is `meta.synthetic` and each
tweet's and user's `synthetic` field.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from .ids import handle, twitter_user_id
from .model import Post, User, World, iso
from .render import Engagement, engagement, repost_text, tag_spans, truncated

NAME = "v2"
PLATFORM = "twitter"
SUFFIX = ".jsonl"
LABEL = "Twitter API v2 search pages as twarc2 writes them, one page per line"
REFERENCED_KINDS = frozenset({"repost", "quote", "reply"})
SHOWS_REPOST_TEXT = True
PAGE_SIZE = 100
_NONE = Engagement()
_REF_TYPE = {"repost": "retweeted", "reply": "replied_to", "quote": "quoted"}


class Writer:
    def __init__(self, world: World):
        self.counts = engagement(world)
        self.retrieved = iso(world.cut_ms + 3_600_000)

    def line_count(self, count: int) -> int:
        """Lines that `count` posts become."""
        return -(-count // PAGE_SIZE)

    def header(self) -> bytes | None:
        return None

    def lines(self, posts: list[Post]) -> list[bytes]:
        return [orjson.dumps(self.page(posts[i:i + PAGE_SIZE])) for i in range(0, len(posts), PAGE_SIZE)]

    def broken(self, post: Post, rng: random.Random) -> bytes:
        return truncated(orjson.dumps(self.page([post])), rng)

    def page(self, posts: list[Post]) -> dict[str, Any]:
        parents = {id(p.parent): p.parent for p in posts if p.parent is not None}
        included = [parent for parent in parents.values() if parent is not None]
        authors = {post.author.index: post.author for post in [*posts, *included]}
        ids = [post.pid for post in posts]
        return {
            "data": [self.tweet(post) for post in posts],
            "includes": {"users": [_user(user) for user in authors.values()],
                         "tweets": [self.tweet(parent) for parent in included]},
            "meta": {"result_count": len(posts), "newest_id": max(ids, key=int), "oldest_id": min(ids, key=int),
                     "synthetic": True},
            "__twarc": {"url": "https://api.twitter.com/2/tweets/search/all?synthetic=true", "version": "2.14.0",
                        "retrieved_at": self.retrieved},
        }

    def tweet(self, post: Post) -> dict[str, Any]:
        counts = self.counts.get(id(post), _NONE)
        parent, content = post.parent, post.content
        text = repost_text(post, handle(parent.author)) if post.kind == "repost" and parent else post.text or ""
        tweet: dict[str, Any] = {
            "id": post.pid, "text": text, "author_id": twitter_user_id(post.author), "created_at": iso(post.ms),
            "conversation_id": (post.conversation or post).pid, "lang": post.lang, "edit_history_tweet_ids": [post.pid],
            "public_metrics": {"retweet_count": counts.reposts, "reply_count": counts.replies,
                               "like_count": counts.likes, "quote_count": counts.quotes},
            "synthetic": True,
        }
        if not content.trailing:
            offset = len(text) - len(content.text or "")
            tags = [{"start": s + offset, "end": e + offset, "tag": t} for t, s, e in tag_spans(content.text or "", content.tags)]
            mentions = [{"start": 3, "end": offset - 2, "username": handle(parent.author)}] if offset and parent else []
            tweet["entities"] = {k: v for k, v in (("hashtags", tags), ("mentions", mentions)) if v}
        if parent is not None:
            tweet["referenced_tweets"] = [{"type": _REF_TYPE[post.kind], "id": parent.pid}]
            if post.kind == "reply":
                tweet["in_reply_to_user_id"] = twitter_user_id(parent.author)
        return tweet


def _user(user: User) -> dict[str, Any]:
    return {
        "id": twitter_user_id(user), "username": handle(user), "name": f"Synthetic User {user.index}",
        "verified": user.verified, "description": "[synthetic] an invented account", "synthetic": True,
        "public_metrics": {"followers_count": user.followers, "following_count": user.following},
    }
