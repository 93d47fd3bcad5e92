"""The Mastodon adapter: tootkit's real public timeline (read at run time), synthetic
statuses and streaming events, and the HTML-to-text helper on synthetic HTML.

Figures for the real file were verified independently with a one-off `json` script:
20 statuses with 20 distinct `uri`s, none a boost or a reply, 5 with tags.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundswell.formats import bluesky, mastodon
from groundswell.formats.html_text import html_to_text, parse_html
from groundswell.ingest import IngestOptions, ingest
from groundswell.movement.normalize import hashtag_key
from groundswell.store import Store

TIMELINE = ("mastodon-public-timeline-tootkit", "public_timeline_2020-04-16.json")


def run_ingest(path: Path, db: Path) -> tuple[Any, Store]:
    store = Store(str(db))
    return ingest([str(path)], store, IngestOptions(format="mastodon", workers=1)), store


def row(store: Store, post_id: str, *columns: str) -> tuple:
    rows = store.sql(f"SELECT {', '.join(columns)} FROM posts WHERE post_id = ?", [post_id])
    assert len(rows) == 1, post_id
    return rows[0]


def utc(text: str) -> datetime:
    """The test's own reading of Mastodon's `2020-04-16T17:04:30.664Z`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_public_timeline(shared_data: Path, tmp_path: Path):
    path = shared_data.joinpath(*TIMELINE)
    statuses = json.loads(path.read_text())
    summary, store = run_ingest(path, tmp_path / "m.duckdb")
    with store:
        assert (summary.read, summary.ingested, summary.referenced, summary.rejected, summary.skipped) == (20, 20, 0, 0, 0)
        assert store.sql("SELECT kind, collected, count(*) FROM posts GROUP BY ALL") == [("original", True, 20)]
        for status in statuses:
            got = row(store, status["uri"], "created_at", "author_id", "author_handle", "lang", "like_count",
                      "hashtag_keys", "author_verified", "author_followers", "text")
            assert got[:5] == (utc(status["created_at"]), status["account"]["url"], status["account"]["acct"],
                               status["language"], status["favourites_count"])
            assert set(got[5] or []) == {hashtag_key(tag["name"]) for tag in status["tags"]}
            assert got[6] is False and got[7] == status["account"]["followers_count"]
            assert "<p>" not in got[8] and "<br" not in got[8] and "&amp;" not in got[8]


def test_sniff_accepts_mastodon_only(shared_data: Path):
    statuses = json.loads(shared_data.joinpath(*TIMELINE).read_text())
    assert all(mastodon.sniff(s) for s in statuses)
    folder = shared_data / "bluesky-twitter-fixtures-twitwi"
    for path in folder.glob("*.json"):
        document = json.loads(path.read_text())
        items = document if isinstance(document, list) else [document]
        items += [x for item in items if isinstance(item, dict) for v in item.values() if isinstance(v, list) for x in v]
        assert not any(mastodon.sniff(item) for item in items), path.name


# --- synthetic HTML (written for these tests) ------------------------------------------------

@pytest.mark.parametrize("html, text", [
    ("<p>one<br>two<br/>three</p><p>four</p>", "one\ntwo\nthree\n\nfour"),
    ("<p>a &amp; b &lt;c&gt; &quot;q&quot; &#x1F600; caf&eacute;</p>", 'a & b <c> "q" \U0001F600 café'),
    ("<p>see <a href=\"https://example.org/a/very/long/path\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">"
     "<span class=\"invisible\">https://</span><span class=\"ellipsis\">example.org/a/very/lo</span>"
     "<span class=\"invisible\">ng/path</span></a> now</p>", "see https://example.org/a/very/long/path now"),
    ("<p>\U0001F389 :blobcat: \u270a\U0001F3FD</p>", "\U0001F389 :blobcat: \u270a\U0001F3FD"),
    ("<p>\u05e9\u05dc\u05d5\u05dd<br>\u0648\u0623\u0646\u0627_\u0643\u0645\u0627\u0646# \u0646\u0635</p>",
     "\u05e9\u05dc\u05d5\u05dd\n\u0648\u0623\u0646\u0627_\u0643\u0645\u0627\u0646# \u0646\u0635"),
    ("<blockquote><p>quoted</p></blockquote><p>after<br></p><p>last</p>", "quoted\n\nafter\n\nlast"),
    ("plain text, no markup", "plain text, no markup"),
    ("<p>emoji <img src=\"x.png\" alt=\":synthetic:\" class=\"custom-emoji\"> end</p>", "emoji :synthetic: end"),
])
def test_html_to_text(html: str, text: str):
    assert html_to_text(html) == text


def test_html_links_are_classified():
    html = ("<p><span class=\"h-card\"><a href=\"https://social.example/@someone\" class=\"u-url mention\">@<span>someone</span></a></span> "
            "<a href=\"https://social.example/tags/metoo\" class=\"mention hashtag\" rel=\"tag\">#<span>MeToo</span></a> "
            "<a href=\"https://example.org/page\"><span class=\"invisible\">https://</span><span class=\"\">example.org/page</span></a></p>")
    parsed = parse_html(html)
    assert parsed.text == "@someone #MeToo https://example.org/page"
    assert [(link.href, link.text, link.is_mention, link.is_hashtag) for link in parsed.links] == [
        ("https://social.example/@someone", "@someone", True, False),
        ("https://social.example/tags/metoo", "#MeToo", True, True),
        ("https://example.org/page", "https://example.org/page", False, False),
    ]


