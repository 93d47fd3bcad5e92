"""`groundswell serve`: a live local dashboard over a store, from the report's own figures.

See docs/serve.md. The app (app.py) answers from a Dashboard (state.py), which reads the
store read-only and computes each view with the report's registry of figures.
"""

from __future__ import annotations

from .filters import BadFilter, Filters
from .state import Dashboard

__all__ = ["BadFilter", "Dashboard", "Filters", "make_app"]


def make_app(dashboard: Dashboard):  # -> starlette.applications.Starlette
    from .app import make_app as build  # starlette is imported only when a server is made

    return build(dashboard)
