"""GEXF 1.3 and GraphML files of a network, for Gephi, written as a stream.

Nodes and edges are read from the engine a chunk at a time and written one line each, so a
large network never sits whole in memory. Every text that comes from the data (labels,
hashtags) goes through `privacy.xml_safe` and is then escaped, so the file is well-formed
XML whatever the posts hold (control characters, lone surrogates, `]]>`, markup). The file
is written beside its target and renamed into place, so a failed run leaves no half file.

GEXF is written in dynamic mode: each node and edge has `start` and `end`, its first and last
post, so Gephi's timeline can replay the network. The graph's `timeformat` is `date` with
full date-times as values: Gephi parses them to the millisecond either way, and networkx's
GEXF reader fails on `dateTime` (networkx issue #3246). See docs/networks.md.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TextIO

from .. import __version__
from ..errors import GroundswellError
from ..analysis.communities import Communities, louvain
from ..metrics.network import Network, Pruning, iso, materialize
from ..movement.definition import Movement
from ..privacy import Privacy, load_salt, safe_filename, xml_safe

Query = Callable[[str], list[tuple]]
FORMATS = ("gexf", "graphml")
SUFFIXES = {".gexf": "gexf", ".graphml": "graphml"}
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)


@dataclass(frozen=True)
class Attribute:
    """One column of a node or edge: its id in the file, its GEXF and GraphML types, its value."""

    name: str
    gexf: str
    graphml: str
    value: Callable[[dict[str, Any]], Any]


def _field(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda item: item.get(name)


def _time(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda item: iso(item.get(name))


_PEOPLE = (
    Attribute("named", "boolean", "boolean", _field("named")),
    Attribute("posts", "long", "long", _field("posts")),
    Attribute("in_weight", "long", "long", _field("in_weight")),
    Attribute("out_weight", "long", "long", _field("out_weight")),
)
_TAGS = (
    Attribute("posts", "long", "long", _field("posts")),
    Attribute("authors", "long", "long", _field("authors")),
)
_COMMON = (
    Attribute("weighted_degree", "long", "long", _field("weighted_degree")),
    Attribute("degree", "long", "long", _field("degree")),
    Attribute("first_seen", "string", "string", _time("first_at")),
    Attribute("last_seen", "string", "string", _time("last_at")),
)
COMMUNITY = Attribute("community", "integer", "int", _field("community"))
EDGE_ATTRIBUTES = (
    Attribute("authors", "long", "long", _field("authors")),
    Attribute("first_seen", "string", "string", _time("first_at")),
    Attribute("last_seen", "string", "string", _time("last_at")),
)


def node_attributes(kind: str, with_communities: bool) -> tuple[Attribute, ...]:
    own = _TAGS if kind == "cohashtag" else _PEOPLE
    return own + _COMMON + ((COMMUNITY,) if with_communities else ())


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The format asked for, else the one the file's suffix names."""
    if fmt:
        if fmt not in FORMATS:
            raise GroundswellError(f"unknown network file format {fmt!r} (known: {', '.join(FORMATS)})")
        return fmt
    found = SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise GroundswellError(f"cannot tell the format of {path}: name it .gexf or .graphml, or give --format")
    return found


