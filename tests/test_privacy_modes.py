"""`--privacy strict|standard|off` and `--min-cell` on the report, `stats --report` and `export`.

The store is synthetic (invented accounts `cell_*`, invented texts), built so that every cell
is known: which platforms and languages have fewer than five people, one person in two small
cells, a hashtag that is a private person's handle, a notable account that mentions, links,
replies and reposts. Expected figures are counted here from the list of posts as written,
in plain Python. The last test uses the real twarc2 fixture and a compliance file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.movement.normalize import hashtag_key
from groundswell.privacy import Privacy
from groundswell.store import Store

START = datetime(2022, 2, 1, 8, 0, 0)
STAR, STAR_ID = "cell_star", "id-cell_star"
MOVEMENT_TOML = """
name = "synthetic-cells"
description = "an invented movement for privacy tests"
[[families]]
label = "core"
language = "en"
hashtags = ["SynthCell"]
[[families]]
label = "rare"
language = "en"
hashtags = ["SynthRare"]
"""
STAR_TEXT = "[synthetic] thanks @cell_user_3 see https://example.invalid/cell_user_3 #SynthCell"


@dataclass
class Built:
    posts: list[dict[str, Any]]
    ids: dict[str, str]  # a name for the posts the tests look at -> post id


def _post(n: int, platform: str, author: str, lang: str, tags: list[str], text: str | None = None,
          **extra: Any) -> dict[str, Any]:
    """A synthetic post: invented account and words."""
    values = dict(platform=platform, post_id=str(80_000 + n), author_id=f"id-{author}", author_handle=author,
                  author_name=f"Synthetic Name {author}", author_followers=10, author_verified=False,
                  created_at=START + timedelta(minutes=n), time_source="source",
                  text=text or f"[synthetic] private words of {author} qz{n}x " + " ".join("#" + t for t in tags),
                  lang=lang, kind="original", hashtags=tags, hashtag_keys=[hashtag_key(t) for t in tags],
                  like_count=n % 5, collected=True, version_id=str(80_000 + n), source_file="synthetic.jsonl",
                  source_line=n, source_format="twitter-v1")
    values.update(extra)
    return new_post(**values)


def build() -> Built:
    posts, ids = [], {}
    for i in range(10):  # ten people on twitter in English; six use #Common and #cell_user_9, a private handle
        tags = ["SynthCell", "Common", "cell_user_9"] if i < 6 else ["SynthCell"]
        posts.append(_post(i, "twitter", f"cell_user_{i}", "en", tags))
    for i in (0, 1):  # a family and a variant of two people
        posts.append(_post(20 + i, "twitter", f"cell_user_{i}", "en", ["SynthRare"]))
    for j, langs in enumerate((("fr", "de"), ("fr", "fr"), ("fr", "fr"))):  # three on bluesky; one of them twice small
        for k, lang in enumerate(langs):
            posts.append(_post(30 + 2 * j + k, "bluesky", f"cell_blue_{j}", lang, ["SynthCell"]))
    posts.append(_post(40, "mastodon", "cell_masto", "es", ["SynthCell"]))
    star = _post(50, "twitter", STAR, "en", ["SynthCell"], STAR_TEXT, author_verified=True, author_followers=50_000,
                 like_count=900)
    repost = _post(51, "twitter", STAR, "en", ["SynthCell"], posts[4]["text"], author_verified=True,
                   author_followers=50_000, kind="repost", reposted_post_id=posts[4]["post_id"])
    to_star = _post(52, "twitter", "cell_user_5", "en", ["SynthCell"], kind="reply", reply_to_post_id=star["post_id"],
                    reply_to_author_id=STAR_ID)
    to_user = _post(53, "twitter", "cell_user_6", "en", ["SynthCell"], kind="reply", reply_to_post_id=posts[7]["post_id"],
                    reply_to_author_id="id-cell_user_7")
    posts += [star, repost, to_star, to_user]
    ids.update(star=star["post_id"], repost=repost["post_id"], to_star=to_star["post_id"], to_user=to_user["post_id"],
               user4=posts[4]["post_id"], user7=posts[7]["post_id"])
    return Built(posts, ids)


def fold(posts: list[dict[str, Any]], key: str, floor: int) -> list[tuple[str, int, int]]:
    """The expected breakdown, counted in Python: big cells by posts, then the small ones together."""
    cells: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        cells.setdefault(post[key], []).append(post)
    big = [(value, len(rows), len({r["author_id"] for r in rows})) for value, rows in cells.items()
           if len({r["author_id"] for r in rows}) >= floor]
    small = [r for rows in cells.values() if len({x["author_id"] for x in rows}) < floor for r in rows]
    out = sorted(big, key=lambda c: (-c[1], c[0]))
    return out + ([("other (suppressed)", len(small), len({r["author_id"] for r in small}))] if small else [])


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("cells")
    built = build()
    with Store(str(folder / "s.duckdb")) as store:
        store.write_batch(pa.Table.from_pylist(built.posts, schema=ARROW_SCHEMA))
    (folder / "m.toml").write_text(MOVEMENT_TOML)
    with duckdb.connect(str(folder / "s.duckdb"), read_only=True) as con:
        (salt,), = con.execute("SELECT value FROM meta WHERE key = 'pseudonym_salt'").fetchall()
    return {"folder": folder, "built": built, "salt": salt}


def invoke(cells: dict[str, Any], *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--db", str(cells["folder"] / "s.duckdb")])
    assert result.exit_code == 0, result.output
    return result.stdout


def report(cells: dict[str, Any], *options: str) -> dict[str, Any]:
    document = invoke(cells, "stats", "--report", "--json", "--movement", str(cells["folder"] / "m.toml"), *options)
    return orjson.loads(document)["report"]


def export(cells: dict[str, Any], what: str, *options: str) -> list[dict[str, Any]]:
    out = cells["folder"] / f"{what}-{'-'.join(options)}.json"
    invoke(cells, "export", "--what", what, "--format", "json", "--out", str(out), "--movement",
           str(cells["folder"] / "m.toml"), *options)
    return orjson.loads(out.read_bytes())


def pseudonym(salt: str, author_id: str) -> str:
    return "p" + hashlib.sha256((salt + author_id).encode()).hexdigest()[:12]


@pytest.mark.parametrize("mode, min_cell, floor", [("standard", 5, 5), ("strict", 5, 5), ("standard", 2, 2),
                                                   ("standard", 1, 1), ("off", 5, 1)])
def test_small_cells_are_folded_so_totals_still_add_up(cells, mode, min_cell, floor):
    figures = report(cells, "--privacy", mode, "--min-cell", str(min_cell))
    posts = cells["built"].posts
    for name, key in (("platforms", "platform"), ("languages", "lang")):
        rows = figures[name] if name == "platforms" else figures[name]["by_language"]
        column = "platform" if name == "platforms" else "language"
        assert [(r[column], r["posts"], r["distinct_authors"]) for r in rows] == fold(posts, key, floor), name
        assert sum(r["posts"] for r in rows) == figures["headline"]["posts"] == len(posts)
        assert [r["suppressed"] for r in rows] == [r[column] == "other (suppressed)" for r in rows]


def test_one_person_in_two_small_cells_counts_once(cells):
    (other,) = [r for r in report(cells)["languages"]["by_language"] if r["suppressed"]]
    assert (other["posts"], other["distinct_authors"]) == (7, 4)  # fr 5 + de 1 + es 1 posts; 3 + 1 + 1 people less one


def test_families_variants_and_co_hashtags_follow_the_cell_rule(cells):
    standard, off = report(cells), report(cells, "--privacy", "off")
    families = {f["label"]: f for f in standard["families"]["families"]}
    assert families["rare"] == {"label": "rare", "language": "en", "posts": None, "distinct_authors": None,
                                "first_seen": None, "suppressed": True}
    core = [p for p in cells["built"].posts if "SynthCell" in p["hashtags"]]
    assert (families["core"]["posts"], families["core"]["distinct_authors"]) == (len(core), len({p["author_id"] for p in core}))
    assert families["core"]["suppressed"] is False
    assert all("rare" not in row["posts"] for row in standard["families"]["series"])
    assert {f["label"]: f["posts"] for f in off["families"]["families"]} == {"core": len(core), "rare": 2}
    assert [(v["key"], v["posts"], v["suppressed"]) for v in standard["families"]["variants"]] == [
        ("synthcell", len(core), False), ("other (suppressed)", 2, True)]
    assert [v["key"] for v in off["families"]["variants"]] == ["synthcell", "synthrare"]
    assert [c["key"] for c in standard["co_hashtags"]] == ["common"]  # cell_user_9 is a private person's handle
    assert [c["key"] for c in report(cells, "--privacy", "strict")["co_hashtags"]] == ["common"]
    assert sorted(c["key"] for c in off["co_hashtags"]) == ["cell_user_9", "common"]
    assert [c["key"] for c in report(cells, "--min-cell", "7")["co_hashtags"]] == []


def test_who_is_named_and_what_is_quoted_in_each_mode(cells):
    salt = cells["salt"]
    standard, strict, off = report(cells), report(cells, "--privacy", "strict"), report(cells, "--privacy", "off")
    top = standard["most_engaged"][0]
    assert (top["label"], top["named"], top["text"]) == ("@" + STAR, True,
                                                         "[synthetic] thanks @[someone] see [link] #SynthCell")
    assert off["most_engaged"][0]["text"] == STAR_TEXT
    assert strict["most_engaged"][0]["label"] == pseudonym(salt, STAR_ID) and strict["most_engaged"][0]["text"] is None
    private = {pseudonym(salt, p["author_id"]) for p in cells["built"].posts if p["author_handle"] != STAR}
    assert standard["most_followed"][0]["label"] == "@" + STAR
    for row in standard["most_engaged"][1:] + standard["most_followed"][1:]:
        assert row["label"] in private
        assert row["handle"] is None and not row["named"] and row.get("text") is None
    assert all(not row["named"] and row["label"].startswith("p") for row in strict["most_followed"])
    assert all(row["label"].startswith("@cell_") for row in off["most_followed"])


def test_exported_posts_in_each_mode(cells):
    ids, salt = cells["built"].ids, cells["salt"]
    standard = {r["author"] + r["created_at"]: r for r in export(cells, "posts")}
    by_id = {r["post_id"]: r for r in standard.values()}
    star, repost = by_id[ids["star"]], by_id[ids["repost"]]
    assert star["handle"] == STAR and star["text"].startswith("[synthetic] thanks @[someone]")
    assert repost["handle"] == STAR and repost["text"] is None  # a repost's words are its original's
    private = [r for r in standard.values() if not r["named"]]
    assert len(private) == len(cells["built"].posts) - 2 and all(r["handle"] is None and r["name"] is None and r["text"] is None
                                      and r["url"] is None for r in private)
    assert all(r["post_id"].startswith("x") and len(r["post_id"]) == 17 for r in private)
    assert by_id[private_id(cells, "to_star")]["reply_to_post_id"] == ids["star"]  # its parent is named
    assert by_id[private_id(cells, "to_user")]["reply_to_post_id"] == private_id(cells, "user7")
    assert repost["reposted_post_id"] == private_id(cells, "user4")
    assert {r["author"] for r in private} == {pseudonym(salt, f"id-{p['author_handle']}") for p in cells["built"].posts
                                              if p["author_handle"] != STAR}
    assert all("cell_user_9" not in (r["hashtag_keys"] or []) for r in standard.values())
    assert sum("common" in (r["hashtag_keys"] or []) for r in standard.values()) == 6
    strict = export(cells, "posts", "--privacy", "strict")
    assert all(r["handle"] is None and r["text"] is None and r["post_id"].startswith("x") for r in strict)
    off = {r["post_id"]: r for r in export(cells, "posts", "--privacy", "off")}
    assert set(off) == {p["post_id"] for p in cells["built"].posts}
    assert off[ids["user4"]]["text"].startswith("[synthetic] private words of cell_user_4")


def private_id(cells: dict[str, Any], name: str) -> str:
    """The pseudonym the export gives a post whose author is not named."""
    post_id = cells["built"].ids[name]
    return "x" + hashlib.sha256(f"{cells['salt']}post:twitter:{post_id}".encode()).hexdigest()[:16]


def test_exported_authors_and_variants(cells):
    authors = export(cells, "authors")
    assert {a["handle"] for a in authors if a["named"]} == {STAR}
    assert all(a["handle"] is None for a in authors if not a["named"])
    assert all(a["handle"] is None for a in export(cells, "authors", "--privacy", "strict"))
    variants = export(cells, "variants")
    assert [(v["key"], v["suppressed"]) for v in variants] == [("synthcell", False), ("other (suppressed)", True)]


def test_off_says_so_first_and_json_carries_the_privacy(cells):
    movement = str(cells["folder"] / "m.toml")
    out = cells["folder"] / "off.html"
    terminal = invoke(cells, "report", "--movement", movement, "--privacy", "off", "--out", str(out))
    assert terminal.splitlines()[0].startswith("PRIVACY IS OFF")
    body = out.read_text().split("<body>", 1)[1].lstrip()
    assert body.startswith("<header>\n<p class=\"privacy-line privacy-off warning\" id=\"privacy\">PRIVACY IS OFF")
    exported = invoke(cells, "export", "--what", "volume", "--out", str(cells["folder"] / "v.csv"), "--privacy", "off")
    assert exported.splitlines()[0].startswith("PRIVACY IS OFF")
    document = orjson.loads(invoke(cells, "report", "--movement", movement, "--out", str(out), "--json",
                                   "--privacy", "strict", "--min-cell", "3", "--notable-followers", "100"))
    assert document["privacy"] == {"mode": "strict", "notable_followers": 100, "min_cell": 3}
    assert "PRIVACY IS OFF" not in invoke(cells, "report", "--movement", movement, "--out", str(out))
    assert cells["salt"] not in out.read_text() and cells["salt"] not in json.dumps(document)


def test_bad_privacy_options_are_usage_errors(cells):
    for args in (["--privacy", "none"], ["--min-cell", "0"], ["--notable-followers", "-1"]):
        result = CliRunner().invoke(main, ["stats", "--db", str(cells["folder"] / "s.duckdb"), *args])
        assert result.exit_code == 2, args


def test_the_salt_stays_out_of_reprs_and_dicts():
    privacy = Privacy("standard", salt="0123456789abcdef0123456789abcdef")
    assert "0123456789abcdef" not in repr(privacy) and "0123456789abcdef" not in json.dumps(privacy.as_dict())
    assert privacy == Privacy("standard")  # the salt is not part of the rules


@pytest.mark.realdata
def test_the_report_counts_forgotten_posts(shared_data: Path, tmp_path: Path):
    """Issue 7: posts removed by a compliance file and a hand-written id list are counted in the
    report's coverage section (test_forget.py checks they are gone and stay gone). Expected
    counts come from the raw files with plain json."""
    flat = shared_data / "twarc2-v2-testdata" / "flat.jsonl"
    compliance = shared_data / "twarc2-v2-testdata" / "tweets_compliance.jsonl"
    records = [json.loads(line) for line in flat.read_text().splitlines() if line.strip()]
    listed = [r["id"] for r in records if not r.get("referenced_tweets")][:3]
    (tmp_path / "ids.txt").write_text("\n".join(listed) + "\n")
    compliance_ids = {json.loads(line)["id"] for line in compliance.read_text().splitlines() if line.strip()}
    db = str(tmp_path / "s.duckdb")
    for args in (["ingest", str(flat), "--workers", "1"],
                 ["forget", "--ids", str(tmp_path / "ids.txt"), "--compliance", str(compliance)]):
        assert CliRunner().invoke(main, [*args, "--db", db]).exit_code == 0
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", "--db", db, "--movement", "metoo", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    deletions = orjson.loads(result.stdout)["report"]["coverage"]["deletions"]
    assert deletions["posts"] == len(listed) + len(compliance_ids)
    assert deletions["by_origin"] == {"forget_id_list": len(listed), "compliance_file": len(compliance_ids)}
    from test_report import Page

    page = Page(out.read_text())
    assert page.figure("deletions") == len(listed) + len(compliance_ids)
    assert [e["text"].rsplit(": ", 1)[1] for e in page.find("span", data_deletions="compliance_file")] == [str(len(compliance_ids))]


@pytest.mark.parametrize("mode", ["standard", "strict", "off"])
def test_stats_movement_by_variant_folds_small_cells(cells: dict[str, Any], mode: str) -> None:
    """`stats --movement`'s by_variant rows: a key used by fewer than --min-cell people is
    folded into `other (suppressed)`, counted exactly, except under --privacy off."""
    out = orjson.loads(invoke(cells, "stats", "--movement", str(cells["folder"] / "m.toml"), "--privacy", mode, "--json"))
    posts = cells["built"].posts
    by_key: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        for key in set(post["hashtag_keys"]) & {"synthcell", "synthrare"}:
            by_key.setdefault(key, []).append(post)
    expected = sorted(((key, len(rows), len({r["author_id"] for r in rows})) for key, rows in by_key.items()),
                      key=lambda c: (-c[1], c[0]))
    if mode != "off":
        assert [c[2] for c in expected] == [len({p["author_id"] for p in by_key["synthcell"]}), 2]
        expected = [expected[0], ("other (suppressed)", len(by_key["synthrare"]), 2)]
    got = [(v["key"], v["posts"], v["distinct_authors"]) for v in out["movement"]["by_variant"]]
    assert got == expected
    assert [v["suppressed"] for v in out["movement"]["by_variant"]] == [False, mode != "off"]


def _band(followers: int | None) -> str | None:
    """The expected band, written out by hand: powers of ten."""
    if followers is None:
        return None
    for low in (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000):
        if followers < low * 10:
            return f"{0 if low == 1 else low}-{low * 10 - 1}"
    return "1000000000+"


def _naive(stamp: str) -> str:
    """The export's UTC time as the naive ISO string the posts were written with."""
    return datetime.fromisoformat(stamp).replace(tzinfo=None).isoformat()


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Synthetic posts at times with seconds, by authors of varied followers; one notable."""
    folder = tmp_path_factory.mktemp("timed")
    counts = [3, 10, 250, 4_000, None, 9_999, 12]
    posts = [_post(n, "twitter", f"cell_time_{n}", "en", ["SynthCell"], author_followers=followers,
                   created_at=START + timedelta(minutes=n, seconds=7 * n + 5, microseconds=1000 * n))
             for n, followers in enumerate(counts)]
    posts.append(_post(9, "twitter", STAR, "en", ["SynthCell"], author_verified=True, author_followers=50_123,
                       created_at=START + timedelta(hours=1, seconds=41)))
    with Store(str(folder / "s.duckdb")) as store:
        store.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA))
    (folder / "m.toml").write_text(MOVEMENT_TOML)
    return {"folder": folder, "posts": posts}


@pytest.mark.parametrize("mode", ["standard", "strict", "off"])
def test_exports_band_followers_and_round_times_of_pseudonymous_authors(timed: dict[str, Any], mode: str) -> None:
    rows = export(timed, "posts", "--privacy", mode)
    authors = export(timed, "authors", "--privacy", mode)
    exact = {p["created_at"].isoformat(): p for p in timed["posts"]}

    def minute(moment: datetime) -> str:
        return moment.replace(second=0, microsecond=0).isoformat()

    named = {STAR} if mode == "standard" else {p["author_handle"] for p in timed["posts"]} if mode == "off" else set()
    expected = sorted((p["created_at"].isoformat() if p["author_handle"] in named else minute(p["created_at"]),
                       p["author_followers"] if p["author_handle"] in named else None, _band(p["author_followers"]))
                      for p in timed["posts"])
    got = sorted((_naive(r["created_at"]), r["followers"], r["followers_band"]) for r in rows)
    assert got == expected
    assert (mode == "off") == all(_naive(r["created_at"]) in exact for r in rows)
    got_authors = sorted((_naive(a["first_post"]), a["followers"], a["followers_band"]) for a in authors)
    assert got_authors == expected  # one post each, so first post and followers are the post's
