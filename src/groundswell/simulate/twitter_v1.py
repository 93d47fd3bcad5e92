"""A small synthetic #MeToo-like movement in Twitter v1.1 stream format, with its truth.

The file includes what real archives include: retweets carrying their originals, replies,
quotes, hashtag variants in several languages, an exact duplicate line and one broken
line, so that ingest's counts can be checked against known answers.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..timeutil import TWITTER_EPOCH_MS

START = datetime(2017, 10, 15, 20, 0, 0)
VARIANTS = ("MeToo", "metoo", "MoiAussi", "YoTambién", "BalanceTonPorc", "وأنا_كمان", "QuellaVoltaChe")
DAYS_FORMAT = "%a %b %d %H:%M:%S +0000 %Y"


@dataclass
class GroundTruth:
    collected: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: {"original": 0, "repost": 0, "reply": 0, "quote": 0})
    referenced_only: int = 0
    duplicates: int = 0
    broken_lines: int = 0
    authors: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"collected": self.collected, "by_kind": self.by_kind, "referenced_only": self.referenced_only,
                "duplicates": self.duplicates, "broken_lines": self.broken_lines, "distinct_authors": len(self.authors)}


def tweet_id_at(moment: datetime, sequence: int) -> int:
    """A snowflake whose time is `moment`, so created_at and the id agree as on Twitter."""
    ms = int((moment - datetime(1970, 1, 1)).total_seconds() * 1000) - TWITTER_EPOCH_MS
    return (ms << 22) | (sequence & 0x3FFFFF)


def _user(n: int, rng: random.Random) -> dict[str, Any]:
    followers = int(rng.paretovariate(1.2) * 50)
    return {"id_str": str(10_000 + n), "id": 10_000 + n, "screen_name": f"synthetic_user_{n}", "name": f"Synthetic {n}",
            "followers_count": followers, "friends_count": rng.randint(0, 500), "verified": followers > 20_000}


def _tweet(seq: int, moment: datetime, user: dict[str, Any], text: str, tags: list[str]) -> dict[str, Any]:
    tid = tweet_id_at(moment, seq)
    return {"synthetic": True, "id": tid, "id_str": str(tid), "created_at": moment.strftime(DAYS_FORMAT),
            "text": text, "user": user, "lang": "en", "truncated": False,
            "entities": {"hashtags": [{"text": t, "indices": [0, 0]} for t in tags], "user_mentions": [], "urls": []},
            "favorite_count": 0, "retweet_count": 0}


def write_v1_sample(folder: Path, posts: int = 2000, seed: int = 7) -> GroundTruth:
    """Write `posts` collected tweets (plus one duplicate and one broken line) as gzipped JSONL."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth = GroundTruth()
    users = [_user(n, rng) for n in range(max(10, posts // 3))]
    originals: list[dict[str, Any]] = []
    lines: list[bytes] = []
    for seq in range(posts):
        moment = START + timedelta(seconds=seq * 7 + rng.randint(0, 6))
        user = rng.choice(users)
        tag = rng.choice(VARIANTS)
        kind = "original" if len(originals) < 3 else rng.choices(("original", "repost", "reply", "quote"), (3, 5, 2, 1))[0]
        tweet = _tweet(seq, moment, user, f"[synthetic] post {seq} #{tag}", [tag])
        if kind != "original":
            target = rng.choice(originals)
            _link(tweet, target, kind)
        else:
            originals.append(tweet)
        truth.by_kind[kind] += 1
        truth.authors.add(user["id_str"])
        lines.append(orjson.dumps(tweet))
    truth.collected = posts
    lines.insert(len(lines) // 2, lines[len(lines) // 3])  # the same tweet collected twice
    truth.duplicates = 1
    lines.insert(len(lines) // 4, b'{"synthetic": true, "id_str": "1", "text": "[synthetic] cut off')
    truth.broken_lines = 1
    with gzip.open(folder / "synthetic-v1-stream.jsonl.gz", "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    return truth


def _link(tweet: dict[str, Any], target: dict[str, Any], kind: str) -> None:
    if kind == "repost":
        tweet["retweeted_status"] = {k: v for k, v in target.items() if k != "synthetic"}
        tweet["text"] = f"RT @{target['user']['screen_name']}: {target['text']}"
        tweet["entities"] = target["entities"]
    elif kind == "reply":
        tweet["in_reply_to_status_id_str"] = target["id_str"]
        tweet["in_reply_to_user_id_str"] = target["user"]["id_str"]
    else:
        tweet["is_quote_status"] = True
        tweet["quoted_status_id_str"] = target["id_str"]
        tweet["quoted_status"] = {k: v for k, v in target.items() if k != "synthetic"}
