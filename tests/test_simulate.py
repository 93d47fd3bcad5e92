"""`groundswell simulate`: every format ingests, and the store's figures equal the ground truth.

Each format is simulated once (3,000 posts), ingested through the real CLI into a DuckDB
file, and the store is then queried with plain SQL written here, independently of the
simulator's own bookkeeping. All data in these tests is synthetic by construction.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.movement.definition import load_builtin

FORMATS = ("v1", "v2", "jetstream", "csv")
POSTS = 3000
SEED = 11
ISO = "%Y-%m-%dT%H:%M:%SZ"


def _run(*args: str) -> tuple[int, str]:
    """Exit code, and stdout on success or the error message (stderr) on failure."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


class Simulated:
    def __init__(self, folder: Path, db: Path, truth: dict, summary: dict):
        self.folder, self.truth, self.summary = folder, truth, summary
        self.con = duckdb.connect(str(db), read_only=True)

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(query, params or []).fetchall()

    @property
    def twitter(self) -> bool:
        return self.truth["generator"]["platform"] == "twitter"


@pytest.fixture(scope="module", params=FORMATS)
def sim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    base = tmp_path_factory.mktemp(f"sim-{request.param}")
    folder, db = base / "data", base / "store.duckdb"
    code, out = _run("simulate", str(folder), "--format", request.param, "--posts", str(POSTS), "--seed", str(SEED), "--json")
    assert code == 0, out
    truth = orjson.loads(out)
    assert truth == orjson.loads((folder / "truth.json").read_bytes())
    code, out = _run("ingest", str(folder / "synthetic-*"), "--db", str(db), "--json")
    assert code == 0, out
    simulated = Simulated(folder, db, truth, orjson.loads(out))
    yield simulated
    simulated.con.close()


def _ts(iso: str) -> datetime:
    return datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(microsecond=int(iso[20:23]) * 1000 if "." in iso else 0)


# --- what ingest and the store count ---------------------------------------------------------


def test_ingest_summary_equals_truth(sim: Simulated) -> None:
    truth, summary = sim.truth, sim.summary
    assert summary["file_errors"] == []
    assert summary["files"] == len(truth["files"]) == 4
    assert summary["read"] == truth["records_written"]
    assert summary["ingested"] == truth["collected_posts"] == POSTS
    assert summary["duplicate"] == truth["duplicates"] > 3 * 3  # the restart overlaps alone give 9
    assert summary["rejected"] == truth["broken_lines"] == 3


def test_store_totals_equal_truth(sim: Simulated) -> None:
    truth = sim.truth
    assert sim.sql("SELECT count(*), count(DISTINCT author_id) FROM posts WHERE collected") == [
        (POSTS, truth["distinct_authors"])]
    kinds = dict(sim.sql("SELECT kind, count(*) FROM posts WHERE collected GROUP BY kind"))
    assert kinds == {kind: n for kind, n in truth["by_kind"].items() if n}
    assert set(kinds) == {"original", "repost", "reply", "quote"}
    assert sim.sql("SELECT count(*) FROM posts WHERE NOT collected")[0][0] == truth["referenced_only_posts"]
    assert (truth["referenced_only_posts"] > 0) == (truth["generator"]["format"] in ("v1", "v2"))


def test_hourly_counts_equal_truth_and_the_gap_is_empty(sim: Simulated) -> None:
    rows = sim.sql("SELECT date_trunc('hour', created_at), count(*) FROM posts WHERE collected GROUP BY 1")
    hourly = {hour.strftime(ISO): n for hour, n in rows}
    assert hourly == {hour: n for hour, n in sim.truth["per_hour"].items() if n}
    gap = sim.truth["gap"]
    start, end = _ts(gap["start"]), _ts(gap["end"])
    assert end - start == timedelta(hours=gap["hours"]) == timedelta(hours=3)
    inside = sim.sql("SELECT count(*) FROM posts WHERE collected AND created_at >= ? AND created_at < ?", [start, end])
    assert inside == [(0,)] and gap["posts_lost"] > 0
    gap_hours = [(start + timedelta(hours=h)).strftime(ISO) for h in range(3)]
    assert set(gap_hours) <= set(sim.truth["empty_hours"])
    assert hourly[(start - timedelta(hours=1)).strftime(ISO)] > 0 and hourly[end.strftime(ISO)] > 0


