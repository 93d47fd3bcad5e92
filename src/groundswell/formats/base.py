"""What a format adapter is, and what it may yield.

An adapter is a module with NAME, `sniff(record)` and `parse(record, ctx)`. It turns one
source record (a parsed JSON value, or a CSV row as a dict) into zero or more items:
post dicts made with `model.new_post`, `Skip` for payloads that are not posts,
`Delete` for compliance deletions, `LimitNotice` for a stream's undelivered counts, and
`LocalId` to say which instance-local id a stored post had. A record it cannot read raises
`RecordError`, which quarantines that record and lets the rest of the file go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping, Protocol, Union


class RecordError(ValueError):
    """This record cannot be read; the message says why, without quoting post text."""


@dataclass(frozen=True)
class Skip:
    """A payload that is valid but is not a post (counts, users, lists, errors)."""

    reason: str


@dataclass(frozen=True)
class Delete:
    """A deletion notice: the post (or, with `author=True`, the account) must be forgotten."""

    platform: str
    target_id: str
    deleted_at: Any = None  # datetime (UTC, naive) or None
    reason: str = "deleted"
    author: bool = False


@dataclass(frozen=True)
class LimitNotice:
    """A stream's count of matching posts it did not deliver (Twitter v1.1 `limit.track`).

    `track` is cumulative since the connection opened, per stream shard; the store keeps every
    notice so that estimation can take the increments (see analysis/estimation/limits.py).
    """

    platform: str
    track: int
    at: Any = None  # datetime (UTC, naive) or None


@dataclass(frozen=True)
class LocalId:
    """A status's id on the instance that served it, beside the global id it is stored under:
    a later streaming delete names only the local id, and must still reach the stored post."""

    platform: str
    local_id: str
    post_id: str


# A Delete whose target is an instance-local id, to be resolved through LocalId pairs.
LOCAL_ID_DELETE = "streaming delete (local id)"
MAPPED_DELETE = "streaming delete (mapped from local id)"

Item = Union[dict, Skip, Delete, LimitNotice, LocalId]


def resolve_local_deletes(deletes: list[Delete], known: Mapping[str, str]) -> list[Delete]:
    """Each local-id delete whose id is known now names the stored post; the rest stay as they
    came, so a delete of a status never seen is still kept as a tombstone."""
    return [replace(d, target_id=known[d.target_id], reason=d.reason.replace(LOCAL_ID_DELETE, MAPPED_DELETE))
            if d.reason.endswith(LOCAL_ID_DELETE) and d.target_id in known else d for d in deletes]


@dataclass
class ParseContext:
    """What an adapter may know about where a record came from, and where it reports oddities.

    `options` carries adapter settings from the command line (a column mapping, a time zone).
    `counters` collects named counts (e.g. `client_time_replaced`) that the ingest summary shows.
    `warnings` collects one-line warnings, each shown once per file.
    """

    source_file: str = "-"
    source_format: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def warn(self, message: str) -> None:
        """Record a warning; repeated messages are counted, not repeated."""
        self.warnings[message] = self.warnings.get(message, 0) + 1


class Adapter(Protocol):
    NAME: str
    PLATFORM: str
    # "json" adapters get parsed JSON values; "table" adapters get rows as dicts of strings.
    INPUT: str

    def sniff(self, record: Any) -> bool: ...

    def parse(self, record: Any, ctx: ParseContext) -> Iterator[Item]: ...


def count_or_none(value: Any) -> int | None:
    """A count as the source gives it, or null when it is not an integer (text, a float, true):
    every adapter reads counts this way, so one odd value never sinks its batch's conversion."""
    return value if type(value) is int else None
