"""Run every atheris target for a while (`make fuzz`); exit 1 if any found a crash.

    python fuzz/run.py --seconds 120

libFuzzer writes a crashing input as `crash-*` in the working folder, which is a temporary
one here: the path is printed. Such inputs may hold real records: keep them out of the repo.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

TARGETS = ("fuzz_adapters.py", "fuzz_files.py")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=120, help="per target")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent
    failed = []
    for target in TARGETS:
        work = tempfile.mkdtemp(prefix=f"groundswell-{target[:-3]}-")
        print(f"fuzzing {target} for {args.seconds} s (artifacts in {work})", flush=True)
        done = subprocess.run([sys.executable, str(here / target), f"-max_total_time={args.seconds}",
                               "-print_final_stats=1"], cwd=work)
        if done.returncode != 0:
            failed.append(f"{target} (see {work})")
    if failed:
        print("crashes found: " + ", ".join(failed), file=sys.stderr)
        return 1
    print("no crash found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