def test_phrase_only_posts_equal_truth(sim: Simulated) -> None:
    """Independent check: no movement tag key, and the text says a movement phrase."""
    movement = load_builtin("metoo")
    forms = set(movement.stored_forms())
    patterns = [p.casefold() for group in movement.phrases for p in group.patterns]
    rows = sim.sql("SELECT hashtag_keys, text, kind FROM posts WHERE collected")
    phrase_only = [kind for keys, text, kind in rows
                   if not forms & set(keys or ()) and any(p in (text or "").casefold() for p in patterns)]
    assert len(phrase_only) == sim.truth["matching"]["phrase_only"]["posts"] > 100
    assert phrase_only.count("reply") == sim.truth["matching"]["phrase_only_replies"] > 0


def test_movement_figures_equal_truth(sim: Simulated, tmp_path: Path) -> None:
    code, out = _run("stats", "--db", str(sim.folder.parent / "store.duckdb"), "--movement", "metoo", "--json",
                     "--privacy", "off")
    assert code == 0, out
    stats, truth = orjson.loads(out), sim.truth["matching"]
    assert stats["posts"] == POSTS
    figures = stats["movement"]
    for name in ("hashtag_only", "phrase_only", "both", "by_hashtag", "by_phrase", "matched", "unmatched"):
        assert figures[name] == truth[name], name
    assert {k: v for k, v in figures["by_family"].items() if v["posts"]} == truth["by_family"]
    variants = {v["key"]: {"posts": v["posts"], "distinct_authors": v["distinct_authors"]} for v in figures["by_variant"]}
    assert variants == truth["by_variant"]
    assert {"core", "fr", "es", "it", "ar"} <= set(truth["by_family"])


def test_call_to_action_cascade_equals_truth(sim: Simulated) -> None:
    call = sim.truth["call_to_action"]
    rows = sim.sql("""
        WITH RECURSIVE tree(post_id, depth) AS (
          SELECT post_id, 0 FROM posts WHERE post_id = ?
          UNION ALL
          SELECT p.post_id, t.depth + 1 FROM posts p JOIN tree t
            ON p.reply_to_post_id = t.post_id OR p.quoted_post_id = t.post_id OR p.reposted_post_id = t.post_id
        )
        SELECT p.kind, t.depth FROM tree t JOIN posts p USING (post_id) WHERE t.depth > 0""", [call["post_id"]])
    cascade = call["cascade"]
    kinds = {kind: sum(1 for k, _ in rows if k == kind) for kind in ("repost", "reply", "quote")}
    assert len(rows) == cascade["responses"] == cascade["size"] - 1 > 50
    assert kinds == cascade["by_kind"]
    assert max(depth for _, depth in rows) == cascade["depth"] >= 2
    breadth = [sum(1 for _, d in rows if d == level) for level in range(1, cascade["depth"] + 1)]
    assert breadth == cascade["breadth_by_depth"] and max(breadth) == cascade["max_breadth"]