def text(value: Any) -> str:
    """A value as XML attribute or element text: XML-safe characters, then escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_safe(str(value)).translate(_ESCAPE_TABLE)


def write_network(path: str | Path, fmt: str, net: Network, query: Query,
                  communities: Mapping[int, int] | None = None, description: str = "") -> Path:
    """Write `net` (built in the engine behind `query`) to `path` as GEXF or GraphML."""
    target = Path(path)
    writer = _gexf if format_for(target, fmt) == "gexf" else _graphml
    attributes = node_attributes(net.kind, communities is not None)
    nodes = _with_communities(net.nodes(query), communities)
    folder = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=".gs-network-", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            writer(out, net, nodes, net.edges(query), attributes, description)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _with_communities(nodes: Iterable[dict[str, Any]], communities: Mapping[int, int] | None) -> Iterable[dict[str, Any]]:
    for node in nodes:
        if communities is not None:
            node["community"] = communities.get(node["idx"])
        yield node


def _attvalues(item: dict[str, Any], attributes: Iterable[Attribute]) -> str:
    values = [(a.name, a.value(item)) for a in attributes]
    return "".join(f'<attvalue for="{name}" value="{text(value)}"/>' for name, value in values if value is not None)


def _interval(item: dict[str, Any]) -> str:
    start, end = iso(item.get("first_at")), iso(item.get("last_at"))
    return (f' start="{start}"' if start else "") + (f' end="{end}"' if end else "")


def _gexf(out: TextIO, net: Network, nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]],
          attributes: tuple[Attribute, ...], description: str) -> None:
    today = datetime.now(timezone.utc).date().isoformat()
    edge_type = "directed" if net.directed else "undirected"
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
              'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n'
              f'  <meta lastmodifieddate="{today}"><creator>groundswell {text(__version__)}</creator>'
              f'<description>{text(description)}</description></meta>\n'
              f'  <graph defaultedgetype="{edge_type}" mode="dynamic" timeformat="date" timerepresentation="interval">\n')
    for cls, columns in (("node", attributes), ("edge", EDGE_ATTRIBUTES)):
        out.write(f'    <attributes class="{cls}" mode="static">\n')
        for a in columns:
            out.write(f'      <attribute id="{a.name}" title="{a.name}" type="{a.gexf}"/>\n')
        out.write("    </attributes>\n")
    out.write("    <nodes>\n")
    for node in nodes:
        out.write(f'      <node id="n{node["idx"]}" label="{text(node["label"])}"{_interval(node)}>'
                  f"<attvalues>{_attvalues(node, attributes)}</attvalues></node>\n")
    out.write("    </nodes>\n    <edges>\n")
    for edge in edges:
        out.write(f'      <edge id="e{edge["idx"]}" source="n{edge["source"]}" target="n{edge["target"]}" '
                  f'weight="{edge["weight"]}"{_interval(edge)}><attvalues>{_attvalues(edge, EDGE_ATTRIBUTES)}'
                  f"</attvalues></edge>\n")
    out.write("    </edges>\n  </graph>\n</gexf>\n")


def _graphml(out: TextIO, net: Network, nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]],
             attributes: tuple[Attribute, ...], description: str) -> None:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
              'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
              'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
              f"  <desc>{text(description)}</desc>\n"
              '  <key id="label" for="node" attr.name="label" attr.type="string"/>\n')
    for a in attributes:
        out.write(f'  <key id="{a.name}" for="node" attr.name="{a.name}" attr.type="{a.graphml}"/>\n')
    out.write('  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>\n')
    for a in EDGE_ATTRIBUTES:
        out.write(f'  <key id="e_{a.name}" for="edge" attr.name="{a.name}" attr.type="{a.graphml}"/>\n')
    out.write(f'  <graph id="{net.kind}" edgedefault="{"directed" if net.directed else "undirected"}">\n')
    for node in nodes:
        out.write(f'    <node id="n{node["idx"]}"><data key="label">{text(node["label"])}</data>'
                  f"{_data(node, attributes)}</node>\n")
    for edge in edges:
        out.write(f'    <edge id="e{edge["idx"]}" source="n{edge["source"]}" target="n{edge["target"]}">'
                  f'<data key="weight">{edge["weight"]}</data>{_data(edge, EDGE_ATTRIBUTES, "e_")}</edge>\n')
    out.write("  </graph>\n</graphml>\n")


def _data(item: dict[str, Any], attributes: Iterable[Attribute], prefix: str = "") -> str:
    values = [(a.name, a.value(item)) for a in attributes]
    return "".join(f'<data key="{prefix}{name}">{text(value)}</data>' for name, value in values if value is not None)


# --- one call for the command: build, find communities, write, summarise ----------------------

LARGE = 200_000  # edges beyond which Gephi's layouts become slow on a laptop
WEIGHTS = {
    "edge_weight": "posts that make the edge (a post counts once per edge)",
    "edge_authors": "distinct authors of those posts",
    "weighted_degree": "sum of the weights of the node's edges, in and out (a self-loop counts twice)",
    "degree": "distinct neighbours, ignoring direction and self-loops",
}


def target_path(out: str | Path, kind: str, movement_name: str | None, fmt: str | None) -> Path:
    """`out` itself, or inside a folder a name made from the movement and kind (safe on any filesystem)."""
    path = Path(out)
    if path.is_dir():
        chosen = fmt or "gexf"
        stem = safe_filename(f"{movement_name or 'all'}-{kind}")
        return path / f"{stem}.{chosen}"
    if not path.parent.exists():
        raise GroundswellError(f"the folder {path.parent} does not exist")
    return path


def export_network(query: Query, kind: str, out: str | Path, fmt: str | None, privacy: Privacy,
                   movement: Movement | None, pruning: Pruning, drop_movement_tags: bool = False, top: int = 10,
                   note: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Build the network in the engine, detect co-hashtag communities, write the file, and say what it holds."""
    target = target_path(out, kind, movement.name if movement else None, fmt)
    chosen = format_for(target, fmt)
    stable = kind == "cohashtag" or load_salt(query) is not None
    if not stable:
        note("this store has no pseudonym salt: pseudonyms in this file hold within it only")
    privacy = privacy.bind(query, writable=False)
    own = tuple(sorted(movement.stored_forms())) if movement and drop_movement_tags else ()
    net = materialize(query, kind, privacy, movement, pruning, drop_tags=own)
    if net.summary["edges"] > LARGE:
        note(f"{net.summary['edges']:,} edges: Gephi will be slow; prune with --min-weight, --k-core or --max-nodes")
    found = louvain(net.edge_list(query)) if kind == "cohashtag" else None
    membership = found.membership if found else None
    description = (f"groundswell {kind} network of {movement.name if movement else 'all collected posts'}; "
                   f"edge weight = posts; privacy {privacy.mode}")
    write_network(target, chosen, net, query, membership, description)
    return _summary(net, query, target, chosen, movement, found, top, privacy, stable)


def _summary(net: Network, query: Query, target: Path, fmt: str, movement: Movement | None,
             found: Communities | None, top: int, privacy: Privacy, stable: bool) -> dict[str, Any]:
    ranked = net.top(query, top)
    shown = []
    for rank, node in enumerate(ranked, 1):
        item = {"rank": rank, "label": node["label"], "weighted_degree": node["weighted_degree"],
                "degree": node["degree"], "posts": node["posts"]}
        if net.kind == "cohashtag":
            item.update(authors=node["authors"], community=found.membership.get(node["idx"]) if found else None)
        else:
            item.update(named=node["named"], in_weight=node["in_weight"], out_weight=node["out_weight"])
        shown.append(item)
    summary = dict(net.summary)
    return {
        "kind": net.kind, "directed": net.directed, "file": str(target), "format": fmt,
        "movement": movement.name if movement else None, **summary,
        "communities": found.as_dict() if found else None,
        "top_nodes": shown, "weights": WEIGHTS, "pseudonyms_stable": stable, "privacy": privacy.as_dict(),
    }
