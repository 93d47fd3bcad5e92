"""The matching key of a hashtag: one definition, used by every adapter and every matcher.

Key = NFKC, casefold, without tatweel, zero-width and directional marks, and (by default)
without accents on Latin, Greek and Cyrillic letters (but Й stays Й) and without Arabic
short-vowel and hamza marks.
Marks that change a letter in other scripts (Japanese dakuten, Indic viramas) are kept,
because removing them would merge different words. See docs/matching.md.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

TATWEEL = "\u0640"
# Zero-width and bidi formatting characters that are invisible in a displayed tag.
INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u00ad" + TATWEEL)
)
ARABIC_MARKS = range(0x064B, 0x0660)
ARABIC_SUPERSCRIPT_ALEF = 0x0670


def _foldable_base(char: str) -> bool:
    """Latin, Greek, Cyrillic (and Latin Extended Additional) letters lose their accents."""
    code = ord(char)
    return code < 0x0530 or 0x1E00 <= code <= 0x1FFF


def _distinct_cyrillic_letter(base: str, mark: int) -> bool:
    """Й is its own letter, not an accented И (unlike Ё, which Russian writes as Е)."""
    return mark == 0x0306 and base in "иИ"


def _strip_marks(text: str) -> str:
    out: list[str] = []
    base = ""
    for char in unicodedata.normalize("NFD", text):
        code = ord(char)
        if unicodedata.combining(char):
            if (base and _foldable_base(base) and not _distinct_cyrillic_letter(base, code)) \
                    or code in ARABIC_MARKS or code == ARABIC_SUPERSCRIPT_ALEF:
                continue
        else:
            base = char
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


@lru_cache(maxsize=1 << 18)
def hashtag_key(tag: str, fold_accents: bool = True) -> str:
    """The key two spellings of one hashtag share: `#MeToo`, `#metoo` and `#ＭｅＴｏｏ` alike."""
    text = unicodedata.normalize("NFKC", tag).translate(INVISIBLE)
    text = text.strip("#").casefold()  # after NFKC, every number-sign form is a plain '#'

    if fold_accents:
        text = _strip_marks(text)
    return unicodedata.normalize("NFKC", text)
