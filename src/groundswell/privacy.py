"""Privacy for outputs: who may be named, whose words may be shown, and names safe to write.

The people in a #MeToo archive did not agree to be studied, and some of them disclose abuse.
Most users do not expect researchers to read their posts and are more at ease with aggregates
than with quotes (see docs/privacy.md), so outputs show aggregates by default, name only
public figures, and replace everyone else by a stable pseudonym that cannot be reversed
without the store's secret salt.

This module is the library the outputs call; it decides nothing about layout.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import lru_cache
from typing import Any, Callable

NOTABLE_FOLLOWERS = 10_000
DEFAULT_MIN_CELL = 5
SALT_KEY = "pseudonym_salt"
SALT_BYTES = 32
LABEL_HEX = 12


class PrivacyMode(str, Enum):
    """What an output may show about the people in the data (`--privacy`).

    STRICT: nobody is named, notable or not; no post text at all; breakdown cells with fewer
    than `--min-cell` people are suppressed. For sharing outside the research team.

    STANDARD (the default): notable accounts (verified, or at least `--notable-followers`
    followers) are named and their posts may be quoted, as public figures' statements are;
    everyone else appears as a stable pseudonym (`p-…`) and their text never appears;
    small cells are suppressed.

    OFF: everything the store holds, names and text, for the analyst's own checks. It must
    be asked for explicitly, and an output made with it says so on its first line.
    """

    STRICT = "strict"
    STANDARD = "standard"
    OFF = "off"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    def names(self, notable: bool) -> bool:
        """May this author's handle and name be shown?"""
        return self is PrivacyMode.OFF or (self is PrivacyMode.STANDARD and notable)

    def shows_text(self, notable: bool) -> bool:
        """May this author's post text be shown? The same rule as names: words identify people."""
        return self.names(notable)

    @property
    def suppresses_small_cells(self) -> bool:
        return self is not PrivacyMode.OFF


_DESCRIPTIONS = {
    PrivacyMode.STRICT: "nobody is named and no text is shown; cells with fewer than the minimum of people are suppressed",
    PrivacyMode.STANDARD: "notable accounts are named; everyone else is a pseudonym and their text is never shown; "
                          "small cells are suppressed",
    PrivacyMode.OFF: "privacy is OFF: handles, names and text of everyone are shown",
}


def is_notable(verified: Any, followers: Any, threshold: int = NOTABLE_FOLLOWERS) -> bool:
    """A public figure, whose public statements may be named: verified, or followed by many.

    Unknown values count as not notable, so missing data never exposes anyone.
    """
    if verified is True:
        return True
    return isinstance(followers, int) and not isinstance(followers, bool) and followers >= threshold


def suppressed(people: int, min_cell: int = DEFAULT_MIN_CELL) -> bool:
    """A breakdown cell with fewer than `min_cell` distinct people could single someone out."""
    return 0 < people < min_cell


class Pseudonymizer:
    """Stable, unlinkable labels: SHA-256 of the store's secret salt followed by the account id.

    The label is `p` and 12 hex digits, the same as `pseudonym_sql` below
    computes inside DuckDB or Spark, so a person has one label in every output of a store.
    Without the salt (kept in the store's `meta` table, never printed) a label cannot be
    turned back into an account by hashing candidate ids. 48 bits: a million authors share
    a label with odds of about 1 in 500.
    """

    def __init__(self, salt: str, stable: bool = True):
        self._salt = "".join(ch for ch in salt if ch.isalnum())  # as pseudonym_sql quotes it
        if len(self._salt) < 16:
            raise ValueError("a pseudonym salt needs at least 16 characters")
        self.stable = stable  # False: a throwaway salt, labels hold within this output only
        self._cache: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Pseudonymizer(stable={self.stable})"  # never the salt

    def author(self, author_id: str) -> str:
        return self._label(author_id)

    def handle(self, handle: str) -> str:
        """For a handle met without its account id (a mention): case-insensitive, and in its own
        namespace (`@`), so it never equals an account-id label by accident."""
        return self._label("@" + handle.lstrip("@").lower())

    def _label(self, value: str) -> str:
        label = self._cache.get(value)
        if label is None:
            digest = hashlib.sha256((self._salt + value).encode("utf-8", "surrogatepass")).hexdigest()
            label = self._cache[value] = "p" + digest[:LABEL_HEX]
        return label

    @classmethod
    def for_store(cls, store: Any) -> "Pseudonymizer":
        """The store's salt (every store opened for writing has one, see store/duckdb_store.py).

        A store opened read-only that has none (made before salts existed) gets a throwaway
        salt (`stable` is False): labels then hold within one output only, which it should say.
        """
        found = load_salt(store.sql)
        if found is None and not getattr(store, "read_only", False):
            found = ensure_salt(store)
        return cls(found) if found is not None else cls(secrets.token_hex(SALT_BYTES), stable=False)


