"""`groundswell export`: the report's tables for pandas, R or a spreadsheet."""

from __future__ import annotations

import click
import orjson

from ..movement.definition import Movement
from ..privacy import Privacy
from .movements import movement_option
from .options import db_option, json_option
from .privacy_options import privacy_options
from .report import options_from, report_options


@click.command("export")
@db_option
@json_option
@movement_option
@click.option("--what", type=click.Choice(["volume", "authors", "variants", "posts"]), required=True,
              help="Which table: volume over time, authors, hashtag variants, or posts.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), default="csv", show_default=True,
              help="File format (JSON is one array of records).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The file to write.")
@report_options
@privacy_options
def export_command(db: str, as_json: bool, movement: Movement | None, what: str, fmt: str, out: str,
                   bucket: str, tz: str, privacy: Privacy) -> None:
    """Write one of the report's tables. Without --movement, every collected post counts.

    Under the default privacy (--privacy standard), posts and authors that are not notable carry
    a pseudonym, and no handle, name, text, link or real post id; --privacy strict names nobody;
    --privacy off exports everything. CSV cells that could run as spreadsheet formulas are escaped.

    Example: groundswell export --movement metoo --what volume --format csv --out volume.csv
    """
    from ..report.export import export
    from ..store import Store

    Store(db, read_only=True).close()  # a missing store fails cleanly here, rather than being created empty
    with Store(db) as store:
        result = export(store, what, fmt, out, movement, options_from(bucket, tz, privacy), writable=True)
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        if privacy.warning:
            click.echo(privacy.warning)
        click.echo(f"wrote {result['rows']:,} rows of {what} to {result['out']}")
