"""The store's deduplication rules as one SQL query over every copy of every post.

The DuckDB store applies its rules batch by batch as it writes (store/duckdb_store.py).
Within a write batch, one copy of a post wins: collected first, then the newest version, then
the last in input order. Across batches, the batch's winner replaces the stored row when it
is collected or the stored one is not, and its version is not older; engagement counts
coalesce with the stored ones; `collected` is true once any copy was; provenance moves only
when the content changes; deleted posts and authors never come back.

This query gives the same table from all copies at once, so Spark can build a lake without
a row-by-row fold. Its input, `copies`, is the post columns plus `_pos` (input order) and
`_batch` (the store's write batch the copy arrived in); rows already in a lake come first,
with `_pos` and `_batch` < 0. It is written in DuckDB's dialect, like every metric, and runs
on Spark through the same transpiler; tests/test_spark_ingest.py checks it on DuckDB against
the store itself.

Across batches, per post, the *chain* is the batch winners that replaced the stored row.
A winner is eligible when it is collected or no collected winner came before it; it joins the
chain when it is eligible and its version is not older than any eligible winner before it.
The row holds the last chain member's content, the last non-null engagement along the
chain, and the provenance of the last chain member that changed something.
"""

from __future__ import annotations

from ..model import ENGAGEMENT, FIELD_NAMES
from ..store.duckdb_store import CONTENT, PROVENANCE, REPOST_REASON

KEY = "platform, post_id"
# The store's version order (`_older_version` in store/batches.py): longer ids are
# newer, then larger ones. This string sorts the same way.
VERSION_KEY = "lpad(CAST(length(coalesce(version_id, '')) AS VARCHAR), 12, '0') || coalesce(version_id, '')"
# The store's winner order within a batch (`_WINNERS_SQL`); a test holds the two equal.
WINNER_ORDER = "collected DESC, length(coalesce(version_id, '')) DESC, coalesce(version_id, '') DESC, _pos DESC"

_BEFORE = f"PARTITION BY {KEY} ORDER BY _pos ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
_WHOLE = f"PARTITION BY {KEY} ORDER BY _pos ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
_COMPARED = [c for c in CONTENT if c not in PROVENANCE and c not in ENGAGEMENT]


def _matched(copies: str, tombstones: str, then: bool) -> str:
    """Copies that a deletion names, by post id or by author (`then`: recorded by their batch)."""
    when = " AND t._since <= c._batch" if then else ""
    return (f"SELECT c.platform, c.post_id, c._batch FROM {copies} c JOIN {tombstones} t ON NOT t.is_author "
            f"AND t.platform = c.platform AND t.target_id = c.post_id{when} "
            f"UNION SELECT c.platform, c.post_id, c._batch FROM {copies} c JOIN {tombstones} t ON t.is_author "
            f"AND t.platform = c.platform AND t.target_id = c.author_id{when}")


def live_sql(copies: str = "copies", tombstones: str = "tombstones") -> str:
    """The copies left once deletions apply: a post goes when a deletion names it or its author
    (every copy of it goes, whatever author a copy gives), and a repost goes with its original,
    which it quotes whole. Deletions apply whenever they were recorded, before or after."""
    return f"""
SELECT * FROM {copies} c
WHERE NOT EXISTS (SELECT 1 FROM gone g WHERE g.platform = c.platform AND g.post_id = c.post_id)
  AND NOT EXISTS (SELECT 1 FROM gone g WHERE g.platform = c.platform AND g.post_id = c.reposted_post_id)
  AND NOT EXISTS (SELECT 1 FROM {tombstones} t WHERE NOT t.is_author AND t.platform = c.platform
                  AND t.target_id = c.reposted_post_id)
"""


def _gone_sql(copies: str, tombstones: str) -> str:
    return f"gone AS (SELECT DISTINCT platform, post_id FROM ({_matched(copies, tombstones, False)}) AS m)"


# Most posts come once: they skip the windows of the fold. Counting copies per post is a
# window over the same partitioning as the fold's, so Spark shuffles the copies only once.
_SPLIT_SQL = f"""
counted AS (SELECT *, count(*) OVER (PARTITION BY {KEY}) AS _n FROM live),
single AS (SELECT * FROM counted WHERE _n = 1),
multiple AS (SELECT * FROM counted WHERE _n > 1)"""


