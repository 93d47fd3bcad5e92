"""Partial collections of a simulated movement, with the true totals beside them.

Every archive a researcher holds is partial; these are the four kinds `groundswell estimate`
corrects for, each cut from one full ground truth so the estimate can be checked against it:
  - stream: a filtered v1.1 stream capped per minute, with cumulative limit notices (not every
    limited minute sends one, and the connection resets half-way, so the counter restarts);
  - sample: a Bernoulli sample of every post at a known rate (a 1% sample stream);
  - overlap: two or three collections, each capturing every post independently at its own rate;
  - scrape: a daily search scrape of a burst that grows and decays over weeks, with the week
    after the onset day missing (aurora848's case), from its own daily burst model.
Records are minimal synthetic v1.1 tweets ("synthetic": true, texts "[synthetic] ...",
handles synthetic_user_N). `partial_truth` is what the files cannot tell and the estimate
should recover. The full movement (stream, sample, overlap) is the simulator's world: every
post it made, the ones its own collection gap lost included.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pathlib import Path

import numpy as np
import orjson

from ..errors import GroundswellError
from ..movement.definition import load_builtin
from .archive import README, TRUTH, prepare
from .model import Params, from_ms, to_ms
from .process import simulate

KINDS = ("stream", "sample", "overlap", "scrape")
TWEPOCH_MS = 1288834974657
MINUTE_MS = 60_000
STREAM_CAP_QUANTILE = 0.85  # the per-minute cap is this quantile of minutes' volumes
NOTICE_CHANCE = 0.7  # a limited minute sends a notice with this chance
OVERLAP_RATES = (0.55, 0.4, 0.65)
SCRAPE_DAYS, SCRAPE_ONSET, SCRAPE_GAP = 36, 14, 7


@dataclass(frozen=True)
class Tweet:
    """A full-truth post as the partial writers need it: time, author, movement or not."""

    ms: int
    serial: int
    author: int
    movement: bool


@dataclass
class Partial:
    """One partial collection: its files' lines by name, and its truth."""

    files: dict[str, list[bytes]] = field(default_factory=dict)
    truth: dict = field(default_factory=dict)


def full_movement(posts: int, seed: int, start: datetime) -> list[Tweet]:
    world = simulate(replace(Params(), posts=posts, seed=seed, start=start), load_builtin("metoo"))
    return [Tweet(p.ms, i, p.author.index, p.family is not None) for i, p in enumerate(world.posts)]


def tweet(t: Tweet) -> bytes:
    pid = str(((t.ms - TWEPOCH_MS) << 22) | (t.serial & 0x3FFFFF))
    text = "[synthetic] a post #MeToo" if t.movement else "[synthetic] an unrelated post #Weather"
    tag = "MeToo" if t.movement else "Weather"
    return orjson.dumps({
        "synthetic": True, "id": int(pid), "id_str": pid, "text": text, "timestamp_ms": str(t.ms),
        "created_at": from_ms(t.ms).strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "user": {"id": 10_000 + t.author, "id_str": str(10_000 + t.author), "screen_name": f"synthetic_user_{t.author}"},
        "entities": {"hashtags": [{"text": tag, "indices": [text.index("#"), len(text)]}], "user_mentions": [], "urls": []},
    })


def _truth(tweets: list[Tweet], **extra: object) -> dict:
    movement = [t for t in tweets if t.movement]
    return {"synthetic": True, "true_posts": len(tweets), "true_movement_posts": len(movement),
            "true_movement_people": len({t.author for t in movement}), **extra}


