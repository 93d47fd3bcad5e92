"""A table's layout, decided once per file from its header, and said out loud.

Users bring tables exported by other tools: twarc's CSVs, scrapes with `ID, Created_Time,
Tweet_text`, processed Bluesky exports. A named preset (presets.py) is recognised by its
columns; failing that, a plain layout is guessed from column names, compared without case
or punctuation (`Tweet_text` = `tweettext`). The choice is printed with the columns it
uses. A header that could be read two ways is never guessed: the proposed mapping is shown
with the command that accepts it. A header that matches nothing fails at once, in one
line, before any row is read.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import GroundswellError
from . import presets as P

GUESSED = "plain table"
# Column names a plain layout may use for each field, best first; compared normalised.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "post_id": ("id", "tweetid", "statusid", "postid", "idstr", "tweetidstr", "messageid"),
    "created_at": ("createdat", "createdtime", "created", "date", "datetime", "time", "timestamp",
                   "tweetcreatedat", "postedat", "publishedat", "postdate", "tweetdate", "createddate"),
    "text": ("text", "tweettext", "fulltext", "tweet", "content", "body", "message", "posttext", "tweetcontent"),
    "author_id": ("userid", "authorid", "useridstr", "authordid", "userdid"),
    "author_handle": ("username", "screenname", "userscreenname", "handle", "user", "author", "authorhandle",
                      "authorusername", "userhandle"),
    "author_name": ("name", "displayname", "authorname", "userdisplayname", "authordisplayname"),
    "author_followers": ("followers", "followerscount", "userfollowerscount", "authorfollowers"),
    "author_verified": ("verified", "userverified", "isverified"),
    "like_count": ("likes", "likecount", "favorites", "favoritecount", "favouritecount", "nlikes"),
    "repost_count": ("retweets", "retweetcount", "reposts", "repostcount", "shares", "nretweets"),
    "reply_count": ("replies", "replycount", "nreplies"),
    "quote_count": ("quotes", "quotecount"),
    "reply_to_post_id": ("inreplytostatusid", "inreplytostatusidstr", "inreplytoid", "replytoid",
                         "replytostatusid", "inreplytotweetid", "inreplyto", "replyto"),
    "reposted_post_id": ("retweetid", "retweetedstatusid", "retweetedid", "retweetofid", "repostof",
                         "retweetedtweetid"),
    "quoted_post_id": ("quotedstatusid", "quoteid", "quotedid", "quotedtweetid"),
    "lang": ("lang", "language"),
    "url": ("url", "permalink", "tweeturl", "link", "posturl"),
    "hashtags": ("hashtags",),
    "mentions": ("mentions", "usermentions"),
    "kind": ("tweettype", "posttype", "kind", "type"),
}
REQUIRED = ("post_id",)
ANY_OF = ("text", "hashtags")


class LayoutError(GroundswellError):
    """The header matches no layout, or matches one in more than one way."""


@dataclass(frozen=True)
class Layout:
    """What a file will be read as: a preset, or a guessed mapping of fields to columns."""

    name: str
    preset: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field → column, for the mapping and the message

    def describe(self) -> str:
        shown = ", ".join(f"{name}={column}" for name, column in self.columns.items())
        what = f"the {self.name} layout" if self.preset else f"a {self.name}"
        return f"read as {what}" + (f" ({shown})" if shown else "")

    def adapter_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The per-file options the table adapter reads: the user's --map pairs win over a guess."""
        columns = {**self.columns, **(options.get("columns") or {})} if not self.preset else options.get("columns")
        return {**options, "preset": self.preset or options.get("preset"), "columns": columns or {}}


def normalised(column: str) -> str:
    return re.sub(r"[^0-9a-z]", "", column.lower())


def recognises(header: Iterable[str]) -> bool:
    """Whether some layout (a preset or a plain guess, even an ambiguous one) fits this header."""
    columns = [c for c in header if isinstance(c, str)]
    if P.detect(dict.fromkeys(columns)) is not None:
        return True
    candidates = _candidates(columns)
    return all(candidates.get(f) for f in REQUIRED) and any(candidates.get(f) for f in ANY_OF)


