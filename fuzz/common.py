"""Shared by the atheris targets: seeds from the real data (read at run time, written only to a
temporary folder, never into the repo) and the invariants every parse outcome must keep."""

from __future__ import annotations

import gzip
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TIME_SOURCES = {"snowflake", "source", "server", "assumed-utc", "invalid", None}
TABLE_OPTIONS = {"preset": None, "columns": {}, "tz": None, "delimiter": None, "accent_fold": True}
SEED_FILES = [
    "metoo-stream-2017-lama/metoo.json", "twarc2-v2-testdata/flat.jsonl", "twarc2-v2-testdata/noflat.jsonl",
    "twarc2-v2-testdata/tweets_compliance.jsonl", "bluesky-twitter-fixtures-twitwi/bluesky-firehose-posts.json",
    "bluesky-twitter-fixtures-twitwi/bluesky-posts.json", "mastodon-public-timeline-tootkit/public_timeline_2020-04-16.json",
    "metoo-getoldtweets-aurora848/2017-10-10.jsonl.gz", "metoo-datacamp-2017/tweets1.csv",
]


def seed_folder(per_file: int = 20) -> str:
    """A temporary libFuzzer corpus of real records, one per file (removed by the OS's tmp cleaning)."""
    folder = tempfile.mkdtemp(prefix="groundswell-fuzz-")
    count = 0
    for name in SEED_FILES:
        path = SHARED_DATA / name
        if not path.is_file():
            continue
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for record in _records(raw)[:per_file]:
            Path(folder, f"seed-{count:05d}").write_bytes(record)
            count += 1
    return folder


def _records(raw: bytes) -> list[bytes]:
    try:
        whole = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return [line for line in raw.splitlines() if line.strip()]
    return [orjson.dumps(v) for v in whole] if isinstance(whole, list) else [raw]


def check_result(result: Any, records: int) -> None:
    """The same invariants as tests/test_fuzz.py: valid posts or a quarantined record with a reason."""
    from groundswell.ingest.worker import EARLIEST_POST
    from groundswell.model import ARROW_SCHEMA, KINDS, PLATFORMS

    if result.records != records or not result.posts.schema.equals(ARROW_SCHEMA):
        raise AssertionError("record count or schema changed")
    latest = datetime.utcnow() + timedelta(days=1)
    for post in result.posts.to_pylist():
        created = post["created_at"]
        if post["platform"] not in PLATFORMS or post["kind"] not in KINDS:
            raise AssertionError(f"platform/kind out of range: {post['platform']!r}/{post['kind']!r}")
        if not (isinstance(post["post_id"], str) and post["post_id"].strip()):
            raise AssertionError(f"empty post id {post['post_id']!r}")
        if created is not None and not EARLIEST_POST <= created <= latest:
            raise AssertionError(f"implausible created_at {created}")
        if post["time_source"] not in TIME_SOURCES:
            raise AssertionError(f"time_source {post['time_source']!r}")
    for q in result.quarantined:
        if not (isinstance(q.reason, str) and q.reason.strip() and "\n" not in q.reason):
            raise AssertionError("a quarantined record without a one-line reason")


def fuzz_args(argv: list[str]) -> list[str]:
    """libFuzzer arguments, with the seed corpus added when none is given."""
    if not any(not a.startswith("-") for a in argv[1:]):
        argv = [*argv, seed_folder()]
    return argv if any(a.startswith("-timeout=") for a in argv) else [*argv, "-timeout=20"]



def instrument_groundswell(atheris: Any) -> int:
    """Instrument every groundswell function already imported, in place.

    `atheris.instrument_imports` reports success but records no coverage for modules that
    the editable install's import hook loads, and `instrument_all` takes minutes.
    """
    import inspect
    import sys

    done = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("groundswell"):
            continue
        for value in list(vars(module).values()):
            if getattr(value, "__module__", None) != name:
                continue
            members = vars(value).values() if inspect.isclass(value) else (value,)
            for member in members:
                function = getattr(member, "__func__", member)
                if inspect.isfunction(function):
                    atheris.instrument_func(function)
                    done += 1
    return done
