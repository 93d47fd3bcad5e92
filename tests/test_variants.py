"""Variant discovery: co-occurrence counts and scores, spelling relatives, ranking, the note.

The corpus below is synthetic; the expected counts, scores and order are worked out by hand
from the definitions in docs/movements.md.
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.movement.definition import from_seeds
from groundswell.movement.normalize import hashtag_key
from groundswell.movement.variants import suggest
from groundswell.store import Store

# (hashtags, how many collected posts carry exactly these)
CORPUS = [
    (["metoo", "timesup"], 6), (["timesup"], 2),
    (["MeToo", "news"], 3), (["news"], 5),
    (["metooo"], 2),
    (["metoo", "ChurchToo"], 1), (["churchtoo"], 2),
    (["metoo", "MeTooK12"], 2),
    (["metoo"], 4),
    (["tattoo"], 3),
    ([], 4),
]
N = sum(n for _, n in CORPUS)  # 34 collected posts
N_M = 6 + 3 + 1 + 2 + 4  # 16 carry #metoo


def _write(path: Path, corpus: list[tuple[list[str], int]]) -> str:
    posts, serial = [], 0
    for tags, count in corpus:
        for _ in range(count):
            serial += 1
            posts.append(new_post(platform="twitter", post_id=str(serial), author_id=f"u{serial % 5}", kind="original",
                                  text="[synthetic] " + " ".join("#" + t for t in tags), hashtags=tags,
                                  hashtag_keys=[hashtag_key(t) for t in tags], collected=True, version_id=str(serial)))
    # Known only through a reference: not part of any count.
    posts.append(new_post(platform="twitter", post_id="ref", text="[synthetic]", hashtags=["metoo", "news"],
                          hashtag_keys=["metoo", "news"], collected=False, version_id="ref"))
    with Store(str(path)) as store:
        store.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA))
    return str(path)


@pytest.fixture
def corpus_db(tmp_path: Path) -> str:
    return _write(tmp_path / "corpus.duckdb", CORPUS)


def _suggest(db: str, **options) -> dict:
    with Store(db, read_only=True) as store:
        return suggest(store.sql, from_seeds(["metoo"]), **options)


def test_counts_and_scores(corpus_db: str) -> None:
    result = _suggest(corpus_db, min_count=1, suffixes=("too",))
    assert (result["collected_posts"], result["posts_with_movement_tag"]) == (N, N_M)
    found = {s["key"]: s for s in result["suggestions"]}
    timesup = found["timesup"]
    assert (timesup["posts"], timesup["with_movement"]) == (8, 6)
    assert timesup["share"] == 0.75
    assert timesup["lift"] == round(6 * N / (8 * N_M), 4)
    assert timesup["pmi"] == round(math.log2(6 * N / (8 * N_M)), 4)
    assert found["news"]["lift"] == round(3 * N / (8 * N_M), 4)  # below 1: used less with the movement
    assert found["metooo"]["lift"] is None and found["metooo"]["with_movement"] == 0
    assert "metoo" not in found


def test_reasons(corpus_db: str) -> None:
    found = {s["key"]: s["reasons"] for s in _suggest(corpus_db, min_count=1, suffixes=("too",))["suggestions"]}
    assert found["metooo"] == ["spelled like metoo (edit distance 1)", "contains metoo"]
    assert found["churchtoo"] == ["co-occurs with the movement's tags in 1 posts", "ends in -too"]
    assert found["metook12"] == ["co-occurs with the movement's tags in 2 posts", "contains metoo"]
    assert found["tattoo"] == ["ends in -too"]
    assert found["timesup"] == ["co-occurs with the movement's tags in 6 posts"]


def test_ranking_alternates_association_and_form(corpus_db: str) -> None:
    # association (n_tm × share): timesup 4.5, metook12 2, news 1.125, churchtoo 1/3, tattoo 0, metooo 0
    # form: metook12, churchtoo, tattoo (3 posts), metooo (2 posts)
    keys = [s["key"] for s in _suggest(corpus_db, min_count=1, suffixes=("too",))["suggestions"]]
    assert keys == ["timesup", "metook12", "news", "churchtoo", "tattoo", "metooo"]
    assert [s["key"] for s in _suggest(corpus_db, min_count=1, suffixes=("too",), top=3)["suggestions"]] == keys[:3]


def test_min_count_and_suffixes_filter(corpus_db: str) -> None:
    keys = {s["key"] for s in _suggest(corpus_db, min_count=3, suffixes=("too",))["suggestions"]}
    assert keys == {"timesup", "news", "churchtoo", "tattoo"}
    keys = {s["key"] for s in _suggest(corpus_db, min_count=1, suffixes=())["suggestions"]}
    assert keys == {"timesup", "news", "churchtoo", "metook12", "metooo"}


def test_note_warns_when_the_corpus_was_searched_by_the_seed(corpus_db: str, tmp_path: Path) -> None:
    mixed = _suggest(corpus_db, min_count=1)
    assert mixed["saturated"] is False and "lift ≈ 1" not in mixed["note"]
    searched = _write(tmp_path / "searched.duckdb", [(["metoo", "timesup"], 5), (["metoo"], 5)])
    result = _suggest(searched, min_count=1)
    assert result["saturated"] is True and result["coverage"] == 1.0
    assert "lift ≈ 1" in result["note"] and result["suggestions"][0]["lift"] == 1.0


def test_cli_seed_borrows_the_builtin_suffixes(corpus_db: str) -> None:
    result = CliRunner().invoke(main, ["variants", "--db", corpus_db, "--seed", "#MeToo", "--min-count", "1", "--json"])
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.output)
    raw = tomllib.loads((resources.files("groundswell.movement") / "builtin" / "metoo.toml").read_text("utf-8"))
    assert document["suffixes"] == raw["suffixes"]
    assert {"churchtoo", "tattoo"} <= {s["key"] for s in document["suggestions"]}
    text = CliRunner().invoke(main, ["variants", "--db", corpus_db, "--seed", "metoo", "--min-count", "1"])
    assert text.exit_code == 0 and text.output.splitlines()[1].startswith("note: ")


def test_cli_needs_exactly_one_of_movement_and_seed(corpus_db: str) -> None:
    result = CliRunner().invoke(main, ["variants", "--db", corpus_db])
    assert (result.exit_code, result.output) == (1, "Error: give --movement NAME|FILE or at least one --seed HASHTAG\n")
    result = CliRunner().invoke(main, ["variants", "--db", corpus_db, "--movement", "metoo", "--seed", "x"])
    assert (result.exit_code, result.output) == (1, "Error: give --movement or --seed, not both\n")


def test_movement_keys_are_never_suggested(corpus_db: str) -> None:
    result = CliRunner().invoke(main, ["variants", "--db", corpus_db, "--movement", "metoo", "--min-count", "1", "--json"])
    keys = {s["key"] for s in orjson.loads(result.output)["suggestions"]}
    assert keys == {"news", "metooo", "tattoo"}  # timesup, churchtoo and metook12 are in the built-in


# --- real data: the GetOldTweets scrape of "#metoo" ---------------------------------------------



@pytest.fixture(scope="module")
def aurora_db(aurora_store: Path) -> str:
    """The whole scrape, ingested once per test session (tests/conftest.py)."""
    return str(aurora_store)


@pytest.mark.realdata
@pytest.mark.slow
def test_seed_metoo_finds_known_relatives_in_the_scrape(aurora_db: str) -> None:
    result = CliRunner().invoke(main, ["variants", "--db", aurora_db, "--seed", "metoo", "--json"])
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.output)
    assert document["saturated"] is True
    top = [s["key"] for s in document["suggestions"][:15]]
    assert {"balancetonporc", "churchtoo", "timesup"} <= set(top), top
