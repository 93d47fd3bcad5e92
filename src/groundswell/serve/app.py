"""The dashboard's web app: one page, its static files, and a JSON API over the registry.

Every answer is computed on the server from the report's own figure code (report/registry.py)
under the server's privacy mode, so a page cannot see more than `stats --report --json`
would show. Every response carries a Content-Security-Policy with no inline script and
no other host; a bad parameter is a 400 with one line, a slow view a 503 that says to narrow
the window, and nothing ever answers with a traceback.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..movement.normalize import hashtag_key
from ..report import html as report_html
from .filters import BadFilter, Filters, parse
from .state import MAIN_VIEW, Dashboard, TooSlow

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
STATIC = Path(str(resources.files("groundswell.serve") / "static"))
log = logging.getLogger("groundswell.serve")


def make_app(dashboard: Dashboard) -> Starlette:
    def page(request: Request) -> Response:
        return FileResponse(STATIC / "dashboard.html", media_type="text/html; charset=utf-8")

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("dashboard.js", "dashboard.css"):
            return _error(404, "no such file")
        return FileResponse(STATIC / name)

    def stats(request: Request) -> Response:
        figures = dashboard.figures(_filters(request), MAIN_VIEW)
        figures["charts"] = {k: str(v) for k, v in report_html.build_charts(figures).items()}
        return _json(figures)

    def hashtag(request: Request) -> Response:
        key = hashtag_key(request.query_params.get("key", "").lstrip("#＃"))
        if not key or len(key) > 140:
            raise BadFilter("`key` must be a hashtag, such as metoo")
        figures = dashboard.figures(_filters(request), ("volume",))
        return _json({"key": key, **dashboard.hashtag_curve(_filters(request), key, figures["volume"]["bucket"])})

    def posts(request: Request) -> Response:
        page_number, size = _int(request, "page", 0, 0, 1_000_000), _int(request, "size", 50, 1, 200)
        return _json(dashboard.posts(_filters(request), page_number, size))

    def live(request: Request) -> Response:
        return _json(dashboard.live())

    routes = [Route("/", page), Route("/static/{name}", static), Route("/api/stats", _guard(stats)),
              Route("/api/hashtag", _guard(hashtag)), Route("/api/posts", _guard(posts)), Route("/api/live", _guard(live))]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.dashboard = dashboard

    def _filters(request: Request) -> Filters:
        return parse(dict(request.query_params), dashboard.movement)

    return app


class SecurityHeaders:
    """Every response, errors included: the CSP, no sniffing, no referrer, no caching."""

    HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "Cache-Control": "no-store", "X-Frame-Options": "DENY"}

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)


def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """User mistakes are 400s, slow views 503s, anything else a 500 without a traceback."""
    def guarded(request: Request) -> Response:
        try:
            return handler(request)
        except BadFilter as exc:
            return _error(400, str(exc))
        except TooSlow:
            return _error(503, f"this view took longer than {request.app.state.dashboard.time_limit:g} s: "
                               "narrow the window or the filters")
        except Exception:  # logged for the operator, never shown to the page
            log.exception("request failed: %s", request.url.path)
            return _error(500, "the server could not compute this view (see its log)")
    return guarded


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadFilter(f"`{name}` must be a whole number from {low} to {high}")
    return int(raw)


def _json(body: Any) -> Response:
    import orjson

    return Response(orjson.dumps(body, default=str), media_type="application/json")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
