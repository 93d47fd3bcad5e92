"""The `groundswell` command: thin wrappers that parse options and call the library."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from .. import __version__
from ..errors import GroundswellError


class _Group(click.Group):
    """Turns library errors into one-line messages (exit 1); --debug keeps the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except GroundswellError as exc:
            if ctx.meta.get("debug"):
                raise
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            _interrupted(ctx)
        except Exception as exc:
            if not _is_query_interrupted(exc):
                raise
            _interrupted(ctx)  # the signal came while DuckDB ran a statement


def _interrupted(ctx: click.Context) -> None:
    if ctx.meta.get("debug"):
        raise
    click.echo("interrupted: what was written is complete; run the same command again to finish", err=True)
    sys.exit(130)


def _is_query_interrupted(exc: Exception) -> bool:
    """DuckDB turns a signal that arrives during a statement into its own error (a plain
    RuntimeError "Query interrupted" from the Python client, or InterruptException)."""
    import duckdb

    return isinstance(exc, duckdb.InterruptException) or (type(exc) is RuntimeError and str(exc) == "Query interrupted")


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run() -> None:
    """The process's entry point. Once the command has returned, its work is written and only
    the interpreter's exit is left; Python gives signals back their default action while it
    exits, so a Ctrl-C or SIGTERM in that moment would end the process silently with a signal
    status instead of the command's own. Ignoring them from here on keeps that status."""
    try:
        main()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="groundswell")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Measure a hashtag movement from social-media archives.

    Start with `groundswell ingest FILES...`, then `groundswell stats`.
    """
    ctx.meta["debug"] = debug


def _register() -> None:
    from . import ingest, movements, stats

    main.add_command(ingest.ingest_command)
    main.add_command(stats.stats_command)
    main.add_command(movements.movements_command)
    main.add_command(movements.variants_command)
    main.add_command(__import__(f"{__package__}.simulate", fromlist=["_"]).simulate_command)
    main.add_command(__import__(f"{__package__}.report", fromlist=["_"]).report_command)
    main.add_command(__import__(f"{__package__}.export", fromlist=["_"]).export_command)
    main.add_command(__import__(f"{__package__}.forget", fromlist=["_"]).forget_command)
    main.add_command(__import__(f"{__package__}.trends", fromlist=["_"]).trends_command)
    main.add_command(__import__(f"{__package__}.cascade", fromlist=["_"]).cascade_command)
    main.add_command(__import__(f"{__package__}.amplifiers", fromlist=["_"]).amplifiers_command)
    main.add_command(__import__(f"{__package__}.network", fromlist=["_"]).network_command)
    main.add_command(__import__(f"{__package__}.serve", fromlist=["_"]).serve_command)
    main.add_command(__import__(f"{__package__}.watch", fromlist=["_"]).watch_command)
    main.add_command(__import__(f"{__package__}.estimate", fromlist=["_"]).estimate_command)


_register()
