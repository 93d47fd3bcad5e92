"""`groundswell trends`: the Poisson trend score, the counts in SQL, onsets and lead–lag on a
simulated movement with exact ground truth, the aurora848 #metoo scrape, the CLI and the
report partial. Series built in this file are synthetic; real posts are read at run time."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from click.testing import CliRunner
from scipy.stats import poisson

from groundswell.analysis import trend_score
from groundswell.cli import main
from groundswell.engines.duckdb import DuckDBEngine
from groundswell.metrics import trends as sql

HOUR = timedelta(hours=1)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def _trends(*args: str) -> tuple[Any, Any]:
    result = CliRunner().invoke(main, ["trends", *args])
    return result, (orjson.loads(result.stdout) if result.exit_code == 0 and "--json" in args else None)


# --- the trend score -------------------------------------------------------------------------------


def test_eta_is_the_papers_formula_above_the_floor():
    """η = (c − ν) / (upper − lower end of the central 99% Poisson(ν) interval)."""
    rng = np.random.default_rng(0)
    nu = rng.uniform(5, 5000, size=200).round()
    counts = rng.poisson(nu * rng.uniform(0.5, 3, size=200))
    low, high = poisson.interval(0.99, nu)
    assert np.allclose(trend_score.eta(counts, nu), (counts - nu) / (high - low))


def test_quantiles_are_scipys_poisson_ppf():
    mu = np.concatenate([np.linspace(0.01, 50, 2000), np.geomspace(50, 1e7, 2000)])
    for q in (0.005, 0.025, 0.5, 0.975, 0.995):
        assert (trend_score.poisson_quantile(q, mu) == poisson.ppf(q, mu)).all(), q


def test_a_tiny_background_cannot_make_a_rare_tag_outrank_a_big_jump():
    floor = -math.log(1 - 0.99)
    low, high = poisson.interval(0.99, floor)
    first_post, ten_from_nothing, big_jump = trend_score.eta(np.array([1, 10, 1200]), np.array([0, 0, 1000]))
    assert first_post < 0  # one post out of nothing is not a trend
    assert ten_from_nothing == pytest.approx((10 - floor) / (high - low))
    assert big_jump > ten_from_nothing


def _random_table(seed: int, series: int = 30, buckets: int = 240) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.poisson(rng.gamma(0.4, 3, size=(series, 1)), size=(series, buckets)) * (rng.random((series, buckets)) < 0.6)
    observed = np.ones(buckets, dtype=bool)
    observed[60:75] = False
    observed[130] = False
    dense[:, ~observed] = 0  # nothing is collected in a gap
    return dense, observed


@pytest.mark.parametrize("baseline", trend_score.BASELINES)
def test_sparse_and_online_scores_equal_the_dense_ones(baseline: str):
    dense, observed = _random_table(1)
    expected = trend_score.scores(dense, observed, baseline, period=24, window=3)
    rows, cols = np.nonzero(dense)
    sparse = trend_score.sparse_scores(rows, cols, dense[rows, cols], observed, baseline, period=24, window=3)
    assert np.allclose(sparse, expected[rows, cols], equal_nan=True)
    online = trend_score.OnlineTrendScore(dense.shape[0], baseline, period=24, window=3)
    live = np.stack([online.update(dense[:, t], bool(observed[t])) for t in range(dense.shape[1])], axis=1)
    assert np.allclose(live, expected, equal_nan=True)
    assert np.isnan(expected[:, 60:75]).all()  # no score in a gap...
    assert np.isnan(expected[:, 75]).all() == (baseline == "previous")  # ...nor against one
    assert np.isfinite(expected[:, 200]).all()


def test_cycle_background_discounts_a_daily_rhythm():
    """A busy evening hour every day trends point by point, not against past evenings; a real
    surge trends under both backgrounds."""
    rng = np.random.default_rng(2)
    rate = np.tile(np.where(np.arange(24) == 19, 300.0, 20.0), 21)
    counts = rng.poisson(rate)
    counts[18 * 24 + 19] = 1500
    previous = trend_score.scores(counts, baseline="previous")[0]
    cycle = trend_score.scores(counts, baseline="cycle", period=24, window=7)[0]
    evenings = [d * 24 + 19 for d in range(8, 18)]
    assert (previous[evenings] > 5).all()
    assert (np.abs(cycle[evenings]) < 2).all()
    assert cycle[18 * 24 + 19] > 10 and previous[18 * 24 + 19] > 10


def test_ranks_count_the_hashtags_above_leaving_out_the_targets_own():
    dense, observed = _random_table(3)
    scores = trend_score.scores(dense, observed)
    rows, cols = np.nonzero(dense)
    cell = trend_score.sparse_scores(rows, cols, dense[rows, cols], observed)
    own = [np.array([0]), np.array([1, 2]), np.array([], dtype=np.int64)]
    ranked, present = trend_score.ranks(scores[:3], rows, cols, cell, own)
    for f in range(3):
        for t in range(dense.shape[1]):
            mine = scores[f, t]
            if not (np.isfinite(mine) and mine > 0):
                assert np.isnan(ranked[f, t])
                continue
            others = [cell[i] for i in np.flatnonzero(cols == t) if rows[i] not in own[f] and cell[i] > mine]
            assert ranked[f, t] == 1 + len(others)
    assert present.tolist() == (dense > 0).sum(axis=0).tolist()
    assert np.nanmin(ranked) == 1 and np.nanmax(ranked) > 1


# --- a simulated movement with exact ground truth -----------------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """A small synthetic #metoo movement (v1 tweets, written by the simulator) in a store."""
    from groundswell.ingest import IngestOptions, ingest
    from groundswell.simulate import write_simulation
    from groundswell.store import Store

    folder = tmp_path_factory.mktemp("trends-sim")
    truth = write_simulation(folder / "in", "v1", posts=2500, seed=2)
    db = str(folder / "store.duckdb")
    with Store(db) as store:
        ingest([str(folder / "in")], store, IngestOptions())
    return db, truth


