"""Issue 7's acceptance: under `--privacy standard` no handle, display name or words of a
non-notable author appear in any output, and under `strict` nobody's; under `off` they do.

Real posts (the 2017 #MeToo stream with full user objects, the DataCamp CSV, the twitwi
Bluesky and Twitter fixtures) are ingested at run time. What must not leak is read from the
store with plain DuckDB SQL, not through the code under test: the handles and names of people
who are not notable (verified, or at least 10,000 followers), the handles they mention, and
every 6-word window of their posts. Nothing from the data is written into this file; a failure
reports counts and post ids, never the words themselves.

Every output command is run and its files and stdout scanned: report (HTML and --json),
export (every table in every format), stats --json, stats --report --json, network (each kind,
GEXF, GraphML and --json), cascade, amplifiers and trends --json. Posts and authors are
exported without a movement, so every ingested post is in them; the report, stats and
volume use the built-in metoo movement (an hourly series from 2017 to 2026 would be slow).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from conftest import SHARED_DATA
from groundswell.cli import main
from groundswell.movement.definition import load_builtin

INPUTS = ("metoo-stream-2017-lama/metoo.json", "metoo-datacamp-2017", "bluesky-twitter-fixtures-twitwi")
NOTABLE_FOLLOWERS = 10_000
WINDOW = 6  # words: long enough to be one person's, short enough to catch a partial quote
WORD = re.compile(r"\w+")
HANDLE_TOKEN = re.compile(r"[a-z0-9_]+")
DOTTED_TOKEN = re.compile(r"[a-z0-9_][a-z0-9_.-]*[a-z0-9_]")
MIN_NAME = 8  # shorter display names are ordinary words
MIN_HANDLE = 4


@dataclass(repr=False)
class Secrets:
    """What each mode must keep out of every output, computed from the store with plain SQL.
    Its repr gives sizes only, so a failing test never prints the data."""

    private_handles: set[str] = field(default_factory=set)
    private_names: set[str] = field(default_factory=set)
    private_windows: dict[str, str] = field(default_factory=dict)  # window -> a post id it came from
    notable_handles: set[str] = field(default_factory=set)
    all_handles: set[str] = field(default_factory=set)
    all_windows: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Secrets({len(self.private_handles)} private handles, {len(self.private_names)} names, "
                f"{len(self.private_windows)} private windows, {len(self.notable_handles)} notable handles)")


class Scan(dict):
    """The module's store and secrets; a repr without the data, for pytest's failure reports."""

    def __repr__(self) -> str:
        return f"Scan({self['secrets']!r})"


def windows(text: str | None) -> set[str]:
    words = WORD.findall((text or "").lower())
    return {" ".join(words[i:i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


def find_secrets(db: Path, vocabulary: set[str]) -> Secrets:
    """`vocabulary`: words the outputs use for other things (a template's words, platforms,
    formats, the movement's tags); a person whose handle is such a word cannot be told from it,
    and neither can handles of under MIN_HANDLE characters."""
    notable = f"(coalesce(author_verified, FALSE) OR coalesce(author_followers, 0) >= {NOTABLE_FOLLOWERS})"
    own_tags = set(load_builtin("metoo").stored_forms())  # the researcher's words, shown as the movement's tags
    out = Secrets()
    with duckdb.connect(str(db), read_only=True) as con:
        vocabulary = vocabulary | own_tags | {str(v).lower() for row in con.execute(
            "SELECT DISTINCT platform, source_format FROM posts").fetchall() for v in row}
        authors = con.execute(f"SELECT lower(author_handle), author_name, bool_or({notable}) FROM posts "
                              f"WHERE author_handle IS NOT NULL GROUP BY ALL").fetchall()
        mentioned = {m for (m,) in con.execute("SELECT DISTINCT lower(unnest(mentions)) FROM posts").fetchall() if m}
        posts = con.execute(f"SELECT post_id, text, {notable}, kind FROM posts").fetchall()
    out.notable_handles = {h for h, _, named in authors if named and len(h) >= MIN_HANDLE} - vocabulary
    named_names = {n.lower() for _, n, named in authors if named and n}
    private = {h for h, _, named in authors if not named} | mentioned
    out.private_handles = {h for h in private if len(h) >= MIN_HANDLE} - out.notable_handles - vocabulary
    out.all_handles = out.notable_handles | out.private_handles
    out.private_names = {n.lower() for _, n, named in authors if not named and n and len(n) >= MIN_NAME} - named_names
    shown = set()  # windows of notable authors' own words, which standard may show
    for post_id, text, named, kind in posts:
        for window in windows(text):
            out.all_windows.setdefault(window, post_id)
            if named and kind != "repost":
                shown.add(window)
            elif not named:
                out.private_windows.setdefault(window, post_id)
    for window in shown:
        out.private_windows.pop(window, None)
    return out


# --- reading an output as the text a reader would see ----------------------------------------

class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.extend(value for _, value in attrs if value)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [str(key), *_strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [str(value)] if value is not None else []


def readable(path: Path) -> str:
    """Every string an output holds: HTML text and attributes, JSON and Parquet values, raw CSV,
    XML with its entities decoded."""
    suffix = path.suffix.lower()
    if suffix == ".html":
        parser = _Text()
        parser.feed(path.read_text(encoding="utf-8"))
        return "\n".join(parser.parts)
    if suffix == ".json":
        return "\n".join(_strings(orjson.loads(path.read_bytes())))
    if suffix == ".parquet":
        return "\n".join(_strings(pq.read_table(path).to_pylist()))
    return html.unescape(path.read_text(encoding="utf-8"))


def leaks(text: str, handles: set[str], names: set[str], texts: dict[str, str]) -> dict[str, Any]:
    """Which secrets the text holds: handles as whole tokens (dotted ones whole too), names as
    substrings, post words as 6-word windows; for words, the ids of the posts they came from."""
    lower = text.lower()
    tokens = set(HANDLE_TOKEN.findall(lower)) | {t.strip(".-") for t in DOTTED_TOKEN.findall(lower)}
    found_windows = windows(text) & texts.keys()
    return {"handles": len(handles & tokens), "names": sum(1 for n in names if n in lower),
            "texts": len(found_windows), "from_posts": sorted({texts[w] for w in found_windows})[:5]}


# --- the store and the commands ------------------------------------------------------------------

@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    from groundswell.ingest import IngestOptions, ingest
    from groundswell.store import Store

    folder = tmp_path_factory.mktemp("scan")
    db = folder / "s.duckdb"
    with Store(str(db)) as store:
        ingest([str(SHARED_DATA / name) for name in INPUTS], store, IngestOptions())
    vocabulary = template_words(folder)
    with duckdb.connect(str(db), read_only=True) as con:
        (reposted,), = con.execute("SELECT max_by(reposted_post_id, n) FROM (SELECT reposted_post_id, count(*) AS n "
                                   "FROM posts WHERE reposted_post_id IS NOT NULL GROUP BY 1) AS r").fetchall()
    return Scan(db=db, folder=folder, secrets=find_secrets(db, vocabulary), reposted=reposted)


def template_words(folder: Path) -> set[str]:
    """Every word of a report and its JSON made from the synthetic store of test_report.py:
    the words any report says whatever the data."""
    from test_report import MOVEMENT_TOML, build_store

    build_store(folder / "synthetic.duckdb")
    (folder / "synthetic.toml").write_text(MOVEMENT_TOML)
    out = folder / "synthetic.html"
    document = run(["report", "--db", str(folder / "synthetic.duckdb"), "--movement", str(folder / "synthetic.toml"),
                    "--out", str(out), "--json"])
    text = (readable(out) + "\n" + "\n".join(_strings(orjson.loads(document)))).lower()
    return set(HANDLE_TOKEN.findall(text))


def run(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, f"{' '.join(args[:3])}: exit {result.exit_code}: {result.output[-2000:]}"
    return result.stdout


def _export(what: str, fmt: str, movement: bool = False) -> tuple[str, ...]:
    return ("export", "--what", what, "--format", fmt, *(("--movement", "metoo") if movement else ()))


# (name, arguments, the file it writes with this suffix, or None); every one also prints --json.
COMMANDS: list[tuple[str, tuple[str, ...], str | None]] = [
    ("report", ("report", "--movement", "metoo"), ".html"),
    ("stats", ("stats",), None),
    ("stats-report", ("stats", "--report", "--movement", "metoo"), None),
    *[(f"export-{what}-{fmt}", _export(what, fmt, what in ("volume", "variants")), f".{fmt}")
      for what in ("volume", "authors", "variants", "posts") for fmt in ("csv", "parquet", "json")],
    *[(f"network-{kind}-{fmt}", ("network", "--kind", kind), f".{fmt}")
      for kind in ("mention", "reply", "repost", "cohashtag") for fmt in ("gexf", "graphml")],
    ("cascade", ("cascade", "{reposted}"), None),
    ("amplifiers", ("amplifiers", "--movement", "metoo"), None),
    ("trends", ("trends", "--movement", "metoo"), None),
]


def outputs(scan: dict[str, Any], mode: str, name: str, args: tuple[str, ...], suffix: str | None) -> dict[str, str]:
    """Run one command under a mode; its stdout (--json) and the file it wrote, as readable text."""
    argv = [a.replace("{reposted}", scan["reposted"]) for a in args]
    argv += ["--db", str(scan["db"]), "--privacy", mode, "--json"]
    found: dict[str, str] = {}
    if suffix:
        target = scan["folder"] / f"{name}-{mode}{suffix}"
        argv += ["--out", str(target)]
    found["stdout"] = "\n".join(_strings(orjson.loads(run(argv))))
    if suffix:
        found[target.name] = readable(target)
    return found


@pytest.mark.realdata
@pytest.mark.parametrize("name, args, suffix", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize("mode", ["standard", "strict"])
def test_no_private_handle_name_or_words(scan, mode, name, args, suffix):
    secrets = scan["secrets"]
    assert len(secrets.private_handles) > 300 and len(secrets.private_windows) > 3000  # the scan has teeth
    if mode == "standard":
        handles, names, texts = secrets.private_handles, secrets.private_names, secrets.private_windows
    else:  # strict: nobody is named and no text is shown, notable or not
        handles, names, texts = secrets.all_handles, secrets.private_names, secrets.all_windows
    for label, text in outputs(scan, mode, name, args, suffix).items():
        found = leaks(text, handles, names, texts)
        assert (found["handles"], found["names"], found["texts"]) == (0, 0, 0), f"{name} {label} under {mode}: {found}"


@pytest.mark.realdata
def test_notable_accounts_are_named_under_standard_only(scan):
    """The other way round: the scan would see a handle if one were there."""
    notable = scan["secrets"].notable_handles
    standard = outputs(scan, "standard", "report", ("report", "--movement", "metoo"), ".html")
    assert leaks(standard["report-standard.html"], notable, set(), {})["handles"] >= 5
    authors = outputs(scan, "standard", "authors", _export("authors", "json"), ".json")
    assert leaks(authors["authors-standard.json"], notable, set(), {})["handles"] >= 20
    strict = outputs(scan, "strict", "report", ("report", "--movement", "metoo"), ".html")
    assert leaks(strict["report-strict.html"], notable, set(), {})["handles"] == 0


@pytest.mark.realdata
def test_under_off_everything_is_there_and_said_first(scan):
    secrets = scan["secrets"]
    posts = outputs(scan, "off", "posts", _export("posts", "json"), ".json")["posts-off.json"]
    found = leaks(posts, secrets.private_handles, secrets.private_names, secrets.private_windows)
    assert found["handles"] > 300 and found["texts"] > 3000  # what standard hides is really in the data
    out = scan["folder"] / "off.html"
    terminal = run(["report", "--db", str(scan["db"]), "--movement", "metoo", "--privacy", "off", "--out", str(out)])
    assert terminal.splitlines()[0].startswith("PRIVACY IS OFF")
    body = out.read_text(encoding="utf-8").split("<body>", 1)[1]
    first = next(part.strip() for part in re.split(r"<[^>]+>", body) if part.strip())
    assert first.lower().startswith("privacy is off")
    stats = run(["stats", "--db", str(scan["db"]), "--privacy", "off"])
    assert stats.splitlines()[0].startswith("PRIVACY IS OFF")
    assert orjson.loads(run(["stats", "--db", str(scan["db"]), "--privacy", "off", "--json"]))["privacy"]["mode"] == "off"
