"""Who may be named in an output, decided in SQL so private people's words never leave the store.

A notable account is verified, or has at least `notable_followers` followers. Under the
default mode (`standard`) only notable accounts are named and quoted; everyone else is an
anonymous label. `strict` names nobody and `off` names everyone; the CLI offers only
`standard` until the privacy issue adds the flag, but every output already asks this
object rather than deciding for itself, so adding the modes changes one place.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

Query = Callable[[str], list[tuple]]
MODES = ("strict", "standard", "off")
DEFAULT_NOTABLE_FOLLOWERS = 10_000
SALT_KEY = "pseudonym_salt"


@dataclass(frozen=True)
class Privacy:
    mode: str = "standard"
    notable_followers: int = DEFAULT_NOTABLE_FOLLOWERS

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"privacy mode must be one of {MODES}")

    def notable_sql(self, prefix: str = "") -> str:
        """SQL true for a post (or author row) whose author may be named and quoted."""
        if self.mode == "strict":
            return "FALSE"
        if self.mode == "off":
            return "TRUE"
        return (f"(coalesce({prefix}author_verified, FALSE) OR "
                f"coalesce({prefix}author_followers, 0) >= {int(self.notable_followers)})")

    def describe(self) -> str:
        if self.mode == "strict":
            return "strict: nobody is named and no post text is shown"
        if self.mode == "off":
            return "off: everyone is named and post text is shown"
        return (f"standard: only notable accounts (verified, or at least {self.notable_followers:,} followers) "
                f"are named and quoted; everyone else is an anonymous label and none of their words are shown")

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "notable_followers": self.notable_followers}


def salt(query: Query, writable: bool) -> str:
    """The store's pseudonym salt, created on first use; never printed or exported.

    A read-only store without one gets a salt for this run only (pseudonyms then differ
    between runs), which is safer than failing or using no salt.
    """
    rows = query(f"SELECT value FROM meta WHERE key = '{SALT_KEY}'")
    if rows:
        return str(rows[0][0])
    value = secrets.token_hex(16)
    if writable:
        query(f"INSERT INTO meta VALUES ('{SALT_KEY}', '{value}') ON CONFLICT DO NOTHING")
        return str(query(f"SELECT value FROM meta WHERE key = '{SALT_KEY}'")[0][0])
    return value


def pseudonym_sql(salt_value: str, column: str = "author_id") -> str:
    """A stable pseudonym: `p` and 12 hex digits of sha256(salt || id)."""
    safe = "".join(ch for ch in salt_value if ch.isalnum())
    return f"('p' || substr(sha256('{safe}' || coalesce({column}, '')), 1, 12))"
