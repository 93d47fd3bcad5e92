"""The one-way layers of the house: no module imports from a layer above its own.

LAYERS is the one place the order is written down (docs/decisions.md says why it is this
order). It is read top to bottom: a layer may import any layer below it, never one above.
A set holds sibling layers that are independent: neither imports the other. grimp reads
every import in the package, the lazy ones inside functions too.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGE = "groundswell"
LAYERS: list[str | set[str]] = [
    "__main__",            # python -m groundswell
    "cli",                 # thin click commands over the library
    {"serve", "watch"},    # the dashboard (over report/) and live collection (through ingest/'s parser)
    "report",              # html, terminal, exports
    "analysis",            # numpy/scipy on aggregates: bursts, cascades, trends, language
    "metrics",             # backend-neutral definitions of every figure
    "engines",             # duckdb, spark: run the metrics; spark ingests through ingest/
    {"ingest", "forget"},  # write into the store: posts in, compliance deletes
    "store",               # the DuckDB store: schema, dedupe, quarantine
    "formats",             # one adapter per source format
    {"sources", "simulate"},  # bytes in (files, stdin, live), and synthetic archives out
    "movement",            # families, hashtag keys, matching: used by formats and metrics
    {"privacy", "series", "model", "timeutil"},  # shared utilities
    "errors",
]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE)


def _named(layer: str | set[str]) -> set[str]:
    return {layer} if isinstance(layer, str) else layer


def _illegal(graph: grimp.ImportGraph) -> list[str]:
    """One line per layer pair with an upward import, naming one importing module and its import."""
    layers = [grimp.Layer(*sorted(_named(layer)), independent=True) for layer in LAYERS]
    found = graph.find_illegal_dependencies_for_layers(layers=layers, containers={PACKAGE})
    return sorted(f"{dep.importer} -> {dep.imported}, e.g. {sorted(route.heads)[0]} imports "
                  f"{' -> '.join([*route.middle, sorted(route.tails)[0]])}"
                  for dep in found for route in dep.routes)


def test_no_import_runs_up_the_layers(graph: grimp.ImportGraph) -> None:
    lines = _illegal(graph)
    assert not lines, "imports against the layers (tests/test_layers.py):\n" + "\n".join(lines)


def test_every_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    """A new package or module must be placed in LAYERS, or it would escape the check."""
    children = {name.split(".")[1] for name in graph.modules if name.count(".") >= 1}
    placed = set().union(*(_named(layer) for layer in LAYERS))
    assert children == placed


def test_the_check_catches_an_upward_import() -> None:
    """The same check on a graph with one added import from metrics up to report fails."""
    graph = grimp.build_graph(PACKAGE)
    graph.add_import(importer="groundswell.metrics.volume", imported="groundswell.report.figures")
    assert _illegal(graph) == ["groundswell.metrics -> groundswell.report, e.g. groundswell.metrics.volume "
                               "imports groundswell.report.figures"]
