"""What the figures rest on: which files were read and how, what was dropped and why, the
date range, and where the time series has holes that look like collection gaps.

Read from the store's bookkeeping tables (`files`, `runs`, `quarantine`, `tombstones`)
and from the post table. See docs/metrics.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import orjson

from .. import series as ts
from ..ingest.summary import NEGATIVE_ENGAGEMENT

Query = Callable[[str], list[tuple]]
# Ingest summary counts added up over every run (see ingest/summary.py for their meaning).
RUN_COUNTS = ("read", "ingested", "duplicate", "referenced", "skipped", "rejected", "deleted", "forgotten")
# Notes of the summary summed the same way: engagement counts below zero, stored as NULL.
RUN_NOTES = (NEGATIVE_ENGAGEMENT,)
TOP_REASONS = 10


def files(query: Query) -> list[dict[str, Any]]:
    rows = query("SELECT path, source_format, status, records, posts FROM files ORDER BY path")
    return [{"path": path, "format": fmt, "status": status, "records": _int(records), "posts": _int(posts)}
            for path, fmt, status, records, posts in rows]


def formats(file_rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in file_rows:
        name = row["format"] or "unknown"
        out[name] = out.get(name, 0) + 1
    return dict(sorted(out.items()))


def runs(query: Query) -> dict[str, Any]:
    """Ingest runs and their summed counts (duplicates removed, records rejected...)."""
    rows = query("SELECT status, summary, started_at, finished_at FROM runs ORDER BY run_id")
    totals = dict.fromkeys(RUN_COUNTS + RUN_NOTES, 0)
    for _, summary, _, _ in rows:
        data = orjson.loads(summary) if summary else {}
        for key in RUN_COUNTS:
            totals[key] += _int(data.get(key))
        for key in RUN_NOTES:
            totals[key] += _int((data.get("notes") or {}).get(key))
    statuses: dict[str, int] = {}
    for status, _, _, _ in rows:
        statuses[status or "unknown"] = statuses.get(status or "unknown", 0) + 1
    return {"count": len(rows), "statuses": statuses, **{f"{key}_total": value for key, value in totals.items()},
            "first_started_at": _iso(rows[0][2]) if rows else None, "last_finished_at": _iso(rows[-1][3]) if rows else None}


def quarantine(query: Query) -> dict[str, Any]:
    """Rejected records by reason (reasons never quote post text)."""
    rows = query(f"SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY count(*) DESC, reason")
    return {"records": sum(int(n) for _, n in rows),
            "top_reasons": [{"reason": reason, "records": int(n)} for reason, n in rows[:TOP_REASONS]]}


def deletions(query: Query) -> dict[str, int]:
    posts, authors = query("SELECT count(*) FILTER (WHERE NOT is_author), count(*) FILTER (WHERE is_author) FROM tombstones")[0]
    return {"posts": int(posts), "authors": int(authors)}


def store_posts(query: Query) -> dict[str, int]:
    """Posts in the store by what the figures do with them."""
    collected, referenced, untimed = query(
        "SELECT count(*) FILTER (WHERE collected), count(*) FILTER (WHERE NOT collected), "
        "count(*) FILTER (WHERE collected AND created_at IS NULL) FROM posts"
    )[0]
    return {"collected": int(collected), "referenced_only": int(referenced), "collected_without_time": int(untimed)}


def scope_posts(query: Query, table: str) -> dict[str, Any]:
    posts, untimed, first, last = query(
        f"SELECT count(*), count(*) FILTER (WHERE created_at IS NULL), min(created_at), max(created_at) FROM {table}")[0]
    return {"posts": int(posts), "without_time": int(untimed), "first": _iso(first), "last": _iso(last)}


def gaps(hours: list[datetime], hour_counts: list[int], days: list[datetime], day_counts: list[int]) -> dict[str, Any]:
    """Over every collected post (a gap is the collection's, whatever the movement): empty days,
    and runs of empty hours where the surrounding rate makes silence implausible."""
    return {
        "days": ts.day_gaps(days, day_counts),
        "hours": ts.hour_gaps(hours, hour_counts),
        "empty_days": sum(1 for n in day_counts if n == 0),
        "empty_hours": sum(1 for n in hour_counts if n == 0),
        "hour_rule": {"min_expected_posts": ts.GAP_MIN_EXPECTED, "context_hours": ts.GAP_CONTEXT_HOURS},
    }


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None


LIVE_COLUMNS = ("source", "platform", "endpoint", "cursor", "first_event_at", "last_event_at", "last_commit_at", "events",
                "posts", "reconnects", "rate_limit_waits", "rate_limit_wait_seconds")


def live(query: Query) -> dict[str, Any]:
    """Every live source a `groundswell watch` recorded (watch/ledger.py), and its gaps."""
    try:
        rows = query(f"SELECT {', '.join(LIVE_COLUMNS)} FROM live_sources ORDER BY source")
        gaps = query("SELECT source, gap_start, gap_end, seconds, reason FROM live_gaps ORDER BY source, gap_start")
    except Exception as exc:  # a store nothing was watched into, or a lake (which never has them)
        if "live_" not in str(exc):
            raise
        return {"sources": [], "gaps": []}
    return {"sources": [_isos(dict(zip(LIVE_COLUMNS, row))) for row in rows],
            "gaps": [_isos(dict(zip(("source", "start", "end", "seconds", "reason"), row))) for row in gaps]}


def _isos(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in row.items()}
