"""Kleinberg's burst detection (analysis/bursts.py), checked against an independent
implementation (pybursts, the Python port of R's `bursts::kleinberg`), against brute force,
and against likelihoods computed by scipy. Every series here is synthetic."""

from __future__ import annotations

import itertools
import random
import types

import numpy as np
import pytest
from scipy.stats import binom, poisson

from groundswell.analysis import bursts


def _pybursts():
    """pybursts 0.1.1 (2014) predates numpy's refusal of float indices: its burst listing
    indexes with a float array made by np.repeat(np.nan, n). Its module gets a numpy whose
    `repeat` makes that one array of Python objects; its Viterbi code runs untouched."""
    from pybursts import pybursts

    shim = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np) if not name.startswith("__")})

    def repeat(value, times, *args, **kwargs):
        if isinstance(value, float) and np.isnan(value):
            return np.array([value] * int(times), dtype=object)
        return np.repeat(value, int(times), *args, **kwargs)

    shim.repeat = repeat
    pybursts.np = shim
    return pybursts.kleinberg


def _arrivals(rng: random.Random) -> list[float]:
    """Exponential gaps whose rate jumps now and then (a synthetic stream)."""
    offsets, t = [], 0.0
    for i in range(rng.randint(8, 90)):
        rate = rng.choice([1.0, 1.0, 5.0, 20.0]) if (i // 12) % 2 else 1.0
        t += rng.expovariate(rate)
        offsets.append(round(t, 6))
    return offsets


@pytest.mark.parametrize("seed", range(12))
def test_continuous_model_equals_pybursts(seed: int):
    """Same levels, same start and end times, for random streams and parameters."""
    kleinberg = _pybursts()
    rng = random.Random(seed)
    offsets = _arrivals(rng)
    s, gamma = rng.choice([1.5, 2.0, 3.0]), rng.choice([0.5, 1.0, 2.0])
    expected = sorted((int(level), float(start), float(end)) for level, start, end in kleinberg(offsets, s=s, gamma=gamma)
                      if int(level) >= 1)  # R's level 0 is the whole stream
    ordered = sorted(offsets)
    found = sorted((b.level, ordered[b.start], ordered[b.end]) for b in bursts.offsets_bursts(offsets, s, gamma))
    assert found == expected


def test_a_dense_run_of_arrivals_is_one_burst_as_pybursts_finds_it():
    """Ten events a unit apart, twenty a hundredth apart, ten a unit apart again."""
    offsets = [float(i) for i in range(10)] + [9 + 0.01 * i for i in range(1, 21)] + [9.2 + i for i in range(1, 11)]
    found = bursts.offsets_bursts(offsets)
    level_one = [b for b in found if b.level == 1]
    assert len(level_one) == 1
    assert 8 <= level_one[0].start <= 10 and 28 <= level_one[0].end <= 30
    reference = [(int(l), float(a), float(b)) for l, a, b in _pybursts()(offsets) if int(l) >= 1]
    assert sorted((b.level, offsets[b.start], offsets[b.end]) for b in found) == sorted(reference)


def test_arrival_times_must_differ():
    with pytest.raises(ValueError):
        bursts.offsets_bursts([1.0, 2.0, 2.0, 3.0])


@pytest.mark.parametrize("seed", range(20))
def test_viterbi_finds_the_cheapest_sequence_of_all(seed: int):
    """Against every one of the k^T state sequences, costed from scratch."""
    rng = np.random.default_rng(seed)
    steps, k, up = int(rng.integers(1, 7)), int(rng.integers(2, 4)), float(rng.uniform(0.1, 3))
    emissions = rng.uniform(0, 5, size=(steps, k))

    def cost(path: tuple[int, ...]) -> float:
        previous, total = 0, 0.0
        for t, state in enumerate(path):
            total += up * max(0, state - previous) + emissions[t, state]
            previous = state
        return total

    best = min(cost(path) for path in itertools.product(range(k), repeat=steps))
    assert cost(tuple(bursts.viterbi(emissions, up))) == pytest.approx(best, abs=1e-9)


def test_bucket_costs_differ_between_states_as_poisson_log_likelihoods():
    """α w − c ln α is −ln Poisson(c; α w) up to a term the same in every state."""
    model = bursts.PoissonModel(base_rate=3.5, s=2.0, up_cost=1.0, k=5)
    counts = np.array([0, 1, 4, 30, 7])
    costs = model.emissions(counts, np.ones(counts.size, dtype=bool))
    rates = 3.5 * 2.0 ** np.arange(5)
    expected = -poisson.logpmf(counts[:, None], rates[None, :])
    assert np.allclose(costs - costs[:, :1], expected - expected[:, :1])


def test_batched_costs_differ_between_states_as_binomial_log_likelihoods():
    model = bursts.BinomialModel(base_share=0.05, s=2.0, up_cost=1.0, k=4)
    relevant, totals = np.array([0, 3, 12, 40]), np.array([10, 50, 60, 80])
    costs = model.emissions(relevant, totals)
    shares = 0.05 * 2.0 ** np.arange(4)
    expected = -binom.logpmf(relevant[:, None], totals[:, None], shares[None, :])
    assert np.allclose(costs - costs[:, :1], expected - expected[:, :1])


def test_batched_model_finds_a_run_of_high_share_exactly():
    """1,000 posts per bucket, 10% relevant, except 40% in buckets 30 to 39: the evidence per
    bucket dwarfs the cost of a level, so the burst is exactly those buckets."""
    totals = np.full(80, 1000)
    relevant = np.full(80, 100)
    relevant[30:40] = 400
    found = bursts.batched(relevant, totals)
    assert [(b.start, b.end) for b in found.bursts if b.level == 1] == [(30, 39)]
    assert found.onset == 30


def test_batched_model_needs_room_above_the_base_share():
    """Nearly every post relevant (a scrape of the tag itself): no state fits above it."""
    assert bursts.batched([99, 98, 100], [100, 100, 100]).bursts == []


def test_a_collection_gap_neither_splits_nor_creates_a_burst():
    counts = np.full(60, 5)
    counts[20:40] = 60
    counts[27:32] = 0
    gap = np.ones(60, dtype=bool)
    gap[27:32] = False
    spanning = [(b.start, b.end) for b in bursts.continuous(counts, gap).bursts if b.level == 1]
    assert spanning == [(20, 39)]
    # The same zeros read as observed are a lull: the burst splits in two.
    split = [(b.start, b.end) for b in bursts.continuous(counts).bursts if b.level == 1]
    assert split == [(20, 26), (32, 39)]
    quiet = np.full(60, 5)
    quiet[10:20] = 0
    hole = np.ones(60, dtype=bool)
    hole[10:20] = False
    assert bursts.continuous(quiet, hole).bursts == []


def test_a_burst_ending_in_a_gap_ends_on_the_last_bucket_seen():
    counts = np.full(50, 4)
    counts[10:20] = 80
    counts[20:25] = 0
    observed = np.ones(50, dtype=bool)
    observed[20:25] = False
    first = bursts.continuous(counts, observed).bursts[0]
    assert (first.level, first.start, first.end) == (1, 10, 19)


def test_many_series_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(4)
    matrix = rng.poisson(rng.uniform(0.2, 20, size=(6, 1)) * np.where(rng.random((6, 120)) < 0.1, 8, 1))
    matrix[5] = 0  # a series without posts cannot burst
    observed = rng.random(120) > 0.05
    together = bursts.continuous_many(matrix, observed)
    for row, found in zip(matrix, together):
        assert found.bursts == bursts.continuous(row, observed).bursts
    assert together[5].bursts == [] and any(found.bursts for found in together)


def test_online_updates_give_the_batch_answer():
    rng = np.random.default_rng(9)
    counts = rng.poisson(3, size=200)
    counts[120:135] += 40
    detection = bursts.continuous(counts)
    online = bursts.OnlineBursts(detection.model)
    states = [online.update(int(c)) for c in counts]
    assert online.bursts() == detection.bursts
    assert states[130] >= 1 and states[50] == 0  # the current state as buckets arrive


def test_online_batched_updates_give_the_batch_answer():
    totals = np.full(60, 500)
    relevant = np.full(60, 20)
    relevant[25:35] = 150
    detection = bursts.batched(relevant, totals)
    online = bursts.OnlineBursts(detection.model)
    for r, d in zip(relevant, totals):
        online.update(int(r), int(d))
    assert online.bursts() == detection.bursts


@pytest.mark.parametrize("s, gamma", [(1.0, 1.0), (2.0, 0.0), (0.5, 1.0)])
def test_parameters_out_of_range_are_refused(s: float, gamma: float):
    with pytest.raises(ValueError):
        bursts.continuous([1, 2, 30, 2], s=s, gamma=gamma)
