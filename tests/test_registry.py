"""The registry of figures is the one list the report, `stats --report --json` and export read.

The store is the SYNTHETIC one of test_report.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.movement.definition import resolve
from groundswell.report import registry
from groundswell.report.definitions import DEFINITIONS
from groundswell.report.figures import ReportOptions, compute
from groundswell.store import Store
from test_report import MOVEMENT_TOML, Page, build_store

METADATA = {"groundswell_version", "settings", "movement"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("registry")
    build_store(folder / "s.duckdb")
    (folder / "m.toml").write_text(MOVEMENT_TOML)
    return {"db": folder / "s.duckdb", "movement": folder / "m.toml", "folder": folder}


def _report(store: dict[str, Path]) -> dict[str, Any]:
    out = store["folder"] / "r.html"
    result = CliRunner().invoke(main, ["report", "--db", str(store["db"]), "--movement", str(store["movement"]),
                                       "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return {"json": orjson.loads(result.stdout)["report"], "html": out.read_text()}


def test_the_document_holds_exactly_the_registered_figures(store):
    figures = _report(store)["json"]
    assert set(figures) - METADATA == {f.key for f in registry.FIGURES}


def test_the_html_draws_every_section_in_registry_order(store):
    page = Page(_report(store)["html"])
    sections = [e["attrs"]["id"] for e in page.elements if e["tag"] == "section"]
    anchors = [anchor for section in registry.SECTIONS for anchor, _ in section.nav]
    assert sections == anchors
    contents = [e["attrs"]["href"] for e in page.elements if e["tag"] == "a" and e["attrs"].get("href", "").startswith("#")]
    assert contents[:len(anchors)] == ["#" + a for a in anchors]


def test_every_figure_names_its_definitions_and_privacy_rule():
    for fig in registry.FIGURES:
        assert all(key in DEFINITIONS for key in fig.definitions), fig.key
        assert fig.privacy


def test_a_figure_is_added_in_one_place(store):
    def synthetic_count(ctx):
        return {"posts_squared": ctx.query.query("SELECT count(*) FROM gs_scope")[0][0] ** 2}

    added = registry.Figure("synthetic_square", synthetic_count, None, (), registry.AGGREGATE)
    registry.register(added, before="coverage")
    try:
        with pytest.raises(ValueError):
            registry.register(added)
        figures = _report(store)["json"]
        assert figures["synthetic_square"]["posts_squared"] == figures["headline"]["posts"] ** 2
        keys = [k for k in figures if k not in METADATA]
        assert keys.index("synthetic_square") == keys.index("coverage") - 1
    finally:
        registry.FIGURES.remove(added)


def test_a_subset_of_figures_computes_only_those(store):
    movement = resolve(str(store["movement"]))
    with Store(str(store["db"]), read_only=True) as opened:
        some = compute(opened, movement, ReportOptions(), writable=False, keys=["headline", "families"])
    assert set(some) - METADATA == {"headline", "families"}
    assert some["headline"]["posts"] == _report(store)["json"]["headline"]["posts"]


def test_the_volume_export_is_the_reports_volume(store):
    out = store["folder"] / "volume.json"
    result = CliRunner().invoke(main, ["export", "--db", str(store["db"]), "--movement", str(store["movement"]),
                                       "--what", "volume", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = orjson.loads(out.read_bytes())
    report = _report(store)["json"]
    assert [(r["t"], r["posts"], r["distinct_authors"]) for r in exported] == \
        [(r["t"], r["posts"], r["distinct_authors"]) for r in report["volume"]["series"]]
    assert [r["phrase_only"] for r in exported] == [r["phrase_only"] for r in report["hashtag_vs_phrase"]["series"]]
