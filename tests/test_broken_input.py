"""Hypothesis feeds the pipeline broken input: it never crashes, and every record is accounted for."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import orjson
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.cli import main
from groundswell.simulate.twitter_v1 import START, _tweet, _user

# Synthetic tweets, then damaged in the ways real archives are damaged.
_rng = random.Random(1)
_USERS = [_user(n, _rng) for n in range(5)]
_GOOD = [orjson.dumps(_tweet(n, START, _USERS[n % 5], f"[synthetic] {n} #MeToo", ["MeToo"])) for n in range(40)]


def _damage(line: bytes, how: str, cut: int, junk: bytes) -> bytes:
    if how == "truncate":
        return line[: cut % max(1, len(line))]
    if how == "junk":
        return junk.replace(b"\n", b" ")
    if how == "wrong-type":
        record = json.loads(line)
        record["user"] = "not an object" if cut % 2 else None
        return orjson.dumps(record)
    if how == "missing-id":
        record = json.loads(line)
        record.pop("id", None)
        record.pop("id_str", None)
        return orjson.dumps(record)
    if how == "latin1":
        return line.replace(b"[synthetic]", "[synthétique]".encode("latin-1"))
    return line


damages = st.lists(
    st.tuples(st.sampled_from(["keep", "truncate", "junk", "wrong-type", "missing-id", "latin1"]),
              st.integers(0, 10_000), st.binary(max_size=40)),
    min_size=len(_GOOD), max_size=len(_GOOD),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damages)
def test_damaged_lines_are_quarantined_never_crash(tmp_path: Path, plan):
    lines = [_damage(line, how, cut, junk) for line, (how, cut, junk) in zip(_GOOD, plan)]
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(_GOOD[0] + b"\n" + b"\n".join(lines) + b"\n")
    db = tmp_path / "d.duckdb"
    if db.exists():
        db.unlink()
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(db), "--json", "--workers", "1", "--format", "twitter-v1", "--force"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    nonblank = sum(1 for line in [_GOOD[0], *lines] if line.strip())
    assert summary["read"] == nonblank
    accounted = summary["ingested"] + summary["duplicate"] + summary["rejected"] + summary["skipped"]
    assert accounted == nonblank
    with duckdb.connect(str(db), read_only=True) as con:
        (stored,) = con.execute("SELECT count(*) FROM posts WHERE collected").fetchone()
        (quarantined,) = con.execute("SELECT count(*) FROM quarantine").fetchone()
    assert stored == summary["ingested"] and quarantined == summary["rejected"]
