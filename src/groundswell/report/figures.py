"""Every figure of the report, computed once from the registry (registry.py), for the HTML,
the terminal, `stats --json`, the exports and the dashboard alike. See docs/metrics.md for
what each figure means.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from .. import __version__
from ..analysis import language
from ..engines.base import Engine
from ..metrics import people, scope, volume
from ..movement.definition import Movement
from ..store import Store
from . import registry
from .context import Context, ReportOptions

Note = Callable[[str], None]

__all__ = ["ReportOptions", "as_engine", "prepare_scope", "context", "compute", "compute_figures", "generated_at"]


def _quiet(message: str) -> None:
    return None


def as_engine(source: Store | Engine) -> Engine:
    """Figures take an engine; a DuckDB store opened by the caller becomes one (still the caller's)."""
    if isinstance(source, Engine):
        return source
    from ..engines.duckdb import DuckDBEngine

    return DuckDBEngine(store=source)


def prepare_scope(source: Store | Engine, movement: Movement | None, writable: bool, workers: int = 0,
                  languages: bool = True, note: Note = _quiet) -> Engine:
    """Materialize `gs_scope` in the engine's session and return the engine; with `languages`,
    posts without a source language get one from the detector (cached in a writable store)."""
    query = as_engine(source)
    scope.materialize_base(query, movement)
    detected = language.prepare(query, scope.SCOPE, writable, workers, note) if languages else None
    scope.materialize_scope(query, detected)
    return query


def context(query: Engine, movement: Movement | None, options: ReportOptions, writable: bool) -> Context:
    """The figures' shared context over a prepared scope: the store's salt bound for stable
    pseudonyms, and `auto` resolved to the bucket the scope's span calls for."""
    options = replace(options, privacy=options.privacy.bind(query, writable))
    ctx = Context(query, movement, options)
    ctx.options = replace(options, bucket=volume.resolve_bucket(options.bucket, ctx.first, ctx.last))
    return ctx


def compute(source: Store | Engine, movement: Movement | None, options: ReportOptions, writable: bool,
            note: Note = _quiet, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """Every figure (or those of `keys`), on the DuckDB store or any engine (Spark reads a lake;
    it never writes)."""
    query = prepare_scope(source, movement, writable, options.workers, note=note)
    ctx = context(query, movement, options, writable)
    figures: dict[str, Any] = {
        "groundswell_version": __version__,
        "settings": ctx.options.as_dict(),
        "movement": movement.as_dict() if movement else None,
    }
    return {**figures, **compute_figures(ctx, keys)}


def compute_figures(ctx: Context, keys: Iterable[str] | None = None, run: Callable[[Callable[[], Any]], Any] | None = None
                    ) -> dict[str, Any]:
    """The registry's figures (or those of `keys`) over a prepared context; `run` wraps each
    computation (the dashboard's time limit). People figures say unknown where no author is known."""
    wanted = set(keys) if keys is not None else None
    run = run or (lambda work: work())
    figures = {fig.key: run(lambda fig=fig: fig.compute(ctx)) for fig in registry.FIGURES
               if wanted is None or fig.key in wanted}
    basis = people.basis(ctx.query.query, scope.SCOPE)
    if "headline" in figures:
        figures["headline"]["people"] = basis
    return figures if basis["known"] else people.unknown_people(figures)


def generated_at() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