def _winners_sql(multiple: str) -> str:
    """Each batch's winning copy of each post seen more than once."""
    return (f"SELECT * FROM {multiple} QUALIFY row_number() OVER "
            f"(PARTITION BY {KEY}, _batch ORDER BY {WINNER_ORDER}) = 1")


def _struct(columns: list[str] | tuple[str, ...]) -> str:
    return "{" + ", ".join(f"'{c}': {c}" for c in columns) + "}"


def _chain_sql(multiple: str) -> str:
    """The batch winners that replaced the stored row, each with whether it changed it.

    Columns are compared as one struct, so the query needs a handful of window expressions,
    not one per column (Spark plans and compiles each one).
    """
    keyed = (
        f"SELECT *, coalesce(collected, false) AS _c, {VERSION_KEY} AS _v, "
        f"min(CASE WHEN coalesce(collected, false) THEN _pos END) OVER (PARTITION BY {KEY}) AS _first_c, "
        f"bool_or(coalesce(collected, false)) OVER (PARTITION BY {KEY}) AS _any_c "
        f"FROM ({_winners_sql(multiple)}) AS winners"
    )
    eligible = f"SELECT *, (_c OR _first_c IS NULL OR _pos < _first_c) AS _elig FROM ({keyed}) AS keyed"
    prior = (f"SELECT *, max(CASE WHEN _elig THEN _v END) OVER ({_BEFORE}) AS _prior_v "
             f"FROM ({eligible}) AS eligible")
    chain = f"SELECT * FROM ({prior}) AS prior WHERE _elig AND (_prior_v IS NULL OR _v >= _prior_v)"
    content = _struct(_COMPARED)
    changes = [f"{content} IS DISTINCT FROM lag({content}) OVER (PARTITION BY {KEY} ORDER BY _pos)"]
    changes += [f"{c} IS DISTINCT FROM last_value({c} IGNORE NULLS) OVER ({_BEFORE})" for c in ENGAGEMENT]
    first = f"lag(_pos) OVER (PARTITION BY {KEY} ORDER BY _pos) IS NULL"
    changed = " OR ".join([first, "(_c AND _pos = _first_c)", *changes])
    return f"SELECT *, ({changed}) AS _changed FROM ({chain}) AS chain"


def _picked_sql(multiple: str) -> str:
    """Per chain member: the post's last member, engagement and provenance (one window order)."""
    engagement = [f"last_value({c} IGNORE NULLS) OVER ({_WHOLE}) AS _e_{c}" for c in ENGAGEMENT]
    provenance = f"last_value(CASE WHEN _changed THEN {_struct(PROVENANCE)} END IGNORE NULLS) OVER ({_WHOLE}) AS _prov"
    last = f"max(_pos) OVER (PARTITION BY {KEY}) AS _last"
    return f"SELECT *, {', '.join([last, *engagement, provenance])} FROM ({_chain_sql(multiple)}) AS changed"


def _output_column(column: str) -> str:
    if column == "collected":
        return "_any_c AS collected"
    if column in ENGAGEMENT:
        return f"_e_{column} AS {column}"
    if column in PROVENANCE:
        return f"_prov.{column} AS {column}"
    return column


def fold_sql(multiple: str = "multiple") -> str:
    """One row per post, from `multiple`: the live copies of posts seen more than once."""
    columns = ", ".join(_output_column(c) for c in FIELD_NAMES)
    return f"SELECT {columns} FROM ({_picked_sql(multiple)}) AS picked WHERE _pos = _last"


def live_copies_sql(copies: str = "copies", tombstones: str = "tombstones") -> str:
    """The live copies, as one statement (Spark splits them itself when few posts repeat)."""
    return f"WITH {_gone_sql(copies, tombstones)} {live_sql(copies, tombstones)}"


def dedupe_sql(copies: str = "copies", tombstones: str = "tombstones") -> str:
    """One row per post, with the store's columns in the store's order."""
    return (f"WITH {_gone_sql(copies, tombstones)}, live AS ({live_sql(copies, tombstones)}), {_SPLIT_SQL} "
            f"{fold_sql('multiple')} UNION ALL SELECT {', '.join(FIELD_NAMES)} FROM single")


