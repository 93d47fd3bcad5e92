"""Atheris target: any bytes, as one record, through each format adapter in turn (`parse_chunk`).

    python fuzz/fuzz_adapters.py -max_total_time=60      # seeds: real records, read at run time

A crash is an exception escaping parse_chunk or a broken invariant (fuzz/common.py).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import TABLE_OPTIONS, check_result, fuzz_args, instrument_groundswell  # noqa: E402

# Imported plainly, then instrumented in place by instrument_groundswell() in main().
from groundswell.formats import adapter, format_names
from groundswell.ingest.worker import Chunk, parse_chunk
from groundswell.movement import extract  # noqa: F401  (instrumented for the hashtag paths)

for _name in format_names():  # adapters load lazily: load them here, to instrument them
    adapter(_name)

NAMES = format_names()


def test_one_input(data: bytes) -> None:
    for name in NAMES:  # every adapter sees every input, as `--format` can force any of them
        result = parse_chunk(Chunk("fuzz.jsonl", name, dict(TABLE_OPTIONS), [(1, data)], datetime(2024, 1, 1)))
        check_result(result, 1)


def main() -> None:
    instrument_groundswell(atheris)
    atheris.Setup(fuzz_args(sys.argv), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
