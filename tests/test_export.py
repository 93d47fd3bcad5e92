"""`groundswell export`: the report's tables as files, safe to open and safe for the people in them.

All posts here are synthetic (invented handles and texts; see test_report.py for the builder).
"""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA
from groundswell.report.export import escape_formulas
from groundswell.store import Store
from test_report import MOVEMENT_TOML, SECRET, START, _post, synthetic_posts

# Texts of a notable (verified) account that a spreadsheet would run as formulas.
FORMULAS = ["=HYPERLINK(\"http://x.invalid\") #SynthToo", "+1+1 #SynthToo", "-2+3 #SynthToo", "@SUM(1) #SynthToo",
            "\t=1 #SynthToo", "\r=1 #SynthToo"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("export")
    posts, truth = synthetic_posts()
    for i, text in enumerate(FORMULAS):
        posts.append(_post(7000 + i, START + timedelta(hours=1, minutes=i), "n1", text, ["SynthToo"], verified=True))
    with Store(str(folder / "s.duckdb")) as db:
        db.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA))
    (folder / "m.toml").write_text(MOVEMENT_TOML)
    return {"folder": folder, "truth": truth, "db": folder / "s.duckdb", "movement": folder / "m.toml"}


def run_export(store: dict[str, Any], what: str, fmt: str, *extra: str) -> Path:
    out = store["folder"] / f"{what}-{'-'.join(extra) or 'default'}.{fmt}"
    result = CliRunner().invoke(main, ["export", "--db", str(store["db"]), "--movement", str(store["movement"]),
                                       "--what", what, "--format", fmt, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_formula_cells_are_escaped_and_otherwise_kept():
    column = pa.array(["=1+1", "plain", "-x", "@a", "\tq", "\rq", "+", "a=b", None])
    assert escape_formulas(column).to_pylist() == ["'=1+1", "plain", "'-x", "'@a", "'\tq", "'\rq", "'+", "a=b", None]


def test_csv_posts_escape_formulas_in_text(store):
    """With --privacy off, so texts are exported verbatim (standard masks their links and mentions)."""
    rows = read_csv(run_export(store, "posts", "csv", "--privacy", "off"))
    texts = {row["text"] for row in rows if row["text"]}
    for text in FORMULAS:
        assert "'" + text in texts
    assert not [row for row in rows for value in row.values() if value[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_posts_of_private_people_carry_no_text_or_handle(store):
    """Every format: no handle of a non-notable author, no words of theirs."""
    truth = store["truth"]
    for fmt in ("csv", "json", "parquet"):
        path = run_export(store, "posts", fmt)
        content = path.read_bytes()
        assert SECRET.encode() not in content and b"synth too today" not in content
        for handle in ("synthetic_user_secret", "synthetic_user_17", "synthetic_user_299"):
            assert handle.encode() not in content
    table = pq.read_table(run_export(store, "posts", "parquet")).to_pylist()
    private = [row for row in table if not row["notable"]]
    assert private and all(row["text"] is None and row["handle"] is None and row["url"] is None for row in private)
    assert all(row["author"].startswith("p") and len(row["author"]) == 13 for row in table)
    assert len(table) == truth.posts + len(FORMULAS)


def test_pseudonyms_are_stable_between_exports(store):
    first = {r["post_id"]: r["author"] for r in orjson.loads(run_export(store, "posts", "json").read_bytes())}
    again = {r["post_id"]: r["author"] for r in orjson.loads(run_export(store, "posts", "json", "--tz", "Europe/Paris").read_bytes())}
    assert first == again
    authors = orjson.loads(run_export(store, "authors", "json").read_bytes())
    assert {a["author"] for a in authors} == set(first.values())
    assert sum(a["posts"] for a in authors) == len(first)
    assert {a["handle"] for a in authors if a["notable"]} == {"n1", "n2", "n3", "n4"}
    assert all(a["handle"] is None for a in authors if not a["notable"])


def test_volume_sums_to_the_timed_posts_and_matches_the_report(store):
    rows = pq.read_table(run_export(store, "volume", "parquet")).to_pylist()
    timed = len(store["truth"].times) + len(FORMULAS)
    assert sum(r["posts"] for r in rows) == timed
    assert rows[-1]["cumulative_posts"] == timed
    assert sum(r["phrase_only"] for r in rows) == store["truth"].classes["phrase_only"]
    assert {r["tz"] for r in rows} == {"UTC"} and {r["bucket"] for r in rows} == {"hour"}
    days = read_csv(run_export(store, "volume", "csv", "--bucket", "day"))
    assert [d["t"] for d in days] == ["2020-02-29", "2020-03-01", "2020-03-02"]
    assert sum(int(d["posts"]) for d in days) == timed


def test_variants_export_equals_the_report(store):
    variants = orjson.loads(run_export(store, "variants", "json").read_bytes())
    result = CliRunner().invoke(main, ["stats", "--db", str(store["db"]), "--movement", str(store["movement"]),
                                       "--report", "--json"])
    assert variants == orjson.loads(result.stdout)["report"]["families"]["variants"]
    assert {v["key"] for v in variants} == {"synthtoo", "moisynth"}


def test_export_of_a_missing_store_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(main, ["export", "--db", str(tmp_path / "none.duckdb"), "--what", "posts",
                                       "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert "no such store" in result.output
    assert not (tmp_path / "none.duckdb").exists()
