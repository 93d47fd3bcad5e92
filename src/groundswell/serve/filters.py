"""The dashboard's filters: parsed and checked from a query string, applied as parameters.

Every value is checked against what it may be (a time, a family of the movement, a
variant it knows, a language code, a platform, a kind) and a bad one is a one-line
message for a 400 answer. The SQL that applies them uses `?` placeholders only: no value
from a request is ever spliced into a statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Mapping

from ..model import KINDS, PLATFORMS
from ..movement.definition import Movement
from ..timeutil import parse_iso, to_utc_naive

LANGUAGE = re.compile(r"^(und|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$")
KNOWN = ("from", "to", "family", "variant", "language", "platform", "kind")


class BadFilter(ValueError):
    """A query parameter the dashboard cannot use; its message is the 400 answer."""


@dataclass(frozen=True)
class Filters:
    start: datetime | None = None  # `from`, inclusive (UTC)
    end: datetime | None = None  # `to`, exclusive (UTC)
    family: str | None = None
    variant: str | None = None
    language: str | None = None
    platform: str | None = None
    kind: str | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def where(self) -> tuple[str, list[Any]]:
        """A WHERE clause over the full scope's columns, and its parameters."""
        tests, params = [], []
        for test, value in (("created_at >= ?", self.start), ("created_at < ?", self.end),
                            ("list_contains(families, ?)", self.family), ("list_contains(variants, ?)", self.variant),
                            ("language = ?", self.language), ("platform = ?", self.platform), ("kind = ?", self.kind)):
            if value is not None:
                tests.append(test)
                params.append(value)
        return (" AND ".join(tests) or "TRUE"), params

    def as_dict(self) -> dict[str, Any]:
        out = {"from": _iso(self.start), "to": _iso(self.end), "family": self.family, "variant": self.variant,
               "language": self.language, "platform": self.platform, "kind": self.kind}
        return {k: v for k, v in out.items() if v is not None}


def parse(params: Mapping[str, str], movement: Movement | None) -> Filters:
    unknown = sorted(set(params) - set(KNOWN) - {"page", "size", "key", "since"})
    if unknown:
        raise BadFilter(f"unknown parameter {unknown[0]!r} (known: {', '.join(KNOWN)})")
    start, end = _time(params, "from"), _time(params, "to")
    if start and end and start >= end:
        raise BadFilter("`from` must be before `to`")
    return Filters(start, end, _family(params.get("family"), movement), _variant(params.get("variant"), movement),
                   _choice(params.get("language"), "language", LANGUAGE), _one_of(params.get("platform"), "platform", PLATFORMS),
                   _one_of(params.get("kind"), "kind", KINDS))


def _time(params: Mapping[str, str], name: str) -> datetime | None:
    value = params.get(name) or None
    if value is None:
        return None
    try:
        return to_utc_naive(parse_iso(value))
    except (ValueError, OverflowError):
        raise BadFilter(f"`{name}` must be an ISO 8601 time such as 2017-10-15T20:00Z") from None


def _family(value: str | None, movement: Movement | None) -> str | None:
    if not value:
        return None
    labels = movement.labels() if movement else []
    if value not in labels:
        raise BadFilter(f"`family` must be one of the movement's families ({', '.join(labels) or 'none'})")
    return value


def _variant(value: str | None, movement: Movement | None) -> str | None:
    if not value:
        return None
    key = value.lstrip("#").lower()
    if movement is None or key not in movement.stored_forms():
        raise BadFilter("`variant` must be a hashtag key of the movement")
    return key


def _choice(value: str | None, name: str, pattern: re.Pattern[str]) -> str | None:
    if not value:
        return None
    if not pattern.match(value):
        raise BadFilter(f"`{name}` must be a language code such as en, es or und")
    return value


def _one_of(value: str | None, name: str, allowed: tuple[str, ...] | frozenset[str]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise BadFilter(f"`{name}` must be one of {', '.join(sorted(allowed))}")
    return value


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None
