"""Which posts belong to a movement: SQL the engine runs over the post table, never a Python
loop over rows. See docs/movements.md for the rules.

A post matches by hashtag when one of its `hashtag_keys` is a movement key, and by phrase
when its text says a movement phrase as whole words, outside every hashtag, mention and
URL. Phrases compile to RE2 regular expressions (DuckDB's regex engine), one for all
phrases and one per family: RE2's `\\b` only knows ASCII, so word edges are spelled with
Unicode classes, and each letter becomes the class of every character with the same hashtag
key (case, width, accents), so a phrase is compared the way tags are.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from .definition import Movement
from .normalize import INVISIBLE, hashtag_key

# Hashtags (with the space GetOldTweets puts after '#'), mentions, RTL tags written with a
# trailing '#', and URLs: phrases inside them do not count. Each becomes one placeholder
# character that is neither a letter nor a space, so no new phrase appears where one is cut.
PLACEHOLDER = "\ufffc"
APOSTROPHES = "'\u2018\u2019\u02bc\uff07"
# Scripts written without spaces between words: no word-edge test there.
UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN", "HALFWIDTH KATAKANA")
# Characters whose hashtag key is one letter, searched to build each letter's class.
_CLASS_RANGES = ((0x20, 0x24F), (0x370, 0x52F), (0x600, 0x6FF), (0x1E00, 0x1FFF),
                 (0xFB50, 0xFDFF), (0xFE70, 0xFEFF), (0xFF01, 0xFF5E), (0x1D400, 0x1D7FF))
_LATIN_MARKS = (0x0300, 0x036F)
_ARABIC_MARKS = ((0x064B, 0x065F), (0x0670, 0x0670))


@dataclass(frozen=True)
class Dialect:
    """The few regex spellings that differ between RE2 (DuckDB) and Python's `re`."""

    name: str
    before: str  # a word starts here
    after: str  # a word ends here
    space: str  # one whitespace character
    nonspace: str
    rtl: str  # a right-to-left letter

    def char(self, code: int) -> str:
        if self.name == "re2":
            return f"\\x{{{code:04X}}}"
        return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


RE2 = Dialect("re2", r"(?:^|[^\p{L}\p{M}\p{N}_])", r"(?:[^\p{L}\p{M}\p{N}_]|$)", r"[\s\p{Z}]", r"[^\s\p{Z}]",
              r"[\p{Arabic}\p{Hebrew}\p{Syriac}\p{Thaana}]")
