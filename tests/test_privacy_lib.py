"""The privacy library: modes, notability, stable salted pseudonyms, safe file names, XML-safe text.

All names and ids here are synthetic.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundswell.forget import vacuum
from groundswell.privacy import (PrivacyMode, Pseudonymizer, is_notable, load_salt, safe_filename, suppressed,
                                 view_author, xml_safe)
from groundswell.store import Store

LABEL = re.compile(r"^p[0-9a-f]{12}$")


def test_modes_decide_names_and_text():
    assert [m.value for m in PrivacyMode] == ["strict", "standard", "off"]
    assert PrivacyMode("standard") is PrivacyMode.STANDARD
    table = {(m, notable): (m.names(notable), m.shows_text(notable)) for m in PrivacyMode for notable in (True, False)}
    assert table == {
        (PrivacyMode.STRICT, True): (False, False), (PrivacyMode.STRICT, False): (False, False),
        (PrivacyMode.STANDARD, True): (True, True), (PrivacyMode.STANDARD, False): (False, False),
        (PrivacyMode.OFF, True): (True, True), (PrivacyMode.OFF, False): (True, True),
    }
    assert PrivacyMode.STRICT.suppresses_small_cells and PrivacyMode.STANDARD.suppresses_small_cells
    assert not PrivacyMode.OFF.suppresses_small_cells
    assert "OFF" in PrivacyMode.OFF.description and all(m.description for m in PrivacyMode)


@pytest.mark.parametrize("verified, followers, expected", [
    (True, None, True), (True, 0, True), (False, 10_000, True), (None, 9_999, False),
    (False, None, False), (None, "20000", False), (None, True, False), ("yes", 5, False),
])
def test_is_notable(verified, followers, expected):
    assert is_notable(verified, followers) is expected


def test_is_notable_threshold_and_small_cells():
    assert is_notable(False, 500, threshold=500) and not is_notable(False, 499, threshold=500)
    assert [suppressed(n) for n in (0, 1, 4, 5, 9)] == [False, True, True, False, False]
    assert suppressed(9, min_cell=10)


def test_pseudonyms_are_stable_per_store_and_differ_between_stores(tmp_path: Path):
    with Store(str(tmp_path / "a.duckdb")) as store:
        first = Pseudonymizer.for_store(store)
        label = first.author("12345")
    assert LABEL.match(label) and first.stable
    with Store(str(tmp_path / "a.duckdb"), read_only=True) as store:
        again = Pseudonymizer.for_store(store)
        assert again.author("12345") == label and again.stable
    with Store(str(tmp_path / "b.duckdb")) as store:
        other = Pseudonymizer.for_store(store)
    assert other.author("12345") != label
    assert first.handle("@Synthetic_User") == first.handle("synthetic_user") != first.author("synthetic_user")


def test_labels_match_the_report_sql(tmp_path: Path):
    """One person, one label: Python and SQL (privacy.pseudonym_sql) compute the same thing."""
    from groundswell.privacy import pseudonym_sql, salt

    with Store(str(tmp_path / "r.duckdb")) as store:
        pseudonyms = Pseudonymizer.for_store(store)
        ids = ["1", "987654321", "did:plc:synthetic", "https://example.social/users/synthetic"]
        values = ", ".join(f"('{i}')" for i in ids)
        sql = f"SELECT {pseudonym_sql(salt(store.sql, False))} FROM (VALUES {values}) t(author_id)"
        assert [row[0] for row in store.sql(sql)] == [pseudonyms.author(i) for i in ids]


def test_salt_is_secret_random_and_survives_vacuum(tmp_path: Path):
    db = tmp_path / "s.duckdb"
    with Store(str(db)) as store:
        salt = load_salt(store.sql)
        label = Pseudonymizer.for_store(store).author("1")
    assert salt is not None and re.fullmatch(r"[0-9a-f]{64}", salt) and len(set(salt)) > 8
    assert salt not in repr(Pseudonymizer(salt)) and salt[:12] not in label
    with Store(str(tmp_path / "other.duckdb")) as store:
        assert load_salt(store.sql) != salt
    vacuum(str(db))
    with Store(str(db), read_only=True) as store:
        assert Pseudonymizer.for_store(store).author("1") == label


def test_a_read_only_store_without_salt_gets_throwaway_labels(tmp_path: Path):
    db = tmp_path / "old.duckdb"
    with Store(str(db)) as store:
        store.con.execute("DELETE FROM meta WHERE key = 'pseudonym_salt'")  # a store from before salts existed
    with Store(str(db), read_only=True) as store:
        pseudonyms = Pseudonymizer.for_store(store)
    assert not pseudonyms.stable and LABEL.match(pseudonyms.author("1"))
    with pytest.raises(ValueError):
        Pseudonymizer("short")


def test_labels_do_not_collide_on_many_ids():
    pseudonyms = Pseudonymizer(os.urandom(32).hex())
    labels = {pseudonyms.author(str(n)) for n in range(50_000)}
    assert len(labels) == 50_000


def test_view_author_names_only_whom_the_mode_allows():
    pseudonyms = Pseudonymizer("01" * 32)
    notable = dict(author_id="9", handle="synthetic_star", verified=True, followers=50)
    ordinary = dict(author_id="8", handle="synthetic_person", verified=False, followers=20)
    standard_star = view_author(PrivacyMode.STANDARD, pseudonyms, **notable)
    assert standard_star.label == "synthetic_star" and standard_star.named and standard_star.text_allowed
    standard_person = view_author(PrivacyMode.STANDARD, pseudonyms, **ordinary)
    assert standard_person.label == pseudonyms.author("8") and not standard_person.text_allowed
    strict_star = view_author(PrivacyMode.STRICT, pseudonyms, **notable)
    assert LABEL.match(strict_star.label) and not strict_star.named and not strict_star.text_allowed
    assert view_author(PrivacyMode.OFF, pseudonyms, **ordinary).label == "synthetic_person"


@pytest.mark.parametrize("name, expected", [
    ("MeToo", "MeToo"), ("YoTambién", "YoTambién"), ("وأنا_كمان", "وأنا_كمان"), ("balance-ton-porc", "balance-ton-porc"),
])
def test_ordinary_names_stay_as_they_are(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", [
    "../../etc/passwd", "a/b", "a\\b", ".hidden", "-rf", "CON", "nul", "x\x00y", "tab\there", "\u202eevil\u202c",
    "", "   ", "a:b*c?d\"e<f>g|h", "é" * 300, "\ud800lone",
])
def test_hostile_names_become_safe(name):
    safe = safe_filename(name)
    assert safe and not safe.startswith((".", "-"))
    assert re.fullmatch(r"[\w\-]+", safe)  # no separator, dot, control or bidi override
    assert len(safe.encode("utf-8")) <= 120  # encodes: no lone surrogate survives
    assert safe.split("-")[0].lower() not in {"con", "nul"}


def test_changed_names_do_not_collide():
    assert safe_filename("a/b") != safe_filename("a:b")
    assert safe_filename("a/b") == safe_filename("a/b")


@settings(max_examples=200, derandomize=True)
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=200))
def test_any_filename_is_safe(name):
    safe = safe_filename(name)
    assert re.fullmatch(r"[\w\-]+", safe) and len(safe.encode("utf-8")) <= 120
    assert not safe.startswith(("-", "."))


def test_xml_safe_drops_what_xml_forbids():
    hostile = "ok\x00\x01\x08\x0b\x0c\x1f\x7f\x85\x9f\ud800\udfff\ufffe\uffff end\t\n\r 😀 é"
    assert xml_safe(hostile) == "ok end\t\n\r 😀 é"


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=100))
def test_any_text_made_xml_safe_parses(text):
    cleaned = xml_safe(text)
    document = ET.Element("graph")
    ET.SubElement(document, "node", label=cleaned).text = cleaned
    raw = ET.tostring(document, encoding="utf-8")
    parsed = ET.fromstring(raw)  # expat rejects any character XML 1.0 forbids
    assert (parsed[0].text or "") == cleaned.replace("\r\n", "\n").replace("\r", "\n")
