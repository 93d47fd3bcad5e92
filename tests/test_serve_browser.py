"""The dashboard in a real browser: Playwright driving Debian's Chromium against a real server.

Stores are SYNTHETIC (test_report.py's, and one with hostile strings in every field a post
carries). The page's numbers must match the API and `stats --json`, filters must round-trip
through the address, nothing may be requested from another host, and no payload may run.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA
from groundswell.movement.definition import resolve
from groundswell.privacy import Privacy
from groundswell.store import Store
from serve_harness import get_json, running
from test_report import MOVEMENT_TOML, START, _post, build_store
from test_report_browser import find_chromium

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "dashboard.png"
PAYLOADS = ["<script>window.__xss = 1</script>", "<img src=x onerror=\"window.__xss = 2\">",
            "\"><svg onload=window.__xss=3>", "javascript:window.__xss=4", "</td><script>window.__xss=5</script>"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (`make test` installs Debian's chromium; or apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("serve-browser")
    build_store(folder / "s.duckdb")
    (folder / "m.toml").write_text(MOVEMENT_TOML)
    return {"db": str(folder / "s.duckdb"), "movement": resolve(str(folder / "m.toml")), "folder": folder}


def _open(browser: Any, url: str) -> tuple[Any, list[str]]:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1100, "height": 1600})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("dialog", lambda dialog: requested.append("dialog:" + dialog.message))
    page.goto(url)
    expect(page.locator('[data-figure="posts"]').first).not_to_have_text("–", timeout=30_000)
    return page, requested


def _number(page: Any, name: str) -> int:
    return int(page.text_content(f'[data-figure="{name}"]').replace(",", ""))


def test_the_page_draws_the_figures_of_stats(browser, store):
    stats = orjson.loads(CliRunner().invoke(main, ["stats", "--db", store["db"], "--movement", str(store["folder"] / "m.toml"),
                                                   "--report", "--json"]).stdout)["report"]
    with running(store["db"], store["movement"]) as base:
        page, requested = _open(browser, base + "/")
        assert _number(page, "posts") == stats["headline"]["posts"]
        assert _number(page, "distinct_authors") == stats["headline"]["distinct_authors"]
        assert _number(page, "phrase_only") == stats["hashtag_vs_phrase"]["totals"]["phrase_only"]
        assert page.locator("[data-chart] svg").count() >= 5
        assert page.locator("#family-table tbody tr").count() == len(stats["families"]["families"])
        SCREENSHOT.parent.mkdir(exist_ok=True)
        if os.environ.get("GROUNDSWELL_SCREENSHOT") == "1":  # the README's picture, made by this test
            page.screenshot(path=str(SCREENSHOT), full_page=False)
        page.close()
    hosts = {urllib.parse.urlsplit(url).netloc for url in requested}
    assert hosts == {base.removeprefix("http://")}, hosts


def test_a_filter_changes_the_numbers_and_round_trips_through_the_address(browser, store):
    from playwright.sync_api import expect

    with running(store["db"], store["movement"]) as base:
        page, _ = _open(browser, base + "/")
        total = _number(page, "posts")
        page.select_option('select[name="kind"]', "repost")
        page.click('#filters button[type="submit"]')
        expect(page).to_have_url(f"{base}/?kind=repost")
        _, expected = get_json(f"{base}/api/stats?kind=repost")
        expect(page.locator('[data-figure="posts"]').first).to_have_text(f"{expected['headline']['posts']:,}")
        assert expected["headline"]["posts"] < total
        shared, _ = _open(browser, page.url)  # the shared address opens the same view
        assert shared.input_value('select[name="kind"]') == "repost"
        assert _number(shared, "posts") == expected["headline"]["posts"]
        page.close()
        shared.close()


def test_brushing_the_volume_chart_sets_the_window(browser, store):
    from playwright.sync_api import expect

    with running(store["db"], store["movement"]) as base:
        page, _ = _open(browser, base + "/")
        box = page.locator("#chart-volume svg").bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.2, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, y)
        page.mouse.up()
        expect(page).to_have_url(re.compile(r"from=.*&to="))
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
        _, expected = get_json(f"{base}/api/stats?{urllib.parse.urlencode(query)}")
        expect(page.locator('[data-figure="posts"]').first).to_have_text(f"{expected['headline']['posts']:,}")
        page.close()


def test_hostile_strings_never_run_in_any_privacy_mode(browser, tmp_path, store):
    db = tmp_path / "hostile.duckdb"
    build_store(db)
    posts = [_post(80_000 + i, START + timedelta(minutes=5 * i), payload, f"[synthetic] {payload} #SynthToo",
                   ["SynthToo", payload], followers=50_000) for i, payload in enumerate(PAYLOADS * 2)]
    with Store(str(db)) as writer:
        writer.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA))
    for mode in ("off", "standard", "strict"):
        with running(str(db), store["movement"], Privacy(mode)) as base:
            page, requested = _open(browser, base + "/")
            page.fill('#hashtag-form input[name="key"]', PAYLOADS[1])
            page.click('#hashtag-form button')
            page.wait_for_timeout(500)
            assert page.evaluate("() => window.__xss") is None, mode
            assert page.locator("script").count() == 1  # the page's own
            assert not any(r.startswith("dialog:") for r in requested)
            assert page.locator("#privacy-banner").is_visible() == (mode == "off")
            page.close()
