"""Reading sources into the store: detection, parallel parsing, atomic batched writes."""

from .pipeline import IngestOptions, ingest
from .summary import Summary

__all__ = ["IngestOptions", "Summary", "ingest"]
