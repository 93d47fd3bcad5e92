"""The registry of figures: each one's key, definition, query, privacy rule and renderer.

`report` (HTML and terminal), `stats --report --json`, `export` and the dashboard all read
this list, so a figure is added in one place: a `Figure` with a compute function over the
report's Context (context.py), registered here or by `register()`. The HTML report draws the
`Section`s in their order, each a template partial that renders the figures it names.

Every compute function applies its privacy rule itself, through the bound Privacy of the
context (small-cell suppression, pseudonyms, notable accounts only), so no reader of the
registry can get a figure that skipped it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..analysis import language
from ..series import peak
from ..forget import tombstone_counts
from ..metrics import audience, composition, coverage, scope, volume
from .context import Context


@dataclass(frozen=True)
class Section:
    """One section of the HTML report: its partial template and its entries in the contents."""

    template: str
    nav: tuple[tuple[str, str], ...]  # (anchor, title)


@dataclass(frozen=True)
class Figure:
    key: str  # its key in the figures document (`stats --report --json`)
    compute: Callable[[Context], Any]
    section: Section | None
    definitions: tuple[str, ...]  # its entries in report/definitions.py (and docs/metrics.md)
    privacy: str  # the rule its compute function applies


# --- the compute functions -------------------------------------------------------------------


def headline(ctx: Context) -> dict[str, Any]:
    head: dict[str, Any] = {**volume.totals(ctx.query), "start": ctx.start, "first_24h": None}
    at = ctx.start_at
    if at is not None:
        head["first_24h"] = {**volume.first_hours(ctx.query, at), "overlaps_gap": ctx.window_overlaps_gap(at)}
    return head


def volume_figure(ctx: Context) -> dict[str, Any]:
    bucket = ctx.options.bucket
    if not ctx.timed:
        return {"bucket": bucket, "tz": ctx.options.tz, "series": [], "peak_hour": None, "peak_day": None,
                "milestones": volume.milestones(ctx.query, None), "around_start": []}
    hours, hour_counts = ctx.per_bucket("hour")
    at = ctx.start_at
    return {
        "bucket": bucket, "tz": ctx.local.tz,
        "series": volume.series(ctx.query, ctx.local, bucket, ctx.first, ctx.last),
        "peak_hour": peak(hours, hour_counts, "hour"), "peak_day": peak(*ctx.per_bucket("day"), "day"),
        "milestones": volume.milestones(ctx.query, at),
        "around_start": volume.around_start(hours, hour_counts, ctx.local.to_local(at)) if at else [],
    }


def hashtag_vs_phrase(ctx: Context) -> dict[str, Any]:
    series = composition.match_series(ctx.query, ctx.local, ctx.options.bucket, ctx.first, ctx.last) if ctx.timed else []
    return {"totals": composition.match_totals(ctx.query), "series": series}


def families(ctx: Context) -> dict[str, Any]:
    if not ctx.timed:
        return {"families": [], "series": [], "variants": []}
    labels = [family["label"] for family in ctx.families if not family["suppressed"]]  # no series for a hidden cell
    return {"families": ctx.families,
            "series": composition.family_series(ctx.query, ctx.local, ctx.options.bucket, ctx.first, ctx.last, labels),
            "variants": composition.variants(ctx.query, ctx.movement, privacy=ctx.privacy)}


def coverage_figure(ctx: Context) -> dict[str, Any]:
    file_rows = coverage.files(ctx.query)
    store_posts = coverage.store_posts(ctx.query)
    in_scope = coverage.scope_posts(ctx.query, scope.SCOPE)
    return {
        "files": file_rows,
        "formats": coverage.formats(file_rows),
        "runs": coverage.runs(ctx.query),
        "quarantine": coverage.quarantine(ctx.query),
        "deletions": tombstone_counts(ctx.query),  # posts removed by compliance, notices and `forget`
        "store": store_posts,
        "scope": in_scope,
        "not_matched": store_posts["collected"] - in_scope["posts"],
        "gaps": ctx.gaps,
        "live": coverage.live(ctx.query),  # sources a `groundswell watch` collected from
    }


def languages(ctx: Context) -> dict[str, Any]:
    return {**audience.languages(ctx.query, privacy=ctx.privacy), "detector": language.detector_name(),
            "min_words": language.MIN_WORDS,
            "min_confidence": language.MIN_CONFIDENCE}


def how_big(ctx: Context) -> dict[str, Any]:
    """The "How big was it" section: docs/estimation.md, over the report's own scope."""
    from ..analysis import estimation

    return estimation.compute(ctx.query, ctx.movement, table=scope.SCOPE)


def spread(ctx: Context) -> dict[str, Any]:
    from ..analysis import cascades

    return cascades.spread_figures(ctx.query, ctx.movement, ctx.privacy, ctx.options.top, table=scope.SCOPE)


def trends(ctx: Context) -> dict[str, Any]:
    from ..analysis import trends as analysis

    options = analysis.TrendOptions(bucket=ctx.options.bucket, privacy=ctx.privacy)
    return analysis.compute(ctx.query, ctx.movement, options, table=scope.SCOPE)


