"""Terminal output with rich: summaries on stdout, progress and warnings on stderr."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..ingest.summary import Summary


class Reporter:
    """Warnings go to stderr as plain lines; the progress bar shows only on a terminal."""

    def __init__(self, quiet: bool = False):
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False)
        self.quiet = quiet

    def warn(self, message: str) -> None:
        self.err.print(f"warning: {message}", markup=False)

    @contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int], None]]:
        if not sys.stderr.isatty():
            yield lambda n: None
            return
        columns = (TextColumn(f"{label}"), BarColumn(), TextColumn("{task.completed:,} records"), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(label, total=None)
            yield lambda n: bar.advance(task, n)

    def ingest_summary(self, summary: Summary) -> None:
        table = Table(title="ingest", show_header=False, box=None)
        for label, value in (
            ("files", summary.files), ("already ingested (skipped)", summary.files_already_ingested),
            ("records read", summary.read), ("posts ingested", summary.ingested),
            ("duplicates", summary.duplicate), ("referenced-only posts", summary.referenced),
            ("non-post payloads skipped", summary.skipped), ("records rejected", summary.rejected),
            ("deletions recorded", summary.deleted), ("dropped as deleted", summary.forgotten),
        ):
            table.add_row(label, f"{value:,}")
        for name, value in sorted(summary.notes.items()):
            table.add_row(name.replace("_", " "), f"{value:,}")
        self.out.print(table)


def print_stats(figures: dict[str, Any]) -> None:
    console = Console(highlight=False)
    table = Table(show_header=False, box=None)
    for key in ("posts", "distinct_authors", "referenced_only_posts", "first_created_at", "last_created_at"):
        value = figures.get(key)
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    for group in ("by_kind", "by_platform"):
        for name, n in figures.get(group, {}).items():
            table.add_row(f"{group.replace('_', ' ')}: {name}", f"{n:,}")
    console.print(table)
