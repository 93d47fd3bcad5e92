"""Format adapters, one module per source format. See docs/formats.md."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# Order matters for detection: the first adapter whose sniff() accepts a sample wins,
# so more specific shapes come before more general ones.
ADAPTER_MODULES: dict[str, str] = {
    "twitter-v2": "groundswell.formats.twitter_v2",
    "twitter-v1": "groundswell.formats.twitter_v1",
    "bluesky": "groundswell.formats.bluesky",
    "mastodon": "groundswell.formats.mastodon",
    "compliance": "groundswell.formats.compliance",
    "table": "groundswell.formats.table",
}


def adapter(name: str) -> ModuleType:
    """The adapter module for a format name."""
    if name not in ADAPTER_MODULES:
        raise KeyError(name)
    return import_module(ADAPTER_MODULES[name])


def format_names() -> list[str]:
    return list(ADAPTER_MODULES)
