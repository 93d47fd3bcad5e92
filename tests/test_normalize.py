"""The matching key: which spellings of a hashtag are one tag. All inputs are synthetic."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundswell.movement.normalize import hashtag_key

ROOT = Path(__file__).resolve().parents[1]


def test_accents_fold_by_default_and_stay_without_folding():
    assert hashtag_key("YoTambién") == hashtag_key("YoTambien")
    assert hashtag_key("YoTambién", fold_accents=False) != hashtag_key("YoTambien", fold_accents=False)


def test_composed_and_decomposed_accents_are_one_key_even_without_folding():
    assert hashtag_key("YoTambie\u0301n", fold_accents=False) == hashtag_key("YoTambién", fold_accents=False)


@pytest.mark.parametrize("tag", ["ＭｅＴｏｏ", "METOO", "metoo", "MeToo", "#MeToo", "＃MeToo"])
def test_width_case_and_hash_signs(tag):
    assert hashtag_key(tag) == "metoo"


def test_tatweel_is_not_part_of_the_key():
    assert hashtag_key("مـــي_تو") == hashtag_key("مي_تو")
    assert "\u0640" not in hashtag_key("مـــي_تو", fold_accents=False)


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u200f", "\u00ad"])
@pytest.mark.parametrize("where", [0, 2, 5])
def test_zero_width_and_bidi_characters_vanish(invisible, where):
    tag = "MeToo"[:where] + invisible + "MeToo"[where:]
    assert hashtag_key(tag) == hashtag_key("MeToo")


def test_turkish_dotted_capital_i():
    """Language-neutral casefold gives i + U+0307; accent folding then drops the dot."""
    assert hashtag_key("İstanbul") == hashtag_key("istanbul") == hashtag_key("Istanbul")
    assert hashtag_key("İstanbul", fold_accents=False) != hashtag_key("istanbul", fold_accents=False)


def test_turkish_dotless_i_stays_a_letter_of_its_own():
    assert hashtag_key("ılık") != hashtag_key("ilik")
    assert hashtag_key("ILIK") == hashtag_key("ilik")


@pytest.mark.parametrize(("voiced", "plain"), [("が", "か"), ("ガ", "カ"), ("ぱ", "は"), ("ﾊﾟ", "ﾊ")])
def test_japanese_voiced_marks_are_kept(voiced, plain):
    assert hashtag_key(voiced) != hashtag_key(plain)


def test_half_width_kana_join_their_voiced_mark():
    assert hashtag_key("ｶﾞ") == hashtag_key("ガ")


@pytest.mark.parametrize(("marked", "bare"), [
    ("مُحَمَّد", "محمد"),  # damma, fatha, shadda
    ("أنا", "انا"),  # hamza above alef
    ("إيران", "ايران"),  # hamza below alef
    ("آمن", "امن"),  # madda
    ("مؤمن", "مومن"),  # hamza on waw
    ("سائق", "سايق"),  # hamza on ya
    ("الرَّحْمٰن", "الرحمن"),  # sukun and superscript alef
])
def test_arabic_harakat_and_hamza_fold(marked, bare):
    assert hashtag_key(marked) == hashtag_key(bare)
    assert hashtag_key(marked, fold_accents=False) != hashtag_key(bare, fold_accents=False)


def test_standalone_hamza_is_a_letter():
    assert hashtag_key("سماء") != hashtag_key("سما")


def test_cyrillic():
    assert hashtag_key("Ятоже") == hashtag_key("ЯТОЖЕ") == hashtag_key("ятоже") == "ятоже"
    assert hashtag_key("Я_тоже") != hashtag_key("Ятоже")


def test_chinese_is_unchanged():
    assert hashtag_key("米兔") == "米兔"
    assert hashtag_key("米兔") != hashtag_key("米")


def test_indic_vowel_signs_are_kept():
    assert hashtag_key("मीटू") != hashtag_key("मटू")


def test_docs_examples_hold():
    doc = (ROOT / "docs" / "matching.md").read_text(encoding="utf-8")
    table = doc.split("<!-- examples: hashtag_key -->\n", 1)[1].split("\n\n", 1)[0]
    rows = [re.findall(r"`([^`]*)`", line)[:2] for line in table.splitlines()[2:]]
    assert len(rows) >= 8
    for tag, key in rows:
        assert hashtag_key(tag) == key, tag


@given(st.text(), st.booleans())
def test_key_is_idempotent(tag, fold):
    key = hashtag_key(tag, fold_accents=fold)
    assert hashtag_key(key, fold_accents=fold) == key


@pytest.mark.parametrize("tag", ["\ufe5fa", "\u200b#a", "a#\u200b"])
def test_key_is_idempotent_around_number_signs(tag):
    key = hashtag_key(tag)
    assert hashtag_key(key) == key


@given(st.text(alphabet=string.printable))
def test_ascii_key_ignores_case(tag):
    assert hashtag_key(tag) == hashtag_key(tag.upper())


def test_cyrillic_short_i_is_its_own_letter():
    assert hashtag_key("Йога") != hashtag_key("Иога")
    assert hashtag_key("Ёлка") == hashtag_key("Елка")
