"""`python -m groundswell.simulate FOLDER`: write the synthetic sample used by `make demo`."""

import sys
from pathlib import Path

from .twitter_v1 import write_v1_sample

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-data")
truth = write_v1_sample(folder)
print(f"wrote a synthetic sample to {folder}/: {truth.as_dict()}")
