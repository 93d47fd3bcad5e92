"""Forgetting posts and accounts: deletion compliance that survives re-ingest.

Platform terms require deleted posts to leave every copy, and the people in the data expect
it. `forget` removes posts (by id, from a v2 compliance file, or every post of an account),
removes reposts of them too, since a retweet's stored text is its original's, and leaves a
tombstone per target so that re-reading an old archive cannot bring any of them back.

What "gone" means in a DuckDB file: after the deleting transaction, a CHECKPOINT writes the
change into the main file, so no query and no live block holds the text. The blocks that
held it are only marked free, though, and keep their bytes until DuckDB reuses them;
`vacuum` rewrites the store into a fresh file (COPY FROM DATABASE) and swaps it in, after
which the bytes are gone from the file (see docs/privacy.md).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator

import duckdb
import orjson

from .errors import GroundswellError, StoreBusy
from .formats import compliance
from .formats.base import Delete, ParseContext, RecordError
from .model import PLATFORMS
from .sources import Source, open_binary
from .store.duckdb_store import REPOST_REASON, Store, write_error

ID_LIST_REASON = "forgotten: listed id"
ACCOUNT_REASON = "forgotten: account"
Query = Callable[[str], list[tuple]]
# Tokens in a quarantined record's raw bytes that may be a post or account id.
_ID_TOKENS = re.compile(rb"[0-9]{6,}|at://[^\"\s\\]+|did:[a-z]+:[A-Za-z0-9._:%-]+|https?://[^\"\s\\]+")
_SHORTEST_ID = 6  # shorter ids match too much raw text to clear it on their say-so


@dataclass
class ForgetResult:
    """Counts for `forget --json`. posts/referenced/reposts are rows removed from the post table."""

    targets: int = 0
    accounts: int = 0
    already_tombstoned: int = 0
    posts: int = 0
    referenced: int = 0
    reposts: int = 0
    quarantine_cleared: int = 0
    vacuumed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_target(text: str, platform: str) -> tuple[str, str]:
    """`platform:id` or a bare id (on `platform`). At-URIs and URLs are bare ids: their scheme is no platform."""
    head, sep, rest = text.partition(":")
    if sep and head in PLATFORMS and rest:
        return head, rest
    return platform, text


def read_id_list(path: str, platform: str = "twitter") -> list[Delete]:
    """One id per line; blank lines and `#` comments are ignored."""
    deletes = []
    for number, line in enumerate(_text_lines(path), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if any(ch.isspace() for ch in text):
            raise GroundswellError(f"{path}:{number}: expected one id per line")
        where, target = parse_target(text, platform)
        deletes.append(Delete(where, target, None, ID_LIST_REASON))
    return deletes


def read_compliance(path: str, users: bool = False) -> list[Delete]:
    """A twarc2 compliance file, read by the ingest adapter; a bad line stops everything before any change."""
    ctx = ParseContext(source_file=path, source_format=compliance.NAME, options={"compliance_users": users})
    deletes: list[Delete] = []
    for number, line in enumerate(_text_lines(path), start=1):
        if not line.strip():
            continue
        try:
            items = list(compliance.parse(orjson.loads(line), ctx))
        except (orjson.JSONDecodeError, RecordError) as exc:
            raise GroundswellError(f"{path}:{number}: not a compliance record ({_first_line(exc)})") from None
        deletes.extend(item for item in items if isinstance(item, Delete))
    return deletes


def account_targets(ids: Iterable[str], platform: str = "twitter") -> list[Delete]:
    return [Delete(where, target, None, ACCOUNT_REASON, author=True) for where, target in
            (parse_target(raw.strip(), platform) for raw in ids if raw.strip())]


def forget(store: Store, deletes: list[Delete], source: str = "forget") -> ForgetResult:
    """Tombstone and remove, then CHECKPOINT so the removal reaches the main file."""
    result = ForgetResult(targets=sum(not d.author for d in deletes), accounts=sum(d.author for d in deletes))
    if not deletes:
        return result
    removed = store.forget(deletes, source)
    result.already_tombstoned = removed.already_tombstoned
    result.posts, result.referenced, result.reposts = removed.posts, removed.referenced, removed.reposts
    result.quarantine_cleared = clear_quarantined_raw(store, {d.target_id for d in deletes})
    store.checkpoint()
    return result


def clear_quarantined_raw(store: Store, targets: set[str]) -> int:
    """Rejected records keep their raw bytes for debugging; drop those that mention a forgotten id.

    Matching is by id tokens, so it errs towards clearing: the reason line always stays.
    """
    wanted = {t.encode() for t in targets if len(t) >= _SHORTEST_ID}
    if not wanted:
        return 0
    cursor = store.con.cursor()
    hits: list[tuple[str, int]] = []
    try:
        cursor.execute("SELECT source_file, source_line, raw FROM quarantine WHERE raw IS NOT NULL")
        while rows := cursor.fetchmany(1000):
            hits.extend((f, n) for f, n, raw in rows if not wanted.isdisjoint(_ID_TOKENS.findall(bytes(raw))))
    finally:
        cursor.close()
    if hits:
        with store.guard():
            store.con.executemany("UPDATE quarantine SET raw = NULL WHERE source_file = ? AND source_line = ?", hits)
    return len(hits)


def vacuum(path: str) -> None:
    """Rewrite the store into a fresh file and swap it in, so freed blocks with removed text go too.

    The old file stays locked (attached read-only) until the new one has replaced it, so no
    writer can slip in between; on any failure the old file is left as it was.
    """
    if not os.path.isfile(path):
        raise GroundswellError(f"{path}: no such store")
    with Store(path) as store:
        store.checkpoint()  # no WAL may survive: it would be replayed onto the new file
    fresh = f"{path}.vacuum-tmp"
    _remove(fresh)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quote(path)} AS old_store (READ_ONLY)")
        con.execute(f"ATTACH {_quote(fresh)} AS new_store")
        con.execute("COPY FROM DATABASE old_store TO new_store")
        con.execute("CHECKPOINT new_store")  # here a full disk says so; DETACH would hide the cause
        con.execute("DETACH new_store")
        if os.path.exists(f"{path}.wal"):
            raise GroundswellError(f"{path}: a write-ahead log appeared during vacuum; store left as it was")
        shutil.copymode(path, fresh)
        _fsync(fresh)
        os.replace(fresh, path)
        _fsync(os.path.dirname(os.path.abspath(path)))
    except (duckdb.IOException, duckdb.FatalException, duckdb.OutOfMemoryException, OSError) as exc:
        if "lock" in str(exc).lower():
            raise StoreBusy(f"{path}: store is busy (another groundswell process is using it); try again when it finishes") from None
        raise write_error(path, exc) from None
    finally:
        con.close()
        _remove(fresh)
        _remove(f"{fresh}.wal")


def tombstone_counts(query: Query) -> dict[str, Any]:
    """What deletions removed, for the report's coverage section; works on any engine's `query`.

    `posts` counts post tombstones (ids), `accounts` account tombstones; `by_origin` says where
    they came from: compliance files, deletion notices met during ingest, `forget` id lists and
    accounts, and reposts removed with their original.
    """
    rows = query("SELECT is_author, reason, count(*), min(recorded_at), max(recorded_at) FROM tombstones GROUP BY ALL")
    out: dict[str, Any] = {"posts": 0, "accounts": 0, "by_origin": {}, "first_recorded_at": None, "last_recorded_at": None}
    for is_author, reason, count, first, last in rows:
        out["accounts" if is_author else "posts"] += int(count)
        origin = _origin(reason or "")
        out["by_origin"][origin] = out["by_origin"].get(origin, 0) + int(count)
        out["first_recorded_at"] = _earliest(out["first_recorded_at"], first)
        out["last_recorded_at"] = _latest(out["last_recorded_at"], last)
    for key in ("first_recorded_at", "last_recorded_at"):
        out[key] = out[key].isoformat() if out[key] is not None else None
    return out


_COMPLIANCE_ACTIONS = ("delete:", "protect:", "suspend:", "deactivate:")


def _origin(reason: str) -> str:
    if reason == REPOST_REASON:
        return "repost_of_forgotten"
    if reason == ID_LIST_REASON:
        return "forget_id_list"
    if reason == ACCOUNT_REASON:
        return "forget_account"
    if reason.startswith(_COMPLIANCE_ACTIONS):
        return "compliance_file"
    return "deletion_notice"  # v1.1 stream deletes, Bluesky and Mastodon delete events


def _earliest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _text_lines(path: str) -> Iterator[str]:
    """Lines of a plain, gzip or zstd file, streamed; an unreadable file is a one-line error."""
    if not os.path.isfile(path):
        raise GroundswellError(f"{path}: no such file")
    try:
        with io.BufferedReader(open_binary(Source(path))) as stream:  # zstd readers cannot iterate lines
            for number, raw in enumerate(stream, start=1):
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise GroundswellError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise GroundswellError(f"{path}: cannot read ({_first_line(exc)})") from None


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:160]


__all__ = ["ForgetResult", "account_targets", "clear_quarantined_raw", "forget", "parse_target", "read_compliance",
           "read_id_list", "tombstone_counts", "vacuum"]
