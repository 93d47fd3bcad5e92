"""--privacy, --min-cell and --notable-followers: one decorator, so every output obeys the same rules.

The three options arrive in the command as one `privacy` argument, a `groundswell.privacy.Privacy`.
`off` shows everyone's handles and words, so it is never a default: it must be typed out,
and every output made with it says so (see docs/privacy.md).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import click

from ..privacy import DEFAULT_MIN_CELL, MODES, NOTABLE_FOLLOWERS, Privacy

F = Callable[..., Any]


def privacy_options(func: F) -> F:
    """Adds --privacy, --min-cell and --notable-followers, and passes the command `privacy: Privacy`."""

    @click.option("--privacy", "privacy_mode", type=click.Choice(MODES), default="standard", show_default=True,
                  help="standard: only notable accounts are named, everyone else is a pseudonym and their text "
                       "is never shown; strict: nobody is named and no text is shown; off: everything is shown "
                       "(for your own checks; the output says so).")
    @click.option("--min-cell", type=click.IntRange(1), default=DEFAULT_MIN_CELL, show_default=True,
                  help="Breakdown cells with fewer distinct people than this are suppressed (not under --privacy off).")
    @click.option("--notable-followers", type=click.IntRange(0), default=NOTABLE_FOLLOWERS, show_default=True,
                  help="Followers from which a non-verified account counts as notable (named, its posts quoted).")
    @functools.wraps(func)
    def wrapper(*args: Any, privacy_mode: str, min_cell: int, notable_followers: int, **kwargs: Any) -> Any:
        return func(*args, privacy=Privacy(privacy_mode, notable_followers, min_cell), **kwargs)

    return wrapper  # type: ignore[return-value]
