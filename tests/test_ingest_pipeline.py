"""The pipeline end to end on synthetic data: counts, dedupe, re-ingest, bad input, stdin."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest
import zstandard
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.simulate import write_v1_sample

SAMPLE = "synthetic-v1-stream.jsonl.gz"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("synthetic")
    truth = write_v1_sample(folder, posts=600)
    return folder / SAMPLE, truth


def run(*args: str, input: bytes | None = None):
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def ingest_json(db: Path, *paths: str, input: bytes | None = None, extra: tuple[str, ...] = ()):
    result = run("ingest", *paths, "--db", str(db), "--json", "--workers", "1", *extra, input=input)
    return result, json.loads(result.stdout)


def stats(db: Path) -> dict:
    return json.loads(run("stats", "--db", str(db), "--json").stdout)


def test_counts_match_ground_truth(sample, tmp_path):
    path, truth = sample
    result, summary = ingest_json(tmp_path / "s.duckdb", str(path))
    assert result.exit_code == 0
    assert summary["ingested"] == truth.collected
    assert summary["duplicate"] == truth.duplicates
    assert summary["rejected"] == truth.broken_lines
    assert summary["read"] == truth.collected + truth.duplicates + truth.broken_lines
    figures = stats(tmp_path / "s.duckdb")
    assert figures["posts"] == truth.collected
    assert figures["by_kind"] == {k: v for k, v in truth.by_kind.items() if v}
    assert figures["distinct_authors"] == len(truth.authors)
    assert figures["by_platform"] == {"twitter": truth.collected}


def test_quarantine_names_file_and_line(sample, tmp_path):
    path, _ = sample
    db = tmp_path / "q.duckdb"
    result = run("ingest", str(path), "--db", str(db), "--workers", "1")
    lines = gzip.open(path).read().split(b"\n")
    broken = [n for n, line in enumerate(lines, start=1) if line and not _parses(line)]
    assert len(broken) == 1
    assert f"{path}:{broken[0]}: rejected: broken JSON" in result.stderr
    rows = duckdb.connect(str(db), read_only=True).execute("SELECT source_file, source_line, reason FROM quarantine").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(str(path), broken[0])]


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def test_reingest_adds_nothing(sample, tmp_path):
    path, truth = sample
    db = tmp_path / "r.duckdb"
    ingest_json(db, str(path))
    result, again = ingest_json(db, str(path))
    assert again["files_already_ingested"] == 1 and again["ingested"] == 0
    assert "already ingested" in result.stderr
    _, forced = ingest_json(db, str(path), extra=("--force",))
    assert forced["ingested"] == 0
    assert forced["duplicate"] == truth.collected + truth.duplicates
    assert stats(db)["posts"] == truth.collected


def test_overlapping_files_and_compression_forms(sample, tmp_path):
    """The same tweets as plain JSONL, zstd and stdin: one set of posts."""
    path, truth = sample
    raw = gzip.open(path).read()
    plain = tmp_path / "copy.jsonl"
    plain.write_bytes(raw)
    zst = tmp_path / "copy.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(raw))
    db = tmp_path / "o.duckdb"
    _, first = ingest_json(db, str(path), str(plain), str(zst))
    assert first["ingested"] == truth.collected
    assert first["duplicate"] == 3 * (truth.collected + truth.duplicates) - truth.collected
    _, piped = ingest_json(db, "-", input=raw)
    assert piped["ingested"] == 0 and piped["read"] == first["read"] // 3
    assert stats(db)["posts"] == truth.collected


def test_directories_and_globs(sample, tmp_path):
    path, truth = sample
    folder = tmp_path / "archive" / "nested"
    folder.mkdir(parents=True)
    shutil.copy(path, folder / "a.jsonl.gz")
    _, by_dir = ingest_json(tmp_path / "d.duckdb", str(tmp_path / "archive"))
    _, by_glob = ingest_json(tmp_path / "g.duckdb", str(tmp_path / "archive" / "**" / "*.gz"))
    assert by_dir["files"] == by_glob["files"] == 1
    assert by_dir["ingested"] == by_glob["ingested"] == truth.collected


@pytest.mark.parametrize("workers", ["1", "2"])
def test_truncated_gzip_keeps_what_was_read(sample, tmp_path, workers):
    """With workers, a small file is read whole by one of them: the same error, the same posts."""
    path, truth = sample
    cut = tmp_path / "cut.jsonl.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    good = tmp_path / "good.jsonl.gz"
    shutil.copy(path, good)
    db = tmp_path / "t.duckdb"
    result = run("ingest", str(cut), str(good), "--db", str(db), "--workers", workers, "--batch-rows", "50")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "truncated or corrupt" in line]
    assert len(errors) == 1 and str(cut) in errors[0]
    assert "Traceback" not in result.output + result.stderr
    assert stats(db)["posts"] == truth.collected


def test_truncated_gzip_alone_keeps_partial_posts(sample, tmp_path):
    path, truth = sample
    cut = tmp_path / "cut.jsonl.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    db = tmp_path / "p.duckdb"
    result = run("ingest", str(cut), "--db", str(db), "--workers", "1", "--batch-rows", "50")
    assert result.exit_code == 1
    kept = stats(db)["posts"]
    assert 0 < kept < truth.collected
    again = run("ingest", str(cut), "--db", str(db), "--workers", "1")
    assert again.exit_code == 1 and stats(db)["posts"] == kept
    whole = tmp_path / "w.duckdb"  # read whole by a worker: the same records before the cut
    by_worker = run("ingest", str(cut), "--db", str(whole), "--workers", "2", "--batch-rows", "50")
    assert by_worker.exit_code == 1 and stats(whole)["posts"] == kept
    assert by_worker.stderr.count("truncated or corrupt") == 1


def test_unknown_format_fails_that_file_only(sample, tmp_path):
    path, truth = sample
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"synthetic": true, "colour": "blue"}\n{"synthetic": true, "colour": "red"}\n')
    db = tmp_path / "u.duckdb"
    result = run("ingest", str(odd), str(path), "--db", str(db), "--workers", "1")
    assert result.exit_code == 1
    assert f"{odd}: unknown format" in result.stderr
    assert stats(db)["posts"] == truth.collected


def test_empty_file_is_a_warning(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    result = run("ingest", str(empty), "--db", str(tmp_path / "e.duckdb"))
    assert result.exit_code == 0
    assert f"{empty}: empty, nothing to ingest" in result.stderr


def test_missing_path_is_a_one_line_error(tmp_path):
    result = run("ingest", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "m.duckdb"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {tmp_path / 'nope.jsonl'}: no such file or directory"


def test_stats_on_missing_store(tmp_path):
    result = run("stats", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1
    assert "no such store" in result.stderr


def test_parallel_and_serial_give_the_same_store(sample, tmp_path):
    path, truth = sample
    copies = []
    for n in range(3):
        copy = tmp_path / f"part{n}.jsonl.gz"
        shutil.copy(path, copy)
        copies.append(str(copy))
    serial = tmp_path / "serial.duckdb"
    parallel = tmp_path / "parallel.duckdb"
    run("ingest", *copies, "--db", str(serial), "--workers", "1")
    result = run("ingest", *copies, "--db", str(parallel), "--workers", "2", "--json")
    assert json.loads(result.stdout)["ingested"] == truth.collected
    assert _checksum(serial) == _checksum(parallel)


def _checksum(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    return con.execute(
        "SELECT count(*), sum(hash(platform, post_id, text, created_at, kind, collected, source_file, source_line)) FROM posts"
    ).fetchone()


def _folders(tmp_path: Path, count: int) -> list[str]:
    """Several small SYNTHETIC v1 samples, one folder (one file) each, with disjoint ids."""
    paths = []
    for seed in range(count):
        write_v1_sample(tmp_path / f"part{seed}", posts=300, seed=seed)
        paths.append(str(next((tmp_path / f"part{seed}").glob("*.gz"))))
    return paths


@pytest.mark.parametrize("workers", [1, 2])
def test_files_share_a_commit_and_an_interrupted_ingest_commits_what_it_read(tmp_path, workers):
    """Group commits: an interrupt after the second file keeps both files' posts and marks,
    also with workers, where the next files' chunks are already being parsed."""
    from groundswell.ingest import IngestOptions, ingest
    from groundswell.store import Store

    paths = _folders(tmp_path, 4)
    db = tmp_path / "g.duckdb"
    finished: list[int] = []

    def progress(records: int, *, total_bytes: int | None = None, bytes_done: int = 0) -> None:
        if bytes_done:
            finished.append(bytes_done)
            if len(finished) == 2:
                raise KeyboardInterrupt

    with Store(str(db)) as store, pytest.raises(KeyboardInterrupt):
        ingest(paths, store, IngestOptions(workers=workers, batch_rows=1_000_000), progress=progress)
    with duckdb.connect(str(db), read_only=True) as con:
        marked = {p for (p,) in con.execute("SELECT path FROM files WHERE status = 'done'").fetchall()}
        kept = {f for (f,) in con.execute("SELECT DISTINCT source_file FROM posts WHERE collected").fetchall()}
    assert marked == kept == set(paths[:2])
    with Store(str(db)) as store:  # the re-run reads the other two, adds nothing twice
        summary = ingest(paths, store, IngestOptions(workers=1, batch_rows=1_000_000))
        assert summary.files_already_ingested == 2
        assert store.sql("SELECT count(*) = count(DISTINCT post_id) FROM posts") == [(True,)]
        assert store.sql("SELECT count(DISTINCT source_file) FROM posts WHERE collected") == [(4,)]
        store.sql("CHECKPOINT")  # no group transaction is left open once ingest returns