# --- the salt: one secret per store (or lake), in its `meta` table --------------------------

Query = Callable[[str], list[tuple]]


def load_salt(query: Callable[..., list[tuple]]) -> str | None:
    """The stored salt, or None (also for an engine without a `meta` table)."""
    try:
        rows = query(f"SELECT value FROM meta WHERE key = '{SALT_KEY}'")
    except Exception:  # noqa: BLE001 - any engine error here means "no salt to read"
        return None
    return str(rows[0][0]) if rows and rows[0][0] else None


def salt(query: Query, writable: bool) -> str:
    """The store's pseudonym salt, created on first use; never printed or exported.

    A concurrent creator's salt wins (ON CONFLICT DO NOTHING, then read back), so every output
    of a store agrees. A read-only store or lake without one gets a salt for this run only
    (pseudonyms then differ between runs), which is safer than failing or using no salt.
    """
    found = load_salt(query)
    if found is not None:
        return found
    value = secrets.token_hex(SALT_BYTES)
    if writable:
        query(f"INSERT INTO meta VALUES ('{SALT_KEY}', '{value}') ON CONFLICT DO NOTHING")
        return load_salt(query) or value
    return value


def ensure_salt(store: Any) -> str:
    """`salt` on a writable DuckDB store, with its write errors made clean."""
    with store.guard():
        return salt(store.sql, writable=True)


@dataclass(frozen=True)
class AuthorView:
    """How one author is shown under a mode: a name or a pseudonym, and whether their text may be."""

    label: str
    named: bool
    text_allowed: bool


def view_author(mode: PrivacyMode, pseudonyms: Pseudonymizer, author_id: str, handle: str | None,
                verified: Any, followers: Any, threshold: int = NOTABLE_FOLLOWERS) -> AuthorView:
    notable = is_notable(verified, followers, threshold)
    if mode.names(notable) and handle:
        return AuthorView(handle, True, mode.shows_text(notable))
    return AuthorView(pseudonyms.author(author_id), False, mode.shows_text(notable))


# --- the mode as outputs apply it, in SQL ---------------------------------------------------

MODES = tuple(mode.value for mode in PrivacyMode)
DEFAULT_NOTABLE_FOLLOWERS = NOTABLE_FOLLOWERS
POST_LABEL_HEX = 16  # posts outnumber people: 64 bits keep ten million posts apart
# What a shown text loses under `standard`: links (a permalink names its author) and mentions
# (a reply starts with the handle of the person it answers, who need not be notable).
LINK_PATTERN = r"(?i)(https?://|www\.)\S+"
MENTION_PATTERN = r"[@＠][A-Za-z0-9_][A-Za-z0-9_.-]*"  # twitter-text also takes the fullwidth ＠
LINK_MASK, MENTION_MASK = "[link]", "@[someone]"
OFF_WARNING = "PRIVACY IS OFF: everyone is named and every post is shown. Do not share this output."


@lru_cache(maxsize=1)
def _run_salt() -> str:
    """For a Privacy never bound to a store: labels that hold within this process only."""
    return secrets.token_hex(SALT_BYTES)


