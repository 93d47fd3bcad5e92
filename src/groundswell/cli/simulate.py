"""`groundswell simulate`: write a synthetic movement as raw archive files, with its ground truth."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import orjson

from .options import json_option


def _start(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    from ..timeutil import parse_iso, to_utc_naive

    try:
        return to_utc_naive(parse_iso(value))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date-time (e.g. 2017-10-15T12:00:00Z)") from None


@click.command("simulate")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["v1", "v2", "jetstream", "csv"]), default="v1", show_default=True,
              help="v1: Twitter v1.1 JSONL.gz; v2: twarc2 v2 pages; jetstream: Bluesky events; csv: a twarc-csv table.")
@click.option("--posts", type=click.IntRange(2500), default=20_000, show_default=True,
              help="Distinct collected posts to write (exact; duplicates and broken lines come on top).")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed writes the same bytes.")
@click.option("--start", callback=_start, metavar="ISO",
              help="UTC start of the collection. Default: 2017-10-15T12:00Z (Twitter), 2024-10-15T12:00Z (Bluesky).")
@click.option("--partial", type=click.Choice(["stream", "sample", "overlap", "scrape"]),
              help="Instead, write one partial collection of the full movement, with its true totals in truth.json: "
                   "a rate-limited stream with limit notices, a 1%% sample, overlapping collections, or a daily "
                   "scrape missing the week after the onset (see docs/estimation.md).")
@click.option("--collections", type=click.IntRange(2, 3), default=2, show_default=True,
              help="With --partial overlap: how many overlapping collections.")
@json_option
def simulate_command(out_dir: Path, fmt: str, posts: int, seed: int, start: datetime | None, partial: str | None,
                     collections: int, as_json: bool) -> None:
    """Write a synthetic #MeToo-like movement into OUT_DIR, with its exact ground truth.

    A quiet baseline, a call to action, a self-exciting burst of replies, reposts and
    quotes, variants in other languages after known lags, phrase-only replies, a
    three-hour collection gap, duplicates and broken lines. Every file is marked
    synthetic; OUT_DIR/truth.json holds the figures ingest must give (docs/simulate.md).

    Example: groundswell simulate demo-data --format v2 --posts 5000 --seed 7
    """
    from ..simulate import write_simulation

    if partial:
        _write_partial(out_dir, partial, posts, seed, start, collections, as_json)
        return
    truth = write_simulation(out_dir, fmt, posts=posts, seed=seed, start=start)
    if as_json:
        click.echo(orjson.dumps(truth, option=orjson.OPT_INDENT_2).decode())
        return
    gap = truth["gap"]
    click.echo(f"wrote a synthetic movement ({fmt}, seed {seed}) to {out_dir}/: {len(truth['files'])} files, "
               f"{truth['collected_posts']:,} posts (+{truth['duplicates']} duplicates, {truth['broken_lines']} broken lines)")
    click.echo(f"  call to action at {truth['true_start']}; collection gap {gap['start']} to {gap['end']} "
               f"({gap['posts_lost']} posts not written)")
    click.echo(f"  ground truth: {out_dir / 'truth.json'}")
    click.echo(f"next: groundswell ingest '{out_dir}/synthetic-*' --db simulated.duckdb")


def _write_partial(out_dir: Path, kind: str, posts: int, seed: int, start: datetime | None, collections: int,
                   as_json: bool) -> None:
    from ..simulate.model import TWITTER_START
    from ..simulate.partial import write_partial

    truth = write_partial(out_dir, kind, posts, seed, start or TWITTER_START, collections)
    if as_json:
        click.echo(orjson.dumps(truth, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(f"wrote a synthetic partial collection ({kind}, seed {seed}) to {out_dir}/: {len(truth['files'])} files; "
               f"true totals in {out_dir / 'truth.json'}")
