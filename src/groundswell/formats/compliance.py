"""Twitter v2 compliance job output: one deletion notice per line.

Post compliance lines carry a tweet id; user compliance lines carry a user id. Both are
applied to the store as tombstones (see store/), so re-ingesting an archive cannot bring
the deleted posts back.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..timeutil import parse_iso, to_utc_naive
from .base import Delete, Item, ParseContext, RecordError, Skip

NAME = "compliance"
PLATFORM = "twitter"
INPUT = "json"

_ACTIONS = {"delete", "scrub_geo", "protect", "suspend", "deactivate", "unprotect", "reactivate", "undelete"}
_FORGET = {"delete", "protect", "suspend", "deactivate"}


def sniff(record: Any) -> bool:
    return isinstance(record, dict) and record.get("action") in _ACTIONS and "id" in record and "data" not in record


def parse(record: Any, ctx: ParseContext) -> Iterator[Item]:
    if not sniff(record):
        raise RecordError("not a compliance record (needs `id` and `action`)")
    action = record["action"]
    if action not in _FORGET:
        yield Skip(f"compliance action {action} (nothing to remove)")
        return
    deleted_at = None
    if record.get("created_at"):
        try:
            deleted_at = to_utc_naive(parse_iso(str(record["created_at"])))
        except ValueError:
            ctx.warn("compliance record with unreadable created_at; deletion time left empty")
    is_user = bool(ctx.options.get("compliance_users")) or _looks_like_user_file(ctx.source_file)
    yield Delete(PLATFORM, str(record["id"]), deleted_at, f"{action}: {record.get('reason', 'unspecified')}", author=is_user)


def _looks_like_user_file(path: str) -> bool:
    """Compliance lines do not say whether the id is a tweet or a user; twarc names the files."""
    return "user" in path.rsplit("/", 1)[-1].lower()
