"""The spread figures of a movement: cascades of its calls to action, and its amplifiers.

`spread_figures` is the one entry point: `groundswell cascade`, `groundswell amplifiers`
and the report all call it, so the three always show the same figures. The figures are
computed in the engine by metrics/cascade.py and metrics/amplifiers.py; this module only
chooses the posts and the scope, and assembles their results. See docs/spread.md.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..engines.base import drop_temp_tables
from ..metrics import amplifiers, cascade, scope
from ..movement.definition import Movement
from ..privacy import Privacy, salt

Query = Callable[[str], list[tuple]]
TOP = 10
SECTIONS = ("cascades", "amplifiers")
SPREAD_SCOPE = "gs_spread_scope"


def spread_figures(query: Query, movement: Movement | None, privacy: Privacy, top: int = TOP, *,
                   calls: Sequence[str] | None = None, sections: Sequence[str] = SECTIONS,
                   table: str | None = None) -> dict[str, Any]:
    """{"privacy", "cascades", "amplifiers"} for the report's spread sections.

    calls: posts whose cascades to follow (`platform:id`), by default the movement's
    call_to_action posts. table: a scope table already built by the caller (the report's
    `gs_scope`); by default the movement's matched posts are selected here.
    """
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown spread sections: {sorted(unknown)}")
    pseudonym_salt = salt(query, writable=False)
    figures: dict[str, Any] = {"privacy": privacy.as_dict()}
    if "cascades" in sections:
        chosen = list(calls) if calls is not None else list(movement.call_to_action if movement else ())
        figures["cascades"] = [cascade.cascade(query, call, movement, privacy, pseudonym_salt) for call in chosen]
    if "amplifiers" in sections:
        figures["amplifiers"] = amplifier_figures(query, movement, privacy, pseudonym_salt, top, table)
    return figures


def amplifier_figures(query: Query, movement: Movement | None, privacy: Privacy, pseudonym_salt: str,
                      top: int = TOP, table: str | None = None) -> dict[str, Any]:
    """Every amplifier figure over the movement's collected posts (all collected posts without one)."""
    if table is None:
        query(f"CREATE OR REPLACE TEMP TABLE {SPREAD_SCOPE} AS {scope.scope_base_sql(movement)}")
        table = SPREAD_SCOPE
    amplifiers.prepare(query, privacy, table)
    figures: dict[str, Any] = {
        "scope": {"movement": movement.name if movement else None,
                  "posts": "the movement's matched collected posts" if movement else "every collected post"},
        "top": top,
        "most_active": amplifiers.most_active(query, privacy, pseudonym_salt, top, table),
        "most_influential": amplifiers.most_influential(query, privacy, pseudonym_salt, top, table),
        "most_amplified_posts": amplifiers.most_amplified_posts(query, privacy, pseudonym_salt, top, table),
        "earliest_notable_adopters": amplifiers.earliest_notable_adopters(query, privacy, pseudonym_salt, top, table),
        "amplifications": amplifiers.amplifications(query),
        "reach": amplifiers.reach(query, table),
    }
    drop_temp_tables(query, (amplifiers.LATEST, amplifiers.AMPLIFIED, *([SPREAD_SCOPE] if table == SPREAD_SCOPE else [])))
    return figures
