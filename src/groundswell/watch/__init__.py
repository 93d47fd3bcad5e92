"""`groundswell watch`: collect a movement live from Bluesky (Jetstream) and Mastodon.

Each live source has a Sink (sink.py) that commits small batches with the source's cursor
(ledger.py), so nothing is lost or counted twice across drops, rate limits and restarts, and
readers can open the store between commits. See docs/watch.md.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any, Awaitable, Callable

from .sink import Sink

__all__ = ["Sink", "run_until_stopped"]


def run_until_stopped(work: Callable[[asyncio.Event, dict[str, Any]], Awaitable[None]], sinks: list[Sink],
                      duration: float | None, report: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run `work` until `duration` passes, or SIGINT/SIGTERM; then commit every sink's buffer."""
    status: dict[str, Any] = {"started": time.monotonic(), "reconnects": 0, "interrupted": False}

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: (status.update(interrupted=True), stop.set()))
        if duration is not None:
            loop.call_later(duration, stop.set)
        reporter = asyncio.create_task(_report(stop, status, sinks, report)) if report else None
        try:
            await work(stop, status)
        finally:
            if reporter:
                reporter.cancel()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    asyncio.run(main())
    for sink in sinks:
        sink.flush()  # waits for a reader that holds the store, if one does
    status["seconds"] = round(time.monotonic() - status.pop("started"), 3)
    return status


async def _report(stop: asyncio.Event, status: dict[str, Any], sinks: list[Sink],
                  report: Callable[[dict[str, Any]], None]) -> None:
    while not stop.is_set():
        await asyncio.sleep(1.0)
        report({**status, "events": sum(s.totals["events"] for s in sinks),
                "matched": sum(s.totals["matched"] for s in sinks)})
