"""The hashtag extractor: Twitter's own conformance suite, the traps found in real data, and properties.

The conformance cases are read at run time from ../shared/data/twitter-text-conformance
(twitter/twitter-text, Apache-2.0). Every other input in this file is synthetic, written for
these tests; none is taken from a real post.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from groundswell.movement.extract import SPECIALS, extract_hashtags, extract_hashtags_with_indices
from groundswell.movement.normalize import hashtag_key

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT.parent / "shared" / "data" / "twitter-text-conformance"
HASHES = "#＃"

# Conformance cases we deliberately do not follow, by test id, with the reason. Also listed in
# docs/matching.md. Empty: the extractor passes the whole hashtag suite.
DIVERGENCES: dict[str, str] = {}


def _load(name: str) -> dict | None:
    path = SUITE / name
    return yaml.safe_load(path.read_text(encoding="utf-8"))["tests"] if path.is_file() else None


def _params(name: str, select) -> list:
    """One param per case, id = section-index; a lone placeholder when the suite is absent."""
    tests = _load(name)
    if tests is None:
        return [pytest.param(None, None, id=f"{name}-absent")]
    params = []
    for section in filter(select, tests):
        for index, case in enumerate(tests[section]):
            case_id = f"{section}-{index}"
            marks = [pytest.mark.xfail(strict=True, reason=DIVERGENCES[case_id])] if case_id in DIVERGENCES else []
            params.append(pytest.param(section, case, id=case_id, marks=marks))
    return params


def _expected(section: str, case: dict) -> list[tuple[str, int, int]] | list[str]:
    if section.endswith("_with_indices"):
        return [(item["hashtag"], *item["indices"]) for item in case["expected"]]
    return case["expected"]


def _first_by_key(tags: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for tag in tags:
        seen.setdefault(hashtag_key(tag), tag)
    return list(seen.values())


EXTRACT_CASES = _params("extract.yml", lambda section: "hashtag" in section)
VALIDATE_CASES = _params("validate.yml", lambda section: section == "hashtags")


def test_conformance_suite_has_the_hashtag_sections(shared_data):
    tests = _load("extract.yml")
    assert tests is not None, "twitter-text-conformance/extract.yml is missing from the shared data"
    sections = {name for name in tests if "hashtag" in name}
    assert {"hashtags", "hashtags_from_astral", "hashtags_with_indices"} <= sections
    assert len(EXTRACT_CASES) == sum(len(tests[name]) for name in sections) > 60


@pytest.mark.parametrize(("section", "case"), EXTRACT_CASES)
def test_twitter_text_conformance(shared_data, section, case):
    assert case is not None, "twitter-text-conformance/extract.yml is missing from the shared data"
    found = extract_hashtags_with_indices(case["text"])
    if not section.endswith("_with_indices"):
        found = [tag for tag, _, _ in found]
    assert found == _expected(section, case)


@pytest.mark.parametrize(("section", "case"), EXTRACT_CASES)
def test_conformance_through_the_public_function(shared_data, section, case):
    """The extensions (always on in extract_hashtags) change no Twitter case; duplicates go by key."""
    assert case is not None, "twitter-text-conformance/extract.yml is missing from the shared data"
    expected = _expected(section, case)
    tags = [item[0] for item in expected] if section.endswith("_with_indices") else expected
    assert extract_hashtags(case["text"]) == _first_by_key(tags)


@pytest.mark.parametrize(("section", "case"), VALIDATE_CASES)
def test_twitter_text_hashtag_validation(shared_data, section, case):
    """twitter-text's isValidHashtag: the whole string is exactly one hashtag."""
    assert case is not None, "twitter-text-conformance/validate.yml is missing from the shared data"
    text = case["text"]
    assert (extract_hashtags_with_indices(text) == [(text[1:], 0, len(text))]) is case["expected"]


# --- Traps seen in real data and in other extractors (synthetic inputs) ---

