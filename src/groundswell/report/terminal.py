"""Terminal output with rich: summaries on stdout, progress and warnings on stderr."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ..ingest.summary import Summary
from ..privacy import OFF_WARNING


SHOW_PROGRESS_AFTER_S = 2.0


class Reporter:
    """Warnings go to stderr as plain lines; the progress bar shows only on a terminal."""

    def __init__(self, quiet: bool = False):
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False)
        self.quiet = quiet

    def warn(self, message: str) -> None:
        self.err.print(f"warning: {message}", markup=False)

    def note(self, message: str) -> None:
        """What the user should see but need not act on (the layout a table was read as)."""
        self.err.print(f"note: {message}", markup=False)

    @contextmanager
    def progress(self, label: str) -> Iterator[Callable[..., None]]:
        """Records read, their rate, bytes on disk finished and an ETA; only on a terminal and
        never under --json, and only once the work has taken SHOW_PROGRESS_AFTER_S."""
        if self.quiet or not sys.stderr.isatty():
            yield lambda records, **_: None
            return
        columns = (TextColumn(label), BarColumn(), TextColumn("{task.fields[records]:,} records"),
                   TextColumn("{task.fields[rate]}"), DownloadColumn(), TimeElapsedColumn(), TimeRemainingColumn())
        bar = Progress(*columns, console=self.err, transient=True)
        task = bar.add_task(label, total=None, records=0, rate="")
        started, shown = time.monotonic(), False

        def advance(records: int, *, total_bytes: int | None = None, bytes_done: int = 0) -> None:
            nonlocal shown
            if total_bytes:
                bar.update(task, total=total_bytes)
            count = bar.tasks[0].fields["records"] + records
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(task, advance=bytes_done, records=count, rate=f"{count / elapsed:,.0f} records/s")
            if not shown and elapsed >= SHOW_PROGRESS_AFTER_S:
                bar.start()
                shown = True

        try:
            yield advance
        finally:
            bar.stop()

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
        for name, value in sorted(summary.per_record.items()):
            table.add_row(f"{name} records read one by one (slower path)", f"{value:,}")
        self.out.print(table)


def privacy_warning(privacy: dict[str, Any] | None, console: Console | None = None) -> None:
    """Under --privacy off, the first line of the output says so (see docs/privacy.md)."""
    if privacy and privacy.get("mode") == "off":
        (console or Console(highlight=False)).print(OFF_WARNING, markup=False, style="bold red")


def print_stats(figures: dict[str, Any]) -> None:
    console = Console(highlight=False)
    privacy_warning(figures.get("privacy"), console)
    table = Table(show_header=False, box=None)
    for key in ("posts", "distinct_authors", "referenced_only_posts", "first_created_at", "last_created_at"):
        value = figures.get(key)
        if key == "distinct_authors" and value is None:
            value = f"unknown ({figures['people']['reason']})"
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    for group in ("by_kind", "by_platform"):
        for name, n in figures.get(group, {}).items():
            table.add_row(f"{group.replace('_', ' ')}: {name}", f"{n:,}")
    console.print(table)


SPARKS = "▁▂▃▄▅▆▇█"
START_METHODS = {"call_to_action": "the call to action", "call_to_action_id": "the call to action, timed by its id",
                 "first_burst": "the first burst"}


def sparkline(values: list[int], width: int = 48) -> str:
    """Values squeezed into `width` columns (each the sum of its share), drawn with block characters."""
    if not values:
        return ""
    columns = min(width, len(values))
    sums = [sum(values[i * len(values) // columns:(i + 1) * len(values) // columns]) for i in range(columns)]
    top = max(sums) or 1
    return "".join(" " if n == 0 else SPARKS[min(len(SPARKS) - 1, n * len(SPARKS) // (top + 1))] for n in sums)


def print_report(figures: dict[str, Any], html_path: str | None = None) -> None:
    """The short terminal summary of `groundswell report`: the headline, sparklines and warnings."""
    console = Console(highlight=False)
    privacy_warning(figures["settings"].get("privacy"), console)
    head, volume, coverage = figures["headline"], figures["volume"], figures["coverage"]
    movement = figures.get("movement") or {}
    from ..metrics.people import describe

    console.print(f"[bold]{movement.get('name', 'all collected posts')}[/bold]: "
                  f"{head['posts']:,} posts by {describe(head['people'], head['distinct_authors'])}", markup=True)
    if figures.get("how_big"):
        from ..analysis.estimation import describe as describe_estimate

        estimate = figures["how_big"]["headline"]["posts"]
        console.print(f"how big: posts {describe_estimate(estimate)}" + (f" ({estimate['method']})" if estimate.get("method") else ""),
                      markup=False)
    first = head.get("first_24h")
    if first:
        note = " (overlaps a collection gap: a lower bound)" if first.get("overlaps_gap") else ""
        console.print(f"{first['posts']:,} posts in the first 24 hours after the start, "
                      f"{_when(first['from'], volume['tz'])} ({START_METHODS.get(head['start']['method'], '')}){note}",
                      markup=False)
    aside = head["start"].get("set_aside")
    if aside:
        console.print(f"the definition's call to action ({_when(aside['at'], volume['tz'])}) is not the start: "
                      f"{aside['reason']}", markup=False)
    series = volume["series"]
    if series:
        console.print(f"posts per {volume['bucket']} ({volume['tz']}), {series[0]['t']} to {series[-1]['t']}:", markup=False)
        console.print(sparkline([r["posts"] for r in series], 72), markup=False)
    around = volume.get("around_start") or []
    if around and (volume["bucket"] == "day" or len(series) > 2 * len(around)):  # else it repeats the line above
        console.print(f"posts per hour around the start, {around[0]['t']} to {around[-1]['t']}:", markup=False)
        console.print(sparkline([r["posts"] for r in around], 96), markup=False)
    table = Table(show_header=False, box=None)
    for key in ("peak_hour", "peak_day"):
        if volume.get(key):
            table.add_row(key.replace("_", " "), f"{volume[key]['t']}: {volume[key]['posts']:,} posts")
    match = figures["hashtag_vs_phrase"]["totals"]
    table.add_row("hashtag only / phrase only / both", f"{match['hashtag_only']:,} / {match['phrase_only']:,} / {match['both']:,}")
    gaps = coverage["gaps"]["days"]
    if gaps:
        table.add_row("days without data", ", ".join(g["start"] if g["days"] == 1 else f"{g['start']} to {g['end']}"
                                                     for g in gaps[:6]) + (" …" if len(gaps) > 6 else ""))
    console.print(table)
    if html_path:
        console.print(f"report written to {html_path}", markup=False)


def _when(value: str, tz: str) -> str:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=timezone.utc)
    return (moment.astimezone(ZoneInfo(tz)) if tz != "UTC" else moment).strftime("%Y-%m-%d %H:%M") + f" {tz}"
