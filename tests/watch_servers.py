"""Live servers on 127.0.0.1 for the watch tests: a Jetstream replay server (websockets).

It serves recorded events: the REAL Jetstream events of ../shared/data/bluesky-twitter-
fixtures-twitwi/bluesky-firehose-posts.json, then SYNTHETIC ones (labelled synthetic in their
text, `did:plc:synthetic…` authors) for volume. It honours `cursor` and `wantedCollections`
as Jetstream does, and has fault switches: drop the connection after N events, send a broken
frame, forget events older than a replay window.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "bluesky-twitter-fixtures-twitwi"
FIREHOSE = SHARED / "bluesky-firehose-posts.json"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid(micros: int, clock: int = 0) -> str:
    value = (micros << 10) | (clock & 1023)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def synthetic_events(n: int, start_us: int, step_us: int = 1000, every_other_movement: bool = True) -> list[dict[str, Any]]:
    """Posts (half with #MeToo), plus a like every tenth event (another collection) and a
    delete of an earlier synthetic post every 25th."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        time_us = start_us + i * step_us
        did = f"did:plc:synthetic{i % 97:05d}"
        if i % 10 == 9:
            events.append({"did": did, "time_us": time_us, "kind": "commit", "commit": {
                "rev": "synthetic", "operation": "create", "collection": "app.bsky.feed.like", "rkey": tid(time_us, 1),
                "record": {"$type": "app.bsky.feed.like", "createdAt": _iso(time_us)}}})
            continue
        if i % 25 == 24:
            victim = events[-3]
            if victim["commit"]["collection"] == "app.bsky.feed.post":
                events.append({"did": victim["did"], "time_us": time_us, "kind": "commit", "commit": {
                    "rev": "synthetic", "operation": "delete", "collection": "app.bsky.feed.post",
                    "rkey": victim["commit"]["rkey"]}})
                continue
        tagged = every_other_movement and i % 2 == 0
        text = f"synthetic post {i}" + (" #MeToo" if tagged else "")
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _iso(time_us), "langs": ["en"]}
        if tagged:
            start = len(text.encode()) - len("#MeToo")
            record["facets"] = [{"index": {"byteStart": start, "byteEnd": start + 6},
                                 "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "MeToo"}]}]
        events.append({"did": did, "time_us": time_us, "kind": "commit", "commit": {
            "rev": "synthetic", "operation": "create", "collection": "app.bsky.feed.post", "rkey": tid(time_us, 2),
            "record": record, "cid": f"bafysynthetic{i}"}})
    return events


def _iso(time_us: int) -> str:
    from datetime import datetime, timedelta

    return (datetime(1970, 1, 1) + timedelta(microseconds=time_us)).isoformat(timespec="milliseconds") + "Z"


def recorded_events() -> list[dict[str, Any]]:
    return json.loads(FIREHOSE.read_text()) if FIREHOSE.exists() else []


def post_uris(events: list[dict[str, Any]]) -> set[str]:
    """The posts created and not deleted among these events (what a watch with --all must store)."""
    created, deleted = {}, set()
    for e in events:
        commit = e.get("commit") or {}
        if commit.get("collection") != "app.bsky.feed.post":
            continue
        uri = f"at://{e['did']}/app.bsky.feed.post/{commit['rkey']}"
        if commit.get("operation") == "delete":
            deleted.add(uri)
        else:
            created[uri] = e
    return set(created) - deleted


@dataclass
class Jetstream:
    """A replay server: `events` sorted by time_us; start() returns its ws:// URL."""

    events: list[dict[str, Any]]
    rate: float | None = None  # events per second; None: as fast as the socket takes them
    drop_after: list[int] = field(default_factory=list)  # close abruptly after N events, once per entry
    broken_frame_at: int | None = None  # send a frame that is not JSON before this event index
    replay_window: int | None = None  # only the last N events can be replayed from a cursor
    close_when_done: bool = False
    requests: list[str] = field(default_factory=list)

    def _encoded(self, event: dict[str, Any]) -> str:
        """Each event as JSON, encoded once (so the server is not what a benchmark measures)."""
        cache = self.__dict__.setdefault("_cache", {})
        key = id(event)
        if key not in cache:
            cache[key] = json.dumps(event)
        return cache[key]

    def start(self) -> str:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        return f"ws://127.0.0.1:{self.port}/subscribe"

    def stop(self) -> None:
        if getattr(self, "_loop", None):
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(timeout=10)

    def _serve(self, ready: threading.Event) -> None:
        from websockets.asyncio.server import serve

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            async with serve(self._handle, "127.0.0.1", 0, max_size=1 << 24) as server:
                self.port = server.sockets[0].getsockname()[1]
                ready.set()
                await self._stopped.wait()

        asyncio.run(main())

    async def _handle(self, socket: Any) -> None:
        path = socket.request.path
        self.requests.append(path)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        wanted = set(query.get("wantedCollections", []))
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        events = self.events
        if cursor is not None:
            floor = self.events[-self.replay_window]["time_us"] if self.replay_window else None
            events = [e for e in events if e["time_us"] >= max(cursor, floor or 0)]
        events = [e for e in events if not wanted or (e.get("commit") or {}).get("collection") in wanted]
        drop = self.drop_after.pop(0) if self.drop_after else None
        try:
            await self._send(socket, events, drop)
        except ConnectionClosed:  # the client went away mid-stream: a normal end for a replay
            pass

    async def _send(self, socket: Any, events: list[dict[str, Any]], drop: int | None) -> None:
        for sent, event in enumerate(events):
            if drop is not None and sent == drop:
                socket.transport.abort()  # mid-stream, no closing handshake
                return
            if self.broken_frame_at is not None and event is self.events[self.broken_frame_at]:
                await socket.send('{"did": "did:plc:synthetic", "time_us": ')
            await socket.send(self._encoded(event))
            if self.rate:
                await asyncio.sleep(1 / self.rate)
        if self.close_when_done:
            await socket.close()
            return
        await socket.wait_closed()


# --- a Mastodon API server (Starlette on uvicorn) ---------------------------------------------

MASTODON = Path(__file__).resolve().parents[2] / "shared" / "data" / "mastodon-public-timeline-tootkit" / \
    "public_timeline_2020-04-16.json"


def synthetic_status(n: int, tag: str = "synthtoo", base_id: int = 110_000_000_000_000_000) -> dict[str, Any]:
    """A SYNTHETIC status in the REST shape, with a local id and a global uri."""
    account = {"id": str(900 + n % 7), "username": f"synthetic{n % 7}", "acct": f"synthetic{n % 7}@synthetic.example",
               "url": f"https://synthetic.example/@synthetic{n % 7}", "display_name": f"Synthetic {n % 7}",
               "followers_count": n % 50, "following_count": 3, "statuses_count": 10, "bot": False}
    local = str(base_id + n * 65536)
    return {"id": local, "uri": f"https://synthetic.example/users/synthetic{n % 7}/statuses/{local}",
            "url": f"https://synthetic.example/@synthetic{n % 7}/{local}", "created_at": f"2026-11-{1 + n % 28:02d}T10:{n % 60:02d}:00.000Z",
            "content": f"<p>synthetic status {n} <a href=\"https://synthetic.example/tags/{tag}\">#<span>{tag}</span></a></p>",
            "tags": [{"name": tag, "url": f"https://synthetic.example/tags/{tag}"}], "account": account, "language": "en",
            "visibility": "public", "reblog": None, "in_reply_to_id": None, "mentions": [], "media_attachments": [],
            "favourites_count": n % 3, "reblogs_count": 0, "replies_count": 0}


def real_statuses() -> list[dict[str, Any]]:
    return json.loads(MASTODON.read_text()) if MASTODON.exists() else []


@dataclass
class Mastodon:
    """Tag timelines with Link paging and a hashtag stream of server-sent events, with faults."""

    statuses: list[dict[str, Any]]  # the timelines (by tag)
    stream_events: list[tuple[str, str]] = field(default_factory=list)  # (event, data) sent on each stream
    too_many: int = 0  # answer this many REST requests 429 with Retry-After: 1
    errors: int = 0  # then this many with 500
    drop_mid_frame: int = 0  # cut this many streams in the middle of an event
    page_size: int = 40
    requests: list[str] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, Response, StreamingResponse
        from starlette.routing import Route

        async def timeline(request: Any) -> Any:
            self._note(request)
            if self.too_many:
                self.too_many -= 1
                return Response("slow down", status_code=429, headers={"Retry-After": "1"})
            if self.errors:
                self.errors -= 1
                return Response("oops", status_code=500)
            tag = request.path_params["tag"].lower()
            since, max_id = request.query_params.get("since_id"), request.query_params.get("max_id")
            limit = min(int(request.query_params.get("limit", 20)), self.page_size)
            found = sorted((s for s in self.statuses if tag in {t["name"].lower() for t in s.get("tags", [])}),
                           key=lambda s: int(s["id"]), reverse=True)
            found = [s for s in found if (not since or int(s["id"]) > int(since)) and (not max_id or int(s["id"]) < int(max_id))]
            page = found[:limit]
            headers = {}
            if len(found) > limit:
                headers["Link"] = f'<http://127.0.0.1:{self.port}/api/v1/timelines/tag/{tag}?limit={limit}&max_id={page[-1]["id"]}>; rel="next"'
            headers["X-RateLimit-Remaining"] = "299"
            return JSONResponse(page, headers=headers)

        async def streaming(request: Any) -> Any:
            self._note(request)
            drop = self.drop_mid_frame > 0
            if drop:
                self.drop_mid_frame -= 1

            async def events() -> Any:
                for number, (event, data) in enumerate(self.stream_events):
                    if drop and number == len(self.stream_events) // 2:
                        yield f"event: {event}\ndata: {data[: len(data) // 2]}"
                        raise ConnectionResetError("dropped mid-frame")  # the connection goes down
                    yield f"event: {event}\ndata: {data}\n\n"
                while True:  # then only heartbeats, as a quiet stream sends
                    yield ":thump\n\n"
                    await asyncio.sleep(0.5)

            return StreamingResponse(events(), media_type="text/event-stream")

        return Starlette(routes=[Route("/api/v1/timelines/tag/{tag}", timeline),
                                 Route("/api/v1/streaming/hashtag", streaming)])

    def _note(self, request: Any) -> None:
        self.requests.append(str(request.url.path) + ("?" + request.url.query if request.url.query else ""))
        self.headers_seen.append(dict(request.headers))

    def start(self, port: int = 0) -> str:
        import socket

        import uvicorn

        if port == 0:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        self.port = port
        self._server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=port, log_level="critical"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = __import__("time").monotonic() + 20
        while not self._server.started and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.05)
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if getattr(self, "_server", None):
            self._server.should_exit = True
            self._server.force_exit = True
            self._thread.join(timeout=10)
