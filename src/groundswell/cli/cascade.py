"""`groundswell cascade`: the tree of replies, quotes and reposts under a post."""

from __future__ import annotations

from typing import Any

import click
import orjson

from ..analysis.cascades import spread_figures
from ..errors import GroundswellError
from ..metrics.cascade import post_key
from ..model import PLATFORMS
from ..movement.definition import Movement
from ..privacy import Privacy
from .engine_options import EngineChoice, engine_options
from .movements import movement_option
from .options import db_option, json_option
from .privacy_options import privacy_options


@click.command("cascade")
@click.argument("post_ids", nargs=-1, metavar="[POST_ID]...")
@click.option("--platform", type=click.Choice(PLATFORMS), default="twitter", show_default=True,
              help="Platform of bare ids (a `platform:id` names its own).")
@movement_option
@db_option
@json_option
@privacy_options
@engine_options
def cascade_command(post_ids: tuple[str, ...], platform: str, movement: Movement | None, db: str, as_json: bool,
                    privacy: Privacy, engine: EngineChoice) -> None:
    """Follow the replies, quotes and reposts that reach a post: size by kind, depth, breadth,
    structural virality, time to 10, 100 and 1,000 responses, the response-time curve, and
    (with --movement) how its replies used the movement's hashtag or phrase.

    With --movement and no POST_ID, the movement's call-to-action posts. See docs/spread.md.

    Example: groundswell cascade --movement metoo --json
    """
    calls = [":".join(post_key(ref, platform)) for ref in post_ids]
    if not calls:
        if movement is None:
            raise GroundswellError("give a POST_ID, or --movement NAME to follow its call-to-action posts")
        if not movement.call_to_action:
            raise GroundswellError(f"movement {movement.name} names no call_to_action post: give a POST_ID")
        calls = list(movement.call_to_action)
    with engine.open(db) as store:
        figures = spread_figures(store.query, movement, privacy, calls=calls, sections=("cascades",))
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    if privacy.mode == "off":
        click.echo(f"WARNING: privacy is OFF: {privacy.describe()}")
    for tree in figures["cascades"]:
        echo_cascade(tree)


_PLURAL = {"repost": "reposts", "reply": "replies", "quote": "quotes"}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not reached"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def echo_cascade(tree: dict[str, Any]) -> None:
    """The text form of one cascade."""
    root = tree["root"]
    where = "in the store" if root["in_store"] else "not in the store"
    by = f", by {root['author']}" if root["author"] else ""
    click.echo(f"cascade of {tree['post']} ({where}{by}, {root['created_at'] or 'time unknown'})")
    kinds = ", ".join(f"{n:,} {_PLURAL.get(kind, kind)}" for kind, n in tree["by_kind"].items())
    click.echo(f"  size {tree['size']:,}: the post and {tree['responses']:,} responses ({kinds}); "
               f"{tree['referenced_only']:,} known only as referenced posts")
    breadth = " / ".join(f"{n:,}" for n in tree["breadth_by_depth"]) or "-"
    click.echo(f"  depth {tree['depth']}, max breadth {tree['max_breadth']:,} (per level: {breadth})")
    virality = tree["structural_virality"]
    click.echo(f"  structural virality {virality:.3f}" if virality is not None else "  structural virality: n/a (no responses)")
    times = ", ".join(f"{k}th: {_duration(v)}" for k, v in tree["seconds_to_responses"].items())
    click.echo(f"  time to responses: {times}")
    replies = tree["replies"]
    if replies and replies["collected"]:
        click.echo(f"  collected replies {replies['collected']:,}: hashtag {replies['hashtag']:,}, "
                   f"phrase only {replies['phrase_only']:,}, neither {replies['neither']:,}")
    if tree["truncated"]:
        click.echo("  warning: stopped at the depth limit; deeper levels are not counted", err=True)
