"""SYNTHETIC tables in the layouts users export (issue: real tables as users bring them).

Every value here is invented: texts are "synthetic post N", handles are "synthetic_user_N".
Each writer returns the file's path and the ground truth the tests assert: post ids, kinds,
times. Tweet ids are snowflakes minted from their own times, so a written time and the id
agree, as they do in real exports.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from groundswell.simulate.ids import snowflake, tid

START = datetime(2019, 12, 2, 9, 0)
BLUESKY_START = datetime(2024, 11, 18, 9, 0)  # Bluesky times before 2022 are taken as a client's invention
EPOCH = datetime(1970, 1, 1)


@dataclass
class Truth:
    ids: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    times: dict[str, datetime] = field(default_factory=dict)
    authors: set[str] = field(default_factory=set)


def _ms(moment: datetime) -> int:
    return int((moment - EPOCH) / timedelta(milliseconds=1))


def _tweet(i: int, minutes: int = 7) -> tuple[str, datetime]:
    moment = START + timedelta(minutes=minutes * i)
    return str(snowflake(_ms(moment), i % 4096)), moment


def _text(i: int, kind: str) -> str:
    words = f"synthetic post {i} #MeToo" if i % 3 else f"synthetic post {i} me too"
    if kind == "repost":
        return f"RT @synthetic_user_{(i + 1) % 9}: {words}"
    return words


def _write_csv(path: Path, rows: list[dict[str, object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _kind(i: int) -> str:
    return ("original", "repost", "reply", "original", "quote")[i % 5]


def twarc_v1_csv(folder: Path, n: int = 60, user_ids: bool = False) -> tuple[Path, Truth]:
    """twarc 1's json2csv columns; without user_id by default (handles only)."""
    truth, rows = Truth(), []
    for i in range(n):
        post_id, moment = _tweet(i)
        kind = _kind(i)
        ref = _tweet(10_000 + i)[0]
        row = {"id": post_id, "tweet_url": f"https://twitter.com/synthetic_user_{i % 9}/status/{post_id}",
               "created_at": moment.strftime("%a %b %d %H:%M:%S +0000 %Y"),
               "parsed_created_at": moment.strftime("%Y-%m-%d %H:%M:%S+00:00"),
               "user_screen_name": f"synthetic_user_{i % 9}", "text": _text(i, kind),
               "tweet_type": {"repost": "retweet"}.get(kind, kind), "hashtags": "MeToo" if i % 3 else "",
               "favorite_count": i % 4, "in_reply_to_screen_name": "synthetic_user_1" if kind == "reply" else "",
               "in_reply_to_status_id": ref if kind == "reply" else "", "lang": "en", "retweet_count": 0,
               "retweet_or_quote_id": ref if kind in ("repost", "quote") else "",
               "user_followers_count": 10 * i, "user_friends_count": 3, "user_verified": "False",
               "user_name": f"Synthetic {i % 9}"}
        if user_ids:
            row["user_id"] = str(1000 + i % 9)
        rows.append(row)
        truth.ids.append(post_id)
        truth.kinds[post_id] = kind
        truth.times[post_id] = moment
        truth.authors.add(f"synthetic_user_{i % 9}")
    return _write_csv(folder / "synthetic-twarc-v1.csv", rows), truth


def issue_twarc_v1_csv(folder: Path, n: int = 40) -> tuple[Path, Truth]:
    """The short twarc v1 layout named in the issue: retweet_id, no user id, no tweet_type."""
    truth, rows = Truth(), []
    for i in range(n):
        post_id, moment = _tweet(i)
        kind = ("original", "repost", "reply", "original")[i % 4]
        ref = _tweet(20_000 + i)[0]
        rows.append({"id": post_id, "created_at": moment.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                     "text": _text(i, kind), "user_screen_name": f"synthetic_user_{i % 7}",
                     "user_followers_count": i, "user_verified": "false",
                     "retweet_id": ref if kind == "repost" else "",
                     "in_reply_to_status_id": ref if kind == "reply" else ""})
        truth.ids.append(post_id)
        truth.kinds[post_id] = kind
        truth.times[post_id] = moment
        truth.authors.add(f"synthetic_user_{i % 7}")
    return _write_csv(folder / "synthetic-twarc-v1-short.csv", rows), truth


