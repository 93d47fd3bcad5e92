"""Faults: kill -9 at random moments, overlapping re-ingests, a second writer, a read-only store,
a full disk. Each ends with either the store of an uninterrupted run or a one-line error and an
intact store.

The input is a fixed subset of the real GetOldTweets scrape (copied to a temporary folder at run
time), plus two synthetic files made here: a compliance file naming real ids from that subset
(so tombstones are involved) and a damaged v1.1 file (so quarantine is involved).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import duckdb
import pytest

from test_interruption import CONTENT_CHECKSUM

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

AURORA_DAYS = ("2017-10-10", "2017-11-04", "2017-11-05", "2017-11-06")
KILL_POINTS = 20
KILLS_PER_STORE = 5
BATCH_ROWS = "1000"

SNAPSHOT = {
    "posts": CONTENT_CHECKSUM,
    "quarantine": "SELECT count(*), sum(hash(source_file, source_line, source_format, reason, md5(raw))) FROM quarantine",
    "tombstones": "SELECT count(*), sum(hash(platform, target_id, is_author, deleted_at, reason, source_file)) FROM tombstones",
    "files": "SELECT count(*), sum(hash(path, fingerprint, source_format, status, records)) FROM files",
}


def snapshot(db: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(sql).fetchone() for name, sql in SNAPSHOT.items()}
    finally:
        con.close()


def command(paths: list[str], db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "groundswell", "ingest", *paths, "--db", str(db), "--batch-rows", BATCH_ROWS, *extra]


def run(args: list[str], limit_bytes: int | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, timeout=timeout, preexec_fn=_file_size_limit(limit_bytes))


def _file_size_limit(limit: int | None):
    """In the child: writes past `limit` bytes fail with EFBIG, as on a full disk (SIGXFSZ ignored)."""
    if limit is None:
        return None

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def assert_one_line_error(result: subprocess.CompletedProcess, *phrases: str) -> str:
    err = result.stderr.decode()
    assert result.returncode == 1, err[-800:]
    assert "Traceback" not in err, err[-2000:]
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0] == err.strip().splitlines()[-1], err[-800:]
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
    return errors[0]


def aurora_ids(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line)["tweet_id"] for line in handle if line.strip()]


def synthetic_tweet(n: int) -> dict:
    """A synthetic v1.1 tweet: invented id (a 2017 snowflake), user and text."""
    tid = str(((1508068800000 - 1288834974657 + n) << 22) | n)
    return {"id_str": tid, "text": f"[synthetic] {n}", "user": {"id_str": str(70 + n % 3), "screen_name": "synthetic"},
            "created_at": "Sun Oct 15 12:00:00 +0000 2017", "entities": {"hashtags": []}}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import AURORA

    if not AURORA.is_dir():
        pytest.skip(f"real data folder {AURORA} is absent")
    folder = tmp_path_factory.mktemp("faults") / "in"
    folder.mkdir()
    for day in AURORA_DAYS:
        shutil.copy(AURORA / f"{day}.jsonl.gz", folder / f"{day}.jsonl.gz")
    # Sorted between the 11-04 and 11-05 files: it deletes stored posts and blocks later ones.
    victims = aurora_ids(folder / "2017-11-04.jsonl.gz")[::500] + aurora_ids(folder / "2017-11-05.jsonl.gz")[::500]
    (folder / "2017-11-05-compliance.jsonl").write_text("".join(  # synthetic notices for real ids
        json.dumps({"id": v, "action": "delete", "created_at": "2021-01-01T00:00:00.000Z", "reason": "deleted"}) + "\n"
        for v in victims))
    tweets = [json.dumps(synthetic_tweet(n)) for n in range(60)]
    damaged = tweets[:5] + [line[: 40 + n] if n % 2 else line for n, line in enumerate(tweets[5:])]
    (folder / "2017-11-05-synthetic-damaged.jsonl").write_text("\n".join(damaged) + "\n")
    return folder


@pytest.fixture(scope="module")
def reference(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, float]:
    """The uninterrupted store, and how long its writing phase took (from opening the store)."""
    db = tmp_path_factory.mktemp("reference") / "ref.duckdb"
    process = subprocess.Popen(command([str(inputs)], db, "--workers", "1"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    opened = wait_until_open(process, db)
    _, err = process.communicate(timeout=300)
    work = time.monotonic() - opened
    assert process.returncode == 0, err.decode()[-800:]
    shot = snapshot(db)
    assert shot["quarantine"][0] > 0 and shot["tombstones"][0] > 0 and shot["posts"][0] > 10_000
    return shot, work


def holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open (Linux /proc): the moment its real work begins."""
    try:
        return any(os.path.realpath(f"/proc/{pid}/fd/{fd}") == str(path.resolve()) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def wait_until_open(process: subprocess.Popen, db: Path, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while process.poll() is None and not holds_open(process.pid, db) and time.monotonic() < deadline:
        time.sleep(0.01)
    return time.monotonic()


def kill_during_work(args: list[str], db: Path, delay: float) -> float | None:
    """Start; once it has opened the store, kill -9 its whole process group after `delay` s.

    Returns how long it had worked when killed, or None when it finished first.
    """
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    opened = wait_until_open(process, db)
    try:
        process.wait(timeout=delay)
        return None
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        return time.monotonic() - opened if process.returncode == -signal.SIGKILL else None


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to time kills within the writing phase")
def test_kill_minus_9_at_random_points_then_resume(inputs: Path, reference: tuple[dict, float], tmp_path: Path):
    """At least 20 real kill points spread over the writing phase, several per store (a killed
    re-run is killed again), with 1 and 2 workers; each store, completed by a last run, equals
    the uninterrupted one."""
    expected, work = reference
    rng = random.Random(20171015)
    kills, stores, landed = 0, 0, []
    while kills < KILL_POINTS:
        assert stores < 3 * KILL_POINTS // KILLS_PER_STORE, "kills keep missing: the ingests end too soon"
        db = tmp_path / f"killed{stores}.duckdb"
        workers = "2" if stores % 3 == 2 else "1"
        args = command([str(inputs)], db, "--workers", workers)
        left = work
        for _ in range(KILLS_PER_STORE):
            worked = kill_during_work(args, db, rng.uniform(0.0, left))
            if worked is None:
                break  # it finished: the store is complete
            kills += 1
            landed.append(round(worked / work, 2))
            left = max(0.15 * work, left - 0.8 * worked)
        finished = run(args)
        assert finished.returncode == 0, finished.stderr.decode()[-800:]
        assert snapshot(db) == expected, f"store {stores} ({workers} workers) differs after kills"
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() == (0,)
        stores += 1
    print(f"\n{kills} kills over {stores} stores, at these fractions of the writing phase: {landed}")


def test_overlapping_ingests_in_a_row_add_nothing_twice(inputs: Path, tmp_path: Path):
    days = [inputs / f"{day}.jsonl.gz" for day in AURORA_DAYS[1:]]
    copies = tmp_path / "copies"  # the same content under other paths: only deduplication can save us
    copies.mkdir()
    for path in days[1:]:
        shutil.copy(path, copies / f"again-{path.name}")
    db = tmp_path / "overlap.duckdb"
    first = run(command([str(p) for p in days[:2]], db, "--workers", "1", "--json"))
    second = run(command([str(copies)], db, "--workers", "1", "--json"))
    third = run(command([str(p) for p in days], db, "--workers", "1", "--json", "--force"))
    assert first.returncode == second.returncode == third.returncode == 0
    ids = {i for p in days for i in aurora_ids(p)}
    overlap = len(aurora_ids(days[1]))
    assert json.loads(second.stdout)["duplicate"] == overlap
    assert json.loads(third.stdout)["ingested"] == 0 and json.loads(third.stdout)["duplicate"] == len(ids)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone() == (len(ids), len(ids))


def test_a_second_writer_is_told_the_store_is_busy(inputs: Path, tmp_path: Path):
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to see when the first ingest has opened the store")
    db = tmp_path / "busy.duckdb"
    # The per-record path keeps the first ingest busy long enough; this test is about the lock, not speed.
    first = subprocess.Popen(command([str(inputs)], db, "--workers", "1", "--batch-rows", "200"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "GROUNDSWELL_INGEST_PATH": "per-record"})
    try:
        wait_until_open(first, db)
        second = run(command([str(inputs / "2017-10-10.jsonl.gz")], db, "--workers", "1"))
        reader = run([sys.executable, "-m", "groundswell", "stats", "--db", str(db), "--json"])
        eraser = run([sys.executable, "-m", "groundswell", "forget", "--db", str(db), "--author", "1"])
        assert first.poll() is None, "the first ingest ended before the second writer tried: use more input"
    finally:
        out, err = first.communicate(timeout=300)
    for result in (second, reader, eraser):
        assert_one_line_error(result, str(db), "store is busy")
    assert first.returncode == 0, err.decode()[-800:]
    assert snapshot(db)["posts"][0] > 10_000  # the first writer finished its work undisturbed


# --- read-only store ---------------------------------------------------------------------------

def _make_read_only(path: Path) -> tuple[str, Callable[[], object]]:
    """Really refuse writes to `path`, even as root: chmod for users, `chattr +i` for root."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        return "chmod", lambda: path.chmod(mode)
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0:
        return "chattr +i", lambda: subprocess.run(["chattr", "-i", str(path)], check=True)
    pytest.skip("running as root on a filesystem without `chattr +i`: cannot make the store read-only")


def _refuses_writes(path: Path) -> bool:
    probe = path / ".probe" if path.is_dir() else path
    try:
        with open(probe, "ab"):
            pass
    except OSError:
        return True
    if path.is_dir():
        probe.unlink()
    return False


@pytest.mark.parametrize("locked", ["file", "folder"])
def test_a_read_only_store_gives_a_clear_error_and_stays_intact(inputs: Path, tmp_path: Path, locked: str):
    db = tmp_path / "ro" / "ro.duckdb"
    db.parent.mkdir()
    assert run(command([str(inputs / "2017-10-10.jsonl.gz")], db, "--workers", "1")).returncode == 0
    before = snapshot(db)
    target = db if locked == "file" else db.parent
    how, undo = _make_read_only(target)
    try:
        assert _refuses_writes(target), f"{how} did not make {target} read-only"
        result = run(command([str(inputs / "2017-11-04.jsonl.gz")], db, "--workers", "1"))
        assert_one_line_error(result, str(db), "read-only")
        eraser = run([sys.executable, "-m", "groundswell", "forget", "--db", str(db), "--author", "1"])
        assert_one_line_error(eraser, str(db), "read-only")
        if locked == "file":  # reading a read-only store still works
            stats = run([sys.executable, "-m", "groundswell", "stats", "--db", str(db), "--json"])
            assert stats.returncode == 0 and json.loads(stats.stdout)["posts"] == before["posts"][0]
    finally:
        undo()
    assert snapshot(db) == before


# --- full disk ---------------------------------------------------------------------------------

def _prepare(inputs: Path, db: Path) -> dict:
    assert run(command([str(inputs / "2017-10-10.jsonl.gz")], db, "--workers", "1")).returncode == 0
    return snapshot(db)


def _previous_posts_kept(db: Path, before_db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute(f"ATTACH '{before_db}' AS before (READ_ONLY)")
        missing = con.execute("SELECT count(*) FROM before.posts b ANTI JOIN posts p USING (platform, post_id, text)").fetchone()
    assert missing == (0,)


def test_a_full_disk_gives_a_clear_error_and_the_store_stays_intact(inputs: Path, reference, tmp_path: Path):
    """RLIMIT_FSIZE makes the child's writes fail with EFBIG past a size, as a full disk would."""
    db = tmp_path / "full.duckdb"
    _prepare(inputs, db)
    saved = tmp_path / "before.duckdb"
    shutil.copy(db, saved)
    limit = db.stat().st_size + 400_000
    result = run(command([str(inputs)], db, "--workers", "1"), limit_bytes=limit)
    assert_one_line_error(result, str(db), "disk is full")
    _previous_posts_kept(db, saved)
    resumed = run(command([str(inputs)], db, "--workers", "1"))
    assert resumed.returncode == 0, resumed.stderr.decode()[-800:]
    assert snapshot(db)["posts"] == reference[0]["posts"]


def test_a_full_disk_during_vacuum_leaves_the_store_as_it_was(inputs: Path, tmp_path: Path):
    db = tmp_path / "vac.duckdb"
    _prepare(inputs, db)
    forget = [sys.executable, "-m", "groundswell", "forget", "--db", str(db), "--author", "1"]
    assert run(forget).returncode == 0
    before = snapshot(db)
    # Forgetting again changes nothing, so only the vacuum's fresh copy meets the limit.
    result = run([*forget, "--vacuum"], limit_bytes=db.stat().st_size // 2)
    assert_one_line_error(result, str(db), "disk is full")
    assert snapshot(db) == before
    assert not Path(f"{db}.vacuum-tmp").exists()
    assert run([*forget, "--vacuum"]).returncode == 0 and snapshot(db) == before


def test_a_real_small_filesystem_fills_up_cleanly(inputs: Path, tmp_path: Path):
    """The same on a 3 MB tmpfs, where the kernel itself says ENOSPC (needs the right to mount)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({made.stderr.decode().strip()[:80]}); the RLIMIT_FSIZE test covers this")
    try:
        db = mount / "tiny.duckdb"
        before = _prepare(inputs, db)
        saved = tmp_path / "before.duckdb"
        shutil.copy(db, saved)
        result = run(command([str(inputs)], db, "--workers", "1"))
        assert_one_line_error(result, str(db), "disk is full")
        _previous_posts_kept(db, saved)
        assert snapshot(db)["files"][0] >= before["files"][0]
    finally:
        subprocess.run(["umount", str(mount)], check=True)
