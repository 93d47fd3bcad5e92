"""Mastodon: backfill each hashtag's timeline, follow its stream, backfill again after a drop.

Per instance, REST requests go one at a time (a lock), honour `X-RateLimit-Remaining` and
`X-RateLimit-Reset`, wait out 429 and 503 `Retry-After`, and back off exponentially with
jitter on errors. The hashtag stream is read as server-sent events. After every reconnect
the timeline is read again from the last id seen, so a dropped stream loses nothing; the
same status from several instances is one post (keyed by its `uri`), and a streaming
`delete`, which carries the instance's local id, is mapped to the post it deletes.
A token, where an instance wants one, comes from the environment and goes only into the
Authorization header.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import urllib.parse
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from .sink import Sink

PAGE = 40
MAX_BACKOFF = 60.0
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class Instance:
    """One instance's REST side: one request in flight, rate limits and backoff."""

    def __init__(self, base: str, token: str | None, sink: Sink, status: dict[str, Any]):
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base, self.sink, self.status = base.rstrip("/"), sink, status
        self.client = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=90), follow_redirects=True)
        self.lock = asyncio.Lock()

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, url: str, stop: asyncio.Event) -> Any:
        """A GET that succeeds eventually, or None when stopped: waits are counted, never fatal."""
        import httpx

        attempt = 0
        async with self.lock:
            while not stop.is_set():
                try:
                    response = await self.client.get(url)
                except httpx.HTTPError:
                    attempt += 1
                    await self._wait(stop, _backoff(attempt), limited=False)
                    continue
                if response.status_code in (429, 503):  # the server says how long: no backoff of our own
                    await self._wait(stop, _retry_after(response) or _backoff(attempt + 1), limited=True)
                    continue
                if response.status_code >= 500:
                    attempt += 1
                    await self._wait(stop, _backoff(attempt), limited=False)
                    continue
                response.raise_for_status()
                await self._respect_remaining(response, stop)
                return response
        return None

    async def _respect_remaining(self, response: Any, stop: asyncio.Event) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is not None and remaining.strip().isdigit() and int(remaining) == 0:
            reset = _reset_seconds(response.headers.get("X-RateLimit-Reset"))
            if reset:
                await self._wait(stop, reset, limited=True)

    async def _wait(self, stop: asyncio.Event, seconds: float, limited: bool) -> None:
        if limited:
            self.sink.progress.rate_limit_waits += 1
            self.sink.progress.rate_limit_wait_seconds += seconds
            self.status["rate_limit_waits"] = self.status.get("rate_limit_waits", 0) + 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass


async def backfill(instance: Instance, tag: str, since: str | None, stop: asyncio.Event, max_pages: int) -> str | None:
    """Every status of the tag's timeline newer than `since` (or `max_pages` pages on a first
    run), oldest last; returns the newest id seen."""
    url = f"{instance.base}/api/v1/timelines/tag/{urllib.parse.quote(tag)}?limit={PAGE}" + (f"&since_id={since}" if since else "")
    newest = since
    for _ in range(max_pages if since is None else 10_000):
        response = await instance.get(url, stop)
        if response is None:
            break
        statuses = _statuses(response.text, instance)
        for status in statuses:
            newest = _newer(newest, str(status.get("id")))
            _add(instance, status)
        found = _NEXT.search(response.headers.get("Link", ""))
        if not statuses or not found:
            break
        url = found.group(1) + (f"&since_id={since}" if since and "since_id" not in found.group(1) else "")
    return newest


async def stream(instance: Instance, tag: str, since: str | None, stop: asyncio.Event) -> str | None:
    """Follow the tag's server-sent events until the stream ends; returns the newest id seen."""
    url = f"{instance.base}/api/v1/streaming/hashtag?tag={urllib.parse.quote(tag)}"
    newest = since
    async with instance.client.stream("GET", url, timeout=None) as response:
        if response.status_code >= 400:
            raise ConnectionError(f"stream answered {response.status_code}")
        event, data = None, []
        async for line in response.aiter_lines():
            if stop.is_set():
                break
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and event:
                newest = _handle(instance, event, "\n".join(data), newest)
                event, data = None, []
    return newest


def _handle(instance: Instance, event: str, data: str, newest: str | None) -> str | None:
    if event == "update":
        try:
            status = json.loads(data)
        except json.JSONDecodeError:
            instance.sink.add(data.encode())  # quarantined by the sink, with the rest going on
            return newest
        _add(instance, status)
        return _newer(newest, str(status.get("id")))
    instance.sink.add({"event": event, "payload": data})
    return newest


def _add(instance: Instance, status: Any) -> None:
    if isinstance(status, dict) and status.get("id") is not None and isinstance(status.get("uri"), str):
        instance.sink.progress.local_ids[str(status["id"])] = status["uri"]
    instance.sink.add(status, None, _created(status))


def _statuses(text: str, instance: Instance) -> list[Any]:
    try:
        page = json.loads(text)
    except json.JSONDecodeError:
        instance.sink.add(text.encode())
        return []
    return page if isinstance(page, list) else []


def _created(status: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(status["created_at"].replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


def _newer(a: str | None, b: str | None) -> str | None:
    """The larger of two Mastodon ids (numeric strings; longer is newer)."""
    if not b or not b.isdigit():
        return a
    if not a:
        return b
    return b if (len(b), b) > (len(a), a) else a


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF, 0.25 * 2 ** attempt) * random.uniform(0.5, 1.0)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().replace(".", "", 1).isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _reset_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        reset = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (reset - datetime.now(timezone.utc)).total_seconds())


async def follow(instance: Instance, tags: list[str], cursors: dict[str, str | None], stop: asyncio.Event,
                 max_pages: int) -> None:
    """Backfill every tag, then stream each; after a drop, backfill from the last id and go on."""
    async def one(tag: str) -> None:
        attempt = 0
        while not stop.is_set():
            cursors[tag] = await backfill(instance, tag, cursors.get(tag), stop, max_pages)
            _store_cursor(instance.sink, cursors)
            if stop.is_set():
                return
            try:
                cursors[tag] = await stream(instance, tag, cursors.get(tag), stop)
                attempt = 0
            except Exception:  # noqa: BLE001 - a dropped stream is normal: reconnect and backfill
                attempt += 1
            _store_cursor(instance.sink, cursors)
            if stop.is_set():
                return
            instance.sink.progress.reconnects += 1
            instance.status["reconnects"] = instance.status.get("reconnects", 0) + 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=_backoff(attempt))
            except asyncio.TimeoutError:
                pass

    ticker = asyncio.create_task(_tick(instance.sink, stop))
    try:
        await asyncio.gather(*(one(tag) for tag in tags))
    finally:
        ticker.cancel()


def _store_cursor(sink: Sink, cursors: dict[str, str | None]) -> None:
    """The newest id per tag, as the source's cursor (committed with the posts it covers)."""
    sink.pending_cursor = json.dumps({k: v for k, v in sorted(cursors.items()) if v})


async def _tick(sink: Sink, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=sink.interval / 4)
        except asyncio.TimeoutError:
            pass
        if (sink.buffer or sink.pending_cursor != sink.progress.cursor) and sink.due():
            sink.commit()


def stored_cursors(sink: Sink) -> dict[str, str | None]:
    raw = sink.stored_cursor()
    try:
        return dict(json.loads(raw)) if raw else {}
    except (TypeError, ValueError):
        return {}


__all__ = ["Instance", "follow", "stored_cursors"]
