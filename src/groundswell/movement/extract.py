"""The one hashtag extractor, used by every adapter that must find hashtags in text.

One definition, because four regexes in one codebase disagree (one cuts `#YoTambién` to
`YoTambi`, another drops Arabic tags) and then counts differ by platform. The base rules are
Twitter's published twitter-text rules, so a post counts the same whether the platform gave
its entities or we re-extract them; two extensions (RTL trailing `#`, GetOldTweets' `# tag`)
are documented in docs/matching.md with the cases they cover.

The character classes are built from the running Python's Unicode tables (the stdlib `re`
has no `\\p{L}`), so they follow `unicodedata`, the same tables `normalize` uses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from .normalize import hashtag_key

# twitter-text's HASHTAG_SPECIAL_CHARS: underscore, ZWNJ, ZWJ, and punctuation that sits inside
# words in Cyrillic, Hebrew, Japanese and Tibetan, plus the Catalan middle dot.
SPECIALS = "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
# twitter-text counts these private-use code points as letters (vendor glyphs); kept for parity.
PRIVATE_USE_LETTERS = [*range(0xF870, 0xF880), 0xF882, *range(0xF884, 0xF8A0), 0xF8B8, *range(0xF8C1, 0xF8D7)]
# Every letter, mark and decimal digit of Unicode <= 15.1 lies in these spans; scanning only
# them keeps the import-time table build under 100 ms.
_SCAN = (range(0, 0x40000), range(0xE0000, 0xE0200))
# Blocks that hold right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, NKo, ..., Adlam).
_RTL_BLOCKS = (range(0x0590, 0x0900), range(0xFB1D, 0xFF00), range(0x10800, 0x11000), range(0x1E800, 0x1F000))


Ranges = list[tuple[int, int]]
_LETTER_CATEGORIES = ("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me")


def _scan_ranges() -> tuple[Ranges, Ranges]:
    """Ranges of hashtag letters (every L and M) and of decimal digits (Nd), in one pass."""
    kind_of = dict.fromkeys(_LETTER_CATEGORIES, 0) | {"Nd": 1}
    out: tuple[Ranges, Ranges] = ([], [])
    category = unicodedata.category
    for block in _SCAN:
        kind, first = None, block.start
        for cp in block:
            this = kind_of.get(category(chr(cp)))
            if this != kind:
                if kind is not None:
                    out[kind].append((first, cp - 1))
                kind, first = this, cp
        if kind is not None:
            out[kind].append((first, block.stop - 1))
    return out


def _merge(*parts: Iterable[tuple[int, int]]) -> Ranges:
    """Union of ranges, sorted, with touching ranges joined."""
    merged: Ranges = []
    for first, last in sorted(span for part in parts for span in part):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def _points(chars: Iterable[int]) -> Ranges:
    return _merge([(cp, cp) for cp in chars])


def _body(ranges: Iterable[tuple[int, int]]) -> str:
    """A `[...]` body written as escapes, so that no character is special."""
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


# `re` tests a character against a class's non-BMP ranges one by one, so a class with hundreds
# of astral ranges costs microseconds for every space it rejects. Each class is therefore a BMP
# bitmap, plus astral ranges tried only for astral characters.
_ASTRAL = "(?=[\\U00010000-\\U0010ffff])"


def _split(ranges: Ranges) -> tuple[str, str]:
    """Class bodies for the BMP part and the astral part of the ranges."""
    bmp = _body((a, min(b, 0xFFFF)) for a, b in ranges if a < 0x10000)
    astral = _body((max(a, 0x10000), b) for a, b in ranges if b >= 0x10000)
    return bmp, astral


def _char(ranges: Ranges) -> str:
    """One character from the ranges, fast on BMP characters."""
    bmp, astral = _split(ranges)
    return f"(?:[{bmp}]|{_ASTRAL}[{astral}])" if astral else f"[{bmp}]"


def _run(ranges: Ranges) -> str:
    """One or more characters from the ranges, possessive: a match is never shortened."""
    bmp, astral = _split(ranges)
    return f"(?:[{bmp}]++|{_ASTRAL}[{astral}])++"


def _rtl_letters() -> Ranges:
    """Letters whose bidi class is right-to-left, for extension 1."""
    category, bidi = unicodedata.category, unicodedata.bidirectional
    return _points(
        cp for block in _RTL_BLOCKS for cp in block
        if category(chr(cp))[0] == "L" and bidi(chr(cp)) in ("R", "AL")
    )


_LETTERS, _DIGITS = _scan_ranges()
# twitter-text's hashtag characters: letters, marks, decimal digits and the specials.
_HASHTAG_CHARS = _merge(_LETTERS, _DIGITS, _points(PRIVATE_USE_LETTERS), _points(map(ord, SPECIALS)))
_DROP_SPECIALS = dict.fromkeys(map(ord, SPECIALS))
# twitter-text: `#` follows the start, a variation selector, or any char that is neither a
# hashtag character nor `&` (so `&#39;` entities and `a#b` are not hashtags), and is not
# followed by the keycap marks (#️⃣). The pattern starts at the `#`, so `re` skips to it; the
# optional space (group 1) serves GetOldTweets' `# tag`.
_NOT_BEFORE = _char(_merge(_HASHTAG_CHARS, _points([ord("&")])))
_TAG = re.compile(
    f"[#＃](?:(?<=[\\ufe0e\\ufe0f].)|(?<!{_NOT_BEFORE}.))(?![\\ufe0f\\u20e3])( ?)({_run(_HASHTAG_CHARS)})"
)
_INVALID_END = ("#", "＃", "://")
_LINK_AFTER = ("://", ".twitter.com/")
# Extension 1: `وسم#`, a run of hashtag characters that starts where a hashtag could, then `#`,
# then neither a hashtag character nor another `#`.
_RTL_TRAILING = re.compile(
    f"(?:(?<!{_NOT_BEFORE})|(?<=[\\ufe0e\\ufe0f]))(?![\\ufe0e\\ufe0f])"
    f"({_run(_HASHTAG_CHARS)})[#＃](?![#＃]|{_char(_HASHTAG_CHARS)})"
)
_RTL_LETTER = re.compile(_char(_rtl_letters()))
# Cheap superset test (whole blocks) to skip the RTL pass on texts without RTL script.
_RTL_ANY = re.compile("[\\u0590-\\u08ff\\ufb1d-\\ufdff\\ufe70-\\ufefc\\U00010800-\\U00010fff\\U0001e800-\\U0001efff]")

# URLs, close to twitter-text's: a hashtag whose start lies inside a URL is not a hashtag.
# Without a scheme a URL needs a dotted host with an alphabetic TLD and then a path or query,
# since only there can a `#` follow a boundary character. twitter-text checks TLDs against its
# list; any alphabetic TLD is accepted here (see docs/matching.md).
_ACCENTS = (  # twitter-text's LATIN_ACCENTS_CHARS
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268"
    "\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_PATH_CHAR = f"[a-z0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~|&@{_ACCENTS}\u0400-\u04ff]"
_PARENS = f"\\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*)\\)"
_QUERY = "\\?[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@]*"
_HOST_LABEL = "[^\\W_](?:[\\w-]*[^\\W_])?"
_BARE_LABEL = f"[a-z0-9{_ACCENTS}](?:[a-z0-9_\\-{_ACCENTS}]*[a-z0-9{_ACCENTS}])?"
_URL = re.compile(
    f"(?:https?://(?:{_HOST_LABEL}\\.)+(?:[^\\W\\d_]{{2,}}|xn--[a-z0-9-]+)"
    f"|(?<![\\w@＠$#＃./-])(?:{_BARE_LABEL}\\.)+(?:[a-z]{{2,}}|xn--[a-z0-9-]+)(?=[/?:]))"
    f"(?::[0-9]+)?(?:/(?:{_PATH_CHAR}|{_PARENS})*)?(?:{_QUERY})?",
    re.IGNORECASE,
)

Found = tuple[str, int, int]
_SPACE = re.compile(r"\s")


def _maybe_in_url(text: str, found: list[Found]) -> bool:
    """URLs hold no whitespace and a `#` follows a boundary char only in a URL's path or query,
    so a hashtag at the start or after whitespace (nearly all of them) cannot be in a URL."""
    if "." not in text:
        return False
    for _, start, _ in found:
        if start and not text[start - 1].isspace():
            mark = max(text.rfind("/", 0, start), text.rfind("?", 0, start))
            if mark >= 0 and _SPACE.search(text, mark, start) is None:
                return True
    return False


def _has_letter(tag: str) -> bool:
    """twitter-text: a hashtag holds at least one letter or mark (`#16` and `#_` are not tags)."""
    if tag[0].isalpha():
        return True
    rest = tag.translate(_DROP_SPECIALS)
    return bool(rest) and not rest.isdecimal()


def _glued_link(text: str, tag: str, end: int) -> int:
    """GetOldTweets drops the space before a link, so `# MeToo https://…` arrives as
    `# MeToohttps://…` (dropped whole by the `://` rule) and `# MeToo pic.twitter.com/…` as
    `# MeToopic.twitter.com/…` (tag `MeToopic`): the length of such a glued link prefix."""
    tail = tag[-5:].lower()
    if text.startswith("://", end):
        return 5 if tail == "https" else 4 if tail.endswith("http") else 0
    return 3 if tail.endswith("pic") and text.startswith(".twitter.com/", end) else 0


def _twitter(text: str, spaced_hash: bool) -> Iterator[Found]:
    """twitter-text's scan. A match followed by `#` or `://` is dropped whole and the scan goes
    on after it (so `#foo#bar` yields nothing, as on the platform). twitter-text consumes the
    character before `#`, so a `#` right after a previous match (possible only after a
    variation selector that ended it) is no hashtag either: `prev_end` replays that.
    `spaced_hash` (GetOldTweets text) also accepts `# tag` and cuts off a glued link."""
    prev_end = -1
    for match in _TAG.finditer(text):
        start = match.start()
        if start == prev_end or (match.group(1) and not spaced_hash):
            continue
        tag = match.group(2)
        if not _has_letter(tag):
            continue
        prev_end = end = match.end()
        glued = _glued_link(text, tag, end) if spaced_hash and text.startswith(_LINK_AFTER, end) else 0
        if glued:
            tag, end = tag[:-glued], end - glued
            if not tag or not _has_letter(tag):
                continue
        elif text.startswith(_INVALID_END, end):
            continue
        yield tag, start, end


def _rtl_trailing(text: str) -> Iterator[Found]:
    """Extension 1: `وسم#`, only when the run holds right-to-left letters."""
    for match in _RTL_TRAILING.finditer(text):
        tag = match.group(1)
        if _RTL_LETTER.search(tag):
            yield tag, match.start(), match.end()


def _outside_urls(text: str, found: list[Found]) -> list[Found]:
    """Drop hashtags that start inside a URL (twitter-text removes entities overlapping a URL)."""
    spans = [match.span() for match in _URL.finditer(text)]
    return [item for item in found if not any(lo <= item[1] < hi for lo, hi in spans)]


def extract_hashtags_with_indices(
    text: str, *, spaced_hash: bool = False, rtl_trailing: bool = False
) -> list[Found]:
    """Every hashtag as (tag without `#`, start, end), in order, duplicates kept.

    With both options off this is twitter-text's `extractHashtagsWithIndices` (indices count
    code points; start is the `#`). `extract_hashtags` turns the extensions on.
    """
    if not text or ("#" not in text and "＃" not in text):
        return []
    found = list(_twitter(text, spaced_hash))
    if rtl_trailing and not text.isascii() and _RTL_ANY.search(text):
        extra = list(_rtl_trailing(text))
        if extra:
            found = sorted(found + extra, key=lambda item: item[1])
    if found and _maybe_in_url(text, found):
        return _outside_urls(text, found)
    return found


def extract_hashtags(text: str, spaced_hash: bool = False, *, fold_accents: bool = True) -> list[str]:
    """Hashtags as displayed, without `#`, in order, each matching key once (first spelling wins).

    A post that says #MeToo twice, or #MeToo and #metoo, counts once for that tag. `spaced_hash`
    accepts `# MeToo` (GetOldTweets inserts that space); leave it off for everything else.
    `fold_accents` is the key's option: pass False with `--no-accent-fold` so that #YoTambién
    and #YoTambien stay two tags.
    """
    if not text or ("#" not in text and "＃" not in text):
        return []
    found = extract_hashtags_with_indices(text, spaced_hash=spaced_hash, rtl_trailing=True)
    if len(found) < 2:
        return [tag for tag, _, _ in found]
    seen: set[str] = set()
    tags: list[str] = []
    for tag, _, _ in found:
        key = hashtag_key(tag, fold_accents=fold_accents)  # same call form as the worker: shared cache
        if key not in seen:
            seen.add(key)
            tags.append(tag)
    return tags
