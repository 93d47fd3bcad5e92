"""Writing a simulated collection as files: one per UTC day, with the flaws real archives have.

Flaws, each counted exactly for the ground truth:
  - a restart overlap: the first records of each day's file repeat the last ones of the day before;
  - duplicates inside a file: a record written again later in the same file;
  - broken lines: a copy of some record cut off part-way (or, in a table, an id a spreadsheet
    mangled), which ingest must reject; the record itself is also written whole.
Files are byte-for-byte reproducible: gzip members carry no time stamp and no name.
"""

from __future__ import annotations

import gzip
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import GroundswellError
from .model import Post, World, from_ms

FORMATS = {
    "v1": "groundswell.simulate.v1",
    "v2": "groundswell.simulate.v2",
    "jetstream": "groundswell.simulate.jetstream",
    "csv": "groundswell.simulate.twarc_csv",
}
TRUTH = "truth.json"
README = "README.synthetic.txt"
BATCH = 10_000  # posts rendered at a time; a multiple of the v2 page size keeps pages whole
_OURS = re.compile(r"^synthetic-[a-z0-9]+-\d{4}-\d{2}-\d{2}\.(?:jsonl|jsonl\.gz|csv)$")


@dataclass
class Facts:
    """What was written, as ingest will count it."""

    files: list[str]
    records: int = 0  # lines or rows, header excluded
    duplicates: int = 0  # extra copies of collected posts
    broken_lines: int = 0


def format_module(name: str) -> ModuleType:
    return import_module(FORMATS[name])


def prepare(folder: Path) -> None:
    """Create the folder, or clear a previous simulation from it; never touch anything else."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        strangers = [p.name for p in folder.iterdir() if not (p.is_file() and _is_ours(p.name))]
    except OSError as exc:
        raise GroundswellError(f"{folder}: cannot create or read the folder ({exc.strerror or type(exc).__name__})") from None
    if strangers:
        raise GroundswellError(f"{folder}: holds files the simulator did not write ({strangers[0]}, ...); choose an empty folder")
    for path in folder.iterdir():
        path.unlink()


def _is_ours(name: str) -> bool:
    return name in (TRUTH, README) or bool(_OURS.match(name))


def write_files(world: World, fmt: ModuleType, folder: Path, rng: random.Random) -> Facts:
    writer = fmt.Writer(world)
    days: dict[str, list[Post]] = defaultdict(list)
    for post in world.written:
        days[from_ms(post.ms).date().isoformat()].append(post)
    facts = Facts(files=[])
    previous: list[Post] = []
    sizes = [len(posts) for posts in days.values()]
    dup_per_day = _spread(round(world.params.duplicate_share * world.params.posts), sizes, rng)
    broken_per_day = _spread(world.params.broken_lines, sizes, rng)
    for (day, posts), dups, broken in zip(days.items(), dup_per_day, broken_per_day):
        overlap = previous[-world.params.overlap:] if previous and world.params.overlap else []
        units = overlap + _with_copies(posts, dups, rng)
        lines = writer.line_count(len(units))
        # A broken copy goes before line `at` (2..lines + 1): never first, so detection sees a whole record.
        cuts = sorted(((rng.randrange(2, lines + 2), writer.broken(rng.choice(posts), rng)) for _ in range(broken)),
                      key=lambda cut: cut[0])
        name = f"synthetic-{fmt.NAME}-{day}{fmt.SUFFIX}"
        _write(folder / name, writer, units, cuts)
        facts.files.append(name)
        facts.records += lines + broken
        facts.duplicates += len(units) - len(posts)
        facts.broken_lines += broken
        previous = posts
    return facts


def _spread(total: int, sizes: list[int], rng: random.Random) -> list[int]:
    """`total` items placed at random, each day in proportion to its posts."""
    counts = [0] * len(sizes)
    for index in rng.choices(range(len(sizes)), sizes, k=total) if sizes else ():
        counts[index] += 1
    return counts


def _with_copies(posts: list[Post], copies: int, rng: random.Random) -> list[Post]:
    """The posts in order, with `copies` of them written again at a later place in the file."""
    later: dict[int, list[Post]] = defaultdict(list)
    for _ in range(copies):
        original = rng.randrange(len(posts))
        later[rng.randrange(original, len(posts))].append(posts[original])
    out: list[Post] = []
    for index, post in enumerate(posts):
        out.append(post)
        out.extend(later.get(index, ()))
    return out


def _write(path: Path, writer: Any, units: list[Post], cuts: list[tuple[int, bytes]]) -> None:
    """Stream the records out in batches, so memory stays flat whatever the size."""
    try:
        with open(path, "wb") as raw:
            out = gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) if path.name.endswith(".gz") else raw
            header = writer.header()
            if header:
                out.write(header + b"\n")
            line = 0
            for start in range(0, len(units), BATCH):
                for record in writer.lines(units[start:start + BATCH]):
                    line += 1
                    while cuts and cuts[0][0] == line:
                        out.write(cuts.pop(0)[1] + b"\n")
                    out.write(record + b"\n")
            for _, broken in cuts:  # placed after the last line
                out.write(broken + b"\n")
            if out is not raw:
                out.close()
    except OSError as exc:
        raise GroundswellError(f"{path}: cannot write ({exc.strerror or type(exc).__name__})") from None
