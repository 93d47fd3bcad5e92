"""`groundswell stats`: the basic figures of a store."""

from __future__ import annotations

import click
import orjson

from ..metrics import magnitude, matching
from ..movement.definition import Movement
from ..store import Store
from .movements import echo_movement_figures, movement_option
from .options import db_option, json_option


@click.command("stats")
@db_option
@json_option
@click.option("--by-day", is_flag=True, help="Add collected posts per UTC day.")
@movement_option
def stats_command(db: str, as_json: bool, by_day: bool, movement: Movement | None) -> None:
    """Totals of the store: posts, distinct authors, time range, kinds and platforms.

    With --movement, also the posts it matches by hashtag and by phrase, per family and variant.

    Example: groundswell stats --json
    """
    with Store(db, read_only=True) as store:
        figures = magnitude.totals(store.sql)
        if by_day:
            figures["by_day"] = magnitude.by_day(store.sql)
        if movement:
            figures["movement"] = matching.movement_figures(store.sql, movement)
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    from ..report.terminal import print_stats

    print_stats(figures)
    if movement:
        echo_movement_figures(figures["movement"])
