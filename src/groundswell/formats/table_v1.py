"""Flattened v1.1 tweets in a table (the twitter-v1-csv preset): each row is turned back into
the v1.1 tweet dict it was flattened from and read by the twitter-v1 adapter, so the two
paths cannot disagree."""

from __future__ import annotations

from typing import Any, Iterator

from . import presets as P
from . import twitter_v1
from .base import Item, ParseContext, RecordError


def v1_items(record: dict, ctx: ParseContext) -> Iterator[Item]:
    if ctx.options.get("columns"):
        ctx.warn("column mapping ignored: the twitter-v1-csv preset reads v1.1 columns by name")
    return twitter_v1.parse(_v1_tweet(record), ctx)


def _v1_tweet(record: dict) -> dict[str, Any]:
    """The v1.1 tweet dict again: empty cells dropped, nested cells parsed, numbers and flags typed.
    `user.screen_name`-style columns (json_normalize) become nested keys."""
    tweet: dict[str, Any] = {}
    for column, raw in record.items():
        if column is None or raw is None or raw == "":
            continue
        *parents, key = column.split(".") if "." in column else (column,)
        value = _v1_value(key, raw) if isinstance(raw, str) else raw
        if value is None:
            continue
        target = tweet
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise RecordError(f"column `{column}` conflicts with a non-object `{parent}`")
        target[key] = value
    return tweet


def _v1_value(key: str, raw: str) -> Any:
    if key in P.V1_NESTED:
        try:
            return P.read_nested(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise RecordError(f"column `{key}` holds neither JSON nor a Python literal") from None
    if key in P.V1_INTS:
        try:
            exact = P.read_id(raw)
        except ValueError:
            return None  # a float that lost digits; the `_str` twin column carries the value
        return int(exact) if exact.isdigit() else None
    if key in P.V1_BOOLS:
        try:
            return P.read_bool(raw)
        except ValueError:
            return None
    return raw
