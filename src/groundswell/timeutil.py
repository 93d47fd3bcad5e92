"""Turning every source's idea of time into naive UTC datetimes.

All adapters go through these helpers so that one rule holds everywhere: created_at is UTC,
tweet ids beat written timestamps, and a naive timestamp is only ever read in a stated zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import GroundswellError

TWITTER_EPOCH_MS = 1288834974657
# Ids below this are pre-snowflake (before November 2010) and carry no time.
FIRST_SNOWFLAKE = 29700859247
_UNIX_EPOCH = datetime(1970, 1, 1)


def snowflake_time(tweet_id: str | int | None) -> datetime | None:
    """The creation time a tweet id encodes, to the millisecond; None for pre-snowflake ids."""
    try:
        value = int(tweet_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if value < FIRST_SNOWFLAKE or value >= 1 << 63:
        return None
    return _UNIX_EPOCH + timedelta(milliseconds=(value >> 22) + TWITTER_EPOCH_MS)


def from_epoch_us(value: int | float) -> datetime:
    return _UNIX_EPOCH + timedelta(microseconds=int(value))


def to_utc_naive(moment: datetime, assume_zone: str | None = None) -> datetime:
    """Aware times are converted to UTC; naive ones are read in `assume_zone` (UTC if None)."""
    if moment.tzinfo is None:
        if assume_zone in (None, "UTC"):
            return moment
        moment = moment.replace(tzinfo=zone(assume_zone))
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise GroundswellError(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris or America/New_York")


def parse_iso(text: str) -> datetime:
    """ISO 8601 as APIs write it, including `Z`, fractions of any length and year 0."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    date_part, sep, rest = value.partition("T") if "T" in value else value.partition(" ")
    if sep and "." in rest:
        # Python accepts at most 6 fractional digits; Bluesky clients write up to 9.
        clock, _, tail = rest.partition(".")
        digits = tail[: len(tail) - len(tail.lstrip("0123456789"))]
        zone_part = tail[len(digits):]
        rest = f"{clock}.{(digits + '000000')[:6]}{zone_part}"
    return datetime.fromisoformat(f"{date_part}{'T' if sep else ''}{rest}")


def parse_twitter_date(text: str) -> datetime:
    """v1.1's `Sat Nov 04 20:39:28 +0000 2017`."""
    return to_utc_naive(datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y"))


def parse_any(text: str, assume_zone: str | None = None) -> tuple[datetime, bool]:
    """A timestamp in any of the forms tables hold; returns (UTC naive, was_naive)."""
    value = text.strip()
    for attempt in (parse_iso, parse_twitter_date, parsedate_to_datetime):
        try:
            moment = attempt(value)
        except (ValueError, TypeError, IndexError):
            continue
        return to_utc_naive(moment, assume_zone), moment.tzinfo is None
    if value.isdigit():
        seconds = int(value)
        return (from_epoch_us(seconds * 1000) if seconds > 10**11 else from_epoch_us(seconds * 1_000_000)), False
    raise ValueError(f"unreadable timestamp ({len(value)} characters)")