def resolve(header: Iterable[str], options: Mapping[str, Any], label: str) -> Layout:
    """The layout of a file with this header; LayoutError when there is none or it is ambiguous."""
    columns = [c for c in header if isinstance(c, str)]
    forced = options.get("preset")
    if forced:
        return Layout(forced, preset=forced)
    found = P.detect(dict.fromkeys(columns))
    if found is not None:
        return Layout(found.name, preset=found.name, columns=_preset_columns(found, columns))
    mapped = dict(options.get("columns") or {})
    _check_mapped(mapped, columns, label)
    candidates = {f: c for f, c in _candidates(columns).items() if f not in mapped}
    chosen = {f: c[0] for f, c in candidates.items()}
    proposal = {**chosen, **mapped}
    if not ("post_id" in proposal and (set(ANY_OF) & proposal.keys())):
        if mapped:
            return Layout("mapping", columns=mapped)  # the adapter checks an incomplete mapping itself
        raise LayoutError(no_layout(label, columns))
    ambiguous = {f: c for f, c in candidates.items() if len(c) > 1}
    if ambiguous:
        raise LayoutError(_ambiguous(label, ambiguous, proposal))
    return Layout(GUESSED, columns=proposal)


def _check_mapped(mapped: Mapping[str, str], columns: list[str], label: str) -> None:
    """A --map naming a column the header lacks would reject every row: say so before the first."""
    for name, column in mapped.items():
        if not column.startswith("=") and column not in columns:
            shown = ", ".join(f"`{c}`" for c in columns[:12])
            raise LayoutError(f"{label}: --map {name}={column}: the table has no column `{column}` (its columns: {shown})")


def _candidates(columns: list[str]) -> dict[str, list[str]]:
    """Each field's matching columns, best alias first; a column serves the first field that names it."""
    by_name: dict[str, list[str]] = {}
    for column in columns:
        by_name.setdefault(normalised(column), []).append(column)
    taken: set[str] = set()
    out: dict[str, list[str]] = {}
    for name, aliases in ALIASES.items():
        hits = [c for alias in aliases for c in by_name.get(alias, ()) if c not in taken]
        if hits:
            out[name] = hits
            taken.update(hits)
    return out


def _preset_columns(preset: P.Preset, columns: list[str]) -> dict[str, str]:
    """The columns a preset will read in this file, for the message (its first choice present)."""
    present = set(columns)
    shown = {}
    for name in ("post_id", "created_at", "text", "author_id", "author_handle"):
        hit = next((c for c in preset.columns.get(name, ()) if c in present), None)
        if hit:
            shown[name] = hit
    return shown


def mapping_flags(mapping: Mapping[str, str]) -> str:
    return " ".join(f"--map {shlex.quote(f'{name}={column}')}" for name, column in mapping.items())


def _ambiguous(label: str, ambiguous: Mapping[str, list[str]], proposal: Mapping[str, str]) -> str:
    which = "; ".join(f"{name} from {' or '.join(f'`{c}`' for c in cols)}" for name, cols in ambiguous.items())
    return (f"{label}: its columns can be read more than one way ({which}); nothing was read. "
            f"Proposed: {mapping_flags(proposal)}. To accept it: groundswell ingest {shlex.quote(label)} "
            f"{mapping_flags(proposal)}")


def no_layout(label: str, columns: list[str], what: str = "a table") -> str:
    shown = ", ".join(f"`{c}`" for c in columns[:12]) + (f" and {len(columns) - 12} more" if len(columns) > 12 else "")
    known = ", ".join(P.PRESETS)
    return (f"{label}: {what} whose columns ({shown or 'none'}) match no known layout ({known}, or a plain "
            f"table with an id and a text column); nothing was read. Name its columns with --map, e.g. "
            f"--map post_id=COLUMN --map text=COLUMN --map created_at=COLUMN")