def counts_sql(copies: str = "copies", tombstones: str = "tombstones") -> str:
    """The ingest summary's post counts, as the store counts them batch by batch.

    A copy counts as it did when its batch was written: it is dropped only by a deletion
    recorded in its own batch or before (`tombstones._since`, that deletion's first batch),
    that names a copy of the same post, or of its original, in that same batch.

    ingested: posts newly collected; duplicate: collected copies that added no new post;
    referenced: posts first stored, not collected, in this run; live_collected: collected
    copies that survived deletions (the caller knows how many came in, and so how many were
    forgotten). Then, per file, the posts it added.
    """
    return f"""
WITH matched AS ({_matched(copies, tombstones, True)}),
live AS (
  SELECT * FROM {copies} c
  WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.platform = c.platform AND m._batch = c._batch
                    AND m.post_id = c.post_id)
    AND NOT EXISTS (SELECT 1 FROM matched m WHERE m.platform = c.platform AND m._batch = c._batch
                    AND m.post_id = c.reposted_post_id)
    AND NOT EXISTS (SELECT 1 FROM {tombstones} t WHERE t._since <= c._batch AND NOT t.is_author
                    AND t.platform = c.platform AND t.target_id = c.reposted_post_id)
),
per_post AS (
  SELECT {KEY},
    bool_or(_pos < 0) AS had,
    bool_or(_pos < 0 AND coalesce(collected, false)) AS had_collected,
    min(CASE WHEN _pos >= 0 THEN _batch END) AS first_batch,
    min(CASE WHEN _pos >= 0 AND collected THEN _batch END) AS first_collected_batch,
    count(*) FILTER (WHERE _pos >= 0 AND collected) AS new_collected_copies
  FROM live GROUP BY {KEY}
),
news AS (
  SELECT *, first_collected_batch IS NOT NULL AND NOT had_collected AS is_new,
    CAST(floor(first_collected_batch / 4294967296) AS BIGINT) AS file_index
  FROM per_post
)
SELECT CASE WHEN grouping(file_index) = 1 THEN 'run' ELSE 'file' END AS scope, file_index,
  count(*) FILTER (WHERE is_new) AS ingested,
  coalesce(sum(new_collected_copies), 0) - count(*) FILTER (WHERE is_new) AS duplicate,
  count(*) FILTER (WHERE NOT had AND first_batch IS NOT NULL
                   AND first_collected_batch IS DISTINCT FROM first_batch) AS referenced,
  coalesce(sum(new_collected_copies), 0) AS live_collected
FROM news GROUP BY GROUPING SETS ((), (file_index))
"""


def repost_tombstones_sql(copies: str = "copies", tombstones: str = "tombstones") -> str:
    """The tombstones the store adds for reposts that a deletion removed with their original.

    When a deletion meets a repost already stored (written in an earlier batch), the store
    removes the repost and records a tombstone of its own for it (`REPOST_REASON`, from the
    deletion's file), so that no later copy of the repost comes back and the coverage
    section counts it among the deletions. A post deletion takes reposts of the named id; an
    account deletion takes reposts of that account's posts stored before it. A repost that
    arrives in the deletion's batch or later is simply never stored, with no tombstone.
    Columns: the tombstones table's, less `recorded_at`, plus `_since`.
    """
    return f"""
WITH killed AS (
  SELECT t.platform, t.target_id AS post_id, t._since, t.source_file FROM {tombstones} t WHERE NOT t.is_author
  UNION ALL
  SELECT c.platform, c.post_id, t._since, t.source_file FROM {copies} c JOIN {tombstones} t
    ON t.is_author AND t.platform = c.platform AND t.target_id = c.author_id AND c._batch < t._since
),
gone AS (SELECT DISTINCT platform, post_id FROM ({_matched(copies, tombstones, False)}) AS m),
reposts AS (
  SELECT r.platform, r.post_id AS target_id, k._since, k.source_file,
         row_number() OVER (PARTITION BY r.platform, r.post_id ORDER BY k._since, k.source_file) AS _first
  FROM {copies} r JOIN killed k ON r.platform = k.platform AND r.reposted_post_id = k.post_id AND r._batch < k._since
  WHERE NOT EXISTS (SELECT 1 FROM gone g WHERE g.platform = r.platform AND g.post_id = r.post_id)
)
SELECT platform, target_id, false AS is_author, CAST(NULL AS TIMESTAMP) AS deleted_at, '{REPOST_REASON}' AS reason,
       source_file, _since
FROM reposts WHERE _first = 1
"""
