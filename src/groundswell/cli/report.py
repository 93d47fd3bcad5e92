"""`groundswell report`: from raw files (or the store) to one self-contained HTML report."""

from __future__ import annotations

import os
from typing import Any, Callable

import click
import orjson

from ..errors import GroundswellError
from ..movement.definition import Movement
from ..privacy import DEFAULT_NOTABLE_FOLLOWERS, Privacy
from .movements import movement_option
from .options import db_option, json_option

F = Callable[..., Any]


def report_options(func: F) -> F:
    """--bucket, --tz and --notable-followers: the options that change report figures."""
    func = click.option("--notable-followers", type=click.IntRange(0), default=DEFAULT_NOTABLE_FOLLOWERS,
                        show_default=True, help="Followers from which a non-verified account counts as notable "
                        "(named, its posts quoted); everyone else stays anonymous.")(func)
    func = click.option("--tz", default="UTC", show_default=True, callback=_check_zone,
                        help="Time zone of buckets and times shown (IANA name, e.g. America/New_York).")(func)
    return click.option("--bucket", type=click.Choice(["hour", "day"]), default="hour", show_default=True,
                        help="Time series bucket.")(func)


def _check_zone(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from ..timeutil import zone

    if value.upper() == "UTC":
        return "UTC"
    try:
        zone(value)
    except GroundswellError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def options_from(bucket: str, tz: str, notable_followers: int):  # -> ReportOptions
    from ..report.figures import ReportOptions

    return ReportOptions(bucket=bucket, tz=tz, privacy=Privacy("standard", notable_followers))


@click.command("report")
@click.argument("paths", nargs=-1)
@db_option
@json_option
@movement_option
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="Where to write the HTML report.")
@report_options
def report_command(paths: tuple[str, ...], db: str, as_json: bool, movement: Movement | None, out: str,
                   bucket: str, tz: str, notable_followers: int) -> None:
    """Write the magnitude report of a movement: one HTML file that opens offline.

    With PATHS, ingest them into the store first; without, report on the store as it is.
    Every figure is also in `groundswell stats --report --json`.

    Example: groundswell report archive/*.jsonl.gz --movement metoo --out metoo.html
    """
    if movement is None:
        raise click.UsageError("--movement NAME|FILE is required (see `groundswell movements`)")
    from ..report import html
    from ..report.figures import compute
    from ..report.terminal import Reporter, print_report
    from ..store import Store

    reporter = Reporter(quiet=as_json)
    if paths:
        _ingest(paths, db, reporter)
    elif not os.path.exists(db):
        raise GroundswellError(f"{db}: no such store (give files to ingest, or pass --db)")
    with Store(db) as store:
        figures = compute(store, movement, options_from(bucket, tz, notable_followers), writable=True,
                          note=lambda message: reporter.err.print(message, markup=False))
    path = html.write(out, figures)
    if as_json:
        click.echo(orjson.dumps({"html": str(path), "report": figures}, option=orjson.OPT_INDENT_2).decode())
    else:
        print_report(figures, str(path))


def _ingest(paths: tuple[str, ...], db: str, reporter: Any) -> None:
    from ..ingest import IngestOptions, ingest
    from ..store import Store

    with Store(db) as store:
        with reporter.progress("ingesting") as advance:
            summary = ingest(list(paths), store, IngestOptions(), warn=reporter.warn, progress=advance)
    if summary.file_errors:
        for error in summary.file_errors:
            reporter.warn(f"{error.path}: {error.message}")
    if not reporter.quiet:
        reporter.err.print(f"ingested {summary.ingested:,} new posts from {summary.files:,} files "
                           f"({summary.duplicate:,} duplicates, {summary.rejected:,} rejected)", markup=False)


def engine_report_figures(engine: Any, movement: Movement | None, bucket: str, tz: str,
                          notable_followers: int) -> dict[str, Any]:
    """The report's figures for `stats --report`, on the DuckDB engine's read-only store
    (languages come from the store's cache where a report has run, else are detected now)."""
    from ..report.figures import compute

    store = getattr(engine, "store", None)
    if store is None:
        raise GroundswellError("--report runs on the DuckDB engine only for now (language detection and the "
                               "report's temporary tables need it); drop --engine spark")
    return compute(store, movement, options_from(bucket, tz, notable_followers), writable=False)
