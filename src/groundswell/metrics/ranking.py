"""Top lists without ranking everyone: most figures list the first ten of millions of rows.

A top list orders by a count, then by tie-breakers that cost more (a join, a distinct count).
Only rows whose count reaches the count of the top-th row can make the list, ties included,
so the costly part runs on those candidates alone and the list is exactly the same.
"""

from __future__ import annotations


def candidates_sql(relation: str, score: str, top: int) -> str:
    """The rows of `relation` (a table or a materialized CTE, read twice) whose `score` is at
    least the top-th highest: every row that can be in a top list ordered by `score` first."""
    return (f"SELECT g.* FROM {relation} g CROSS JOIN (SELECT min(s) AS cut FROM (SELECT {score} AS s FROM {relation} "
            f"ORDER BY s DESC LIMIT {int(top)}) AS t) AS k WHERE {score} >= k.cut")