@pytest.fixture(scope="module")
def simulated_trends(simulated: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    result, figures = _trends("--db", simulated[0], "--movement", "metoo", "--json")
    assert result.exit_code == 0, result.output
    return figures


def test_counts_per_hour_are_the_simulation_truth(simulated: tuple[str, dict[str, Any]]):
    db, truth = simulated
    with DuckDBEngine(db) as engine:
        totals = {moment.isoformat() + "Z": n for moment, n in sql.bucket_totals(engine.query, "hour")}
        from groundswell.metrics import scope
        from groundswell.movement.definition import load_builtin

        scope.materialize_base(engine.query, load_builtin("metoo"))
        groups = sql.group_cells(engine.query, "hour", scope.SCOPE)
        cells = sql.hashtag_cells(engine.query, "hour")
    assert totals == {hour: n for hour, n in truth["per_hour"].items() if n}
    matched = {moment.isoformat() + "Z": n for dim, _, moment, n in groups if dim == "movement"}
    assert matched == {hour: n for hour, n in truth["per_hour_matched"].items() if n}
    per_key: dict[str, int] = {}
    for key, _, n in cells:
        per_key[key] = per_key.get(key, 0) + n
    assert {k: per_key[k] for k in truth["matching"]["by_variant"]} == \
        {k: v["posts"] for k, v in truth["matching"]["by_variant"].items()}


def test_trends_finds_the_true_start_and_every_variants_lag(simulated: tuple[str, dict[str, Any]],
                                                            simulated_trends: dict[str, Any]):
    truth = simulated[1]
    onset = _time(simulated_trends["onset"]["at"])
    assert abs(onset - _time(truth["burst_onset_hour"])) <= HOUR
    assert onset - HOUR <= _time(truth["true_start"]) < onset + 2 * HOUR
    rows = {r["value"]: r for r in simulated_trends["lead_lag"] if r["dimension"] == "variant"}
    for variant in truth["variants"]:
        row = rows[variant["key"]]
        assert abs(row["lag_hours"] - variant["lag_hours"]) <= 1, variant["key"]
        assert abs(_time(row["onset"]) - _time(variant["onset_hour"])) <= HOUR, variant["key"]
        assert _time(row["first_seen"]) == _time(variant["first_seen"]), variant["key"]
    assert simulated_trends["reference"] == {"dimension": "family", "value": "core", "onset": simulated_trends["onset"]["at"]}


def test_day_buckets_find_the_start_within_one_day(simulated: tuple[str, dict[str, Any]]):
    """The collection starts at noon, so the call's day is half observed and looks quieter
    than it was (see docs/trends.md): within one bucket is what day buckets can promise."""
    result, figures = _trends("--db", simulated[0], "--movement", "metoo", "--bucket", "day", "--json")
    assert result.exit_code == 0, result.output
    call_day = _time(simulated[1]["true_start"]).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs(_time(figures["onset"]["at"]) - call_day) <= timedelta(days=1)
    assert figures["settings"]["period"] == 7


def test_the_simulated_gap_is_unobserved_and_inside_the_first_burst(simulated: tuple[str, dict[str, Any]],
                                                                      simulated_trends: dict[str, Any]):
    gap = simulated[1]["gap"]
    found = simulated_trends["range"]["gaps"]
    assert [(_time(g["start"]), _time(g["end"]) + HOUR) for g in found] == [(_time(gap["start"]), _time(gap["end"]))]


def test_the_core_family_tops_the_trend_ranking_at_the_call(simulated_trends: dict[str, Any]):
    by_hour = {row["t"]: row for row in simulated_trends["top_trend_rank"]["buckets"]}
    assert by_hour[simulated_trends["onset"]["at"]]["ranks"]["core"] == 1
    core = next(f for f in simulated_trends["top_trend_rank"]["families"] if f["label"] == "core")
    assert core["buckets_ranked_first"] >= 1 and core["best_rank"] == 1


# --- the CLI ------------------------------------------------------------------------------------------


def test_human_output_names_the_onset_and_every_group(simulated: tuple[str, dict[str, Any]],
                                                      simulated_trends: dict[str, Any]):
    result = CliRunner().invoke(main, ["trends", "--db", simulated[0], "--movement", "metoo"])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("metoo: onset 2017-10-15 20:00:00")
    assert "balancetonporc" in result.stdout and "lead–lag" in result.stdout


def test_small_groups_are_suppressed_and_privacy_off_says_so(simulated: tuple[str, dict[str, Any]],
                                                            simulated_trends: dict[str, Any]):
    result, figures = _trends("--db", simulated[0], "--movement", "metoo", "--min-cell", "60", "--json")
    assert result.exit_code == 0, result.output
    small = {(r["dimension"], r["value"]) for r in simulated_trends["series"] if 0 < r["distinct_authors"] < 60}
    rows = {(r["dimension"], r["value"]): r for r in figures["series"]}
    assert small and {key for key, r in rows.items() if r["suppressed"]} == small
    for key in small:
        assert {k: rows[key][k] for k in ("posts", "distinct_authors", "first_seen")} == dict.fromkeys(
            ("posts", "distinct_authors", "first_seen"))
        assert "bursts" not in rows[key] and "onset" not in rows[key]
    ranked = {f["label"] for f in figures["top_trend_rank"]["families"]}
    assert not ranked & {value for dimension, value in small if dimension == "family"}
    off = CliRunner().invoke(main, ["trends", "--db", simulated[0], "--movement", "metoo", "--privacy", "off"])
    assert off.exit_code == 0 and off.stdout.startswith("WARNING: privacy is OFF")


def test_without_a_movement_every_collected_post_is_the_scope(simulated: tuple[str, dict[str, Any]]):
    result, figures = _trends("--db", simulated[0], "--json")
    assert result.exit_code == 0, result.output
    everything = next(r for r in figures["series"] if r["dimension"] == "movement")
    assert everything["posts"] == simulated[1]["collected_posts"]
    assert figures["reference"]["dimension"] == "movement" and figures["top_trend_rank"]["families"] == []


@pytest.mark.parametrize("args, code, message", [
    (["--engine", "spark"], 1, "Error: --engine spark needs --lake PATH"),
    (["--bucket", "week"], 2, "Invalid value for '--bucket'"),
    (["--alpha", "1"], 2, "Invalid value for '--alpha'"),
])
def test_user_errors_are_one_line(simulated: tuple[str, dict[str, Any]], args: list[str], code: int, message: str):
    result = CliRunner().invoke(main, ["trends", "--db", simulated[0], *args])
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output


# --- the report partial -----------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.rows: dict[str, int] = {}
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.tags.append((tag, named))
        if tag == "table":
            self._table = named.get("id")
        if tag == "tr" and self._table:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render(figures: dict[str, Any]) -> _Page:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    folder = Path(str(resources.files("groundswell.report") / "templates"))
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)  # as report/html.py sets it up
    page = _Page()
    page.feed(env.get_template("_trends.html.j2").render(trends=figures))
    return page


