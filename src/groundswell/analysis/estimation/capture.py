"""Capture-recapture: how many posts did no collection see, from how much collections overlap.

Two collections: Chapman's (1951) nearly unbiased form of the Lincoln-Petersen estimator,
with Seber's (1982) variance. Three or more: Darroch's (1958) maximum-likelihood estimator
under model M_t (capture probabilities differ between collections, not between posts).
Both intervals are Chao's (1987) log-normal interval on the unseen count, which never
falls below what was seen. Assumptions: a closed population over the common span, and
collections that capture independently; positively dependent collections (two scrapers
of the same search) make these estimates too low. See docs/estimation.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats


@dataclass(frozen=True)
class Estimate:
    """A total with its 95% interval and the method's name; `seen` is what it rests on."""

    seen: float
    estimate: float
    low: float
    high: float
    method: str

    def as_dict(self) -> dict[str, float | str]:
        return {"observed": _num(self.seen), "estimated": _num(self.estimate), "low": _num(self.low),
                "high": _num(self.high), "method": self.method}


def _num(value: float) -> float:
    return round(float(value), 1)


Z95 = float(stats.norm.ppf(0.975))


def lognormal_interval(seen: float, estimate: float, variance: float, z: float = Z95) -> tuple[float, float]:
    """Chao (1987): the unseen part f0 = N - seen is log-normal; the interval is seen + f0/C .. seen + f0*C."""
    unseen = estimate - seen
    if unseen <= 0 or variance <= 0:
        return float(seen), float(max(estimate, seen))
    c = math.exp(z * math.sqrt(math.log(1 + variance / unseen**2)))
    return seen + unseen / c, seen + unseen * c


def chapman(n1: int, n2: int, m: int) -> Estimate:
    """Two collections of n1 and n2 posts with m in both."""
    if min(n1, n2) < m or m < 0:
        raise ValueError("overlap larger than a collection")
    seen = n1 + n2 - m
    n_hat = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    low, high = lognormal_interval(seen, n_hat, variance)
    return Estimate(seen, n_hat, low, high, "capture-recapture, Chapman (two collections)")


def darroch(sizes: list[int], seen: int) -> Estimate:
    """k collections of these sizes, `seen` distinct posts in all: N solves 1 - seen/N = prod(1 - n_j/N)."""
    k = len(sizes)
    if k < 2 or seen <= 0:
        raise ValueError("needs two or more non-empty collections")
    if sum(sizes) == seen:  # no overlap at all: the data carry no estimate
        return Estimate(seen, math.inf, seen, math.inf, "capture-recapture, Darroch M_t (no overlap)")

    def gap(n: float) -> float:
        return math.log1p(-seen / n) - sum(math.log1p(-s / n) for s in sizes)

    lo = seen * (1 + 1e-12) + 1e-9
    hi = seen * 2.0
    while gap(hi) < 0 and hi < 1e15:
        hi *= 2
    n_hat = seen if gap(lo) >= 0 else optimize.brentq(gap, lo, hi, xtol=1e-6)
    inverse = 1 / max(n_hat - seen, 1e-9) + (k - 1) / n_hat - sum(1 / (n_hat - s) for s in sizes)
    variance = 1 / inverse if inverse > 0 else 0.0  # the inverse of the profile likelihood's curvature
    low, high = lognormal_interval(seen, n_hat, variance)
    return Estimate(seen, n_hat, low, high, f"capture-recapture, Darroch M_t ({k} collections)")


def from_histories(histories: dict[tuple[str, ...], int]) -> Estimate:
    """Counts of posts by the set of collections that saw them (each set sorted)."""
    names = sorted({name for history in histories for name in history})
    sizes = [sum(n for history, n in histories.items() if name in history) for name in names]
    seen = sum(histories.values())
    if len(names) == 2:
        both = sum(n for history, n in histories.items() if len(history) == 2)
        return chapman(sizes[0], sizes[1], both)
    return darroch(sizes, seen)
