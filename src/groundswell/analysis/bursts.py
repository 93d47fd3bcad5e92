"""Kleinberg's burst detection, from J. Kleinberg, "Bursty and Hierarchical Structure in
Streams" (KDD 2002; Data Mining and Knowledge Discovery 7, 2003). See docs/trends.md.

A hidden automaton moves between states q_0 < q_1 < ... ; in q_i the stream runs s^i times
faster (or, in the batched model, relevant posts make up s^i times the base share). Moving
up one state costs γ·ln n, moving down is free, and each bucket or gap costs −ln of its
likelihood in the state it is in. The cheapest state sequence is found exactly by the
Viterbi algorithm (dynamic programming over every state at every step, then backtracking):
a burst of level ℓ is a maximal run of steps in state ℓ or above.

Three models share one forward pass (`Forward`):
- `offsets_model`: the paper's continuous model on exact arrival times (§2), as R's
  `bursts::kleinberg` and its Python port `pybursts` compute it; used to check this code.
- `PoissonModel`: the same continuous model with the rate allowed to change only at bucket
  edges. A Poisson process of rate α observed over a bucket of width w with c arrivals has
  likelihood α^c e^(−α w) times a factor that is the same in every state, so its cost is
  α w − c ln α: what the gaps of §2 add up to when the state holds over the bucket.
- `BinomialModel`: the batched model of §4 (r_t relevant out of d_t posts per bucket).

Buckets a collection missed are "unobserved": they cost nothing in any state, so they are
neither evidence of a lull nor of a burst; a burst on both sides of a gap stays one burst.
Everything runs on counts per bucket, never on posts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

K_MAX = 64  # states beyond s^63 times the base rate never help on real counts


@dataclass(frozen=True)
class Burst:
    """Steps start..end (inclusive) in state `level` or above; weight is the cost it saves
    against one level lower, Σ σ_(level−1)(t) − σ_level(t): how strongly the data ask for it."""

    level: int
    start: int
    end: int
    weight: float


class Forward:
    """Viterbi's forward pass, one step at a time so that live collection can feed it, for one
    series or several at once (rows; each with its own cost of a level up).

    `cost[m, j]` is the cheapest cost of any state sequence of series m ending in state j;
    `pointers[t][m, j]` the state before it. Ties go to the lowest state, as R's `bursts`
    and `pybursts` do.
    """

    def __init__(self, k: int, up_cost: float | Sequence[float]):
        if k < 1 or k > K_MAX:
            raise ValueError(f"states must be between 1 and {K_MAX}")
        up = np.atleast_1d(np.asarray(up_cost, dtype=float))
        levels = np.arange(k)
        self.k = k
        self._tau = up[:, None, None] * np.maximum(0, levels[None, :] - levels[:, None])[None]  # [m, from, to]
        self.cost = np.full((up.size, k), np.inf)
        self.cost[:, 0] = 0.0  # every stream starts at its base rate
        self.pointers: list[np.ndarray] = []

    def step(self, emission: np.ndarray) -> None:
        """Add one step: emission costs per state, (k,) or (series, k)."""
        total = self.cost[:, :, None] + self._tau
        best = np.argmin(total, axis=1)
        self.cost = np.take_along_axis(total, best[:, None, :], axis=1)[:, 0, :] + emission
        self.pointers.append(best.astype(np.int16))

    @property
    def state(self) -> int:
        """The last state of the first series' cheapest sequence so far (later data may revise it)."""
        return int(np.argmin(self.cost[0]))

    def paths(self) -> np.ndarray:
        """The cheapest state sequence of each series (series × steps), by backtracking."""
        rows = np.arange(self.cost.shape[0])
        states = np.zeros((rows.size, len(self.pointers)), dtype=np.int64)
        state = np.argmin(self.cost, axis=1)
        for t in range(len(self.pointers) - 1, -1, -1):
            states[:, t] = state
            state = self.pointers[t][rows, state]
        return states

    def path(self) -> np.ndarray:
        return self.paths()[0]


def viterbi(emissions: np.ndarray, up_cost: float | Sequence[float]) -> np.ndarray:
    """The cheapest state sequence for (steps × states) emission costs, or for several series
    at once given (series × steps × states) and one cost of a level up per series."""
    many = emissions.ndim == 3
    batch = emissions if many else emissions[None]
    forward = Forward(batch.shape[2], up_cost)
    for t in range(batch.shape[1]):
        forward.step(batch[:, t, :])
    return forward.paths() if many else forward.path()


