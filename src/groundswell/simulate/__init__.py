"""Synthetic movements, written as raw archive files with their exact ground truth.

Everything here is invented: every JSON record is marked `"synthetic": true` (v2 pages in
`meta`), every table row has a `synthetic` column, every authored text starts with
"[synthetic]", handles are `synthetic_user_N`, and a README.synthetic.txt sits beside the
files. `write_simulation` is what `groundswell simulate` runs; see docs/simulate.md.
The small `write_v1_sample` predates it and still feeds some ingest tests.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..errors import GroundswellError
from ..movement.definition import load_builtin
from . import ids
from .archive import FORMATS, README, TRUTH, format_module, prepare, write_files
from .model import BLUESKY_START, HOUR_MS, TWITTER_START, Params, World, iso
from .process import simulate
from .truth import ground_truth
from .twitter_v1 import GroundTruth, write_v1_sample

MIN_POSTS = 2500
EARLIEST = {"twitter": datetime(2010, 11, 5), "bluesky": datetime(2022, 1, 1)}


def write_simulation(folder: Path, fmt: str = "v1", posts: int = 20_000, seed: int = 1,
                     start: datetime | None = None, params: Params | None = None) -> dict[str, Any]:
    """Simulate the metoo movement, write it in format `fmt` into `folder`, and return its truth.

    `start` is naive UTC; by default 2017-10-15 12:00 for Twitter formats and 2024-10-15 12:00
    for Bluesky. `params` overrides the whole model (its posts, seed and start are replaced).
    """
    if fmt not in FORMATS:
        raise GroundswellError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    module = format_module(fmt)
    start = start or (TWITTER_START if module.PLATFORM == "twitter" else BLUESKY_START)
    params = replace(params or Params(), posts=posts, seed=seed, start=start)
    _check(params, module.PLATFORM)
    movement = load_builtin("metoo")
    world = simulate(params, movement)
    _check_world(world)
    ids.assign(world, module.PLATFORM, movement.call_to_action)
    prepare(folder)
    facts = write_files(world, module, folder, random.Random(f"archive-{seed}"))
    truth = ground_truth(world, module, facts, movement)
    _write(folder / TRUTH, orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
    _write(folder / README, _readme(truth).encode())
    return truth


def _check(params: Params, platform: str) -> None:
    if params.posts < MIN_POSTS:
        raise GroundswellError(f"--posts must be at least {MIN_POSTS}: a smaller collection ends before the gap")
    earliest = EARLIEST[platform]
    if params.start < earliest:
        raise GroundswellError(f"--start {params.start:%Y-%m-%d} is before {platform} posts can be dated "
                               f"(from {earliest:%Y-%m-%d}); choose a later start")
    if params.start + timedelta(hours=params.hours + 24) > datetime.utcnow():
        raise GroundswellError(f"--start must be at least {int(params.hours / 24) + 1} days ago: "
                               "posts from the future would be rejected as implausible")


def _check_world(world: World) -> None:
    if world.cut_ms < world.params.gap_ms[1] + HOUR_MS:
        raise GroundswellError(f"with seed {world.params.seed}, {world.params.posts} posts end before the collection "
                               "gap: ask for more posts")


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise GroundswellError(f"{path}: cannot write ({exc.strerror or type(exc).__name__})") from None


def _readme(truth: dict[str, Any]) -> str:
    gen = truth["generator"]
    return f"""SYNTHETIC DATA. Nothing in this folder was ever posted by anyone.

These files were written by `groundswell simulate` (groundswell {gen['version']}) to test and
demonstrate groundswell. Every account, post, id and text is invented: texts start with
"[synthetic]", handles are synthetic_user_N, and every record carries a synthetic mark.

Format: {gen['format_label']} ({gen['format']}).
Seed {gen['seed']}, {gen['posts']} collected posts, from {truth['first_post']} to {truth['last_post']}.
The same command with the same seed writes the same bytes.

{TRUTH} holds the ground truth: the exact figures ingest and the store must give, the call
to action ({truth['true_start']}), the lags of the variants, and the collection gap
({truth['gap']['start']} to {truth['gap']['end']}, when nothing was written although
{truth['gap']['posts_lost']} posts were made). The model is described in docs/simulate.md.

Files:
""" + "".join(f"  {name}\n" for name in truth["files"])


__all__ = ["GroundTruth", "Params", "write_simulation", "write_v1_sample", "FORMATS", "iso"]
