"""`groundswell serve`: a local dashboard that explores a store while it is collected."""

from __future__ import annotations

import click

from ..movement.definition import Movement
from ..privacy import Privacy
from .movements import movement_option
from .options import db_option
from .privacy_options import privacy_options


@click.command("serve")
@db_option
@movement_option
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the store's figures to the network.")
@click.option("--time-limit", type=click.FloatRange(0.5), default=20.0, show_default=True,
              help="Seconds a view may take before the page is asked to narrow the window.")
@privacy_options
def serve_command(db: str, movement: Movement | None, port: int, host: str, time_limit: float, privacy: Privacy) -> None:
    """Serve a dashboard of the store at http://127.0.0.1:PORT/ until Ctrl-C.

    Every chart and table of the report, with filters (time window, family, variant,
    language, platform, kind) kept in the address so a view can be shared, a hashtag search,
    and a paged table of posts. The page follows the store as `ingest` or `watch` add to it.
    The --privacy rules are applied by the server to every answer.

    Example: groundswell serve --db demo.duckdb --movement metoo
    """
    import uvicorn

    from ..report.context import ReportOptions
    from ..serve import Dashboard, make_app

    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}: anyone who can reach this address sees the dashboard", err=True)
    dashboard = Dashboard(db, movement, ReportOptions(tz="UTC", privacy=privacy), time_limit=time_limit)
    click.echo(f"groundswell dashboard on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    try:
        uvicorn.run(make_app(dashboard), host=host, port=port, log_level="warning")
    finally:
        dashboard.close()
