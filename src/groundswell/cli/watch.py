"""`groundswell watch bluesky|mastodon`: collect a movement live into the store."""

from __future__ import annotations

import re
import sys
from typing import Any

import click
import orjson

from ..movement.definition import Movement
from .movements import movement_option
from .options import db_option, json_option

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    found = _DURATION.match(value.strip())
    if not found:
        raise click.BadParameter(f"{value!r}: expected a length such as 30m, 8s, 2h")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _scope(movement: Movement | None, keep_all: bool) -> Movement | None:
    if keep_all == (movement is not None):
        raise click.UsageError("give either --movement NAME|FILE (keep its posts) or --all (keep every post)")
    return movement


@click.group("watch")
def watch_command() -> None:
    """Collect a movement live from Bluesky or Mastodon, resuming after any stop.

    Readers (stats, report, export, serve) work on the store while a watch writes to it.
    """


@watch_command.command("bluesky")
@db_option
@json_option
@movement_option
@click.option("--all", "keep_all", is_flag=True, help="Keep every post, not only the movement's.")
@click.option("--endpoint", default=None, help="A Jetstream subscribe URL (default: Bluesky's public one).")
@click.option("--duration", callback=parse_duration, help="Stop after this long (30m, 8s, 2h); default: until Ctrl-C.")
def bluesky_command(db: str, as_json: bool, movement: Movement | None, keep_all: bool, endpoint: str | None,
                    duration: float | None) -> None:
    """Follow Bluesky's Jetstream firehose of posts.

    The cursor (Jetstream's time_us) is committed with the posts, so a restart resumes where
    the store stopped, without gap or duplicate.

    Example: groundswell watch bluesky --movement metoo --duration 30m
    """
    from ..watch import jetstream, run_until_stopped
    from ..watch.sink import Sink

    kept = _scope(movement, keep_all)
    url = endpoint or jetstream.DEFAULT_ENDPOINT
    sink = Sink(db, f"bluesky:{url.split('?')[0]}", "bluesky", url.split("?")[0], "bluesky", kept)
    status = run_until_stopped(lambda stop, st: jetstream.run(url, sink, stop, st), [sink], duration,
                               None if as_json else _progress)
    _finish(as_json, status, [sink])


@watch_command.command("mastodon")
@db_option
@json_option
@movement_option
@click.option("--instance", "instances", multiple=True, required=True, metavar="URL",
              help="An instance to follow, e.g. https://mastodon.social; repeatable.")
@click.option("--token-env", metavar="NAME", help="The environment variable holding an access token, where an "
              "instance requires one. The token is sent only to the instances, never stored or printed.")
@click.option("--backfill-pages", type=click.IntRange(0), default=10, show_default=True,
              help="On a first start, how many pages (40 statuses each) of each tag's timeline to read back.")
@click.option("--duration", callback=parse_duration, help="Stop after this long (30m, 8s, 2h); default: until Ctrl-C.")
def mastodon_command(db: str, as_json: bool, movement: Movement | None, instances: tuple[str, ...],
                     token_env: str | None, backfill_pages: int, duration: float | None) -> None:
    """Follow the movement's hashtags on Mastodon instances.

    Each tag's timeline is read back first, then its stream is followed; after every
    reconnect the timeline is read again from the last id seen, so nothing is lost. The same
    status seen on several instances is one post.

    Example: groundswell watch mastodon --instance https://mastodon.social --movement metoo
    """
    import asyncio
    import os

    from ..errors import GroundswellError
    from ..watch import mastodon, run_until_stopped
    from ..watch.sink import Sink

    if movement is None:
        raise click.UsageError("Mastodon is followed by hashtag: give --movement NAME|FILE")
    token = os.environ.get(token_env) if token_env else None
    if token_env and not token:
        raise GroundswellError(f"--token-env {token_env}: that environment variable is not set")
    tags = sorted({tag.lower() for family in movement.families for tag in family.hashtags})
    sinks = [Sink(db, f"mastodon:{url.rstrip('/')}", "mastodon", url.rstrip("/"), "mastodon", movement)
             for url in instances]

    async def work(stop: asyncio.Event, status: dict[str, Any]) -> None:
        clients = [mastodon.Instance(url, token, sink, status) for url, sink in zip(instances, sinks)]
        try:
            await asyncio.gather(*(mastodon.follow(client, tags, mastodon.stored_cursors(client.sink), stop,
                                                   backfill_pages) for client in clients))
        finally:
            for client in clients:
                await client.close()

    status = run_until_stopped(work, sinks, duration, None if as_json else _progress)
    _finish(as_json, status, sinks)


def _progress(status: dict[str, Any]) -> None:
    if not sys.stderr.isatty():
        return
    cursor = status.get("cursor")
    click.echo(f"\r{status['events']:,} events, {status['matched']:,} kept, {status.get('reconnects', 0)} reconnects, "
               f"cursor {cursor or '–'}   ", err=True, nl=False)


def _finish(as_json: bool, status: dict[str, Any], sinks: list[Any]) -> None:
    summary = {
        "seconds": status["seconds"], "interrupted": status["interrupted"],
        "sources": [{"source": s.source, **s.totals, "cursor": s.progress.cursor, "busy_waits": s.busy_waits,
                     "events_per_second": round(s.totals["events"] / status["seconds"], 1) if status["seconds"] else None}
                    for s in sinks],
        "reconnects": status.get("reconnects", 0),
    }
    if as_json:
        click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
        return
    if sys.stderr.isatty():
        click.echo("", err=True)
    for source in summary["sources"]:
        click.echo(f"{source['source']}: {source['events']:,} events, {source['matched']:,} posts kept, "
                   f"{source['deletes']:,} deletions, {source['rejected']:,} rejected, cursor {source['cursor']}")
    click.echo(f"{summary['reconnects']} reconnects in {summary['seconds']:.0f} s"
               + (" (stopped by a signal; everything received was committed)" if summary["interrupted"] else ""))