@pytest.mark.parametrize("text", ["#YoTambién", "#YoTambie\u0301n", "Yo también #YoTambién."])
def test_accented_tags_are_kept_whole(text):
    """Precomposed or with a combining accent, the tag is never cut to `YoTambi`."""
    tag = unicodedata.normalize("NFC", extract_hashtags(text)[0])
    assert tag == "YoTambién"


@pytest.mark.parametrize(("text", "tags"), [
    ("#أنا_أيضا", ["أنا_أيضا"]),
    ("كلام #مي_تو كلام", ["مي_تو"]),
    ("#مـــي_تو", ["مـــي_تو"]),  # tatweel (U+0640) inside the word is kept in the displayed tag
    ("#۳۴۵هشتگ", ["۳۴۵هشتگ"]),
])
def test_arabic_tags(text, tags):
    assert extract_hashtags(text) == tags


def test_tatweel_does_not_change_the_key():
    assert hashtag_key(extract_hashtags("#مـــي_تو")[0]) == hashtag_key(extract_hashtags("#مي_تو")[0])


@pytest.mark.parametrize(("text", "tags"), [
    ("أنا_أيضا#", ["أنا_أيضا"]),
    ("كلام أنا_أيضا# كلام", ["أنا_أيضا"]),
    ("(أنا_أيضا#)", ["أنا_أيضا"]),
    ("גם_אני#", ["גם_אני"]),
    ("#أنا_أيضا#", ["أنا_أيضا"]),  # `#tag#` counts once
    ("أنا_أيضا# #أنا_أيضا", ["أنا_أيضا"]),
    ("أنا_أيضا# #MeToo", ["أنا_أيضا", "MeToo"]),
    ("#MeToo أنا_أيضا#", ["MeToo", "أنا_أيضا"]),
])
def test_rtl_trailing_hash_extension(text, tags):
    assert extract_hashtags(text) == tags


@pytest.mark.parametrize("text", [
    "MeToo# yes",  # no right-to-left letter: not a tag
    "أنا_أيضا#كلام",  # `#` followed by a letter: no boundary
    "أنا_أيضا##",
    "&أنا#",  # after `&`, like twitter-text's rule for `#`
    "١٢٣#",  # digits only
])
def test_rtl_trailing_hash_needs_rtl_letters_and_a_boundary(text):
    assert extract_hashtags(text) == []


def test_rtl_trailing_hash_is_off_in_the_twitter_semantics():
    assert extract_hashtags_with_indices("أنا_أيضا# x") == []
    assert extract_hashtags_with_indices("أنا_أيضا# x", rtl_trailing=True) == [("أنا_أيضا", 0, 9)]


def test_a_typed_space_ends_the_tag():
    """The platform linked only `#Me`; the phrase is the movement matcher's job."""
    assert extract_hashtags("#Me Too") == ["Me"]


@pytest.mark.parametrize(("text", "default", "spaced"), [
    ("# MeToo", [], ["MeToo"]),
    ("yes # MeToo and #MeToo", ["MeToo"], ["MeToo"]),
    ("#  MeToo", [], []),  # two spaces
    ("C# MeToo", [], []),  # `#` glued to a word
    ("# 2017", [], []),  # digits only
    ("# MeToo#", [], []),  # followed by `#`, as for any tag
    # GetOldTweets drops the space before a link: the glued link prefix is cut off
    ("# MeToohttps://example.com/x", [], ["MeToo"]),
    ("#MeTooHTTP://example.com", [], ["MeToo"]),
    ("# MeToopic.twitter.com/abc", [], ["MeToo"]),
    ("#MeToopic.twitter.com/abc", ["MeToopic"], ["MeToo"]),
    ("# https://example.com", [], []),
    ("# pic.twitter.com/abc", [], []),
])
def test_spaced_hash_only_when_asked(text, default, spaced):
    """`spaced_hash` is the GetOldTweets switch: `# tag`, and links glued onto the last word."""
    assert extract_hashtags(text) == default
    assert extract_hashtags(text, spaced_hash=True) == spaced