def bursts_from_states(states: np.ndarray, emissions: np.ndarray) -> list[Burst]:
    """Kleinberg's hierarchy: for every level ℓ ≥ 1, each maximal run of states ≥ ℓ."""
    found: list[Burst] = []
    for level in range(1, int(states.max(initial=0)) + 1):
        inside = np.concatenate(([False], states >= level, [False]))
        edges = np.flatnonzero(inside[1:] != inside[:-1])
        saved = emissions[:, level - 1] - emissions[:, level]
        for start, stop in zip(edges[::2], edges[1::2]):
            found.append(Burst(level, int(start), int(stop - 1), float(saved[start:stop].sum())))
    found.sort(key=lambda b: (b.start, b.level))
    return found


# --- the continuous model on arrival times (§2) ---------------------------------------------


def offsets_model(offsets: Sequence[float], s: float = 2.0, gamma: float = 1.0) -> tuple[np.ndarray, float, int]:
    """Emission costs per gap, the cost of one level up, and the states, exactly as §2 and
    R's `bursts::kleinberg` define them: ĝ = T/n, α_i = s^i/ĝ, k = ⌈1 + log_s T + log_s(1/min gap)⌉,
    τ = γ ln n per level, gap x costs −ln(α_i e^(−α_i x))."""
    _check(s, gamma)
    gaps = np.diff(np.sort(np.asarray(offsets, dtype=float)))
    if gaps.size == 0 or not np.all(gaps > 0):
        raise ValueError("arrival times need at least two events and no two at the same time")
    total, n = float(gaps.sum()), gaps.size
    k = min(K_MAX, int(math.ceil(1 + math.log(total, s) + math.log(1 / float(gaps.min()), s))))
    alpha = s ** np.arange(k) / (total / n)
    emissions = alpha[None, :] * gaps[:, None] - np.log(alpha)[None, :]
    return emissions, gamma * math.log(n), k


def offsets_bursts(offsets: Sequence[float], s: float = 2.0, gamma: float = 1.0) -> list[Burst]:
    """Bursts over sorted arrival times; start and end are event indices (a burst over gaps
    t1..t2 runs from event t1 to event t2 + 1, as in R's output)."""
    emissions, up, _ = offsets_model(offsets, s, gamma)
    states = viterbi(emissions, up)
    return [Burst(b.level, b.start, b.end + 1, b.weight) for b in bursts_from_states(states, emissions)]


# --- the continuous model on bucketed counts ----------------------------------------------------


@dataclass(frozen=True)
class PoissonModel:
    """State i: posts arrive at base_rate·s^i per bucket. Fixed parameters, so it can score
    buckets as they come; `fit` sets them from a whole series as the paper does."""

    base_rate: float
    s: float
    up_cost: float
    k: int

    @classmethod
    def fit(cls, counts: np.ndarray, observed: np.ndarray, s: float = 2.0, gamma: float = 1.0) -> "PoissonModel | None":
        """α_0 = posts / observed buckets; τ = γ ln(posts); enough states for the busiest bucket.
        None when fewer than two posts: nothing can burst."""
        _check(s, gamma)
        seen = counts[observed]
        total = float(seen.sum())
        if total < 2:
            return None
        base = total / int(observed.sum())
        k = 1 + max(1, math.ceil(math.log(max(float(seen.max()) / base, 1.0), s) + 1e-9))
        return cls(base, s, gamma * math.log(total), min(K_MAX, k))

    def emissions(self, counts: np.ndarray, observed: np.ndarray) -> np.ndarray:
        rates = self.base_rate * self.s ** np.arange(self.k)
        costs = rates[None, :] - counts[:, None].astype(float) * np.log(rates)[None, :]
        return np.where(observed[:, None], costs, 0.0)


@dataclass(frozen=True)
class BinomialModel:
    """The batched model: in state i each post is relevant with probability p_0·s^i (< 1)."""

    base_share: float
    s: float
    up_cost: float
    k: int

    @classmethod
    def fit(cls, relevant: np.ndarray, totals: np.ndarray, s: float = 2.0, gamma: float = 1.0) -> "BinomialModel | None":
        """p_0 = R/D; states while p_0·s^i < 1; τ = γ ln(buckets with posts). None when no
        state above the base fits under a share of 1: nothing can burst."""
        _check(s, gamma)
        if np.any(relevant > totals) or np.any(relevant < 0):
            raise ValueError("relevant posts must be between 0 and the bucket's posts")
        batches, share = int((totals > 0).sum()), float(relevant.sum()) / max(float(totals.sum()), 1.0)
        if share <= 0 or batches < 2:
            return None
        k = min(K_MAX, max(1, math.ceil(math.log(1 / share, s) - 1e-9)))  # every i with p_0·s^i < 1
        return cls(share, s, gamma * math.log(batches), k) if k > 1 else None

    def emissions(self, relevant: np.ndarray, totals: np.ndarray) -> np.ndarray:
        p = self.base_share * self.s ** np.arange(self.k)
        r, rest = relevant[:, None].astype(float), (totals - relevant)[:, None].astype(float)
        return -(r * np.log(p)[None, :] + rest * np.log1p(-p)[None, :])