@dataclass(frozen=True)
class Privacy:
    """One output's rules (`--privacy`, `--min-cell`, `--notable-followers`), turned into SQL so
    that what may not be shown never leaves the engine. `bind` attaches the store's salt."""

    mode: str = "standard"
    notable_followers: int = NOTABLE_FOLLOWERS
    min_cell: int = DEFAULT_MIN_CELL
    salt: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"privacy mode must be one of {MODES}")
        if self.min_cell < 1:
            raise ValueError("min_cell must be at least 1")

    def bind(self, query: Query, writable: bool) -> "Privacy":
        """The same rules with the store's (or lake's) salt, so labels agree across outputs."""
        return replace(self, salt=salt(query, writable))

    @property
    def suppresses(self) -> bool:
        """Whether breakdown cells of fewer than `min_cell` people are hidden (never under off)."""
        return self.mode != "off"

    @property
    def cell_floor(self) -> int:
        """The fewest distinct people a breakdown cell may show."""
        return self.min_cell if self.suppresses else 1

    @property
    def warning(self) -> str | None:
        """The first line of every human output made with privacy off."""
        return OFF_WARNING if self.mode == "off" else None

    def is_notable_sql(self, prefix: str = "") -> str:
        """SQL true for a public figure (verified, or many followers), whatever the mode; unknown is not."""
        return (f"(coalesce({prefix}author_verified, FALSE) OR "
                f"coalesce({prefix}author_followers, 0) >= {int(self.notable_followers)})")

    def notable_sql(self, prefix: str = "") -> str:
        """SQL true for a post (or author row) whose author may be named (and quoted) in this mode."""
        if self.mode == "strict":
            return "FALSE"
        if self.mode == "off":
            return "TRUE"
        return self.is_notable_sql(prefix)

    def pseudonym_sql(self, column: str = "author_id") -> str:
        return pseudonym_sql(self.salt or _run_salt(), column)

    def label_sql(self, prefix: str = "") -> str:
        """`@handle` where the author may be named, else the author's pseudonym."""
        return (f"CASE WHEN {self.notable_sql(prefix)} AND {prefix}author_handle IS NOT NULL "
                f"THEN '@' || {prefix}author_handle ELSE {self.pseudonym_sql(prefix + 'author_id')} END")

    def text_sql(self, prefix: str = "", text: str | None = None) -> str:
        """A post's text where it may be shown. Under standard: a named author's own words (a
        repost's text is its original's, so never), with links and mentions masked."""
        column = text or f"{prefix}text"
        if self.mode == "off":
            return column
        if self.mode == "strict":
            return "CAST(NULL AS VARCHAR)"
        masked = (f"regexp_replace(regexp_replace({column}, '{LINK_PATTERN}', '{LINK_MASK}', 'g'), "
                  f"'{MENTION_PATTERN}', '{MENTION_MASK}', 'g')")
        return f"CASE WHEN {self.notable_sql(prefix)} AND coalesce({prefix}kind, '') <> 'repost' THEN {masked} END"

    def followers_sql(self, column: str, named: str) -> str:
        """An exact follower count only where the author may be named: with the exact time,
        an exact count finds a pseudonymous account (docs/privacy.md). `followers_band_sql`
        gives everyone's band."""
        return f"CASE WHEN {named} THEN {column} END"

    def time_sql(self, column: str, named: str) -> str:
        """A post's time to the second where its author may be named, else to the minute."""
        return f"CASE WHEN {named} THEN {column} ELSE date_trunc('minute', {column}) END"

    def post_id_sql(self, platform: str, post_id: str, named: str) -> str:
        """A post id where its author may be named, else a pseudonym: an id alone finds the post
        (and so its author) on the platform, and Mastodon ids hold the handle."""
        label = post_pseudonym_sql(self.salt or _run_salt(), platform, post_id)
        return f"CASE WHEN {post_id} IS NULL THEN NULL WHEN {named} THEN {post_id} ELSE {label} END"

    def describe(self) -> str:
        if self.mode == "strict":
            return (f"strict: nobody is named and no post text is shown; breakdown cells with fewer than "
                    f"{self.min_cell} people are suppressed")
        if self.mode == "off":
            return OFF_WARNING
        return (f"standard: only notable accounts (verified, or at least {self.notable_followers:,} followers) "
                f"are named and quoted, with links and mentions masked; everyone else is a pseudonym and none "
                f"of their words are shown; breakdown cells with fewer than {self.min_cell} people are suppressed")

    def as_dict(self) -> dict[str, object]:
        """For JSON outputs; never the salt."""
        return {"mode": self.mode, "notable_followers": self.notable_followers, "min_cell": self.min_cell}


