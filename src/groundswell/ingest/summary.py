"""What an ingest did, counted the way the summary and `--json` report it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


# The note (in `Summary.notes`, and summed in the report's coverage section) counting
# engagement counts below zero that ingest set aside as NULL (ingest/worker.py).
NEGATIVE_ENGAGEMENT = "negative_engagement_removed"


@dataclass
class FileError:
    path: str
    message: str


@dataclass
class Summary:
    """Counts are of records (lines or array elements) and of posts.

    read: records read. ingested: posts newly collected into the store. duplicate: collected
    posts that were already in the store or appeared twice in this run. referenced: posts
    stored only because a collected post references them (collected = false). skipped:
    valid payloads that are not posts. rejected: records quarantined. deleted: deletion
    notices recorded. forgotten: posts dropped because they were deleted earlier.
    """

    files: int = 0
    files_already_ingested: int = 0
    read: int = 0
    ingested: int = 0
    duplicate: int = 0
    referenced: int = 0
    skipped: int = 0
    rejected: int = 0
    deleted: int = 0
    forgotten: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    layouts: dict[str, str] = field(default_factory=dict)  # table file → the layout it was read as
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    # format → records read one by one in Python rather than by the columnar path (ingest/columnar.py)
    per_record: dict[str, int] = field(default_factory=dict)
    file_errors: list[FileError] = field(default_factory=list)
    interrupted: bool = False

    def add_counts(self, target: dict[str, int], counts: dict[str, int]) -> None:
        for key, value in counts.items():
            target[key] = target.get(key, 0) + value

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