def network(ctx: Context) -> dict[str, Any]:
    from ..analysis import communities

    return communities.network_figures(ctx.query, ctx.movement, ctx.privacy, table=scope.SCOPE)


# --- the registry -----------------------------------------------------------------------------

SMALL_CELLS = "cells of fewer than --min-cell people are suppressed (never under off)"
NAMED_ONLY = "only notable accounts are named or quoted; everyone else is a pseudonym, with no words shown"
AGGREGATE = "counts over the whole scope: no cell small enough to single anyone out"

_S = Section
HEADLINE = _S("_headline.html.j2", (("headline", "Headline"),))
VOLUME = _S("_volume.html.j2", (("volume", "Volume over time"),))
MATCH = _S("_hashtag_phrase.html.j2", (("hashtag-phrase", "Hashtag versus phrase"),))
FAMILIES = _S("_families.html.j2", (("families", "Families and variants"),))
AUDIENCE = _S("_platforms_languages.html.j2", (("platforms-languages", "Platforms and languages"),))
CO_HASHTAGS = _S("_co_hashtags.html.j2", (("co-hashtags", "Co-hashtags"),))
PARTICIPANTS = _S("_participants.html.j2", (("participants", "Most-engaged posts and most-followed participants"),))
HOW_BIG = _S("_how_big.html.j2", (("how-big", "How big was it"),))
TRENDS = _S("_trends.html.j2", (("trends", "Trends and bursts"),))
SPREAD = _S("_spread.html.j2", (("cascades", "Call-to-action cascades"), ("amplifiers", "Amplifiers")))
NETWORK = _S("_network.html.j2", (("network", "Related campaigns"),))
COVERAGE = _S("_coverage.html.j2", (("coverage", "Coverage and method"),))

FIGURES: list[Figure] = [
    Figure("headline", headline, HEADLINE, ("posts", "distinct_authors", "by_kind", "start", "first_24h"), AGGREGATE),
    Figure("volume", volume_figure, VOLUME, ("volume", "distinct_authors_over_time", "cumulative", "milestones",
                                             "around_start", "peak_hour", "peak_day"), AGGREGATE),
    Figure("hashtag_vs_phrase", hashtag_vs_phrase, MATCH, ("hashtag_vs_phrase",), AGGREGATE),
    Figure("families", families, FAMILIES, ("families", "variants"), SMALL_CELLS),
    Figure("coverage", coverage_figure, COVERAGE, ("gaps", "duplicates", "rejected", "referenced_only", "deletions",
                                                   "not_matched"), AGGREGATE),
    Figure("platforms", lambda ctx: audience.platforms(ctx.query, privacy=ctx.privacy), AUDIENCE, ("platforms",),
           SMALL_CELLS),
    Figure("languages", languages, AUDIENCE, ("languages",), SMALL_CELLS),
    Figure("co_hashtags", lambda ctx: audience.co_hashtags(ctx.query, ctx.movement, ctx.options.top, privacy=ctx.privacy),
           CO_HASHTAGS, ("co_hashtags",), SMALL_CELLS + "; hashtags equal to an unnamed person's handle are left out"),
    Figure("most_engaged", lambda ctx: audience.most_engaged(ctx.query, ctx.privacy, ctx.options.top), PARTICIPANTS,
           ("most_engaged",), NAMED_ONLY),
    Figure("most_followed", lambda ctx: audience.most_followed(ctx.query, ctx.privacy, ctx.options.top), PARTICIPANTS,
           ("most_followed",), NAMED_ONLY),
    Figure("spread", spread, SPREAD, (), NAMED_ONLY),
    Figure("how_big", how_big, HOW_BIG, (), AGGREGATE),
    Figure("trends", trends, TRENDS, (), SMALL_CELLS),
    Figure("network", network, NETWORK, (), SMALL_CELLS + "; " + NAMED_ONLY),
]
# The HTML order (coverage comes last there, though the document lists it with the timed figures).
SECTIONS: list[Section] = [HEADLINE, VOLUME, MATCH, FAMILIES, AUDIENCE, CO_HASHTAGS, PARTICIPANTS, HOW_BIG, TRENDS,
                           SPREAD, NETWORK, COVERAGE]


def register(figure: Figure, before: str | None = None, section_before: Section | None = None) -> None:
    """Add a figure (and its section, if new): the one place a new figure goes."""
    keys = [f.key for f in FIGURES]
    if figure.key in keys:
        raise ValueError(f"a figure {figure.key!r} is registered already")
    FIGURES.insert(keys.index(before) if before in keys else len(FIGURES), figure)
    if figure.section is not None and figure.section not in SECTIONS:
        at = SECTIONS.index(section_before) if section_before in SECTIONS else len(SECTIONS)
        SECTIONS.insert(at, figure.section)


def figure(key: str) -> Figure:
    found = next((f for f in FIGURES if f.key == key), None)
    if found is None:
        raise KeyError(f"no figure {key!r} (known: {', '.join(f.key for f in FIGURES)})")
    return found