def plain_scrape(folder: Path, n: int = 50, style: str = "upper") -> tuple[Path, Truth]:
    """`ID, Created_Time, Tweet_text` (or lower case); retweets only marked by `RT @` in the text."""
    names = {"upper": ("ID", "Created_Time", "Tweet_text"), "lower": ("id", "created_time", "tweet_text"),
             "mixed": ("Id", "Date", "Text")}[style]
    truth, rows = Truth(), []
    for i in range(n):
        post_id, moment = _tweet(i)
        kind = "repost" if i % 4 == 1 else "original"
        rows.append(dict(zip(names, (post_id, moment.strftime("%Y-%m-%d %H:%M:%S"), _text(i, kind)))))
        truth.ids.append(post_id)
        truth.kinds[post_id] = kind
        truth.times[post_id] = moment
    return _write_csv(folder / f"synthetic-scrape-{style}.csv", rows), truth


def person_retweets(folder: Path, n: int = 30) -> tuple[Path, Truth]:
    """One person's retweets and replies, saved through pandas: the reply-to ids became floats."""
    truth, rows = Truth(), []
    for i in range(n):
        post_id, moment = _tweet(i, minutes=31)
        kind = ("repost", "repost", "reply")[i % 3]
        reply_to = float(_tweet(30_000 + i)[0]) if kind == "reply" else ""
        rows.append({"tweet_id": post_id, "created_at": moment.isoformat() + "Z", "text": _text(i, kind),
                     "screen_name": "synthetic_person", "in_reply_to_status_id": repr(reply_to) if reply_to else "",
                     "retweet_count": 0, "favorite_count": i % 3})
        truth.ids.append(post_id)
        truth.kinds[post_id] = kind
        truth.times[post_id] = moment
    truth.authors.add("synthetic_person")
    return _write_csv(folder / "synthetic-person-retweets.csv", rows), truth


def _bluesky_rows(n: int, created: str) -> tuple[list[dict[str, object]], Truth]:
    truth, rows = Truth(), []
    for i in range(n):
        moment = BLUESKY_START + timedelta(minutes=11 * i)
        did = f"did:plc:synthetic{i % 6:04d}"
        rkey = tid(_ms(moment), i)
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        kind = "reply" if i % 5 == 2 else "original"
        parent = f"at://did:plc:synthetic9999/app.bsky.feed.post/{tid(_ms(BLUESKY_START), 900 + i)}" if kind == "reply" else ""
        rows.append({"uri": uri, "cid": f"bafysynthetic{i}", "author_did": did,
                     "author_handle": f"synthetic{i % 6}.bsky.social", created: moment.isoformat() + "Z",
                     "text": _text(i, kind), "reply_parent": parent, "like_count": i % 2})
        truth.ids.append(uri)
        truth.kinds[uri] = kind
        truth.times[uri] = moment
        truth.authors.add(did)
    return rows, truth


def bluesky_export(folder: Path, n: int = 40, created: str = "created_at") -> tuple[Path, Truth]:
    rows, truth = _bluesky_rows(n, created)
    return _write_csv(folder / f"synthetic-bluesky-{created}.csv", rows), truth


def bluesky_json_array(folder: Path, n: int = 25) -> tuple[Path, Truth]:
    """The same export as a flat JSON array, with `createdAt`."""
    rows, truth = _bluesky_rows(n, "createdAt")
    path = folder / "synthetic-bluesky.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path, truth


def scrape_jsonl(folder: Path, n: int = 30) -> tuple[Path, Truth]:
    """A plain scrape as JSON lines: flat records are a table too."""
    path, truth = plain_scrape(folder, n, "lower")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = folder / "synthetic-scrape.jsonl"
    out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    path.unlink()
    return out, truth


def unknown_table(folder: Path) -> Path:
    return _write_csv(folder / "synthetic-unknown.csv", [{"a": i, "b": f"synthetic {i}", "c": i * 2} for i in range(500)])


def ambiguous_table(folder: Path) -> Path:
    """Two columns could each be the post id (`id` and `tweet_id`)."""
    rows = [{"id": i, "tweet_id": _tweet(i)[0], "date": "2019-12-02", "text": f"synthetic post {i}"} for i in range(20)]
    return _write_csv(folder / "synthetic-ambiguous.csv", rows)
