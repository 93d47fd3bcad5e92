"""`groundswell amplifiers`: who carried the movement."""

from __future__ import annotations

from typing import Any

import click
import orjson

from ..analysis.cascades import spread_figures
from ..movement.definition import Movement
from ..privacy import Privacy
from .engine_options import EngineChoice, engine_options
from .movements import movement_option
from .options import db_option, json_option
from .privacy_options import privacy_options


@click.command("amplifiers")
@movement_option
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="Rows per ranked table.")
@db_option
@json_option
@privacy_options
@engine_options
def amplifiers_command(movement: Movement | None, top: int, db: str, as_json: bool, privacy: Privacy,
                       engine: EngineChoice) -> None:
    """The most active accounts, the most amplified accounts and posts, the earliest notable
    adopters, and potential reach and impressions, over the movement's posts (every collected
    post without --movement). Only notable accounts are named. See docs/spread.md.

    Example: groundswell amplifiers --movement metoo --top 20 --json
    """
    with engine.open(db) as store:
        figures = spread_figures(store.query, movement, privacy, top, sections=("amplifiers",))
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    if privacy.mode == "off":
        click.echo(f"WARNING: privacy is OFF: {privacy.describe()}")
    echo_amplifiers(figures["amplifiers"])


def _n(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


def echo_amplifiers(a: dict[str, Any]) -> None:
    reach, amp = a["reach"], a["amplifications"]
    click.echo(f"scope: {a['scope']['posts']}: {reach['posts']:,} posts by {reach['accounts']:,} accounts")
    click.echo(f"potential reach {reach['potential_reach']:,}; potential impressions {reach['potential_impressions']:,}")
    click.echo(f"amplifications: {amp['reposts']:,} reposts and {amp['quotes']:,} quotes of {amp['originals']:,} "
               f"stored originals ({amp['without_original']:,} point to a post not in the store)")
    click.echo("most active:")
    for row in a["most_active"]:
        click.echo(f"  {row['label']}  posts {row['posts']:,}  followers {_n(row['followers'])}")
    click.echo("most influential (reposts + quotes received; followers of those who amplified):")
    for row in a["most_influential"]:
        click.echo(f"  {row['label']}  amplifications {row['amplifications']:,}  "
                   f"amplifier followers {_n(row['amplifier_followers'])}")
    click.echo("most amplified posts:")
    for row in a["most_amplified_posts"]:
        click.echo(f"  {row['author']}  {row['post_id'] or '(id withheld)'}  {row['day']}  "
                   f"amplifications {row['amplifications']:,}")
    click.echo("earliest notable adopters:")
    for row in a["earliest_notable_adopters"]:
        click.echo(f"  {row['label']}  {row['first_post_at'] or row['first_day']}  first post: {row['first_kind']}")
