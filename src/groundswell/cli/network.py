"""`groundswell network`: a repost, reply, mention or co-hashtag network as a file for Gephi."""

from __future__ import annotations

import click
import orjson

from ..metrics.network import KINDS, Pruning
from ..movement.definition import Movement
from ..privacy import OFF_WARNING, Privacy, xml_safe
from ..report.graph_files import FORMATS
from .engine_options import EngineChoice, engine_options
from .movements import movement_option
from .options import db_option, json_option
from .privacy_options import privacy_options


@click.command("network")
@db_option
@json_option
@click.option("--kind", type=click.Choice(KINDS), required=True,
              help="repost: reposter -> original author; reply: replier -> author replied to; mention: author -> "
                   "mentioned account; cohashtag: hashtags used on the same post (undirected).")
@click.option("--out", required=True, type=click.Path(), metavar="FILE|FOLDER",
              help="The file to write (.gexf or .graphml); a folder gets a file named after the movement and kind.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="File format; default from the --out suffix.")
@movement_option
@click.option("--min-weight", type=click.IntRange(1), default=1, show_default=True,
              help="Drop edges made by fewer posts.")
@click.option("--min-degree", type=click.IntRange(0), default=0, show_default=True,
              help="Then drop nodes with fewer distinct neighbours (one pass).")
@click.option("--k-core", type=click.IntRange(0), default=0, show_default=True,
              help="Then keep the k-core: peel nodes until each has at least K neighbours.")
@click.option("--max-nodes", type=click.IntRange(0), default=0, show_default=True,
              help="Then keep only the N nodes of highest weighted degree (0: all).")
@click.option("--no-self-loops", is_flag=True, help="Drop edges from a node to itself (self-replies, self-reposts).")
@click.option("--drop-movement-tags", is_flag=True,
              help="With --kind cohashtag and --movement: leave out the movement's own hashtags.")
@click.option("--max-tag-share", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="With --kind cohashtag: leave out hashtags carried by more than this share of the posts.")
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="How many top nodes to list.")
@privacy_options
@engine_options
def network_command(db: str, as_json: bool, kind: str, out: str, fmt: str | None, movement: Movement | None,
                    min_weight: int, min_degree: int, k_core: int, max_nodes: int, no_self_loops: bool,
                    drop_movement_tags: bool, max_tag_share: float, top: int, privacy: Privacy,
                    engine: EngineChoice) -> None:
    """Write a network of the movement's posts (or of every collected post) for Gephi.

    Edge weight is the number of posts making the edge; nodes carry weighted degree, posts
    and first/last times (GEXF start/end, for Gephi's timeline); co-hashtag networks also carry
    Louvain communities. Under the default privacy only notable accounts are named.

    Example: groundswell network --kind repost --movement metoo --k-core 2 --out reposts.gexf
    """
    from ..report.graph_files import export_network

    pruning = Pruning(min_weight=min_weight, min_degree=min_degree, k_core=k_core, max_nodes=max_nodes,
                      self_loops=not no_self_loops, max_tag_share=max_tag_share)
    with engine.open(db) as store:
        result = export_network(store.query, kind, out, fmt, privacy, movement, pruning, drop_movement_tags, top,
                                note=lambda message: click.echo(f"warning: {message}", err=True))
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    _echo(result)


def _echo(result: dict) -> None:
    if result["privacy"]["mode"] == "off":
        click.echo(OFF_WARNING)
    before = result["before_pruning"]
    click.echo(f"wrote the {result['kind']} network to {result['file']} ({result['format']}): "
               f"{result['nodes']:,} nodes, {result['edges']:,} edges "
               f"(before pruning {before['nodes']:,} nodes, {before['edges']:,} edges; {result['posts']:,} posts)")
    found = result["communities"]
    if found and found["communities"]:
        click.echo(f"{found['communities']} Louvain communities, modularity {found['modularity']}")
    for node in result["top_nodes"]:
        click.echo(f"{node['rank']:>3}. {_plain(node['label'])}  weighted degree {node['weighted_degree']:,}  "
                   f"neighbours {node['degree']:,}")


def _plain(label: str) -> str:
    """A label from the data as one terminal line: no control characters, no line breaks."""
    return " ".join(xml_safe(str(label)).split())
