"""The Poisson trend score η of S. Hendrickson, J. Kolb, B. Lehman and J. Montague, "Trend
Detection in Social Data" (Twitter, 2015), §3.1 and §3.2. See docs/trends.md.

A bucket's count c is compared with a Poisson background of mean ν:

    η = (c − ν) / CI(α, ν)

where CI(α, ν) is the width of the central α interval of a Poisson(ν) count (its (1+α)/2
and (1−α)/2 quantiles apart). ν is the previous bucket's count (point by point, §3.1) or
the mean of the same bucket of the cycle over the previous cycles (cycle-corrected, §3.2:
the same hour on the previous days, the same weekday on the previous weeks).

A zero or tiny background would make any first post look like a trend (CI(α, 0) = 0), so
ν is raised to at least −ln(1 − α): the largest mean under which seeing no post at all
still has probability 1 − α. Below that floor the data cannot tell the background from
zero, and a tag must then beat the floor's interval like everyone else.

Buckets a collection missed have no score and give no background. Everything is numpy
over counts: dense for a few series, sparse (series, bucket, count) cells for every
hashtag of a store, since empty cells never score above zero and so never top a ranking.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Sequence

import numpy as np

ALPHA = 0.99
BASELINES = ("previous", "cycle")
PERIODS = {"hour": 24, "day": 7}  # the daily cycle for hours, the weekly cycle for days
WINDOW = 7  # cycles averaged by the cycle-corrected background


def floor(alpha: float = ALPHA) -> float:
    """The smallest background used: P(0 posts | ν) = 1 − α at ν = −ln(1 − α)."""
    return -math.log(1 - alpha)


def interval_width(nu: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """CI(α, ν), computed once per distinct ν (backgrounds repeat a lot), at least one post."""
    _check_alpha(alpha)
    values, inverse = np.unique(np.asarray(nu, dtype=float), return_inverse=True)
    width = poisson_quantile((1 + alpha) / 2, values) - poisson_quantile((1 - alpha) / 2, values)
    return np.maximum(width, 1.0)[inverse].reshape(np.shape(nu))


def poisson_quantile(q: float, mu: np.ndarray) -> np.ndarray:
    """The smallest k with P(X ≤ k) ≥ q for X ~ Poisson(μ), 0 < q < 1, μ > 0: scipy's own
    `poisson.ppf` computation, through scipy.special (scipy.stats takes seconds to import)."""
    from scipy import special

    guess = np.ceil(special.pdtrik(q, mu))
    below = np.maximum(guess - 1, 0)
    return np.where(special.pdtr(below, mu) >= q, below, guess)


def eta(counts: np.ndarray, nu: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """η per cell; NaN where there is no background (the first bucket, a gap)."""
    counts, nu = np.asarray(counts, dtype=float), np.asarray(nu, dtype=float)
    out = np.full(np.broadcast(counts, nu).shape, np.nan)
    known = np.isfinite(nu)
    base = np.maximum(nu[known], floor(alpha))
    out[known] = (np.broadcast_to(counts, out.shape)[known] - base) / interval_width(base, alpha)
    return out


def _check_alpha(alpha: float) -> None:
    if not 0.5 <= alpha < 1:
        raise ValueError("alpha must be at least 0.5 and below 1")


def _check_baseline(baseline: str, period: int, window: int) -> None:
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}")
    if period < 1 or window < 1:
        raise ValueError("period and window must be at least 1")


# --- dense series (a movement's families, variants...) ------------------------------------------


def previous_background(counts: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """ν_t = c_(t−1), for observed t whose previous bucket was observed too."""
    counts = np.atleast_2d(counts).astype(float)
    nu = np.full(counts.shape, np.nan)
    nu[:, 1:] = counts[:, :-1]
    usable = np.concatenate(([False], observed[1:] & observed[:-1]))
    nu[:, ~usable] = np.nan
    return nu


def cycle_background(counts: np.ndarray, observed: np.ndarray, period: int, window: int = WINDOW) -> np.ndarray:
    """ν_t = mean of c_(t−j·period) over the observed ones among j = 1..window."""
    counts = np.atleast_2d(counts).astype(float)
    total = np.zeros(counts.shape)
    for j in range(1, window + 1):
        lag = j * period
        if lag >= counts.shape[1]:
            break
        total[:, lag:] += counts[:, :-lag] * observed[:-lag]
    seen = _seen_cycles(observed, period, window)
    nu = total / np.maximum(seen, 1)
    nu[:, (seen == 0) | ~observed] = np.nan
    return nu


def _seen_cycles(observed: np.ndarray, period: int, window: int) -> np.ndarray:
    """How many of the `window` previous buckets of the same phase were observed."""
    seen = np.zeros(observed.size)
    for j in range(1, window + 1):
        lag = j * period
        if lag >= observed.size:
            break
        seen[lag:] += observed[:-lag]
    return seen


def scores(counts: np.ndarray, observed: Sequence[bool] | None = None, baseline: str = "previous",
           period: int = 24, window: int = WINDOW, alpha: float = ALPHA) -> np.ndarray:
    """η for each series (rows) and bucket (columns)."""
    _check_baseline(baseline, period, window)
    counts = np.atleast_2d(np.asarray(counts))
    seen = np.ones(counts.shape[1], dtype=bool) if observed is None else np.asarray(observed, dtype=bool)
    nu = previous_background(counts, seen) if baseline == "previous" else cycle_background(counts, seen, period, window)
    return eta(counts, nu, alpha)


# --- sparse cells (every hashtag of a store) ------------------------------------------------------


def sparse_scores(series: np.ndarray, bucket: np.ndarray, count: np.ndarray, observed: np.ndarray,
                  baseline: str = "previous", period: int = 24, window: int = WINDOW,
                  alpha: float = ALPHA) -> np.ndarray:
    """η of each non-empty cell, equal to `scores` on the dense table, without building it.

    Cells are unique (series, bucket) pairs with count > 0, in any order.
    """
    _check_baseline(baseline, period, window)
    series, bucket = np.asarray(series, dtype=np.int64), np.asarray(bucket, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    if baseline == "previous":
        nu = _sparse_previous(series, bucket, count, observed)
    else:
        nu = _sparse_cycle(series, bucket, count, observed, period, window)
    return eta(count, nu, alpha)


def _sparse_previous(series: np.ndarray, bucket: np.ndarray, count: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Each cell's count in the bucket before, 0 where that cell is empty. Cells are unique, so
    once sorted by (series, bucket) a cell's predecessor, if it has one, is the entry just
    before it: one pass, where a search per cell would jump around the whole array."""
    key = series * observed.size + bucket
    order = np.argsort(key, kind="stable")
    sorted_key, sorted_count = key[order], count[order]
    previous = np.zeros(key.size, dtype=float)
    follows = sorted_key[1:] == sorted_key[:-1] + 1
    previous[1:] = np.where(follows, sorted_count[:-1], 0)
    nu = np.empty(key.size, dtype=float)
    nu[order] = previous
    usable = (bucket > 0) & observed[bucket] & observed[np.maximum(bucket - 1, 0)]
    return np.where(usable, nu, np.nan)


