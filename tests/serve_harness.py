"""A real `groundswell serve` app on 127.0.0.1 for the tests: uvicorn in a thread, real HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from typing import Any, Iterator

from groundswell.movement.definition import Movement
from groundswell.privacy import Privacy
from groundswell.report.context import ReportOptions


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(db: str, movement: Movement | None, privacy: Privacy = Privacy(), time_limit: float = 20.0) -> Iterator[str]:
    """The base URL of a dashboard served on a free loopback port, stopped on exit."""
    import uvicorn

    from groundswell.serve import Dashboard, make_app

    dashboard = Dashboard(db, movement, ReportOptions(privacy=privacy), time_limit=time_limit)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(dashboard), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        dashboard.close()


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url: str) -> tuple[int, Any]:
    status, _, body = get(url)
    return status, json.loads(body)
