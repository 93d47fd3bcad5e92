"""Synthetic movements, written as raw archive files with their ground truth.

Everything here is invented: every record is marked `"synthetic": true`, every text starts
with "[synthetic]", and handles are `synthetic_user_N`. The report issue grows this into
`groundswell simulate`; for now it feeds `make demo` and the ingest tests.
"""

from .twitter_v1 import GroundTruth, write_v1_sample

__all__ = ["GroundTruth", "write_v1_sample"]