def _sparse_cycle(series: np.ndarray, bucket: np.ndarray, count: np.ndarray, observed: np.ndarray,
                  period: int, window: int) -> np.ndarray:
    cycles = -(-observed.size // period)
    cycle = bucket // period
    key = (series * period + bucket % period) * cycles + cycle  # one run of keys per (series, phase)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    running = np.concatenate(([0], np.cumsum((count * observed[bucket])[order])))
    low = key - np.minimum(window, cycle)  # the earliest cycle averaged, never before the series' start
    total = running[np.searchsorted(sorted_key, key - 1, side="right")] - running[np.searchsorted(sorted_key, low)]
    seen = _seen_cycles(observed, period, window)[bucket]
    usable = observed[bucket] & (seen > 0)
    return np.where(usable, total / np.maximum(seen, 1), np.nan)


# --- one bucket at a time ------------------------------------------------------------------------


class OnlineTrendScore:
    """η for a fixed set of series as buckets close, for live collection; gives exactly what
    `scores` gives on the same buckets. Keeps `window × period` buckets of counts at most."""

    def __init__(self, size: int, baseline: str = "previous", period: int = 24, window: int = WINDOW,
                 alpha: float = ALPHA):
        _check_baseline(baseline, period, window)
        _check_alpha(alpha)
        self.size, self.baseline, self.period, self.window, self.alpha = size, baseline, period, window, alpha
        keep = 1 if baseline == "previous" else window * period
        self._history: deque[tuple[np.ndarray, bool]] = deque(maxlen=keep)

    def update(self, counts: Sequence[int], observed: bool = True) -> np.ndarray:
        current = np.asarray(counts, dtype=float)
        if current.shape != (self.size,):
            raise ValueError(f"expected {self.size} counts")
        nu = self._background() if observed else np.full(self.size, np.nan)
        self._history.append((current, observed))
        return eta(current, nu, self.alpha)

    def _background(self) -> np.ndarray:
        if self.baseline == "previous":
            if not self._history or not self._history[-1][1]:
                return np.full(self.size, np.nan)
            return self._history[-1][0].copy()
        past = [self._history[-j * self.period] for j in range(1, self.window + 1) if j * self.period <= len(self._history)]
        seen = [row for row, was_observed in past if was_observed]
        return np.mean(seen, axis=0) if seen else np.full(self.size, np.nan)


# --- where a series ranks among all hashtags ------------------------------------------------------


def ranks(target: np.ndarray, cell_series: np.ndarray, cell_bucket: np.ndarray, cell_scores: np.ndarray,
          exclude: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For each target series (row of `target`, η per bucket) and bucket: 1 + the number of
    hashtag cells in that bucket with a higher η, leaving out the target's own hashtags
    (`exclude[f]`, series ids). NaN where the target's η is not above zero: only a positive
    score is trending, and every empty cell scores at most zero, so cells are enough.
    Also returns the number of hashtags with posts in each bucket."""
    target = np.atleast_2d(target)
    buckets = target.shape[1]
    keep = np.isfinite(cell_scores)
    bucket, score, series = cell_bucket[keep], cell_scores[keep], cell_series[keep]
    order = np.lexsort((score, bucket))
    bucket, score, series = bucket[order], score[order], series[order]
    present = np.bincount(cell_bucket, minlength=buckets)[:buckets]
    values = np.unique(np.concatenate((score, target[np.isfinite(target)])))
    stride = values.size + 1
    cell_key = bucket * stride + np.searchsorted(values, score)
    out = np.full(target.shape, np.nan)
    for row, own in enumerate(exclude):
        t = np.flatnonzero(np.isfinite(target[row]) & (target[row] > 0))
        key = t * stride + np.searchsorted(values, target[row, t])
        above = _above(cell_key, bucket, t, key, buckets)
        mine = np.isin(series, own)
        above -= _above(cell_key[mine], bucket[mine], t, key, buckets)
        out[row, t] = 1 + above
    return out, present


def _above(cell_key: np.ndarray, bucket: np.ndarray, t: np.ndarray, key: np.ndarray, buckets: int) -> np.ndarray:
    """Cells of bucket t with a key above `key` (keys sorted, bucket-major)."""
    ends = np.searchsorted(bucket, np.arange(buckets), side="right")
    return ends[t] - np.searchsorted(cell_key, key, side="right")
