"""`groundswell ingest`: read archives of any supported format into the store."""

from __future__ import annotations

import sys
import tomllib
from typing import Any

import click
import orjson

from ..errors import GroundswellError
from ..formats import format_names
from ..ingest import IngestOptions, ingest
from ..store import Store
from .engine_options import EngineChoice, engine_options
from .options import db_option, json_option


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@db_option
@json_option
@click.option("--format", "format_name", type=click.Choice(format_names()), help="Force a format instead of detecting it.")
@click.option("--preset", help="A named table layout (see docs/formats.md), e.g. getoldtweets, twarc-csv.")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN", help="Map a post field to a table column; repeatable.")
@click.option("--mapping-file", type=click.Path(exists=True, dir_okay=False), help="A TOML file with a [columns] mapping.")
@click.option("--tz", help="Time zone of naive timestamps in tables (IANA name). Default: UTC, with a warning.")
@click.option("--delimiter", help="Table delimiter (default: guessed, comma or tab).")
@click.option("--no-accent-fold", is_flag=True, help="Keep accents in hashtag keys (#YoTambién ≠ #YoTambien).")
@click.option("--no-infer-kinds", is_flag=True,
              help="Tables: take kinds only from kind and reference columns, never from an `RT @` text or a reply-to cell.")
@click.option("--workers", type=int, default=0, help="Parser processes (default: one per core).")
@click.option("--force", is_flag=True, help="Read files again even if they were ingested before.")
@click.option("--batch-rows", type=click.IntRange(1), default=250_000, show_default=True,
              help="Posts per commit; smaller commits lose less work to a kill, larger ones write faster.")
@click.option("--collection", metavar="NAME",
              help="Name the collection these files belong to (default: one per ingest command). Overlapping "
                   "collections feed `groundswell estimate`'s capture-recapture.")
@engine_options
def ingest_command(paths: tuple[str, ...], db: str, as_json: bool, format_name: str | None, preset: str | None,
                   mapping: tuple[str, ...], mapping_file: str | None, tz: str | None, delimiter: str | None,
                   no_accent_fold: bool, no_infer_kinds: bool, workers: int, force: bool, batch_rows: int,
                   collection: str | None, engine: EngineChoice) -> None:
    """Read PATHS (files, directories, globs, or - for stdin) into the store.

    Formats are recognised from content; .gz and .zst are read transparently. Re-ingesting
    the same or overlapping files adds nothing twice.

    With --engine spark, Spark tasks read the files (one per task) and write a Parquet lake
    at --lake instead of the DuckDB store; see docs/scale.md.

    Example: groundswell ingest tweets/*.jsonl.gz --db metoo.duckdb
    """
    mapped = bool(preset or mapping or mapping_file)
    options = IngestOptions(
        format=format_name or ("table" if mapped else None),
        adapter_options={**_adapter_options(preset, mapping, mapping_file, tz, delimiter, not no_accent_fold),
                         "infer_kinds": not no_infer_kinds},
        workers=workers,
        force=force,
        batch_rows=batch_rows,
        collection=collection,
    )
    from ..report.terminal import Reporter

    reporter = Reporter(quiet=as_json)
    if engine.is_spark:
        from ..engines.spark_ingest import ingest_lake

        summary = ingest_lake(list(paths), engine.lake or "", engine.master, options, warn=reporter.warn)
    else:
        with Store(db) as store:
            with reporter.progress("ingesting") as advance:
                summary = ingest(list(paths), store, options, warn=reporter.warn, progress=advance, note=reporter.note)
    if as_json:
        click.echo(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        reporter.ingest_summary(summary)
    if summary.file_errors:
        sys.exit(1)


def _adapter_options(preset: str | None, mapping: tuple[str, ...], mapping_file: str | None, tz: str | None,
                     delimiter: str | None, accent_fold: bool) -> dict[str, Any]:
    columns: dict[str, str] = {}
    if mapping_file:
        file_columns, settings = _read_mapping_file(mapping_file)
        columns.update(file_columns)
        preset = preset or settings.get("preset")
        tz = tz or settings.get("tz")
        platform = settings.get("platform")
        if platform and "platform" not in columns:
            columns["platform"] = f"={platform}"
    for pair in mapping:
        field, sep, column = pair.partition("=")
        if not sep or not field or not column:
            raise click.BadParameter(f"{pair!r}: expected FIELD=COLUMN", param_hint="--map")
        columns[field.strip()] = column.strip()
    if tz:
        from ..timeutil import zone

        zone(tz)  # fail early on an unknown zone
    return {"preset": preset, "columns": columns, "tz": tz, "delimiter": delimiter, "accent_fold": accent_fold}


MAPPING_SETTINGS = ("preset", "tz", "platform")


def _read_mapping_file(path: str) -> tuple[dict[str, str], dict[str, str]]:
    """A TOML file: a [columns] table, and optional top-level preset, tz and platform."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise GroundswellError(f"{path}: not valid TOML ({exc})") from None
    settings = {key: data[key] for key in MAPPING_SETTINGS if isinstance(data.get(key), str)}
    columns = data.get("columns", {k: v for k, v in data.items() if k not in MAPPING_SETTINGS})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise GroundswellError(f"{path}: expected a [columns] table of field = \"column\" pairs")
    return dict(columns), settings