def _check(s: float, gamma: float) -> None:
    if not s > 1:
        raise ValueError("s must be greater than 1")
    if not gamma > 0:
        raise ValueError("gamma must be positive")


# --- whole series, and one bucket at a time -----------------------------------------------------


@dataclass(frozen=True)
class Detection:
    states: np.ndarray
    bursts: list[Burst]
    model: PoissonModel | BinomialModel | None

    @property
    def onset(self) -> int | None:
        """The first bucket of the first burst."""
        return self.bursts[0].start if self.bursts else None


def continuous(counts: Sequence[int], observed: Sequence[bool] | None = None, s: float = 2.0,
               gamma: float = 1.0) -> Detection:
    """Bursts in a count series, unobserved buckets (collection gaps) costing nothing."""
    return continuous_many(np.atleast_2d(np.asarray(counts, dtype=np.int64)), observed, s, gamma)[0]


def continuous_many(counts: np.ndarray, observed: Sequence[bool] | None = None, s: float = 2.0,
                    gamma: float = 1.0) -> list[Detection]:
    """`continuous` for each row of a (series × buckets) matrix, in one Viterbi pass."""
    counts = np.asarray(counts, dtype=np.int64)
    seen = np.ones(counts.shape[1], dtype=bool) if observed is None else np.asarray(observed, dtype=bool)
    models = [PoissonModel.fit(row, seen, s, gamma) for row in counts]
    return _detect(models, [(row, seen) for row in counts], seen)


def batched(relevant: Sequence[int], totals: Sequence[int], s: float = 2.0, gamma: float = 1.0) -> Detection:
    """Bursts in the share of relevant posts; buckets without posts are unobserved."""
    return batched_many(np.atleast_2d(np.asarray(relevant, dtype=np.int64)), totals, s, gamma)[0]


def batched_many(relevant: np.ndarray, totals: Sequence[int], s: float = 2.0, gamma: float = 1.0) -> list[Detection]:
    """`batched` for each row of a (series × buckets) matrix against the same totals."""
    relevant, d = np.asarray(relevant, dtype=np.int64), np.asarray(totals, dtype=np.int64)
    models = [BinomialModel.fit(row, d, s, gamma) for row in relevant]
    return _detect(models, [(row, d) for row in relevant], d > 0)


def _detect(models: Sequence[PoissonModel | BinomialModel | None], data: list[tuple[np.ndarray, np.ndarray]],
            observed: np.ndarray) -> list[Detection]:
    """One Viterbi pass over every series that can burst; states above a series' own k are
    closed to it by an infinite cost."""
    out = [Detection(np.zeros(observed.size, dtype=np.int64), [], None) for _ in models]
    live = [(i, model) for i, model in enumerate(models) if model is not None]
    if not live or observed.size == 0:
        return out
    emissions = np.full((len(live), observed.size, max(model.k for _, model in live)), np.inf)
    for row, (i, model) in enumerate(live):
        emissions[row, :, :model.k] = model.emissions(*data[i])
    states = viterbi(emissions, [model.up_cost for _, model in live])
    for row, (i, model) in enumerate(live):
        found = bursts_from_states(states[row], emissions[row, :, :model.k])
        out[i] = Detection(states[row], _observed_only(found, observed), model)
    return out


def _observed_only(found: list[Burst], observed: np.ndarray) -> list[Burst]:
    """A burst starts and ends on buckets with data: a run that only holds through a gap is
    not evidence of anything in it (see the tie rule in Forward)."""
    out = []
    for burst in found:
        inside = np.flatnonzero(observed[burst.start:burst.end + 1])
        if inside.size:
            out.append(Burst(burst.level, burst.start + int(inside[0]), burst.start + int(inside[-1]), burst.weight))
    return out


class OnlineBursts:
    """Kleinberg on a live stream: feed each bucket's count as it closes; `bursts()` is the
    exact Viterbi answer for the buckets so far. The model's rates must be fixed in advance
    (e.g. fitted on a past period), since the paper's base rate needs the whole series."""

    def __init__(self, model: PoissonModel | BinomialModel):
        self.model = model
        self.forward = Forward(model.k, model.up_cost)
        self._rows: list[np.ndarray] = []

    def update(self, count: int, total: int | None = None, observed: bool = True) -> int:
        """Add one bucket (for the batched model, `total` is the bucket's posts); returns the
        current state at its end."""
        if isinstance(self.model, BinomialModel):
            row = self.model.emissions(np.array([count]), np.array([total if total is not None else 0]))[0]
        else:
            row = self.model.emissions(np.array([count]), np.array([observed]))[0]
        self._rows.append(row)
        self.forward.step(row)
        return self.forward.state

    def bursts(self) -> list[Burst]:
        if not self._rows:
            return []
        return bursts_from_states(self.forward.path(), np.vstack(self._rows))