@pytest.mark.parametrize(("text", "tags"), [
    ("https://example.com/page#anchor", []),
    ("example.com/#tag", []),
    ("see https://example.com/#tag and #real", ["real"]),
    ("http://example.com/a,#tag", []),
    ("http://example.com/search?q=x#tag", []),
    ("http://example.com/a)#tag", ["tag"]),  # an unbalanced `)` ends a URL, as in twitter-text
    ("example.com #tag", ["tag"]),
    ("and/or #tag", ["tag"]),
    ("#https://example.com", []),
])
def test_hashtags_inside_urls_do_not_count(text, tags):
    assert extract_hashtags(text) == tags


@pytest.mark.parametrize("text", ["#123", "#0", "#_", "#1_2", "#١٢٣"])
def test_digits_only_is_not_a_tag(text):
    assert extract_hashtags(text) == []


@pytest.mark.parametrize(("text", "tags"), [
    ("✊🏽#MeToo", ["MeToo"]),
    ("#MeToo🙌", ["MeToo"]),
    ("#MeToo✊#YoTambién", ["MeToo", "YoTambién"]),
    ("❤️#MeToo", ["MeToo"]),  # after an emoji's variation selector
    ("#️⃣", []),  # keycap number sign
    ("a#MeToo", []),
    ("&#35;MeToo", []),
])
def test_emoji_and_neighbours(text, tags):
    assert extract_hashtags(text) == tags


def test_full_width_hash_sign_and_letters():
    assert extract_hashtags("＃ＭｅＴｏｏ です") == ["ＭｅＴｏｏ"]
    assert hashtag_key("ＭｅＴｏｏ") == hashtag_key("MeToo")


def test_duplicates_by_key_count_once_but_indices_keep_them():
    text = "#MeToo and #metoo and #ＭｅＴｏｏ and #MeToo"
    assert extract_hashtags(text) == ["MeToo"]
    assert [tag for tag, _, _ in extract_hashtags_with_indices(text)] == ["MeToo", "metoo", "ＭｅＴｏｏ", "MeToo"]


def test_accent_variants_are_one_tag_unless_folding_is_off():
    assert extract_hashtags("#YoTambién #YoTambien") == ["YoTambién"]
    assert extract_hashtags("#YoTambién #YoTambien", fold_accents=False) == ["YoTambién", "YoTambien"]


# --- The documented examples are true ---

