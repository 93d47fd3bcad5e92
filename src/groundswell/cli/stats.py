"""`groundswell stats`: the basic figures of a store."""

from __future__ import annotations

import click
import orjson

from ..metrics import magnitude, matching
from ..movement.definition import Movement
from ..privacy import Privacy
from .engine_options import EngineChoice, engine_options
from .movements import echo_movement_figures, movement_option
from .options import db_option, json_option
from .privacy_options import privacy_options
from .report import engine_report_figures, report_options


@click.command("stats")
@db_option
@json_option
@click.option("--by-day", is_flag=True, help="Add collected posts per UTC day.")
@movement_option
@click.option("--report", "with_report", is_flag=True,
              help="Add every figure of `groundswell report` under `report` (see docs/metrics.md).")
@report_options
@privacy_options
@engine_options
def stats_command(db: str, as_json: bool, by_day: bool, movement: Movement | None, engine: EngineChoice,
                  privacy: Privacy, with_report: bool = False, bucket: str = "hour", tz: str = "UTC") -> None:
    """Totals of the store: posts, distinct authors, time range, kinds and platforms.

    With --movement, also the posts it matches by hashtag and by phrase, per family and variant.

    With --engine spark --lake PATH, the same figures from a Parquet lake, computed by Spark.

    The totals name nobody; --movement's variant rows and --report's figures follow --privacy
    (small cells suppressed; see docs/privacy.md).

    Example: groundswell stats --json
    """
    with engine.open(db) as store:
        figures = {"privacy": privacy.as_dict(), **magnitude.totals(store.query)}
        if by_day:
            figures["by_day"] = magnitude.by_day(store.query)
        if movement:
            figures["movement"] = matching.movement_figures(store.query, movement, privacy=privacy)
        if with_report:
            figures["report"] = engine_report_figures(store, movement, bucket, tz, privacy)
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    from ..report.terminal import print_stats

    print_stats(figures)
    if movement:
        echo_movement_figures(figures["movement"])
    if with_report:
        from ..report.terminal import print_report

        print_report(figures["report"])
