"""The ingest progress bar: on stderr when it is a terminal, never under --json or into a pipe.

Runs the real CLI in a child whose stderr is a pseudo-terminal (pty), on synthetic
GetOldTweets-shaped rows (labelled synthetic), with the bar's delay set to zero.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

CHILD = """
import sys
from groundswell.report import terminal
terminal.SHOW_PROGRESS_AFTER_S = 0.0
from groundswell.cli import run
sys.argv = ["groundswell", *sys.argv[1:]]
run()
"""


def _synthetic_table(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        for i in range(rows):
            tweet_id = str(919714502601474050 + (i << 22))
            out.write(json.dumps({"tweet_id": tweet_id, "username": f"synthetic{i % 7}", "date": "2017-10-15 19:59:59",
                                  "text": f"synthetic post {i} #SyntheticTag", "retweets": 0, "favorites": i % 3,
                                  "permalink": f"https://twitter.com/synthetic{i % 7}/status/{tweet_id}"}) + "\n")
    return path


def _stderr_on_a_terminal(args: list[str]) -> tuple[int, str]:
    main, child = pty.openpty()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], stderr=child, stdout=subprocess.DEVNULL,
                          env={**os.environ, "COLUMNS": "160"})
    os.close(child)
    seen = b""
    os.set_blocking(main, False)
    try:
        while chunk := os.read(main, 65536):
            seen += chunk
    except (BlockingIOError, OSError):
        pass
    os.close(main)
    return done.returncode, seen.decode(errors="replace")


def test_the_bar_shows_rate_and_bytes_on_a_terminal(tmp_path: Path) -> None:
    table = _synthetic_table(tmp_path / "synthetic.jsonl", 3000)
    code, stderr = _stderr_on_a_terminal(["ingest", str(table), "--db", str(tmp_path / "a.duckdb")])
    assert code == 0
    assert "records/s" in stderr and "3,000 records" in stderr
    assert "kB" in stderr  # bytes read, against the input's size on disk


def test_no_bar_under_json_or_into_a_pipe(tmp_path: Path) -> None:
    table = _synthetic_table(tmp_path / "synthetic.jsonl", 500)
    code, stderr = _stderr_on_a_terminal(["ingest", str(table), "--db", str(tmp_path / "b.duckdb"), "--json"])
    assert code == 0 and "note:" in stderr and "records/s" not in stderr
    piped = subprocess.run([sys.executable, "-c", CHILD, "ingest", str(table), "--db", str(tmp_path / "c.duckdb")],
                           capture_output=True, text=True)
    assert piped.returncode == 0 and "records/s" not in piped.stderr
