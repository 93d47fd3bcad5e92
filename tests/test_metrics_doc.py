"""docs/metrics.md defines every figure `stats --json` prints, with every option that adds figures.

The store and movement are synthetic (see test_report.py); a window is added to the movement
so the window-only figures appear too.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA
from groundswell.store import Store
from test_report import MOVEMENT_TOML, START, _post, build_store

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
WINDOW = '\n[window]\nstart = "2020-02-01"\nend = "2020-03-04"\n'


def key_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """`a.b` for object keys, `a[]` for list items; a list of scalars is itself a key."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from key_paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if not value or not all(isinstance(item, dict) for item in value):
            yield prefix + "[]"
        for item in value:
            if isinstance(item, dict):
                yield from key_paths(item, prefix + "[]")
    else:
        yield prefix


def documented() -> list[list[str]]:
    keys = re.findall(r"^\| `([^`]+)` \|", DOC.read_text(encoding="utf-8"), flags=re.M)
    return [key.split(".") for key in keys]


def is_documented(path: str, patterns: list[list[str]]) -> bool:
    parts = path.split(".")
    return any(len(p) == len(parts) and all(a == "*" or a == b for a, b in zip(p, parts)) for p in patterns)


@pytest.fixture(scope="module")
def stats_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("metrics-doc")
    build_store(folder / "s.duckdb")
    late = [_post(99_000 + i, START + timedelta(days=3, minutes=i), f"synthetic_user_late{i % 7}", "[synthetic] #SynthToo",
                  ["SynthToo"]) for i in range(100)]
    with Store(str(folder / "s.duckdb")) as store:  # a busy late day, so the empty days before it are a gap
        store.write_batch(pa.Table.from_pylist(late, schema=ARROW_SCHEMA))
    (folder / "m.toml").write_text(MOVEMENT_TOML + WINDOW)
    (folder / "ids.txt").write_text("9002\n")  # a forgotten post, so the deletion figures by origin appear
    assert CliRunner().invoke(main, ["forget", "--db", str(folder / "s.duckdb"), "--ids", str(folder / "ids.txt")]).exit_code == 0
    result = CliRunner().invoke(main, ["stats", "--db", str(folder / "s.duckdb"), "--movement", str(folder / "m.toml"),
                                       "--by-day", "--report", "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_every_stats_key_is_documented(stats_json):
    patterns = documented()
    paths = sorted(set(key_paths(stats_json)))
    assert len(paths) > 150  # every section of the report is there
    missing = [path for path in paths if not is_documented(path, patterns)]
    assert missing == [], f"document these keys in docs/metrics.md: {missing}"


def test_the_doc_defines_nothing_that_does_not_exist(stats_json):
    """A stale definition (a renamed key) is as misleading as a missing one."""
    paths = set(key_paths(stats_json))
    stale = [".".join(p) for p in documented() if not any(is_documented(path, [p]) for path in paths)]
    assert stale == []


def test_the_matcher_is_strict():
    patterns = [["report", "volume", "series[]", "posts"], ["by_day", "*"]]
    assert is_documented("report.volume.series[].posts", patterns)
    assert is_documented("by_day.2020-03-01", patterns)
    assert not is_documented("report.volume.series[].post", patterns)
    assert not is_documented("by_day.x.y", patterns)
