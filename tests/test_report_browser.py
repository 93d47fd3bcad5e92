"""The report in a real browser: headless Chromium opens report.html offline and we check that
every section renders, the charts are drawn, and the page makes no network request.

Why the DevTools protocol rather than --dump-dom: only the Network domain can tell whether the
page *tried* to load anything (it reports every request the page starts, even ones that fail),
so "no network request" is observed rather than inferred. Only the loopback DevTools socket is
used, and host resolution is mapped to nothing, so a stray request could not leave anyway.
Skips only where Chromium is not installed (`make test` installs it, so CI never skips).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from groundswell.cli import main
from test_report import SECTIONS as REPORT_SECTIONS

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium with one page; events are kept in order for the test to inspect."""

    def __init__(self, executable: str, timeout: float = 60.0):
        import websocket  # websocket-client, from the test extra

        self.profile = tempfile.mkdtemp(prefix="gs-chromium-")
        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-port=0",
             "--remote-allow-origins=*", f"--user-data-dir={self.profile}", "--window-size=1100,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.timeout = timeout
        url = self._devtools_url()
        self.socket = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def _devtools_url(self) -> str:
        deadline = time.monotonic() + self.timeout
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                return found.group(1)
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, session=True, **params)

    def wait_for(self, event: str) -> dict[str, Any]:
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            self.events.append(message)
            if message.get("method") == event:
                return message
        raise TimeoutError(event)

    def open(self, path: Path) -> None:
        for domain in ("Network", "Page", "Runtime", "Log"):
            self.page(f"{domain}.enable")
        self.page("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def messages(self) -> list[str]:
        """Console and log messages (CSP violations are reported here)."""
        out = [e["params"]["entry"]["text"] for e in self.events if e.get("method") == "Log.entryAdded"]
        out += [" ".join(str(a.get("value", "")) for a in e["params"]["args"])
                for e in self.events if e.get("method") == "Runtime.consoleAPICalled"]
        return out

    def screenshot(self, target: Path, width: int = 1100) -> Path:
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.page("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.page("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        target.write_bytes(base64.b64decode(data))
        return target

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


SECTIONS = list(REPORT_SECTIONS)


def require_browser() -> str:
    """Chromium's path, and the CDP client importable; skips with what to install otherwise."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (`make test` installs Debian's chromium; or apt-get install chromium)")
    pytest.importorskip("websocket", reason="websocket-client is in the test extra: pip install -e '.[test]'")
    return executable


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    executable = require_browser()
    from test_report import MOVEMENT_TOML, build_store

    folder = tmp_path_factory.mktemp("browser")
    build_store(folder / "s.duckdb")
    (folder / "m.toml").write_text(MOVEMENT_TOML)
    report = folder / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(folder / "s.duckdb"), "--movement", str(folder / "m.toml"),
                                       "--out", str(report)])
    assert result.exit_code == 0, result.output
    browser = Browser(executable)
    try:
        browser.open(report)
        state = {
            "report": report,
            "requests": browser.requests(),
            "messages": browser.messages(),
            "dialogs": [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"],
            "sections": browser.evaluate(SECTIONS_JS),
            "charts": browser.evaluate(CHARTS_JS),
            "button_shown": browser.evaluate("!document.getElementById('print-button').hidden"),
            "dom": browser.evaluate("document.documentElement.outerHTML"),
            "screenshot": browser.screenshot(folder / "report.png"),
        }
        state["requests_after"] = browser.requests()
    finally:
        browser.close()
    return state


SECTIONS_JS = """Array.from(document.querySelectorAll('section')).map(function (s) {
  var box = s.getBoundingClientRect(), h2 = s.querySelector('h2').getBoundingClientRect();
  return {id: s.id, height: box.height, heading: h2.height};
})"""

CHARTS_JS = """Array.from(document.querySelectorAll('svg.chart')).map(function (svg) {
  var box = svg.getBoundingClientRect();
  var drawn = Array.from(svg.querySelectorAll('path.series, rect.bar')).filter(function (e) {
    var b = e.getBBox(); return b.width > 0 && b.height > 0;
  });
  return {title: svg.querySelector('title').textContent, width: box.width, height: box.height, drawn: drawn.length,
          labels: svg.querySelectorAll('text').length};
})"""


def test_every_section_renders(rendered):
    sections = rendered["sections"]
    assert [s["id"] for s in sections] == SECTIONS
    assert all(s["height"] > 50 and s["heading"] > 10 for s in sections), sections
    from test_report import Page

    page = Page(rendered["dom"])  # the DOM as the browser built it, parsed
    assert [e["attrs"]["id"] for e in page.find("section")] == SECTIONS


def test_charts_are_visible_with_drawn_elements(rendered):
    charts = rendered["charts"]
    assert len(charts) == 7
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 60, chart
        assert chart["drawn"] > 0, chart
        assert chart["labels"] >= 2, chart


def test_no_network_request_and_no_policy_violation(rendered):
    page_url = rendered["report"].resolve().as_uri()
    assert rendered["requests"] == [page_url]
    assert rendered["requests_after"] == [page_url]
    assert not [m for m in rendered["messages"] if "Content Security Policy" in m or "Refused" in m]
    assert rendered["button_shown"], "the report's own inline script did not run under its policy"
    assert rendered["dialogs"] == [], "a script from post text ran"


def test_screenshot_is_taken(rendered):
    data = rendered["screenshot"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1100 and height > 3000