# Follower bands: powers of ten, `0-9`, `10-99`, ... up to `1000000000+`.
FOLLOWER_BANDS = [10 ** k for k in range(1, 10)]


def followers_band_sql(column: str) -> str:
    """A follower count's band (a string), NULL when the count is unknown."""
    steps = " ".join(f"WHEN {column} < {top} THEN '{0 if top == 10 else top // 10}-{top - 1}'"
                     for top in FOLLOWER_BANDS)
    return f"CASE WHEN {column} IS NULL THEN NULL {steps} ELSE '{FOLLOWER_BANDS[-1]}+' END"


def pseudonym_sql(salt_value: str, column: str = "author_id") -> str:
    """A stable pseudonym: `p` and 12 hex digits of sha256(salt || id)."""
    safe = "".join(ch for ch in salt_value if ch.isalnum())
    return f"('p' || substr(sha256('{safe}' || coalesce({column}, '')), 1, {LABEL_HEX}))"


def post_pseudonym_sql(salt_value: str, platform: str, post_id: str) -> str:
    """A post's stable pseudonym: `x` and 16 hex digits, hashed in a namespace of its own."""
    safe = "".join(ch for ch in salt_value if ch.isalnum())
    return (f"('x' || substr(sha256('{safe}' || 'post:' || coalesce({platform}, '') || ':' || "
            f"coalesce({post_id}, '')), 1, {POST_LABEL_HEX}))")


# --- names and XML that data cannot break ----------------------------------------------------

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
_FILENAME_KEEP = {"_", "-"}
_RUNS = re.compile(r"_{2,}")
_FILENAME_BYTES = 120


def safe_filename(name: str, fallback: str = "unnamed", max_bytes: int = _FILENAME_BYTES) -> str:
    """A file name built from data (a hashtag, a handle) that is safe on every filesystem.

    Letters, digits and combining marks of any script stay (hashtags are multilingual);
    everything else (separators, dots, controls, bidi overrides) becomes `_`. A name that had
    to change gets a short hash of the original, so two different tags never share a file.
    """
    text = unicodedata.normalize("NFC", name)
    kept = "".join(ch if ch in _FILENAME_KEEP or unicodedata.category(ch)[0] in "LNM" else "_" for ch in text)
    kept = _RUNS.sub("_", kept).strip("_-")
    if kept.lower() in _WINDOWS_RESERVED:
        kept = f"_{kept}"
    if max_bytes < 16:
        raise ValueError("max_bytes must leave room for a name and its hash")
    changed = kept != name
    suffix = "-" + hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest() if changed else ""
    room = max_bytes - len(suffix.encode())
    kept = _cut_utf8(kept, room) or fallback
    return kept + suffix


def _cut_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    cut = encoded[:limit].decode("utf-8", "ignore")
    # Do not leave a base letter without its combining marks' neighbour at the cut.
    while cut and unicodedata.category(cut[-1])[0] == "M":
        cut = cut[:-1]
    return cut


# XML 1.0 allows tab, LF, CR and the ranges below; C1 controls and DEL are allowed but mean
# nothing in text, so they go too. Lone surrogates (possible in Python strings) never pass.
_XML_INVALID = re.compile("[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Text that an XML 1.0 document (GEXF, GraphML) can hold; escaping &, < and > stays the writer's job."""
    return _XML_INVALID.sub("", text)


__all__ = ["AuthorView", "DEFAULT_MIN_CELL", "MODES", "NOTABLE_FOLLOWERS", "OFF_WARNING", "Privacy", "PrivacyMode",
           "Pseudonymizer", "ensure_salt", "is_notable", "load_salt", "post_pseudonym_sql", "pseudonym_sql", "safe_filename",
           "salt", "suppressed", "view_author", "xml_safe"]