def test_the_partial_shows_every_lead_lag_row_escaped_and_loads_nothing(simulated_trends: dict[str, Any]):
    figures = orjson.loads(orjson.dumps(simulated_trends))
    figures["lead_lag"].append({"dimension": "language", "value": "<script>alert(1)</script>", "posts": 9,
                                "distinct_authors": 9, "first_seen": None, "onset": None, "lag_hours": None,
                                "suppressed": False})
    page = _render(figures)
    sections = [attrs for tag, attrs in page.tags if tag == "section"]
    assert sections == [{"id": "trends", "data-section": "trends"}]
    assert page.rows["lead-lag-table"] == 1 + len(figures["lead_lag"])  # the header row, then one per group
    assert "script" not in [tag for tag, _ in page.tags]
    assert "<script>alert(1)</script>" in "".join(page.text)
    assert not [attrs for _, attrs in page.tags if "src" in attrs or "href" in attrs]
    assert "2017-10-15 20:00:00 UTC" in "".join(page.text)


# --- the aurora848 #metoo scrape -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def aurora_trends(aurora_store: Path) -> dict[str, Any]:
    result, figures = _trends("--db", str(aurora_store), "--movement", "metoo", "--json")
    assert result.exit_code == 0, result.output
    return figures


@pytest.mark.realdata
@pytest.mark.slow
def test_aurora_hours_feeding_the_bursts_match_the_reference_days(aurora_store: Path):
    """The data's README, counted from tweet ids: 38 tweets on Oct 14 and 13,666 on Oct 15."""
    with DuckDBEngine(str(aurora_store)) as engine:
        hours = sql.bucket_totals(engine.query, "hour")
    per_day: dict[str, int] = {}
    for moment, n in hours:
        per_day[moment.date().isoformat()] = per_day.get(moment.date().isoformat(), 0) + n
    assert (per_day["2017-10-14"], per_day["2017-10-15"]) == (38, 13_666)


