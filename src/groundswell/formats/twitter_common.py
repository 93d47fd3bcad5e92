"""What Twitter's v1.1 and v2 payloads share."""

from __future__ import annotations


def unescape_text(text: str | None) -> str | None:
    """Twitter escapes exactly `&`, `<` and `>` in tweet text; give the text as written.

    Only these three are undone (in this order), because a literal `&amp;` typed by a user
    arrives as `&amp;amp;` and must come back as `&amp;`.
    """
    if text is None or "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