PYTHON = Dialect("python", r"(?<!\w)", r"(?!\w)", r"\s", r"\S",
                 "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def mask_regex(dialect: Dialect = RE2) -> str:
    """What is cut from a text before phrases are looked for (see PLACEHOLDER)."""
    ns, d = dialect.nonspace, dialect
    tag = f"[#\uff03@\uff20] ?{ns}+"
    rtl_tag = f"[^\\s#\uff03]*{d.rtl}[^\\s#\uff03]*[#\uff03]"
    url = f"(?i:https?://|www\\.){ns}+"
    return f"(?:{url}|{rtl_tag}|{tag})"


def phrase_regex(patterns: Iterable[str], fold: bool = True, dialect: Dialect = RE2) -> str:
    """One case-insensitive expression matching any of the patterns as whole words.

    Patterns that share word-edge tests share one copy of them: repeating RE2's large
    Unicode edge classes in every alternative makes its DFA blow up (200 times slower).
    """
    groups: dict[tuple[bool, bool], dict[str, None]] = {}
    for pattern in patterns:
        words = unicodedata.normalize("NFC", pattern).split()
        edges = (_spaced_word_char(words[0][0]), _spaced_word_char(words[-1][-1]))
        groups.setdefault(edges, {})[_body(words, fold, dialect)] = None
    alternatives = [
        (dialect.before if start else "") + "(?:" + "|".join(bodies) + ")" + (dialect.after if end else "")
        for (start, end), bodies in sorted(groups.items(), reverse=True)
    ]
    return "(?i)(?:" + "|".join(alternatives) + ")"


def _body(words: list[str], fold: bool, d: Dialect) -> str:
    ignorable = _ignorable(fold, d)
    gap = f"(?:{d.space}|[{_invisible(d)}])*{d.space}(?:{d.space}|[{_invisible(d)}])*"
    body = gap.join(f"(?:{ignorable})*".join(_char_class(ch, fold, d) for ch in word) for word in words)
    return body + (f"[{_marks(d)}]*" if fold else "")


def _spaced_word_char(char: str) -> bool:
    if not (char.isalnum() or char == "_"):
        return False
    return not unicodedata.name(char, "").startswith(UNSPACED)


def _invisible(d: Dialect) -> str:
    return _ranges(sorted(INVISIBLE), d)


def _marks(d: Dialect) -> str:
    ranges = (_LATIN_MARKS, *_ARABIC_MARKS)
    return "".join(f"{d.char(lo)}-{d.char(hi)}" if lo != hi else d.char(lo) for lo, hi in ranges)


def _ignorable(fold: bool, d: Dialect) -> str:
    """Between two letters of a phrase: invisible characters, and accents when folding."""
    return f"[{_invisible(d)}{_marks(d) if fold else ''}]"


def _char_class(char: str, fold: bool, d: Dialect) -> str:
    if char in APOSTROPHES:
        members = set(APOSTROPHES)
    else:
        key = hashtag_key.__wrapped__(char, fold)
        members = {char} | (_equivalents(fold).get(key, set()) if len(key) == 1 else set())
    if len(members) == 1 and char.isascii() and char.isalnum():
        return char
    return "[" + _ranges(sorted(ord(m) for m in members), d) + "]"


def _ranges(codes: list[int], d: Dialect) -> str:
    """Class members with runs written as ranges, which keeps the expression short."""
    out: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code == previous + 1:
            previous = code
            continue
        out.append(d.char(start) if start == previous else f"{d.char(start)}-{d.char(previous)}")
        start = previous = code
    return "".join(out)


@lru_cache(maxsize=2)
def _equivalents(fold: bool) -> dict[str, set[str]]:
    """Every character whose hashtag key is one given letter: 'e' → e, E, é, ｅ, 𝐞..."""
    table: dict[str, set[str]] = defaultdict(set)
    for low, high in _CLASS_RANGES:
        for code in range(low, high + 1):
            char = chr(code)
            key = hashtag_key.__wrapped__(char, fold)
            if len(key) == 1:
                table[key].add(char)
    return table


# --- SQL -------------------------------------------------------------------------------------

EMPTY = "CAST([] AS VARCHAR[])"


def sql_string(value: str) -> str:
    """A SQL string literal. DuckDB keeps backslashes as they are (Spark would need them doubled)."""
    return "'" + value.replace("'", "''") + "'"


def distinct_list_sql(column: str) -> str:
    """`list_distinct(column)`, which costs DuckDB a hash table per row (3 s per 10 million
    posts), skipped where it has nothing to do: empty lists, and lists of one or two non-null
    items, which is most posts' hashtags. Like `list_distinct`, it drops NULL items and
    leaves the order unspecified."""
    first, second = f"{column}[1]", f"{column}[2]"
    return (f"CASE WHEN len({column}) = 0 OR (len({column}) = 1 AND {first} IS NOT NULL) THEN {column} "
            f"WHEN len({column}) = 2 AND {first} IS NOT NULL AND {second} IS NOT NULL THEN "
            f"CASE WHEN {first} = {second} THEN [{first}] ELSE {column} END ELSE list_distinct({column}) END")


def sql_list(values: Iterable[str]) -> str:
    items = [sql_string(v) for v in values]
    return f"[{', '.join(items)}]" if items else EMPTY


def window_condition(movement: Movement) -> str:
    window = movement.window
    if window is None:
        return "TRUE"
    parts = []
    if window.start:
        parts.append(f"created_at >= TIMESTAMP '{window.start.isoformat(sep=' ')}'")
    if window.end:
        parts.append(f"created_at < TIMESTAMP '{window.end.isoformat(sep=' ')}'")
    return "(" + " AND ".join(parts) + ")" if parts else "TRUE"


def posts_with_match_sql(movement: Movement, table: str = "posts", carry: Sequence[str] = ()) -> str:
    """Every collected post with its match columns; unmatched posts have both flags false.

    Columns: platform, post_id, created_at, kind, author_id, in_window, by_hashtag, by_phrase,
    families (sorted labels), variants (the matched keys as stored, distinct), then the
    `carry` columns of `table` as they are (read in the same scan, not joined back later).
    Costly steps run only where needed: the tag mask only on texts the phrase expression
    already finds, family tests only on matched posts. Needs DuckDB >= 1.3 (`lambda`).
    """
    forms = sql_list(movement.stored_forms())
    in_window = window_condition(movement)
    groups = _phrase_groups(movement)
    any_phrase = sql_string(phrase_regex([p for ps in groups.values() for p in ps], movement.accent_fold))
    masked = (
        f"CASE WHEN {in_window} AND regexp_matches(text, {any_phrase}) "
        f"THEN regexp_replace(text, {sql_string(mask_regex())}, '{PLACEHOLDER}', 'g') END"
        if groups else "CAST(NULL AS VARCHAR)"
    )
    extra = "".join(f", {column}" for column in carry)
    base = (
        f"SELECT platform, post_id, created_at, kind, author_id{extra}, coalesce({in_window}, false) AS in_window, "
        f"CASE WHEN {in_window} THEN list_filter(hashtag_keys, lambda k: list_contains({forms}, k)) END AS tagged, "
        f"{masked} AS masked FROM {table} WHERE collected"
    )
    by_phrase = f"coalesce(regexp_matches(masked, {any_phrase}), false)" if groups else "false"
    flagged = (
        f"SELECT *, coalesce(len(tagged), 0) > 0 AS by_hashtag, {by_phrase} AS by_phrase, "
        f"coalesce({distinct_list_sql('tagged')}, {EMPTY}) AS variants "
        f"FROM ({base}) AS mv_base"
    )
    return (
        "SELECT platform, post_id, created_at, kind, author_id, in_window, by_hashtag, by_phrase, "
        f"{_families_expr(movement, groups)} AS families, variants{extra} FROM ({flagged}) AS mv_flags"
    )


def matched_posts_sql(movement: Movement, table: str = "posts", carry: Sequence[str] = ()) -> str:
    """The collected posts that match: (platform, post_id, created_at, kind, author_id,
    by_hashtag, by_phrase, families, variants, then the `carry` columns)."""
    extra = "".join(f", {column}" for column in carry)
    return (
        f"SELECT platform, post_id, created_at, kind, author_id, by_hashtag, by_phrase, families, variants{extra} "
        f"FROM ({posts_with_match_sql(movement, table, carry)}) AS mv_all WHERE by_hashtag OR by_phrase"
    )


def _phrase_groups(movement: Movement) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for group in movement.phrases:
        groups.setdefault(group.label, []).extend(group.patterns)
    return groups


def _families_expr(movement: Movement, groups: dict[str, list[str]]) -> str:
    """Sorted family labels: each matched key's label (looked up by position), plus phrase families."""
    forms = movement.stored_forms()
    keys, labels = sql_list(forms), sql_list(forms.values())

    def label_of(key: str) -> str:
        return f"{labels}[list_position({keys}, {key})]"

    from_tags = (
        f"CASE WHEN len(variants) = 0 THEN {EMPTY} WHEN len(variants) = 1 THEN [{label_of('variants[1]')}] "
        f"ELSE list_sort(list_distinct(list_transform(variants, lambda k: {label_of('k')}))) END"
    )
    phrase_cases = [
        f"CASE WHEN regexp_matches(masked, {sql_string(phrase_regex(patterns, movement.accent_fold))}) "
        f"THEN {sql_string(label)} END"
        for label, patterns in groups.items()
    ]
    if not phrase_cases:
        return from_tags
    return (f"CASE WHEN by_phrase THEN list_sort(list_distinct(list_concat({from_tags}, [{', '.join(phrase_cases)}]))) "
            f"ELSE {from_tags} END")