# --- synthetic statuses (no real account or post) --------------------------------------------

BASE = datetime(2025, 5, 1, 10, 0, 0)


def status(n: int, who: str = "synthetic", **extra: Any) -> dict[str, Any]:
    sid = str(((BASE - datetime(1970, 1, 1)) // timedelta(milliseconds=1) + n) << 16)
    body = {
        "id": sid, "uri": f"https://social.example/users/{who}/statuses/{sid}", "url": f"https://social.example/@{who}/{sid}",
        "created_at": (BASE + timedelta(milliseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "account": {"id": f"id-{who}", "acct": who, "url": f"https://social.example/@{who}", "display_name": "Synthetic",
                    "followers_count": 5, "following_count": 6, "bot": True},
        "content": f"<p>[synthetic] status {n}</p>", "spoiler_text": "", "tags": [], "mentions": [], "card": None,
        "reblog": None, "in_reply_to_id": None, "in_reply_to_account_id": None, "language": "en",
        "favourites_count": 1, "reblogs_count": 2, "replies_count": 3,
    }
    body.update(extra)
    return body


HASHTAG_HTML = ("<p>[synthetic] <a href=\"https://social.example/tags/metoo\" class=\"mention hashtag\" rel=\"tag\">#<span>MeToo</span></a>"
                " <a href=\"https://example.org/story\">example.org/story</a></p>")


def test_boost_reply_quote_and_time_fallback(tmp_path: Path):
    original = status(1, "other", content=HASHTAG_HTML, tags=[{"name": "metoo"}, {"name": "extra"}])
    boost = status(2, content="", reblog=original, language=None)
    reply = status(3, in_reply_to_id="999", in_reply_to_account_id="2",
                   mentions=[{"id": "2", "acct": "other@else.example", "url": "https://else.example/@other", "username": "other"}])
    quoted = status(4, "third")
    quote = status(5, quote={"state": "accepted", "quoted_status": quoted})
    shallow = status(6, quote={"state": "accepted", "quoted_status_id": "777"})
    timeless = status(7, created_at="not a time")
    path = tmp_path / "synthetic-statuses.json"
    path.write_bytes(orjson.dumps([boost, reply, quote, shallow, timeless]))
    summary, store = run_ingest(path, tmp_path / "m.duckdb")
    with store:
        assert (summary.ingested, summary.referenced, summary.rejected) == (5, 2, 0)
        assert summary.notes == {"mastodon_time_from_id": 1}
        assert row(store, boost["uri"], "kind", "reposted_post_id", "hashtags", "urls", "collected") == (
            "repost", original["uri"], ["MeToo", "extra"], ["https://example.org/story"], True)
        assert row(store, original["uri"], "collected", "kind", "text") == (False, "original", "[synthetic] #MeToo example.org/story")
        assert row(store, reply["uri"], "kind", "reply_to_post_id", "reply_to_author_id", "mentions") == (
            "reply", "999", "https://else.example/@other", ["other@else.example"])
        assert row(store, quote["uri"], "kind", "quoted_post_id") == ("quote", quoted["uri"])
        assert row(store, quoted["uri"], "collected") == (False,)
        assert row(store, shallow["uri"], "kind", "quoted_post_id") == ("quote", "777")
        assert row(store, timeless["uri"], "created_at", "time_source") == (BASE + timedelta(milliseconds=7), "server")


def test_streaming_envelopes(tmp_path: Path):
    first = status(10, content="<p>[synthetic] first</p>")
    edited = dict(first, content="<p>[synthetic] first, edited</p>")
    events = [
        {"event": "update", "payload": orjson.dumps(first).decode()},
        {"event": "status.update", "payload": orjson.dumps(edited).decode()},
        {"event": "delete", "payload": "104009345000000001"},
        {"event": "notification", "payload": "{}"},
        {"event": "some.future.event", "payload": ""},
        {"event": "update", "payload": "{broken"},
    ]
    path = tmp_path / "synthetic-stream.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    summary, store = run_ingest(path, tmp_path / "m.duckdb")
    with store:
        assert (summary.read, summary.ingested, summary.duplicate, summary.deleted, summary.skipped, summary.rejected) == (6, 1, 1, 1, 2, 1)
        assert row(store, first["uri"], "text", "created_at") == ("[synthetic] first, edited", BASE + timedelta(milliseconds=10))
        assert store.sql("SELECT target_id, reason FROM tombstones") == [("104009345000000001", "mastodon streaming delete (local id)")]


def test_id_time_matches_created_at(shared_data: Path):
    """The fallback is sound: for locally created statuses the id's time is the created_at."""
    statuses = json.loads(shared_data.joinpath(*TIMELINE).read_text())
    local = [s for s in statuses if s["uri"].startswith("https://mastodon.social/") and s["uri"].endswith(s["id"])]
    assert local
    for s in local:
        assert abs(mastodon.id_time(s["id"]) - utc(s["created_at"])) < timedelta(seconds=1)
    assert mastodon.id_time("12") is None and mastodon.id_time("9fX3kq") is None
    assert not bluesky.sniff(status(1)) and not mastodon.sniff({"uri": "at://x", "record": {}})


_PIECES = ["<p>", "</p>", "<br>", "<br/>", "<br />", "[synthetic]", "a &amp; b", " ", "\n", "&lt;", "\u00e9", "&#x1F600;", "&", "#tag"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12))
def test_paragraph_fast_path_agrees_with_parser(pieces: list[str]):
    html = "".join(pieces)
    assert parse_html(html).text == parse_html(html, fast=False).text
