"""Killing an ingest at any moment, then re-running it, ends with the store of an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from groundswell.simulate import write_v1_sample

CONTENT_CHECKSUM = """
SELECT count(*), sum(hash(platform, post_id, version_id, text, created_at, kind, collected,
                          reposted_post_id, source_file, source_line, like_count))
FROM posts
"""


def ingest_process(paths: list[str], db: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "groundswell", "ingest", *paths, "--db", str(db), "--workers", "1", "--batch-rows", "200"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def checksum(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(CONTENT_CHECKSUM).fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("kill")
    paths = []
    for seed in range(3):
        part = folder / f"part{seed}"
        write_v1_sample(part, posts=3000, seed=seed)
        paths.append(str(part))
    return paths


@pytest.fixture(scope="module")
def reference(inputs: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple:
    db = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    process = ingest_process(inputs, db)
    process.communicate(timeout=300)
    assert process.returncode == 0
    return checksum(db)


def _wait_for(db: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until the ingest has created its store: on a loaded machine start-up alone can take
    seconds, and a signal before the CLI runs is the interpreter's, not groundswell's."""
    deadline = time.monotonic() + timeout
    while not db.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("kill_signal", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_kill_and_resume(inputs, reference, tmp_path, kill_signal):
    rng = random.Random(int(kill_signal))
    for attempt in range(2):
        db = tmp_path / f"killed{attempt}.duckdb"
        process = ingest_process(inputs, db)
        _wait_for(db, process)  # the command is running (its signal handlers are set), not still importing
        time.sleep(rng.uniform(0.0, 2.0))
        process.send_signal(kill_signal)
        _, err = process.communicate(timeout=120)
        if kill_signal != signal.SIGKILL and process.returncode not in (0,):
            assert b"Traceback" not in err
            assert b"interrupted" in err
        resumed = ingest_process(inputs, db)
        _, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err.decode()[-500:]
        assert checksum(db) == reference


# A command of the real CLI group that spends its time inside one DuckDB statement, as schema
# creation or a large report does (synthetic: no data, just a long count).
LONG_STATEMENT = """
import sys, click, duckdb
from groundswell.cli import main

@main.command("long-statement")
def long_statement():
    con = duckdb.connect()
    print("started", flush=True)
    con.execute("SELECT count(*) FROM range(400000000) AS t(i) WHERE i % 7 = 3").fetchall()  # a few seconds

main(["long-statement"])
"""


@pytest.mark.parametrize("kill_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_duckdb_statement_is_an_interruption_not_a_traceback(kill_signal):
    """DuckDB turns the signal into its own "Query interrupted" error (or, if it does not look,
    Python raises it once the statement ends); either way the CLI must say what happened in
    one line and exit 130."""
    process = subprocess.Popen([sys.executable, "-c", LONG_STATEMENT], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"started\n"
    time.sleep(0.3)  # inside the statement
    process.send_signal(kill_signal)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    assert err.decode().strip().startswith("interrupted:")


# The real entry point running a quick command, with a signal sent while the interpreter
# exits (an atexit hook: the command has returned and its work is written).
SIGNAL_WHILE_EXITING = """
import atexit, os, signal, sys, time
from groundswell.cli import run

SIGNUM = int(sys.argv[1])

def signal_myself():
    os.kill(os.getpid(), SIGNUM)
    time.sleep(0.2)  # time for a handler, if any, to run

atexit.register(signal_myself)
sys.argv = ["groundswell", "movements"]
run()
"""


@pytest.mark.parametrize("kill_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_after_the_command_returned_keeps_its_exit_status(kill_signal):
    """Python restores the default action of signals while it exits, so without care a signal
    in that moment ends a finished command with a signal status (CI saw -15 after a complete
    ingest) or a traceback from the exit hooks."""
    process = subprocess.run([sys.executable, "-c", SIGNAL_WHILE_EXITING, str(int(kill_signal))],
                             capture_output=True, timeout=60)
    assert process.returncode == 0, process.stderr
    assert process.stderr == b""
    assert b"metoo" in process.stdout