def _doc_rows(marker: str) -> list[tuple[str, list[str]]]:
    """(text, tags) from the table after `<!-- examples: marker -->` in docs/matching.md."""
    doc = (ROOT / "docs" / "matching.md").read_text(encoding="utf-8")
    table = doc.split(f"<!-- examples: {marker} -->\n", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        text_cell, tags_cell = line.strip("|").split("|")[:2]
        rows.append((re.findall(r"`([^`]*)`", text_cell)[0], re.findall(r"`([^`]*)`", tags_cell)))
    return rows


@pytest.mark.parametrize("marker", ["extract_hashtags", "extract_hashtags spaced_hash=True"])
def test_docs_examples_hold(marker):
    rows = _doc_rows(marker)
    assert len(rows) >= 5
    for text, tags in rows:
        assert extract_hashtags(text, spaced_hash=marker.endswith("True")) == tags, text


# --- Properties ---

# twitter-text counts these private-use code points as letters.
TWITTER_PRIVATE_USE = {*range(0xF870, 0xF880), 0xF882, *range(0xF884, 0xF8A0), 0xF8B8, *range(0xF8C1, 0xF8D7)}


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" or ord(char) in TWITTER_PRIVATE_USE


def _is_tag_char(char: str) -> bool:
    return _is_letter(char) or unicodedata.category(char) == "Nd" or char in SPECIALS


def _reference_match(text: str, pos: int) -> tuple[int, int] | None:
    """twitter-text's VALID_HASHTAG, found from `pos` as Java's Matcher.find does, character by
    character: the start of text or a boundary character is consumed before the `#`."""
    for at in range(pos, len(text)):
        for hash_at in ([at] if at == 0 else []) + [at + 1]:
            if hash_at == at + 1:
                before = text[at]
                if not (before in "\ufe0e\ufe0f" or (before != "&" and not _is_tag_char(before))):
                    continue
            if hash_at >= len(text) or text[hash_at] not in HASHES:
                continue
            if text[hash_at + 1:hash_at + 2] in ("\ufe0f", "\u20e3"):
                continue
            end = hash_at + 1
            while end < len(text) and _is_tag_char(text[end]):
                end += 1
            if any(_is_letter(char) for char in text[hash_at + 1:end]):
                return hash_at, end
    return None


def _reference(text: str) -> list[tuple[str, int, int]]:
    """twitter-text's extraction loop: a match followed by `#` or `://` is dropped, and the
    scan resumes after it either way."""
    found, pos = [], 0
    while (match := _reference_match(text, pos)) is not None:
        hash_at, end = match
        if not text.startswith(("#", "＃", "://"), end):
            found.append((text[hash_at + 1:end], hash_at, end))
        pos = end
    return found


# No `.`, so no URL can form: what is left is the hashtag scan itself.
TRICKY = st.text(alphabet=st.sampled_from([
    "#", "＃", " ", "&", "a", "Z", "1", "٣", "_", "\u200c", "\u0301", "é", "ع", "ـ", "\ufe0e", "\ufe0f",
    "\u20e3", "/", ":", "\U00020021", "\U0001f600", "\U000104a0", "·", "。", "\n", "!", "\uf870",
]), max_size=40)


@settings(max_examples=400)
@given(TRICKY)
@example("#a\ufe0f#b")  # the selector ends a dropped match, and twitter-text consumed it
@example("#a\ufe0f#b #c")
@example("##1a")
@example("#12#ab")
@example("#1\ufe0f")  # U+FE0F is a mark, so it is the tag's letter
def test_scan_matches_a_plain_transliteration_of_twitter_text(text):
    assert extract_hashtags_with_indices(text) == _reference(text)


def test_a_selector_that_ends_a_dropped_match_is_no_boundary():
    """twitter-text consumed the character before `#` as part of a match."""
    assert extract_hashtags_with_indices("#a\ufe0f#b #c") == [("c", 6, 8)]


@given(st.one_of(st.text(), TRICKY), st.booleans())
def test_never_raises_and_every_tag_is_in_the_text(text, spaced):
    tags = extract_hashtags(text, spaced_hash=spaced)
    assert all(tag and tag in text for tag in tags)
    assert len({hashtag_key(tag) for tag in tags}) == len(tags)
    for tag, start, end in extract_hashtags_with_indices(text, spaced_hash=spaced, rtl_trailing=True):
        leading = text[start] in HASHES and text[end - len(tag):end] == tag
        trailing = text[end - 1] in HASHES and text[start:end - 1] == tag
        assert leading or trailing


def test_character_classes_match_the_unicode_definition():
    """Every code point in the scanned planes, checked against unicodedata one by one: is it a
    tag character, a letter, a boundary before `#` (twitter-text: L, M, Nd and the specials)."""
    wrong = []
    for cp in [*range(0x40000), *range(0xE0000, 0xE0200)]:
        char = chr(cp)
        tag_char = _is_tag_char(char)
        if (extract_hashtags_with_indices("#a" + char) == [("a" + char, 0, 3)]) is not tag_char:
            wrong.append((hex(cp), "tag char"))
        if tag_char and bool(extract_hashtags_with_indices("#1" + char)) is not _is_letter(char):
            wrong.append((hex(cp), "letter"))
        boundary = char in "\ufe0e\ufe0f" or not (tag_char or char == "&")
        if bool(extract_hashtags_with_indices(char + "#a")) is not boundary:
            wrong.append((hex(cp), "boundary"))
    assert wrong == []
