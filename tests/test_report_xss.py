"""A report made from posts that carry script payloads runs none of them in a real browser.

Every post, name and file here is synthetic: invented accounts whose texts, display names,
handles, links, languages, file names and rejection reasons are classic XSS payloads (script
tags, event handlers, `javascript:` URLs, SVG and MathML tricks, attribute and tag break-outs).
The report is made with `--privacy off`, so every text is shown, and opened in headless
Chromium over the DevTools protocol (test_report_browser.py's Browser). Each payload would,
if it ran, set `window.__xss`, change `document.title` or open a dialog; the test asks the
page (Runtime.evaluate) and the protocol (Page.javascriptDialogOpening) whether any did, and
checks that every text was shown as text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.store import Store
from groundswell.store.duckdb_store import Quarantined
from test_report_browser import Browser, require_browser

START = datetime(2021, 5, 1, 9, 0, 0)
TITLE = "Magnitude report: synthetic-xss"
PAYLOADS = [
    "<script>window.__xss = 1; document.title = 'ran'</script> #SynthXss",
    "<img src=x onerror=\"window.__xss = 2; alert(2)\"> #SynthXss",
    "<svg onload=\"window.__xss = 3\"><script>alert(3)</script><animate onbegin=\"window.__xss = 4\" "
    "attributeName=x dur=1s></animate></svg> #SynthXss",
    "<a href=\"javascript:window.__xss = 5\">click</a> javascript:alert(5) #SynthXss",
    "\"><script>window.__xss = 6</script><p title=\" #SynthXss",
    "</style></textarea></title><script>window.__xss = 7</script> #SynthXss",
    "<iframe srcdoc=\"<script>parent.__xss = 8</script>\"></iframe> #SynthXss",
    "<details open ontoggle=\"window.__xss = 9\"><summary>x</summary></details> #SynthXss",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__xss = 10\"> #SynthXss",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:window.__xss = 11\"><body onload=\"window.__xss = 12\">"
    "<object data=\"javascript:alert(12)\"></object> #SynthXss",
]  # ten: the most-engaged table shows the top 10
MOVEMENT_TOML = """
name = "synthetic-xss"
description = "an invented movement whose posts are script payloads <script>window.__xss = 99</script>"
[[families]]
label = "core"
language = "en"
hashtags = ["SynthXss"]
"""
FILE = "<img src=x onerror=\"window.__xss = 20\">.jsonl"
REASON = "<script>window.__xss = 21</script> not JSON"


def payload_posts() -> list[dict[str, Any]]:
    """One post per payload, by an account whose name and handle are payloads too; likes and
    followers rank them in the most-engaged and most-followed tables."""
    posts = []
    for i, text in enumerate(PAYLOADS):
        posts.append(new_post(
            platform="twitter", post_id=str(70_000 + i), url=f"javascript:window.__xss={30 + i}",
            author_id=f"xss-{i}", author_handle=f"x\"><script>window.__xss={40 + i}</script>",
            author_name=f"<img src=x onerror=\"window.__xss = {50 + i}\">", author_followers=1_000 - i,
            author_verified=False, created_at=START + timedelta(minutes=i), time_source="source", text=text,
            lang="<script>window.__xss = 60</script>" if i == 0 else "en", kind="original",
            hashtags=["SynthXss"], hashtag_keys=["synthxss"], like_count=500 - i, repost_count=0,
            collected=True, version_id=str(70_000 + i), source_file=FILE, source_line=i + 1, source_format="twitter-v1"))
    return posts


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    executable = require_browser()
    folder = tmp_path_factory.mktemp("xss")
    db, movement, report = folder / "s.duckdb", folder / "m.toml", folder / "report.html"
    posts = payload_posts()
    with Store(str(db)) as store:
        run = store.start_run()
        bad = [Quarantined(FILE, 99, "twitter-v1", REASON, b"{")]
        store.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA), quarantined=bad, source_file=FILE)
        store.mark_file(FILE, "fp", "twitter-v1", "done", len(posts) + 1, len(posts), run)
        store.finish_run(run, "done", {"read": len(posts) + 1, "rejected": 1})
    movement.write_text(MOVEMENT_TOML)
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--movement", str(movement), "--out", str(report),
                                       "--privacy", "off"])
    assert result.exit_code == 0, result.output
    browser = Browser(executable, timeout=30)
    try:
        browser.open(report)
        return {
            "xss": browser.evaluate("typeof window.__xss === 'undefined' ? null : window.__xss"),
            "title": browser.evaluate("document.title"),
            "dialogs": [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"],
            "requests": browser.requests(),
            "url": browser.evaluate("location.href"),
            "texts": browser.evaluate("Array.from(document.querySelectorAll('.post-text')).map(e => e.textContent)"),
            "cells": browser.evaluate("Array.from(document.querySelectorAll('td')).map(e => e.textContent)"),
            "scripts": browser.evaluate("document.scripts.length"),
            "handlers": browser.evaluate(HANDLERS_JS),
            "foreign": browser.evaluate("document.querySelectorAll('iframe, img, object, embed, meta[http-equiv=refresh], "
                                        "a[href^=javascript], svg:not(.chart), math, details[ontoggle]').length"),
            "report": report,
        }
    finally:
        browser.close()


# Any element with an on* attribute: what an injected event handler would need.
HANDLERS_JS = """Array.from(document.querySelectorAll('*')).filter(function (e) {
  return Array.from(e.attributes).some(function (a) { return a.name.toLowerCase().indexOf('on') === 0; });
}).length"""


def test_no_payload_ran(page):
    assert page["xss"] is None
    assert page["title"] == TITLE
    assert page["dialogs"] == []
    assert page["url"] == page["report"].resolve().as_uri()  # no refresh, no navigation
    assert page["requests"] == [page["url"]]


def test_payloads_are_shown_as_text(page):
    """Under --privacy off every post text is in the most-engaged table, each exactly as written."""
    assert sorted(page["texts"]) == sorted(PAYLOADS)
    cells = page["cells"]
    assert sum(1 for cell in cells if cell.startswith("@x\"><script>")) == 3 * len(PAYLOADS)  # engaged, followed, most active
    assert any("<img src=x onerror=" in cell for cell in cells)  # display names
    assert FILE in cells


def test_no_element_was_made_from_data(page):
    assert page["scripts"] == 1  # the report's own print button
    assert page["handlers"] == 0
    assert page["foreign"] == 0
