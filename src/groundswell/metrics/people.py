"""Who counts as a person, and whether people can be counted at all: unknown is not zero.

A post's author is its `author_id`: the platform's account id, or `handle:<lower-case
handle>` where a table gave only handles (formats/table.py). A count of distinct people
says which of the two it rests on. Where no post in the count has an author, the number of
people is unknown, never 0: every `distinct_authors` figure is then None, and `people`
says why. Where only some posts have one, the count is a floor, and says so.
"""

from __future__ import annotations

from typing import Any, Callable

Query = Callable[[str], list[tuple]]
NO_AUTHOR = "no author id or handle column was read for these posts"
# The figures' keys that count people; unknown people make every one of them None.
PEOPLE_KEYS = frozenset({"distinct_authors", "cumulative_authors", "new_authors"})


def basis(query: Query, table: str) -> dict[str, Any]:
    """What a count of distinct people in `table` rests on."""
    posts, without, by_handle = query(
        f"SELECT count(*), count(*) FILTER (WHERE author_id IS NULL), "
        f"count(*) FILTER (WHERE starts_with(author_id, 'handle:')) FROM {table}")[0]
    posts, without, by_handle = int(posts), int(without), int(by_handle)
    with_author = posts - without
    by_id = with_author - by_handle
    counted_by = [name for name, n in (("author id", by_id), ("handle", by_handle)) if n]
    known = with_author > 0 or posts == 0
    return {
        "known": known,
        "counted_by": " and ".join(counted_by) or None,
        "posts_without_author": without,
        "lower_bound": known and without > 0,
        "reason": None if known else NO_AUTHOR,
    }


def unknown_people(figures: Any) -> Any:
    """Every `distinct_authors` in a figure tree set to None: a count that would read 0 for want
    of author columns says unknown instead."""
    if isinstance(figures, dict):
        return {k: (None if k in PEOPLE_KEYS else unknown_people(v)) for k, v in figures.items()}
    if isinstance(figures, list):
        return [unknown_people(v) for v in figures]
    return figures


def describe(people: dict[str, Any], distinct: int | None) -> str:
    """The headline's phrase for people: a number with its basis, or unknown with the reason."""
    if not people["known"]:
        return f"unknown distinct people ({people['reason']})"
    counted = f", counted by {people['counted_by']}" if people["counted_by"] == "handle" else ""
    floor = f"; {people['posts_without_author']:,} posts have no author, so at least" if people["lower_bound"] else ""
    return f"{distinct or 0:,} distinct people{counted}{floor}"
