"""`groundswell report`: from raw files (or the store) to one self-contained HTML report."""

from __future__ import annotations

import os
from typing import Any, Callable

import click
import orjson

from ..errors import GroundswellError
from ..movement.definition import Movement
from ..privacy import Privacy
from .engine_options import EngineChoice, engine_options
from .movements import movement_option
from .privacy_options import privacy_options
from .options import db_option, json_option

F = Callable[..., Any]


def report_options(func: F) -> F:
    """--bucket and --tz: the options that change report figures (privacy has its own, privacy_options)."""
    func = click.option("--tz", default="UTC", show_default=True, callback=_check_zone,
                        help="Time zone of buckets and times shown (IANA name, e.g. America/New_York).")(func)
    return click.option("--bucket", type=click.Choice(["auto", "hour", "day"]), default="auto", show_default=True,
                        help="Time series bucket; auto: hours for spans up to 183 days, days beyond.")(func)


def _check_zone(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from ..timeutil import zone

    if value.upper() == "UTC":
        return "UTC"
    try:
        zone(value)
    except GroundswellError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def options_from(bucket: str, tz: str, privacy: Privacy):  # -> ReportOptions
    from ..report.figures import ReportOptions

    return ReportOptions(bucket=bucket, tz=tz, privacy=privacy)


@click.command("report")
@click.argument("paths", nargs=-1)
@db_option
@json_option
@movement_option
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="Where to write the HTML report.")
@report_options
@privacy_options
@engine_options
def report_command(paths: tuple[str, ...], db: str, as_json: bool, movement: Movement | None, out: str,
                   bucket: str, tz: str, privacy: Privacy, engine: EngineChoice) -> None:
    """Write the magnitude report of a movement: one HTML file that opens offline.

    With PATHS, ingest them into the store first; without, report on the store as it is.
    Every figure is also in `groundswell stats --report --json`.

    With --engine spark --lake PATH, Spark computes the same figures from a Parquet lake
    (PATHS are then ingested into the lake first).

    Privacy: only notable accounts are named and quoted (--privacy standard, the default);
    --privacy strict names nobody; --privacy off shows everything and says so first.

    Example: groundswell report archive/*.jsonl.gz --movement metoo --out metoo.html
    """
    if movement is None:
        raise click.UsageError("--movement NAME|FILE is required (see `groundswell movements`)")
    from ..report import html
    from ..report.figures import compute
    from ..report.terminal import Reporter, print_report
    from ..store import Store

    reporter = Reporter(quiet=as_json)
    note = lambda message: reporter.err.print(message, markup=False)  # noqa: E731
    options = options_from(bucket, tz, privacy)
    if engine.is_spark:
        if paths:
            _ingest_lake(paths, engine, reporter)
        with engine.open() as spark:
            figures = compute(spark, movement, options, writable=False, note=note)
    else:
        if paths:
            _ingest(paths, db, reporter)
        elif not os.path.exists(db):
            raise GroundswellError(f"{db}: no such store (give files to ingest, or pass --db)")
        with Store(db) as store:
            figures = compute(store, movement, options, writable=True, note=note)
    path = html.write(out, figures)
    if as_json:
        click.echo(orjson.dumps({"html": str(path), "privacy": privacy.as_dict(), "report": figures},
                                option=orjson.OPT_INDENT_2).decode())
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


def _ingest_lake(paths: tuple[str, ...], engine: EngineChoice, reporter: Any) -> None:
    from ..engines.spark_ingest import ingest_lake
    from ..ingest import IngestOptions

    summary = ingest_lake(list(paths), engine.lake or "", engine.master, IngestOptions(), warn=reporter.warn)
    for error in summary.file_errors:
        reporter.warn(f"{error.path}: {error.message}")


def engine_report_figures(engine: Any, movement: Movement | None, bucket: str, tz: str,
                          privacy: Privacy) -> dict[str, Any]:
    """The report's figures for `stats --report`, on a read-only engine (on DuckDB, languages come
    from the store's cache where a report has run, else are detected now)."""
    from ..report.figures import compute

    return compute(engine, movement, options_from(bucket, tz, privacy), writable=False)
