"""A table row's kind: from a kind column, else the reference columns, else two counted
inferences (an `RT @` text; a filled but unreadable reply-to cell, or a reply-to handle),
both off with `infer_kinds=False`. See formats/table.py and docs/formats.md."""

from __future__ import annotations

from typing import Any

from ..model import KINDS
from .base import ParseContext

_KIND_COLUMNS = frozenset({"kind", "reposted_post_id", "_retweet_or_quote_id"})
_KIND_WORDS = {"retweet": "repost", "retweeted": "repost", "reblog": "repost", "boost": "repost",
               "replied_to": "reply", "quoted": "quote", "tweet": "original", "post": "original",
               "original": "original"}


def kind_of(values: dict[str, Any], present: frozenset[str], ctx: ParseContext) -> str:
    """`present`: the fields this file has a column for (a kind or repost column rules out the RT guess)."""
    given = values.get("kind")
    unreadable = values.pop("_unreadable", set())
    reply_handle = values.pop("_reply_to_handle", None)
    if given is not None:
        word = given.strip().lower()
        word = _KIND_WORDS.get(word, word)
        if word in KINDS:
            return word
        ctx.warn("unknown kind value; kind derived from the references instead")
    if values.get("reposted_post_id"):
        return "repost"
    if values.get("reply_to_post_id"):
        return "reply"
    if values.get("quoted_post_id"):
        return "quote"
    if not ctx.options.get("infer_kinds", True):
        return "original"
    if not (present & _KIND_COLUMNS) and (values.get("text") or "").startswith("RT @"):
        ctx.count("kind_inferred_repost_from_rt_prefix")
        return "repost"
    if "reply_to_post_id" in unreadable or reply_handle or values.get("reply_to_author_id"):
        ctx.count("kind_inferred_reply_from_reply_column")
        return "reply"
    if "reposted_post_id" in unreadable:
        ctx.count("kind_inferred_repost_from_repost_column")
        return "repost"
    return "original"


def retweet_or_quote(values: dict[str, Any]) -> None:
    """twarc 1's `retweet_or_quote_id`: the reposted post of a retweet, the quoted post of a quote."""
    ref = values.pop("_retweet_or_quote_id", None)
    if ref and values["kind"] == "repost":
        values.setdefault("reposted_post_id", ref)
    elif ref and values["kind"] == "quote":
        values.setdefault("quoted_post_id", ref)
