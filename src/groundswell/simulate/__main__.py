"""`python -m groundswell.simulate OUT_DIR [OPTIONS]`: the same as `groundswell simulate`.

It runs the program's own entry point (`python -m groundswell simulate ...`) rather than
importing the CLI: simulate sits below cli in the layers (tests/test_layers.py), and the CLI
is what calls it.
"""

import runpy
import sys

sys.argv[1:1] = ["simulate"]
runpy.run_module("groundswell", run_name="__main__", alter_sys=True)