@pytest.mark.realdata
@pytest.mark.slow
def test_aurora_first_burst_is_the_take_off_of_october_15(aurora_trends: dict[str, Any]):
    movement = next(r for r in aurora_trends["series"] if r["dimension"] == "movement")
    starts = [_time(b["start"]) for b in movement["bursts"]["continuous"]]
    assert starts and min(starts) >= datetime(2017, 10, 15)
    first = movement["bursts"]["continuous"][0]
    assert datetime(2017, 10, 15, 12) <= _time(first["start"]) <= datetime(2017, 10, 15, 21)
    assert aurora_trends["onset"]["at"] == first["start"]
    assert first["spans_gap"]  # Oct 16-22 are missing: the burst holds through them, unsplit


@pytest.mark.realdata
@pytest.mark.slow
def test_aurora_core_family_ranks_first_as_the_hashtag_takes_off(aurora_trends: dict[str, Any], aurora_store: Path):
    hours = [f"2017-10-15T{h}:00:00Z" for h in (20, 21, 22, 23)]
    rows = {row["t"]: row for row in aurora_trends["top_trend_rank"]["buckets"]}
    first = [h for h in hours if rows.get(h, {}).get("ranks", {}).get("core") == 1]
    assert len(first) >= 3
    assert len(_metoo_first_independently(aurora_store)) >= 3


def _metoo_first_independently(aurora_store: Path) -> list[int]:
    """The same question asked without groundswell's scoring code: plain SQL counts per tag and
    hour, scipy's Poisson interval, the floor written out. Hours where #metoo scores highest."""
    import duckdb

    con = duckdb.connect(str(aurora_store), read_only=True)
    rows = con.execute("SELECT k, hour(created_at), count(*) FROM (SELECT unnest(list_distinct(hashtag_keys)) AS k, "
                       "created_at FROM posts WHERE collected AND created_at >= TIMESTAMP '2017-10-15 19:00:00' "
                       "AND created_at < TIMESTAMP '2017-10-16 00:00:00') GROUP BY ALL").fetchall()
    con.close()
    counts: dict[tuple[str, int], int] = {(k, h): n for k, h, n in rows}
    other_core = {"me_too", "metoomovement", "metoocampaign"}
    winners = []
    for hour in (20, 21, 22, 23):
        scored = {}
        for key in {k for k, h in counts if h == hour} - other_core:
            nu = max(counts.get((key, hour - 1), 0), -math.log(0.01))
            low, high = poisson.interval(0.99, nu)
            scored[key] = (counts[(key, hour)] - nu) / (high - low)
        if max(scored, key=scored.__getitem__) == "metoo":
            winners.append(hour)
    return winners


def test_a_movement_that_matches_nothing_has_no_onset(simulated: tuple[str, dict[str, Any]], tmp_path: Path):
    definition = tmp_path / "nothing.toml"  # synthetic definition
    definition.write_text('name = "nothing"\ndescription = "matches no post"\n[[families]]\nlabel = "core"\n'
                          'language = "en"\nhashtags = ["NoPostCarriesThisTag"]\n', encoding="utf-8")
    result, figures = _trends("--db", simulated[0], "--movement", str(definition), "--json")
    assert result.exit_code == 0, result.output
    assert figures["onset"]["at"] is None and figures["top_trend_rank"]["families"] == []
    assert [(r["value"], r["posts"], r["onset"]) for r in figures["lead_lag"]] == [("core", 0, None)]
    human = CliRunner().invoke(main, ["trends", "--db", simulated[0], "--movement", str(definition)])
    assert human.stdout.startswith("nothing: no onset")