def test_a_file_named_twice_is_read_once(sample, tmp_path):
    """Files are read ahead of their results with workers, so the second naming must not be
    read again before the first is marked."""
    path, truth = sample
    result, summary = ingest_json(tmp_path / "t.duckdb", str(path), str(path), extra=("--workers", "2"))
    assert result.exit_code == 0
    assert summary["files_already_ingested"] == 1
    assert summary["ingested"] == truth.collected
    assert summary["read"] == truth.collected + truth.duplicates + truth.broken_lines


def test_messages_keep_the_order_of_the_files(sample, tmp_path):
    """With several files in flight, each file's warnings and errors still come in input order."""
    path, _ = sample
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"synthetic": true, "colour": "blue"}\n')
    first, last = tmp_path / "a.jsonl.gz", tmp_path / "c.jsonl.gz"
    shutil.copy(path, first)
    shutil.copy(path, last)
    result = run("ingest", str(first), str(odd), str(last), "--db", str(tmp_path / "o.duckdb"), "--workers", "2")
    assert result.exit_code == 1
    lines = [line.removeprefix("warning: ") for line in result.stderr.splitlines()]
    owners = [name for line in lines for name in (str(first), str(odd), str(last)) if line.startswith(name + ":")]
    assert owners[0] == str(first) and str(odd) in owners and str(last) in owners
    assert owners.index(str(odd)) > max(i for i, name in enumerate(owners) if name == str(first))
    assert owners.index(str(last)) > owners.index(str(odd))
