"""Bluesky's post record (`app.bsky.feed.post`) and its identifiers, shared by every Bluesky
shape: Jetstream and Tap events, API views (formats/bluesky.py), and Bluesky tables
(formats/table.py). Text, facets, references, the at:// URI, the TID record key and the
rule that replaces an absurd client `createdAt` live here once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..timeutil import from_epoch_us, parse_iso, to_utc_naive
from .base import ParseContext, RecordError

POST = "app.bsky.feed.post"
POST_PATH = "/app.bsky.feed.post/"
_MENTION = "app.bsky.richtext.facet#mention"
_LINK = "app.bsky.richtext.facet#link"
# Bluesky opened in 2022-2023; an earlier createdAt is a client's invention (or an import).
EARLIEST_CLIENT_TIME = datetime(2022, 1, 1)
_SLACK = timedelta(days=1)
_TID_ALPHABET = {c: i for i, c in enumerate("234567abcdefghijklmnopqrstuvwxyz")}
_REPLACED_WARNING = "Bluesky createdAt implausible (set by the client); replaced by the server time"
_INVALID_WARNING = "Bluesky createdAt implausible and no plausible server time; created_at left empty"


def record_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Text, language, kind, references and entities of an `app.bsky.feed.post` record."""
    text = record.get("text")
    text = text if isinstance(text, str) else ""
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent, root = _ref_uri(reply.get("parent")), _ref_uri(reply.get("root"))
    quoted = _quoted_uri(record.get("embed"))
    hashtags, mentions, urls = _entities(record, text)
    parent_did = parent[5:].split("/", 1)[0] if parent and parent.startswith("at://") else None
    return dict(
        text=text, lang=_lang(record), kind="reply" if parent else "quote" if quoted else "original",
        reply_to_post_id=parent, reply_to_author_id=parent_did, conversation_id=root, quoted_post_id=quoted,
        hashtags=hashtags, mentions=mentions, urls=urls,
    )


def _entities(record: dict[str, Any], text: str) -> tuple[list[str], list[str], list[str]]:
    """Facets give tags, mentioned DIDs and links; their byte offsets are not needed for that."""
    tags: list[str] = []
    mentions: list[str] = []
    urls: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else ():
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else ():
            if isinstance(feature, dict):
                _take_feature(feature, tags, mentions, urls)
    if not (isinstance(facets, list) and facets) and ("#" in text or "＃" in text):
        from ..movement.extract import extract_hashtags  # lazy: written alongside this module

        tags = extract_hashtags(text)
    _add_outline_tags(record.get("tags"), tags)
    _add_external_url(record.get("embed"), urls)
    return tags, mentions, urls


def _take_feature(feature: dict[str, Any], tags: list[str], mentions: list[str], urls: list[str]) -> None:
    """Canonical features, plus the misspelt tag types some clients write (`#Tag`, `.tag`)."""
    kind = feature.get("$type")
    if kind == _MENTION:
        if isinstance(feature.get("did"), str):
            mentions.append(feature["did"])
    elif kind == _LINK or kind == "app.bsky.richtext.facet.link":
        if isinstance(feature.get("uri"), str):
            urls.append(feature["uri"])
    else:
        tag = feature.get("tag", feature.get("hashtag"))
        if isinstance(tag, str) and tag.strip("#＃ "):
            tags.append(tag.strip().lstrip("#＃"))


def _add_outline_tags(outline: Any, tags: list[str]) -> None:
    """Outline tags are not in the text; they follow the inline ones, without repeats."""
    if not outline:
        return
    seen = {tag.casefold() for tag in tags}
    for tag in outline if isinstance(outline, list) else ():
        if isinstance(tag, str) and tag.strip("#＃ ") and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag.strip().lstrip("#＃"))


def _add_external_url(embed: Any, urls: list[str]) -> None:
    if not isinstance(embed, dict):
        return
    media = embed.get("media") if isinstance(embed.get("media"), dict) else embed
    external = media.get("external")
    uri = external.get("uri") if isinstance(external, dict) else None
    if isinstance(uri, str) and uri and uri not in urls:
        urls.append(uri)


def _ref_uri(ref: Any) -> str | None:
    return text_or_none(ref.get("uri")) if isinstance(ref, dict) else None


def _quoted_uri(embed: Any) -> str | None:
    """The quoted post of a record embed; quoting a feed, list or profile is not a quote."""
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    inner = embed.get("record")
    if kind == "app.bsky.embed.recordWithMedia" and isinstance(inner, dict):
        inner = inner.get("record")
    elif kind != "app.bsky.embed.record":
        return None
    uri = _ref_uri(inner)
    return uri if uri and POST_PATH in uri else None


def _lang(record: dict[str, Any]) -> str | None:
    langs = record.get("langs", record.get("lang"))
    return text_or_none(langs[0] if langs else None) if isinstance(langs, list) else text_or_none(langs)


# --- identity and time ----------------------------------------------------------------------


def split_uri(uri: str) -> tuple[str, str, str]:
    """`at://did/collection/rkey` → (did, collection, rkey)."""
    parts = uri[5:].split("/") if uri.startswith("at://") else []
    if len(parts) != 3 or not all(parts):
        raise RecordError("Bluesky post URI is not of the form at://did/collection/rkey")
    return parts[0], parts[1], parts[2]


def post_url(profile: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{profile}/post/{rkey}"


def tid_time(rkey: str) -> datetime | None:
    """The microsecond time a TID record key encodes (13 base32-sortable characters)."""
    if len(rkey) != 13:
        return None
    value = 0
    for char in rkey:
        digit = _TID_ALPHABET.get(char)
        if digit is None:
            return None
        value = value * 32 + digit
    return None if value >> 63 else from_epoch_us(value >> 10)


def parse_time(value: Any) -> datetime | None:
    try:
        return to_utc_naive(parse_iso(value)) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        return None


def choose_time(client_value: Any, server: datetime | None, rkey: str,
                ctx: ParseContext) -> tuple[datetime | None, str]:
    """The client's time when plausible, else a plausible server time (time_source `server`)."""
    client = parse_time(client_value)
    now_limit = datetime.utcnow() + _SLACK
    server = server if server is not None and EARLIEST_CLIENT_TIME <= server <= now_limit else None
    if client is not None and EARLIEST_CLIENT_TIME <= client <= (server + _SLACK if server else now_limit):
        return client, "source"
    for candidate in (server, tid_time(rkey)):
        if candidate is not None and EARLIEST_CLIENT_TIME <= candidate <= now_limit:
            ctx.count("bluesky_client_time_replaced")
            ctx.warn(_REPLACED_WARNING)
            return candidate, "server"
    ctx.count("bluesky_client_time_invalid")
    ctx.warn(_INVALID_WARNING)
    return None, "invalid"


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
