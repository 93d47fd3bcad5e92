"""How many posts and people a movement's definition matches, and through what.

Figures, all over collected posts (referenced-only posts are context, not volume):
  - hashtag_only: posts with a movement hashtag key and no movement phrase in their text;
  - phrase_only: posts whose text says a movement phrase (outside tags, mentions and URLs)
    and that carry no movement hashtag;
  - both: posts with both;
  - by_hashtag = hashtag_only + both; by_phrase = phrase_only + both;
  - matched = hashtag_only + phrase_only + both; unmatched = the other collected posts
    (including, when the movement has a window, every post outside it);
  - by_family: matched posts per family label (a post counts once in each family it
    matched, by tag or by phrase, so families can add up to more than `matched`);
  - by_variant: matched posts per hashtag key as stored (top N by posts). Under standard
    and strict privacy a key used by fewer than `min_cell` people is not listed: such keys
    are counted together, exactly, in a last row `other (suppressed)` (a post or person in
    two of them once), like every other breakdown (docs/privacy.md).
Every figure has `posts` and `distinct_authors`; authors are counted distinct within each
figure, so author counts never add up across figures.

The matched set is computed once per call (a materialized CTE) and every figure is read
from it, so the regular expressions run over the text a single time.
"""

from __future__ import annotations

from typing import Any, Callable

from ..movement.definition import Movement
from ..movement.match import posts_with_match_sql, sql_string
from ..privacy import Privacy
from .audience import DEFAULT_PRIVACY, SUPPRESSED

Query = Callable[[str], list[tuple]]
DEFAULT_TOP = 20

_FIGURES_SQL = """
WITH mv AS MATERIALIZED ({posts}),
classified AS (
  SELECT *, CASE WHEN by_hashtag AND by_phrase THEN 'both' WHEN by_hashtag THEN 'hashtag_only'
                 WHEN by_phrase THEN 'phrase_only' ELSE 'unmatched' END AS match_class
  FROM mv
),
variant_posts AS (SELECT unnest(variants) AS variant, platform, post_id, author_id FROM mv),
variant_counts AS (
  SELECT variant, count(*) AS posts, count(DISTINCT author_id) AS authors FROM variant_posts GROUP BY variant
)
SELECT 'class' AS dimension, match_class AS value, count(*), count(DISTINCT author_id) FROM classified GROUP BY match_class
UNION ALL SELECT 'total', 'by_hashtag', count(*), count(DISTINCT author_id) FROM mv WHERE by_hashtag
UNION ALL SELECT 'total', 'by_phrase', count(*), count(DISTINCT author_id) FROM mv WHERE by_phrase
UNION ALL SELECT 'total', 'matched', count(*), count(DISTINCT author_id) FROM mv WHERE by_hashtag OR by_phrase
UNION ALL SELECT 'total', 'outside_window', count(*), count(DISTINCT author_id) FROM mv WHERE NOT in_window
UNION ALL SELECT 'family', family, count(*), count(DISTINCT author_id)
  FROM (SELECT unnest(families) AS family, author_id FROM mv) AS f GROUP BY family
UNION ALL SELECT 'variant_total', 'distinct', count(*), NULL FROM variant_counts
UNION ALL SELECT * FROM (
  SELECT 'variant', variant, posts, authors FROM variant_counts WHERE authors >= {floor}
  ORDER BY posts DESC, variant LIMIT {top}
) AS top_variants
UNION ALL SELECT 'variant_small', 'other', count(DISTINCT platform || ':' || post_id), count(DISTINCT author_id)
  FROM variant_posts WHERE variant IN (SELECT variant FROM variant_counts WHERE authors < {floor})
"""

_CALL_SQL = """
SELECT
  count(*) FILTER (WHERE post_id = {id}) AS stored,
  count(*) FILTER (WHERE collected AND reposted_post_id = {id}) AS reposts,
  count(*) FILTER (WHERE collected AND quoted_post_id = {id}) AS quotes,
  count(*) FILTER (WHERE collected AND reply_to_post_id = {id}) AS replies
FROM posts WHERE platform = {platform}
"""


def movement_figures(query: Query, movement: Movement, top: int = DEFAULT_TOP,
                     privacy: Privacy = DEFAULT_PRIVACY) -> dict[str, Any]:
    """The `movement` object of `stats --movement`: see the module docstring for each figure."""
    rows = query(_FIGURES_SQL.format(posts=posts_with_match_sql(movement), top=int(top), floor=privacy.cell_floor))
    figure = _figure_reader(rows)
    forms = movement.stored_forms()
    variants = [
        {"key": value, "family": forms.get(value), "posts": posts, "distinct_authors": authors, "suppressed": False}
        for dimension, value, posts, authors in rows if dimension == "variant"
    ]
    variants.sort(key=lambda v: (-v["posts"], v["key"]))
    small = figure("variant_small", "other")
    if small["posts"]:
        variants.append({"key": SUPPRESSED, "family": None, **small, "suppressed": True})
    result: dict[str, Any] = {
        "name": movement.name,
        "source": movement.source,
        "accent_fold": movement.accent_fold,
        "window": movement.as_dict()["window"],
        **{name: figure("class", name) for name in ("hashtag_only", "phrase_only", "both")},
        **{name: figure("total", name) for name in ("by_hashtag", "by_phrase", "matched")},
        "unmatched": figure("class", "unmatched"),
        "by_family": {label: figure("family", label) for label in movement.labels()},
        "by_variant": variants,
        "distinct_variants": figure("variant_total", "distinct")["posts"],
    }
    if movement.window:
        result["outside_window"] = figure("total", "outside_window")
    if movement.call_to_action:
        result["call_to_action"] = [call_figures(query, call) for call in movement.call_to_action]
    return result


def call_figures(query: Query, call: str) -> dict[str, Any]:
    """Whether the call-to-action post is in the store, and how many collected posts answer it."""
    platform, _, post_id = call.partition(":")
    stored, reposts, quotes, replies = query(_CALL_SQL.format(id=sql_string(post_id), platform=sql_string(platform)))[0]
    return {"post": call, "in_store": bool(stored), "reposts": reposts, "quotes": quotes, "replies": replies}


def _figure_reader(rows: list[tuple]) -> Callable[[str, str], dict[str, int]]:
    table = {(dimension, value): (posts, authors) for dimension, value, posts, authors in rows}

    def figure(dimension: str, value: str) -> dict[str, int]:
        posts, authors = table.get((dimension, value), (0, 0))
        return {"posts": int(posts or 0), "distinct_authors": int(authors or 0)}

    return figure
