"""`python -m groundswell.simulate OUT_DIR [OPTIONS]`: the same as `groundswell simulate`."""

import sys

from ..cli import main

main(["simulate", *sys.argv[1:]], prog_name="groundswell")
