"""`groundswell movements` and `groundswell variants`, and the shared --movement option."""

from __future__ import annotations

from typing import Any, Callable

import click
import orjson

from ..errors import GroundswellError
from ..movement import definition
from ..movement.definition import Movement
from ..store import Store
from .options import db_option, json_option

F = Callable[..., Any]


def _resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> Movement | None:
    return definition.resolve(value) if value else None


def movement_option(func: F) -> F:
    """--movement NAME|FILE, resolved to a Movement (or None) before the command runs."""
    return click.option(
        "--movement", "movement", metavar="NAME|FILE", callback=_resolve, expose_value=True,
        help="A built-in movement (see `groundswell movements`) or a TOML definition file.",
    )(func)


def _dump(document: Any) -> None:
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@click.command("movements")
@click.argument("name_or_file", required=False)
@json_option
def movements_command(name_or_file: str | None, as_json: bool) -> None:
    """List the built-in movements, or check and show one definition (a name or a TOML file).

    Example: groundswell movements my-movement.toml
    """
    if name_or_file:
        movement = definition.resolve(name_or_file)
        if as_json:
            _dump(movement.as_dict())
        else:
            _echo_definition(movement)
        return
    movements = [definition.load_builtin(name).summary() for name in definition.builtin_names()]
    if as_json:
        _dump({"movements": movements})
        return
    for item in movements:
        click.echo(f"{item['name']}: {item['description']} ({item['families']} families, "
                   f"{item['hashtags']} hashtags, {item['phrases']} phrases)")


def _echo_definition(movement: Movement) -> None:
    click.echo(f"{movement.name}: {movement.description} [{movement.source}]")
    for family in movement.families:
        click.echo(f"  {family.label} ({family.language}): " + ", ".join("#" + tag for tag in family.hashtags))
    for group in movement.phrases:
        click.echo(f"  phrases {group.label} ({group.language}): " + ", ".join(repr(p) for p in group.patterns))


@click.command("variants")
@db_option
@json_option
@movement_option
@click.option("--seed", "seeds", multiple=True, metavar="HASHTAG", help="A hashtag to start from; repeatable.")
@click.option("--suffix", "suffixes", multiple=True, metavar="TEXT",
              help="A name ending that marks relatives (e.g. too); repeatable. Default: the movement's own.")
@click.option("--top", type=click.IntRange(1), default=30, show_default=True, help="How many suggestions.")
@click.option("--min-count", type=click.IntRange(1), default=10, show_default=True,
              help="Least posts a tag needs (co-occurring posts, or all its posts for a spelling neighbour).")
def variants_command(db: str, as_json: bool, movement: Movement | None, seeds: tuple[str, ...],
                     suffixes: tuple[str, ...], top: int, min_count: int) -> None:
    """Suggest hashtags the movement may be missing: tags that co-occur with it, and spelling relatives.

    Example: groundswell variants --seed metoo --seed moiaussi --top 20
    """
    from ..movement.variants import suggest

    movement = _variant_movement(movement, seeds)
    chosen = tuple(suffixes) if suffixes else None
    with Store(db, read_only=True) as store:
        result = suggest(store.sql, movement, top=top, min_count=min_count, suffixes=chosen)
    if as_json:
        _dump(result)
        return
    click.echo(f"{result['posts_with_movement_tag']:,} of {result['collected_posts']:,} collected posts carry a movement tag.")
    click.echo(f"note: {result['note']}")
    for rank, item in enumerate(result["suggestions"], 1):
        lift = "-" if item["lift"] is None else f"{item['lift']:.2f}"
        click.echo(f"{rank:>3}. #{item['key']}  posts {item['posts']:,}  with movement {item['with_movement']:,}  "
                   f"share {item['share']:.2f}  lift {lift}  ({'; '.join(item['reasons'])})")


def _variant_movement(movement: Movement | None, seeds: tuple[str, ...]) -> Movement:
    """--movement, or --seed tags borrowing the suffixes of any built-in movement that holds them."""
    if movement and seeds:
        raise GroundswellError("give --movement or --seed, not both")
    if movement:
        return movement
    if not seeds:
        raise GroundswellError("give --movement NAME|FILE or at least one --seed HASHTAG")
    seeded = definition.from_seeds(list(seeds))
    keys = set(seeded.keys())
    suffixes = [s for name in definition.builtin_names() for m in [definition.load_builtin(name)]
                if keys & set(m.keys()) for s in m.suffixes]
    return definition.from_seeds(list(seeds), tuple(dict.fromkeys(suffixes)))


def echo_movement_figures(figures: dict[str, Any]) -> None:
    """The text form of `stats --movement`."""
    click.echo(f"movement {figures['name']} [{figures['source']}]")
    for name in ("matched", "hashtag_only", "phrase_only", "both", "by_hashtag", "by_phrase", "unmatched", "outside_window"):
        if name in figures:
            figure = figures[name]
            click.echo(f"  {name.replace('_', ' ')}: {figure['posts']:,} posts, {figure['distinct_authors']:,} authors")
    for label, figure in figures["by_family"].items():
        click.echo(f"  family {label}: {figure['posts']:,} posts, {figure['distinct_authors']:,} authors")
    for item in figures["by_variant"]:
        name = item["key"] if item.get("suppressed") else f"#{item['key']}"
        click.echo(f"  {name}: {item['posts']:,} posts, {item['distinct_authors']:,} authors")
