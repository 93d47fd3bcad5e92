"""Matching posts to a movement in the engine: the traps, on synthetic posts, and the real scrape.

Every post below is synthetic (invented for these tests); the expected flags are written by
hand from the rules in docs/movements.md, not produced by the code under test.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.movement.definition import parse_movement, resolve
from groundswell.movement.match import matched_posts_sql, posts_with_match_sql
from groundswell.movement.normalize import hashtag_key
from groundswell.store import Store

T0 = datetime(2017, 10, 16, 12, 0)

# post id: (text, hashtags as an extractor gives them, author, expected by_hashtag, by_phrase, families, variants)
CASES: dict[str, tuple[str, list[str], str, bool, bool, list[str], list[str]]] = {
    "tag": ("[synthetic] speaking up #MeToo", ["MeToo"], "a1", True, False, ["core"], ["metoo"]),
    "both": ("[synthetic] me too. #MeToo", ["MeToo"], "a1", True, True, ["core"], ["metoo"]),
    "phrase": ("[synthetic] Me too, years ago.", [], "a2", False, True, ["core"], []),
    "accent": ("[synthetic] #YoTambién", ["YoTambién"], "a3", True, False, ["es"], ["yotambien"]),
    "no-accent": ("[synthetic] #yotambien", ["yotambien"], "a3", True, False, ["es"], ["yotambien"]),
    "fullwidth": ("[synthetic] ＃ＭｅＴｏｏ", ["ＭｅＴｏｏ"], "a4", True, False, ["core"], ["metoo"]),
    "rtl-trailing": ("[synthetic] وأنا_كمان#", ["وأنا_كمان"], "a5", True, False, ["ar"], ["وانا_كمان"]),
    "tatweel-tag": ("[synthetic] #وأنــا_كمان", ["وأنــا_كمان"], "a5", True, False, ["ar"], ["وانا_كمان"]),
    "tatweel-phrase": ("[synthetic] وأنــا كمان", [], "a6", False, True, ["ar"], []),
    "zero-width-tag": ("[synthetic] #Me\u200bToo", ["Me\u200bToo"], "a7", True, False, ["core"], ["metoo"]),
    "zero-width-phrase": ("[synthetic] me\u200b too", [], "a7", False, True, ["core"], []),
    "zero-width-joined": ("[synthetic] me\u200btoo", [], "a7", False, False, [], []),
    "spaced-tag": ("[synthetic] #Me Too", ["Me"], "a8", False, False, [], []),
    "url": ("[synthetic] read https://example.org/me too/page", [], "a8", False, False, [], []),
    "tag-in-url": ("[synthetic] https://example.org/#MeToo", [], "a8", False, False, [], []),
    "inside-words": ("[synthetic] a meme tool", [], "a9", False, False, [], []),
    "mention": ("[synthetic] @me too", [], "a9", False, False, [], []),
    "nbsp": ("[synthetic] ME\u00a0TOO", [], "a10", False, True, ["core"], []),
    "fullwidth-phrase": ("[synthetic] ｍｅ　ｔｏｏ", [], "a10", False, True, ["core"], []),
    "french": ("[synthetic] Moi aussi !", [], "a11", False, True, ["fr"], []),
    "russian": ("[synthetic] Я тоже.", [], "a11", False, True, ["ru"], []),
    "italian": ("[synthetic] anch’io", [], "a11", False, True, ["it"], []),
    "two-families": ("[synthetic] #MeToo #BalanceTonPorc", ["MeToo", "BalanceTonPorc"], "a12", True, False,
                     ["core", "fr"], ["balancetonporc", "metoo"]),
    "tag-and-other-phrase": ("[synthetic] moi aussi #ChurchToo", ["ChurchToo"], "a12", True, True,
                             ["fr", "offshoot"], ["churchtoo"]),
    "unrelated": ("[synthetic] nothing here #news", ["news"], "a13", False, False, [], []),
    "empty": (None, None, "a13", False, False, [], []),  # type: ignore[dict-item]
}


def _post(pid: str, text: str | None, tags: list[str] | None, author: str, collected: bool = True,
          fold: bool = True, created: datetime = T0) -> dict:
    keys = None if tags is None else [hashtag_key(t, fold_accents=fold) for t in tags]
    return new_post(platform="twitter", post_id=pid, author_id=author, created_at=created, text=text,
                    kind="original", hashtags=tags, hashtag_keys=keys, collected=collected, version_id=pid)


def _store(path: Path, posts: list[dict]) -> str:
    with Store(str(path)) as store:
        store.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA))
    return str(path)


@pytest.fixture(scope="module")
def trap_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    posts = [_post(pid, text, tags, author) for pid, (text, tags, author, *_rest) in CASES.items()]
    # Known only through a reference: never counted, even though it carries the tag.
    posts.append(_post("referenced", "[synthetic] #MeToo", ["MeToo"], "a14", collected=False))
    return _store(tmp_path_factory.mktemp("traps") / "traps.duckdb", posts)


@pytest.fixture(scope="module")
def trap_rows(trap_db: str) -> dict[str, tuple]:
    return _rows(trap_db, posts_with_match_sql(resolve("metoo")))


def _rows(db: str, sql: str) -> dict[str, tuple]:
    with Store(db, read_only=True) as store:
        return {row[1]: row for row in store.sql(sql)}


@pytest.mark.parametrize("pid", list(CASES))
def test_trap(trap_rows: dict[str, tuple], pid: str) -> None:
    _, _, _, by_hashtag, by_phrase, families, variants = CASES[pid]
    row = trap_rows[pid]
    # platform, post_id, created_at, kind, author_id, in_window, by_hashtag, by_phrase, families, variants
    assert (row[6], row[7]) == (by_hashtag, by_phrase)
    assert row[8] == families
    assert sorted(row[9]) == variants


def test_matched_posts_are_the_collected_matches_only(trap_db: str) -> None:
    rows = _rows(trap_db, matched_posts_sql(resolve("metoo")))
    expected = {pid for pid, case in CASES.items() if case[3] or case[4]}
    assert set(rows) == expected
    assert "referenced" not in rows
    assert all(len(row) == 9 for row in rows.values())


def test_stats_movement_figures(trap_db: str) -> None:
    result = CliRunner().invoke(main, ["stats", "--db", trap_db, "--movement", "metoo", "--json", "--privacy", "off"])
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.output)["movement"]
    by_class: dict[str, set[str]] = {"hashtag_only": set(), "phrase_only": set(), "both": set(), "unmatched": set()}
    for pid, (_, _, _, tag, phrase, _, _) in CASES.items():
        by_class["both" if tag and phrase else "hashtag_only" if tag else "phrase_only" if phrase else "unmatched"].add(pid)
    for name, pids in by_class.items():
        assert figures[name]["posts"] == len(pids), name
        assert figures[name]["distinct_authors"] == len({CASES[p][2] for p in pids}), name
    assert figures["matched"]["posts"] == len(CASES) - len(by_class["unmatched"])
    assert figures["by_hashtag"]["posts"] == len(by_class["hashtag_only"]) + len(by_class["both"])
    fr = [pid for pid, case in CASES.items() if "fr" in case[5]]
    assert figures["by_family"]["fr"] == {"posts": len(fr), "distinct_authors": len({CASES[p][2] for p in fr})}
    assert figures["by_family"]["precursor"] == {"posts": 0, "distinct_authors": 0}
    metoo = next(v for v in figures["by_variant"] if v["key"] == "metoo")
    assert metoo["posts"] == sum("metoo" in case[6] for case in CASES.values())
    assert metoo["family"] == "core"
    assert figures["call_to_action"][0]["in_store"] is False


def test_window_limits_matches(tmp_path: Path) -> None:
    text = 'name = "w"\nwindow = {start = 2017-10-15, end = 2017-10-15}\n' \
           '[[families]]\nlabel = "core"\nlanguage = "en"\nhashtags = ["MeToo"]\n'
    movement = parse_movement(text, "w.toml")
    db = _store(tmp_path / "w.duckdb", [
        _post("before", "[synthetic] #MeToo", ["MeToo"], "a", created=datetime(2017, 10, 14, 23, 59, 59)),
        _post("first", "[synthetic] #MeToo", ["MeToo"], "a", created=datetime(2017, 10, 15, 0, 0)),
        _post("last", "[synthetic] #MeToo", ["MeToo"], "a", created=datetime(2017, 10, 15, 23, 59, 59)),
        _post("after", "[synthetic] #MeToo", ["MeToo"], "a", created=datetime(2017, 10, 16, 0, 0)),
    ])
    rows = _rows(db, posts_with_match_sql(movement))
    assert {pid for pid, row in rows.items() if row[6]} == {"first", "last"}
    assert {pid for pid, row in rows.items() if not row[5]} == {"before", "after"}


def test_accent_settings_on_an_unfolded_store(tmp_path: Path) -> None:
    """A store ingested with --no-accent-fold keeps é in its keys; both kinds of movement still work."""
    db = _store(tmp_path / "raw.duckdb", [
        _post("accented", "[synthetic] #YoTambién", ["YoTambién"], "a", fold=False),
        _post("plain", "[synthetic] #YoTambien", ["YoTambien"], "b", fold=False),
    ])
    folding = _rows(db, matched_posts_sql(resolve("metoo")))
    assert set(folding) == {"accented", "plain"}
    strict = parse_movement('name = "strict"\naccent_fold = false\n[[families]]\nlabel = "es"\nlanguage = "es"\n'
                            'hashtags = ["YoTambién"]\n', "strict.toml")
    assert set(_rows(db, matched_posts_sql(strict))) == {"accented"}


def test_phrase_patterns_are_literals(tmp_path: Path) -> None:
    """Regex metacharacters in a pattern mean themselves."""
    movement = parse_movement('name = "lit"\n[[families]]\nlabel = "x"\nlanguage = "en"\nhashtags = ["Xyz"]\n'
                              '[[phrases]]\nlabel = "x"\nlanguage = "en"\npatterns = ["a.b (c)"]\n', "lit.toml")
    db = _store(tmp_path / "lit.duckdb", [
        _post("literal", "[synthetic] say a.b (c) now", [], "a"),
        _post("wildcard", "[synthetic] say axb c now", [], "b"),
    ])
    assert set(_rows(db, matched_posts_sql(movement))) == {"literal"}


# --- real data: the GetOldTweets scrape of "#metoo" ---------------------------------------------

AURORA_POSTS = 608_099  # from the data README


@pytest.fixture(scope="module")
def aurora_db(aurora_store: Path) -> str:
    """The whole scrape, ingested once per test session (tests/conftest.py)."""
    return str(aurora_store)


@pytest.mark.realdata
@pytest.mark.slow
def test_nearly_all_of_the_metoo_scrape_matches_by_hashtag(aurora_db: str) -> None:
    result = CliRunner().invoke(main, ["stats", "--db", aurora_db, "--movement", "metoo", "--json"])
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.output)
    assert figures["posts"] == AURORA_POSTS
    movement = figures["movement"]
    assert movement["by_hashtag"]["posts"] >= 0.99 * AURORA_POSTS
    assert movement["matched"]["posts"] + movement["unmatched"]["posts"] == AURORA_POSTS
    assert movement["by_variant"][0]["key"] == "metoo"
