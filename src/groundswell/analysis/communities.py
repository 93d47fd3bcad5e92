"""Communities of hashtags: Louvain modularity maximisation on the pruned co-hashtag graph.

Tags that are used together more than chance would have it fall into one community, which
is how related campaigns show up (#metoo with #balancetonporc, or with #timesup). The graph
is the pruned network from metrics/network.py, small by construction, so the algorithm runs
in Python with networkx's maintained implementation (Blondel et al. 2008), with a fixed seed
so a report shows the same communities every time. See docs/networks.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..engines.base import drop_temp_tables
from ..metrics import network
from ..movement.definition import Movement
from ..privacy import Privacy

Query = Callable[[str], list[tuple]]
SEED = 20171015  # fixed: Louvain visits nodes in random order, and the partition depends on it
RESOLUTION = 1.0
METHOD = "louvain"
CITATION = ("Blondel, V. D., Guillaume, J.-L., Lambiotte, R., & Lefebvre, E. (2008). Fast unfolding of communities "
            "in large networks. Journal of Statistical Mechanics, P10008. https://doi.org/10.1088/1742-5468/2008/10/P10008")
# The report's co-hashtag network: without tags on more than half of the posts, pairs seen on
# at least two posts, at most 300 tags.
REPORT_PRUNING = network.Pruning(min_weight=2, max_nodes=300, self_loops=False, max_tag_share=0.5)
TOP_COMMUNITIES = 8
TOP_TAGS = 6


@dataclass(frozen=True)
class Communities:
    """membership: node -> community number (1 = the largest community); modularity of that partition."""

    membership: dict[Any, int] = field(default_factory=dict)
    sizes: tuple[int, ...] = ()
    modularity: float | None = None
    seed: int = SEED
    resolution: float = RESOLUTION

    def as_dict(self) -> dict[str, Any]:
        return {"method": METHOD, "seed": self.seed, "resolution": self.resolution, "communities": len(self.sizes),
                "modularity": self.modularity, "sizes": list(self.sizes)}


def louvain(edges: Iterable[tuple[Any, Any, float]], seed: int = SEED, resolution: float = RESOLUTION) -> Communities:
    """Louvain communities of an undirected weighted graph given as (a, b, weight) edges.

    Nodes and edges are added in sorted order, so with the same seed the same graph always
    gives the same partition. Communities are numbered by size, largest first, ties by their
    smallest node. Self-loops are ignored: a tag does not co-occur with itself.
    """
    import networkx as nx

    graph = nx.Graph()
    kept = sorted((min(a, b), max(a, b), float(w)) for a, b, w in edges if a != b)
    graph.add_nodes_from(sorted({n for a, b, _ in kept for n in (a, b)}))
    graph.add_weighted_edges_from(kept)
    if graph.number_of_edges() == 0:
        return Communities(seed=seed, resolution=resolution)
    found = nx.community.louvain_communities(graph, weight="weight", resolution=resolution, seed=seed)
    ordered = sorted((sorted(group) for group in found), key=lambda group: (-len(group), group[0]))
    membership = {node: number for number, group in enumerate(ordered, 1) for node in group}
    score = nx.community.modularity(graph, ordered, weight="weight", resolution=resolution)
    return Communities(membership, tuple(len(group) for group in ordered), round(float(score), 6), seed, resolution)


def network_figures(query: Query, movement: Movement | None, privacy: Privacy, table: str | None = None,
                    pruning: network.Pruning = REPORT_PRUNING, top: int = TOP_COMMUNITIES,
                    tags: int = TOP_TAGS) -> dict[str, Any]:
    """The report's network section: co-hashtag communities, their sizes and their top tags.

    Tags carried by more than half of the posts (#metoo in a #metoo report) are left out:
    being on nearly every post, they would join every tag to every other and say nothing
    about which tags go together. The movement's other tags (#balancetonporc, #timesup)
    stay: they are the related campaigns the section is about.
    """
    built = network.materialize(query, "cohashtag", privacy, movement, pruning, table)
    found = louvain(built.edge_list(query))
    nodes = list(built.nodes(query))
    groups: dict[int, list[dict[str, Any]]] = {}
    for node in nodes:
        if node["idx"] in found.membership:
            groups.setdefault(found.membership[node["idx"]], []).append(node)
    communities = [_community(number, members, tags) for number, members in sorted(groups.items())[:top]]
    drop_temp_tables(query, network.WORKING_TABLES)
    return {
        "kind": "cohashtag", "movement": movement.name if movement else None,
        "nodes": built.summary["nodes"], "edges": built.summary["edges"],
        "posts": built.summary["posts"], "pruning": built.summary["pruning"],
        **found.as_dict(), "citation": CITATION, "shown": communities, "privacy": privacy.as_dict(),
    }


def _community(number: int, members: list[dict[str, Any]], tags: int) -> dict[str, Any]:
    members.sort(key=lambda node: (-node["weighted_degree"], -node["posts"], node["label"]))
    return {
        "id": number, "size": len(members),
        "top_hashtags": [{"key": node["label"], "posts": node["posts"], "weighted_degree": node["weighted_degree"]}
                         for node in members[:tags]],
    }
