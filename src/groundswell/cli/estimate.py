"""`groundswell estimate`: how big the movement really was, beyond what the collection holds."""

from __future__ import annotations

from typing import Any

import click
import orjson

from ..movement.definition import Movement
from ..privacy import Privacy
from .engine_options import EngineChoice, engine_options
from .movements import movement_option
from .options import db_option, json_option
from .privacy_options import privacy_options


@click.command("estimate")
@db_option
@json_option
@movement_option
@click.option("--sample-rate", type=click.FloatRange(0, 1, min_open=True), metavar="P",
              help="The collection is a known random sample of the stream (0.01 for a 1%% sample stream): "
                   "scale posts with a binomial interval and estimate distinct people under Bernoulli sampling.")
@privacy_options
@engine_options
def estimate_command(db: str, as_json: bool, movement: Movement | None, sample_rate: float | None,
                     privacy: Privacy, engine: EngineChoice) -> None:
    """Estimate what the collection missed: posts and distinct people, over the whole span and
    per day, each with a 95% interval and the method that produced it.

    Methods run where their data exist: stream limit notices, overlapping collections
    (ingest --collection), a known sampling rate (--sample-rate), missing days inside the
    covered range, and the share a hashtag-only count misses. A figure the data cannot give
    is "unknown", with its reason. See docs/estimation.md.

    Example: groundswell estimate --movement metoo --json
    """
    from ..analysis.estimation import EstimateOptions, compute

    with engine.open(db) as store:
        figures = compute(store, movement, EstimateOptions(sample_rate=sample_rate))
    figures["privacy"] = {"mode": privacy.mode}
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    print_estimate(figures)


def print_estimate(figures: dict[str, Any]) -> None:
    from rich.console import Console

    from ..analysis.estimation import describe

    console = Console(highlight=False)
    name = figures["movement"] or "all collected posts"
    head = figures["headline"]
    console.print(f"{name}: posts {describe(head['posts'])}"
                  + (f" [{head['posts']['method']}]" if head["posts"].get("method") else ""), markup=False)
    basis = {"handle": "counted by handle", "author_id": "by author id", "author_id_or_handle": "by author id, else handle"}
    console.print(f"distinct people ({basis.get(figures['people_basis'], 'no author id or handle')}): "
                  f"{describe(head['distinct_people'])}"
                  + (f" [{head['distinct_people']['note']}]" if head["distinct_people"].get("note") else ""), markup=False)
    for method, result in figures["methods"].items():
        state = "used" if result.get("used") else f"not used: {result['reason']}"
        console.print(f"  {method.replace('_', ' ')}: {state}", markup=False)
    estimated = [row for row in figures["per_day"] if row["estimated"]]
    for row in estimated[:31]:
        console.print(f"  {row['day']}: observed {row['observed_posts']:,}, estimated {_n(row['estimated_posts'])} "
                      f"(95% interval {_n(row['low'])}–{_n(row['high'])})", markup=False)
    for item in figures["unknown"]:
        console.print(f"  {item['figure']}: unknown ({item['reason']})", markup=False)


def _n(value: Any) -> str:
    if isinstance(value, (int, float)):
        return f"{round(value):,}"
    return str(value)
