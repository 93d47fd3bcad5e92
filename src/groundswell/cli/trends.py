"""`groundswell trends`: the movement's onset, its groups' lead and lag, bursts, and trend ranks."""

from __future__ import annotations

from typing import Any

import click
import orjson

from ..analysis import trend_score
from ..movement.definition import Movement
from ..privacy import Privacy
from .engine_options import EngineChoice, engine_options
from .movements import movement_option
from .options import db_option, json_option
from .privacy_options import privacy_options


@click.command("trends")
@db_option
@json_option
@movement_option
@click.option("--bucket", type=click.Choice(["hour", "day"]), default="hour", show_default=True,
              help="UTC buckets the counts, bursts and scores use.")
@click.option("--baseline", type=click.Choice(trend_score.BASELINES), default="previous", show_default=True,
              help="The trend score's background: the previous bucket, or the same bucket of the cycle "
                   "(hour of the day, day of the week) averaged over the previous --window cycles.")
@click.option("--window", type=click.IntRange(1), default=trend_score.WINDOW, show_default=True,
              help="Cycles averaged by --baseline cycle.")
@click.option("--alpha", type=click.FloatRange(0.5, 1, max_open=True), default=trend_score.ALPHA, show_default=True,
              help="Confidence level of the Poisson interval that scales the trend score.")
@click.option("--burst-s", "s", type=click.FloatRange(1, min_open=True), default=2.0, show_default=True,
              help="Kleinberg's s: each burst level runs s times faster than the one below.")
@click.option("--burst-gamma", "gamma", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="Kleinberg's γ: the cost of a level up is γ·ln n; higher finds fewer bursts.")
@privacy_options
@engine_options
def trends_command(db: str, as_json: bool, movement: Movement | None, bucket: str, baseline: str, window: int,
                   alpha: float, s: float, gamma: float, privacy: Privacy, engine: EngineChoice) -> None:
    """When the movement took off, which families, variants, languages and platforms led or
    lagged, their bursts, and where the families ranked among all hashtags by trend score.

    The onset is the start of the first burst (Kleinberg's continuous model) of the
    movement's posts per UTC bucket; see docs/trends.md for every figure.

    Example: groundswell trends --movement metoo --json
    """
    from ..analysis.trends import TrendOptions, compute

    options = TrendOptions(bucket=bucket, baseline=baseline, window=window, alpha=alpha, s=s, gamma=gamma,
                           privacy=privacy)
    with engine.open(db) as store:
        figures = compute(store, movement, options)
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    print_trends(figures)


def print_trends(figures: dict[str, Any]) -> None:
    """The human summary: onset, lead–lag table, the movement's first bursts, trend ranks."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if figures["privacy"]["mode"] == "off":
        console.print("WARNING: privacy is OFF: small groups are not suppressed.", markup=False)
    onset, bucket = figures["onset"], figures["settings"]["bucket"]
    name = (figures["movement"] or {}).get("name", "all collected posts")
    if onset["at"] is None:
        console.print(f"{name}: no onset: no burst in its posts per UTC {bucket}", markup=False)
    else:
        console.print(f"{name}: onset {_when(onset['at'])} (start of the first burst, Kleinberg continuous model, "
                      f"UTC {bucket}s)", markup=False)
    reference = figures["reference"]
    if reference:
        console.print(f"lags are measured from the {reference['dimension']} {reference['value']!r}, "
                      f"onset {_when(reference['onset'])}", markup=False)
    gaps = figures["range"]["gaps"]
    if gaps:
        console.print(f"{len(gaps)} collection gap(s), {figures['range']['unobserved_buckets']:,} {bucket}s "
                      "unobserved (counted as unknown, not as quiet)", markup=False)
    console.print(_lead_lag_table(figures["lead_lag"], Table))
    console.print(_rank_table(figures["top_trend_rank"]["families"], Table))


def _lead_lag_table(rows: list[dict[str, Any]], table_class: Any) -> Any:
    from rich.text import Text

    table = table_class(title="first sightings and lead–lag")
    for column in ("group", "posts", "first seen", "onset", "lag (h)"):
        table.add_column(column, justify="right" if column in ("posts", "lag (h)") else "left")
    for row in rows:
        group = Text(f"{row['dimension']}: {row['value']}")  # data, never markup
        if row["suppressed"]:
            table.add_row(group, "suppressed", "", "", "")
            continue
        lag = "" if row["lag_hours"] is None else f"{row['lag_hours']:+g}"
        onset = _when(row["onset"]) + (" (after a gap)" if row.get("gap_before_onset") else "")
        table.add_row(group, f"{row['posts']:,}", _when(row["first_seen"]), onset, lag)
    return table


def _rank_table(rows: list[dict[str, Any]], table_class: Any) -> Any:
    from rich.text import Text

    table = table_class(title="top trend rank among all hashtags")
    for column in ("family", "buckets trending", "ranked first", "first ranked first", "best rank"):
        table.add_column(column)
    for row in rows:
        table.add_row(Text(row["label"]), f"{row['buckets_trending']:,}", f"{row['buckets_ranked_first']:,}",
                      _when(row["first_ranked_first"]), "–" if row["best_rank"] is None else str(row["best_rank"]))
    return table


def _when(value: str | None) -> str:
    return "–" if value is None else value.replace("T", " ").removesuffix("Z")[:19]
