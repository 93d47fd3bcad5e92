"""Bluesky through Jetstream: a websocket of JSON events, resumed from a `time_us` cursor.

Only `app.bsky.feed.post` is asked for (`wantedCollections`). Each event goes to the sink as
it is; the sink parses it with the Bluesky adapter, keeps the movement's posts and commits
them with the cursor of the last event it holds. After any stop the next start asks for
events from that cursor minus OVERLAP_US, and the store's dedupe drops the overlap. When the
first event after a resume comes far later than the cursor, the server's replay window
probably no longer reached back: that stretch is recorded as a gap, with its length.
"""

from __future__ import annotations

import asyncio
import random
import re
import urllib.parse
from datetime import datetime
from typing import Any

from ..timeutil import from_epoch_us
from .ledger import Gap
from .sink import Sink

DEFAULT_ENDPOINT = "wss://jetstream2.us-east.bsky.network/subscribe"
COLLECTION = "app.bsky.feed.post"
OVERLAP_US = 2_000_000  # replayed again on resume; the store drops what it already has
GAP_AFTER_US = 30_000_000  # a resume whose first event is later than this leaves a gap
MAX_BACKOFF = 30.0
_TIME_KEY = b'"time_us":'
_DIGITS = re.compile(rb"\s*(\d{1,19})\s*[,}]")


def subscribe_url(endpoint: str, cursor: int | None) -> str:
    parts = urllib.parse.urlsplit(endpoint)
    query = urllib.parse.parse_qsl(parts.query) + [("wantedCollections", COLLECTION)]
    if cursor is not None:
        query.append(("cursor", str(max(0, cursor - OVERLAP_US))))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


async def run(endpoint: str, sink: Sink, stop: asyncio.Event, status: dict[str, Any]) -> None:
    """Receive until `stop` is set, reconnecting with backoff; the caller commits at the end."""
    import websockets

    stored = sink.stored_cursor()
    cursor = int(stored) if stored else None
    attempt = 0
    ticker = asyncio.create_task(_tick(sink, stop))
    try:
        while not stop.is_set():
            try:
                # No permessage-deflate: Jetstream does not offer it, and inflating every frame
                # costs more than the bytes it saves on a local or fast link.
                async with websockets.connect(subscribe_url(endpoint, cursor), max_size=1 << 24, compression=None,
                                              open_timeout=10, ping_interval=20) as socket:
                    attempt = 0
                    status["connected"] = True
                    cursor = await _receive(socket, sink, stop, cursor, status)
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                cursor = status.get("cursor", cursor)  # what was received is in the sink's buffer
                status["connected"] = False
                status["last_error"] = type(exc).__name__
                if stop.is_set():
                    break
                sink.progress.reconnects += 1
                status["reconnects"] = status.get("reconnects", 0) + 1
                attempt += 1
                await _sleep(stop, min(MAX_BACKOFF, 0.25 * 2 ** attempt) * random.uniform(0.5, 1.0))
    finally:
        ticker.cancel()


async def _receive(socket: Any, sink: Sink, stop: asyncio.Event, cursor: int | None, status: dict[str, Any]) -> int | None:
    resumed_from = cursor
    closer = asyncio.create_task(_close_on(stop, socket))  # `async for` ends when the socket closes
    try:
        async for message in socket:
            raw, time_us = _decode(message)
            if resumed_from is not None and time_us is not None:
                if time_us - resumed_from > GAP_AFTER_US:
                    sink.progress.gaps.append(Gap(from_epoch_us(resumed_from), from_epoch_us(time_us),
                                                  "first event after a resume came later than the cursor: the "
                                                  "server's replay window may not have reached back"))
                resumed_from = None
            if time_us is not None and time_us > (cursor or 0):
                cursor = time_us
                status["cursor"] = cursor
            sink.add(raw, str(cursor) if cursor is not None else None, _at(time_us))
            if sink.due():
                sink.commit()
            elif sink.full():
                await sink.drain()
    finally:
        closer.cancel()
    if not stop.is_set():
        raise ConnectionResetError("the server closed the stream")
    return cursor


async def _close_on(stop: asyncio.Event, socket: Any) -> None:
    await stop.wait()
    await socket.close()


def _decode(message: Any) -> tuple[bytes, int | None]:
    """The frame's bytes and its time_us, read from the text without decoding the event: the
    sink's columnar path parses every frame in DuckDB anyway, and decoding it here as well
    cost the receiving loop a tenth of its time (bench/watch.py). The key can only be the
    event's own: inside a JSON string its quotes would be escaped. A frame that is not one
    whole object gives None, and the sink quarantines it if it is broken."""
    raw = message.encode() if isinstance(message, str) else bytes(message)
    if not (raw.startswith(b"{") and raw.rstrip().endswith(b"}")):
        return raw, None
    at = raw.find(_TIME_KEY)
    if at < 0:
        return raw, None
    digits = _DIGITS.match(raw, at + len(_TIME_KEY))
    return raw, int(digits.group(1)) if digits else None


def _at(time_us: int | None) -> datetime | None:
    return from_epoch_us(time_us) if time_us is not None else None


async def _tick(sink: Sink, stop: asyncio.Event) -> None:
    """Commit a quiet stream's last events too, every interval."""
    while not stop.is_set():
        await _sleep(stop, sink.interval / 4)
        if sink.buffer and sink.due():
            sink.commit()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