def stream(tweets: list[Tweet], rng: random.Random) -> Partial:
    """Capped per minute; notices are cumulative per connection, which resets half-way."""
    minutes: dict[int, list[Tweet]] = defaultdict(list)
    for t in tweets:
        minutes[t.ms // MINUTE_MS].append(t)
    cap = max(1, int(np.quantile([len(v) for v in minutes.values()], STREAM_CAP_QUANTILE)))
    reset_at = sorted(minutes)[len(minutes) // 2]
    lines, dropped, track = [], 0, 0
    for minute in sorted(minutes):
        if minute == reset_at:
            track = 0
        kept, lost = minutes[minute][:cap], minutes[minute][cap:]
        lines += [tweet(t) for t in kept]
        dropped += len(lost)
        track += len(lost)
        if lost and rng.random() < NOTICE_CHANCE:
            lines.append(orjson.dumps({"limit": {"track": track, "timestamp_ms": str((minute + 1) * MINUTE_MS - 1)}}))
    return Partial({_name("stream", tweets[0].ms): lines}, _truth(tweets, cap_per_minute=cap, dropped=dropped, reset_minute=iso_minute(reset_at)))


def _name(kind: str, ms: int) -> str:
    """The simulator's file names (archive._OURS), so that a later run may clear them."""
    return f"synthetic-{kind}-{from_ms(ms).date().isoformat()}.jsonl"


def iso_minute(minute: int) -> str:
    return from_ms(minute * MINUTE_MS).isoformat() + "Z"


def sample(tweets: list[Tweet], rng: random.Random, rate: float = 0.01) -> Partial:
    kept = [t for t in tweets if rng.random() < rate]
    return Partial({_name("sample", tweets[0].ms): [tweet(t) for t in kept]}, _truth(tweets, sample_rate=rate))


def overlap(tweets: list[Tweet], rng: random.Random, collections: int = 2) -> Partial:
    files = {}
    for index, rate in enumerate(OVERLAP_RATES[:collections]):
        files[_name(f"collection{'abc'[index]}", tweets[0].ms)] = [tweet(t) for t in tweets if rng.random() < rate]
    return Partial(files, _truth(tweets, capture_rates=list(OVERLAP_RATES[:collections])))


def scrape_days(rng: random.Random, scale: float = 1.0) -> list[int]:
    """Daily counts of a burst: a quiet baseline, an onset late on day SCRAPE_ONSET, a peak the
    day after, then a decay with its own rate, with day-to-day noise (log-normal) and Poisson counts."""
    base = rng.uniform(10, 30) * scale
    peak = base * rng.uniform(30, 150)
    decay = rng.uniform(0.08, 0.3)
    counts = []
    for day in range(SCRAPE_DAYS):
        if day < SCRAPE_ONSET:
            mean = base
        elif day == SCRAPE_ONSET:
            mean = base + peak * rng.uniform(0.1, 0.35)  # the onset comes late in the day
        else:
            mean = base + peak * math.exp(-decay * (day - SCRAPE_ONSET - 1))
        counts.append(int(np.random.default_rng(rng.randrange(1 << 30)).poisson(mean * math.exp(rng.gauss(0, 0.08)))))
    return counts


def scrape(start: datetime, rng: random.Random, scale: float = 1.0) -> Partial:
    """The daily burst written as tweets, one file per day, the week after the onset day left out."""
    counts = scrape_days(rng, scale)
    files: dict[str, list[bytes]] = {}
    authors = max(50, int(sum(counts) * 0.6))
    serial = 0
    missing = range(SCRAPE_ONSET + 1, SCRAPE_ONSET + 1 + SCRAPE_GAP)
    for day, n in enumerate(counts):
        first = to_ms(start + timedelta(days=day))
        day_tweets = [Tweet(first + int(rng.random() * 86_399_000), serial + i, rng.randrange(authors), True) for i in range(n)]
        serial += n
        if day not in missing:
            files[_name("scrape", first)] = [tweet(t) for t in sorted(day_tweets, key=lambda t: t.ms)]
    gap_days = [(start + timedelta(days=d)).date().isoformat() for d in missing]
    return Partial(files, {"synthetic": True, "true_movement_posts": sum(counts),
                           "missing_days": gap_days, "true_missing_posts": sum(counts[d] for d in missing),
                           "true_per_day": {(start + timedelta(days=d)).date().isoformat(): n for d, n in enumerate(counts)}})


def build(kind: str, posts: int, seed: int, start: datetime, collections: int = 2) -> Partial:
    rng = random.Random(f"partial-{kind}-{seed}")
    if kind == "scrape":
        midnight = datetime.combine(start.date(), datetime.min.time())
        return scrape(midnight - timedelta(days=SCRAPE_ONSET), rng)
    tweets = full_movement(posts, seed, start)
    if kind == "stream":
        return stream(tweets, rng)
    if kind == "sample":
        return sample(tweets, rng)
    return overlap(tweets, rng, collections)


def write_partial(folder: Path, kind: str, posts: int, seed: int, start: datetime, collections: int = 2) -> dict:
    """Write one partial collection into `folder` (cleared of an earlier simulation) with its truth."""
    if kind not in KINDS:
        raise GroundswellError(f"unknown partial collection {kind!r} (known: {', '.join(KINDS)})")
    partial = build(kind, posts, seed, start, collections)
    prepare(folder)
    truth = {**partial.truth, "kind": kind, "seed": seed, "files": sorted(partial.files)}
    try:
        for name, lines in partial.files.items():
            (folder / name).write_bytes(b"".join(line + b"\n" for line in lines))
        (folder / TRUTH).write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
        (folder / README).write_text("SYNTHETIC DATA. Nothing in this folder was ever posted by anyone.\n\n"
                                     f"A partial collection ({kind}) written by `groundswell simulate --partial`; "
                                     f"{TRUTH} holds the true totals it misses. See docs/estimation.md.\n")
    except OSError as exc:
        raise GroundswellError(f"{folder}: cannot write ({exc.strerror or type(exc).__name__})") from None
    return truth
