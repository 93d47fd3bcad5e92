"""The dashboard's follower (serve/state.py) on the SYNTHETIC store of test_report.py: the main
view is computed ahead, before a new snapshot is served, so no request waits on a snapshot;
an unreadable store leaves the last snapshot in service and says why.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pytest

from groundswell.model import ARROW_SCHEMA
from groundswell.movement.definition import resolve
from groundswell.report.context import ReportOptions
from groundswell.serve import Dashboard, Filters
from groundswell.serve.state import MAIN_VIEW, Generation
from groundswell.store import Store
from test_report import MOVEMENT_TOML, START, _post, build_store

MAIN_KEY = (Filters(), tuple(sorted(MAIN_VIEW)))


@pytest.fixture
def following(tmp_path: Path) -> Iterator[tuple[Path, Dashboard]]:
    """A dashboard over its own store, looking at the file every 50 ms, its main view computed."""
    db = tmp_path / "follow.duckdb"
    build_store(db)
    (tmp_path / "m.toml").write_text(MOVEMENT_TOML)
    dashboard = Dashboard(str(db), resolve(str(tmp_path / "m.toml")), ReportOptions(), poll_seconds=0.05)
    try:
        assert dashboard.warmed.wait(30)
        yield db, dashboard
    finally:
        dashboard.close()


def _until(test: Callable[[], object], seconds: float = 30.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = test()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


def _add_posts(db: Path, count: int) -> None:
    later = START + timedelta(hours=30)
    added = [_post(80_000 + i, later + timedelta(minutes=i), f"synthetic_follow_{i % 7}", "[synthetic] #SynthToo",
                   ["SynthToo"]) for i in range(count)]
    with Store(str(db)) as writer:
        writer.write_batch(pa.Table.from_pylist(added, schema=ARROW_SCHEMA))


def test_the_main_view_is_computed_before_any_request(following):
    _, dashboard = following
    assert MAIN_KEY in dashboard.current.cache
    assert dashboard.figures(Filters(), MAIN_VIEW) is dashboard.current.cache[MAIN_KEY]
    spill = Path(dashboard.current.engine.store.spill)  # type: ignore[attr-defined]
    assert spill.is_dir()  # where DuckDB may spill the snapshot, never the directory serve started in
    dashboard.close()
    assert not spill.exists()


def test_a_new_snapshot_is_served_only_with_its_main_view_computed(following):
    db, dashboard = following
    first: Generation = dashboard.current
    before = dashboard.figures(Filters(), MAIN_VIEW)["headline"]["posts"]
    _add_posts(db, 25)
    fresh = _until(lambda: dashboard.current if dashboard.current is not first else None)
    assert isinstance(fresh, Generation) and MAIN_KEY in fresh.cache  # computed ahead of the swap
    assert _until(lambda: first.closed) and not fresh.closed  # the one replaced, once its last request is done
    assert not Path(first.engine.store.spill).exists() and Path(fresh.engine.store.spill).is_dir()  # type: ignore[attr-defined]
    assert dashboard.figures(Filters(), MAIN_VIEW)["headline"]["posts"] == before + 25
    assert dashboard.live()["version"] == fresh.version != first.version


def test_an_unreadable_store_keeps_the_last_snapshot_and_says_why(following):
    db, dashboard = following
    served = dashboard.current
    posts = dashboard.figures(Filters(), MAIN_VIEW)["headline"]["posts"]
    db.write_bytes(b"not a duckdb file, written by the test")
    error = _until(lambda: dashboard.live()["refresh_error"])
    assert "follow.duckdb" in str(error)
    assert dashboard.current is served and dashboard.figures(Filters(), MAIN_VIEW)["headline"]["posts"] == posts


def test_a_filtered_view_leaves_the_whole_scope_unchanged(following):
    _, dashboard = following
    whole = dashboard.figures(Filters(), ("headline",))["headline"]["posts"]
    reposts = dashboard.figures(Filters(kind="repost"), ("headline",))["headline"]["posts"]
    dashboard.current.cache.clear()  # computed again, after the narrowing to reposts
    assert 0 < reposts < whole == dashboard.figures(Filters(), ("headline",))["headline"]["posts"]
    assert dashboard.figures(Filters(kind="repost"), ("headline",))["headline"]["posts"] == reposts


def test_a_dashboard_nobody_asks_takes_no_new_snapshot(following):
    db, dashboard = following
    first = dashboard.current
    _add_posts(db, 10)
    time.sleep(0.5)  # ten looks at the file: it changed, but no request came
    assert dashboard.current is first
    dashboard.live()  # as the open page does every 5 s
    assert _until(lambda: dashboard.current is not first)
    assert dashboard.figures(Filters(), ("headline",))["headline"]["posts"] == \
        first.cache[MAIN_KEY]["headline"]["posts"] + 10
