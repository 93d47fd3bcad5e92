"""Known sampling rates and shares: a 1% stream, a Bluesky subsample, the phrase-only share.

Posts: each post of the full stream is kept independently with the known probability p, so
the count seen is Binomial(N, p). The point estimate is n/p; the interval is the exact
(Clopper-Pearson style) inversion of the binomial test in N, written with the negative
binomial: the smallest and largest N under which n is not in a 2.5% tail.

Distinct people: an author with k posts is seen with probability 1-(1-p)^k, so authors with
few posts are missed most. From the sample's frequency counts f1 (authors seen once) and f2
(seen twice), the unseen authors are at least f1^2 / (2 f2 + f1 p/(1-p)), the Cauchy-Schwarz
bound of Chao (1984) written for Bernoulli thinning (it tends to Chao1 as p -> 0 and to 0 as
p -> 1). It is a lower-bound estimator: heavy-tailed posting makes the truth larger.
"""

from __future__ import annotations

import math

from scipy import stats

from .capture import Estimate, lognormal_interval


def scale_count(n: int, p: float) -> Estimate:
    """The full stream's posts from n seen at sampling rate p."""
    if not 0 < p <= 1:
        raise ValueError("a sampling rate is in (0, 1]")
    if p == 1:
        return Estimate(n, n, n, n, "known sampling rate (complete)")
    low = n + (stats.nbinom.ppf(0.025, n, p) if n > 0 else 0)
    high = n + stats.nbinom.ppf(0.975, n + 1, p)
    return Estimate(n, n / p, float(low), float(high), f"known sampling rate {p:g}, binomial interval")


def unseen_people(seen: int, f1: int, f2: int, p: float) -> Estimate:
    """Distinct authors of the full stream from a Bernoulli(p) sample with these frequency counts."""
    method = f"known sampling rate {p:g}, Chao lower bound under Bernoulli thinning"
    if p >= 1 or f1 == 0:
        return Estimate(seen, seen, seen, seen, method)
    odds = p / (1 - p)
    if f2 > 0:
        ratio = f1 / f2
        unseen = f1 * f1 / (2 * f2 + f1 * odds)
        variance = f2 * (ratio**2 / 2 + ratio**3 + ratio**4 / 4)  # Chao (1987), the Chao1 delta-method variance
    else:  # bias-corrected form when nobody is seen twice
        unseen = f1 * (f1 - 1) / (2 * (f2 + 1) + f1 * odds)
        variance = f1 * (f1 - 1) / 2 + f1 * (2 * f1 - 1) ** 2 / 4 - f1**4 / (4 * seen) if seen else 0.0
    low, high = lognormal_interval(seen, seen + unseen, max(variance, 0.0))
    return Estimate(seen, seen + unseen, low, high, method)


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float, float]:
    """(share, low, high): Wilson's (1927) score interval for k of n."""
    if n <= 0:
        return math.nan, math.nan, math.nan
    share = k / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return share, max(0.0, centre - half), min(1.0, centre + half)