def test_cascade_replies_by_hashtag_phrase_or_neither_equal_truth(sim: Simulated) -> None:
    movement = load_builtin("metoo")
    forms = set(movement.stored_forms())
    patterns = [p.casefold() for group in movement.phrases for p in group.patterns]
    rows = sim.sql("""
        WITH RECURSIVE tree(post_id) AS (
          SELECT post_id FROM posts WHERE post_id = ?
          UNION ALL
          SELECT p.post_id FROM posts p JOIN tree t
            ON p.reply_to_post_id = t.post_id OR p.quoted_post_id = t.post_id OR p.reposted_post_id = t.post_id
        )
        SELECT hashtag_keys, text FROM tree JOIN posts USING (post_id) WHERE kind = 'reply' AND collected""",
        [sim.truth["call_to_action"]["post_id"]])
    counts = {"hashtag": 0, "phrase_only": 0, "neither": 0}
    for keys, text in rows:
        said = any(p in text.casefold() for p in patterns)
        counts["hashtag" if forms & set(keys or ()) else "phrase_only" if said else "neither"] += 1
    assert counts == sim.truth["call_to_action"]["cascade"]["collected_replies"]
    assert all(counts.values())


def test_the_call_to_action_is_the_true_start(sim: Simulated) -> None:
    call, truth = sim.truth["call_to_action"], sim.truth
    (created, collected, verified, followers), = sim.sql(
        "SELECT created_at, collected, author_verified, author_followers FROM posts WHERE post_id = ?", [call["post_id"]])
    assert created == _ts(truth["true_start"]) == _ts(call["created_at"]) and collected
    assert truth["burst_onset_hour"] == created.replace(minute=0, second=0, microsecond=0).strftime(ISO)
    if sim.twitter:
        assert verified is True and followers == call["author_followers"] >= 100_000
    hourly = truth["per_hour_matched"]
    onset = truth["burst_onset_hour"]
    before = [n for hour, n in hourly.items() if hour < onset]
    first_full_hour = (_ts(onset) + timedelta(hours=1)).strftime(ISO)
    assert max(before) * 10 < hourly[first_full_hour]  # a quiet baseline, then the burst


def test_variants_are_first_seen_after_their_lag(sim: Simulated) -> None:
    cta = _ts(sim.truth["true_start"])
    for variant in sim.truth["variants"][1:]:
        (first,), = sim.sql("SELECT min(created_at) FROM posts WHERE collected AND list_contains(hashtag_keys, ?)",
                            [variant["key"]])
        assert first == _ts(variant["first_seen"]) == cta + timedelta(hours=variant["lag_hours"]), variant["tag"]
    lags = {v["tag"]: v["lag_hours"] for v in sim.truth["variants"]}
    assert lags == {"MeToo": 0, "MoiAussi": 3, "BalanceTonPorc": 5, "YoTambién": 7, "QuellaVoltaChe": 10, "وأنا_كمان": 14}


def test_right_to_left_tags_with_a_trailing_hash_are_counted(sim: Simulated) -> None:
    """Half the Arabic tagged posts write `وأنا_كمان#`; they carry no entities, so their tag comes from the text."""
    rows = sim.sql("SELECT text FROM posts WHERE collected AND list_contains(hashtag_keys, 'وانا_كمان')")
    trailing = [text for text, in rows if "وأنا_كمان#" in text]
    assert len(rows) == sim.truth["matching"]["by_variant"]["وانا_كمان"]["posts"]
    assert 0 < len(trailing) < len(rows)


# --- marked synthetic, reproducible ------------------------------------------------------


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).splitlines()


def test_every_record_says_it_is_synthetic(sim: Simulated) -> None:
    assert "SYNTHETIC DATA" in (sim.folder / "README.synthetic.txt").read_text()
    broken = 0
    for name in sim.truth["files"]:
        lines = _lines(sim.folder / name)
        if name.endswith(".csv"):
            header = lines[0].split(b",")
            assert header[-1] == b"synthetic" and all(line.endswith(b",true") for line in lines[1:])
            continue
        for line in lines:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                broken += 1
                continue
            if "data" in record:
                assert record["meta"]["synthetic"] is True
                assert all(t["synthetic"] for t in record["data"] + record["includes"]["tweets"] + record["includes"]["users"])
            else:
                assert record["synthetic"] is True
    assert broken == (0 if sim.truth["generator"]["format"] == "csv" else 3)


def test_texts_and_handles_are_synthetic(sim: Simulated) -> None:
    texts = [text for text, in sim.sql("SELECT text FROM posts")]
    authored = re.compile(r"^(?:RT @synthetic_user_\d+: )?\[synthetic\] ")
    assert all(text is None or authored.match(text) for text in texts)
    assert sum(text is None for text in texts) == (0 if sim.twitter else sim.truth["by_kind"]["repost"])
    handles = {h for h, in sim.sql("SELECT DISTINCT author_handle FROM posts")}
    assert handles == {None} if not sim.twitter else all(re.fullmatch(r"synthetic_user_\d+", h) for h in handles)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_seed_writes_the_same_bytes(fmt: str, tmp_path: Path) -> None:
    runs = [(tmp_path / "a", SEED), (tmp_path / "b", SEED), (tmp_path / "c", SEED + 1)]
    for folder, seed in runs:
        assert _run("simulate", str(folder), "--format", fmt, "--posts", "2500", "--seed", str(seed))[0] == 0
    first, again, other = (_digest(folder) for folder, _ in runs)
    assert first == again and len(first) >= 5  # a README, the truth and a file per day
    assert first["truth.json"] != other["truth.json"]


# --- the command line ------------------------------------------------------------------------


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    code, out = _run("simulate", str(tmp_path / "x"), "--format", "v3")
    assert code == 2 and "Invalid value for '--format'" in out


def test_too_few_posts_is_a_usage_error(tmp_path: Path) -> None:
    code, out = _run("simulate", str(tmp_path / "x"), "--posts", "100")
    assert code == 2 and "--posts" in out


def test_an_unwritable_folder_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, out = _run("simulate", str(blocker / "sub"))
    assert code == 1
    assert out.count("\n") == 1 and out.startswith("Error: ") and "cannot create or read the folder" in out


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text("{}")
    code, out = _run("simulate", str(tmp_path))
    assert code == 1 and "did not write (mine.json" in out
    assert [p.name for p in tmp_path.iterdir()] == ["mine.json"]


def test_a_bluesky_start_before_2022_is_refused(tmp_path: Path) -> None:
    code, out = _run("simulate", str(tmp_path / "x"), "--format", "jetstream", "--start", "2017-10-15T12:00:00Z")
    assert code == 1 and "before bluesky posts can be dated" in out


def test_simulating_again_replaces_the_previous_files(tmp_path: Path) -> None:
    assert _run("simulate", str(tmp_path), "--format", "v1", "--posts", "2500")[0] == 0
    assert _run("simulate", str(tmp_path), "--format", "csv", "--posts", "2500")[0] == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[:2] == ["README.synthetic.txt", "synthetic-csv-2017-10-15.csv"] and names[-1] == "truth.json"
    assert not any(".jsonl" in name for name in names)


def test_python_dash_m_runs_the_same_command(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "groundswell.simulate", str(tmp_path), "--posts", "2500", "--seed", "3"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert orjson.loads((tmp_path / "truth.json").read_bytes())["generator"]["seed"] == 3


def test_ingesting_the_folder_reads_only_the_archive(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    assert _run("simulate", str(folder), "--format", "v2", "--posts", "2500")[0] == 0
    code, out = _run("ingest", str(folder), "--db", str(tmp_path / "s.duckdb"), "--json")
    assert code == 0, out
    assert orjson.loads(out)["ingested"] == 2500


def test_every_figure_and_parameter_is_documented(tmp_path: Path) -> None:
    from groundswell.simulate import write_simulation
    from groundswell.simulate.model import Params

    truth = write_simulation(tmp_path, "v1", posts=2500)
    doc = (Path(__file__).resolve().parents[1] / "docs" / "simulate.md").read_text()
    missing = [key for key in truth if f"`{key}`" not in doc]
    missing += [name for name in Params.__dataclass_fields__ if f"`{name}`" not in doc]
    assert missing == []
