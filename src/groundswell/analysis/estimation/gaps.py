"""Days with no data inside a collection's covered range: not zero, but estimated.

A gap is a run of days with no post between the first and the last day with posts. Its
days are predicted from up to WINDOW observed days on each side, on the log scale, with
ordinary least squares and its prediction interval, and the gap's total comes from
DRAWS Monte Carlo draws of the fitted line and each day's residual (fixed seed: the same
data give the same figures).

  - level: the days on both sides fit one log-linear trend (a + b*day) through the gap.
  - burst: the day before the gap is far above the days before it (an onset): a trend
    through both sides would cut the peak off. The decay seen after the gap is carried
    back into it as an exponential decay in days (a Hawkes process with an exponential
    kernel): that gives the estimate. The interval is widened to what the data on both
    sides allow: its upper end is at least the median of a power-law decay in days since
    the onset day (the slow relaxation Crane and Sornette (2008) found after exogenous
    bursts, whose peak is far higher), and its lower end at most the geometric path from
    the last day before the gap to the first day after it (the peak at the gap's right
    edge). No day is put below that path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy import stats

WINDOW = 7
MIN_SIDE = 3
ONSET_RATIO = 5.0
DRAWS = 4000


@dataclass(frozen=True)
class Gap:
    first: date
    days: int
    model: str
    daily: list[tuple[float, float, float]]  # (estimate, low, high) per day
    total: tuple[float, float, float]
    used: tuple[int, int]  # observed days used (before, after)


def find_gaps(series: dict[date, float]) -> list[tuple[date, int]]:
    """(first missing day, length) for each run of missing days inside the covered range."""
    if not series:
        return []
    days = sorted(d for d, n in series.items() if n > 0)
    runs = []
    for left, right in zip(days, days[1:]):
        missing = (right - left).days - 1
        if missing > 0:
            runs.append((left + timedelta(days=1), missing))
    return runs


def fill(series: dict[date, float], first: date, length: int) -> Gap | None:
    """Estimate the days first .. first+length-1; None when either side has under MIN_SIDE days."""
    before = _side(series, first - timedelta(days=1), -1)
    after = _side(series, first + timedelta(days=length), +1)
    if len(before) < MIN_SIDE or len(after) < MIN_SIDE:
        return None
    gap_x = np.arange(length, dtype=float)
    rng = np.random.default_rng(20171016)
    onset = before[0][1] >= ONSET_RATIO * max(np.median([n for _, n in before[1:]]), 1.0)
    if onset:
        x = np.array([(d - first).days for d, _ in after], dtype=float)
        y = np.log([n for _, n in after])
        since = np.log(x + 1.0)  # days since the onset day (the day before the gap is day -1)
        edge = _geometric(before[0][1], after[0][1], length)
        draws = np.maximum(_draws(x, y, gap_x, rng), edge)
        heavy = np.median(np.maximum(_draws(since, y, np.log(gap_x + 1.0), rng), edge), axis=0)
        model = "burst: the decay after the gap carried back (exponential; power law bounds the interval)"
    else:
        points = before + after
        x = np.array([(d - first).days for d, _ in points], dtype=float)
        draws = _draws(x, np.log([n for _, n in points]), gap_x, rng)
        model = "level: log-linear trend through both sides"
    daily = [(float(np.median(col)), float(np.quantile(col, 0.025)), float(np.quantile(col, 0.975))) for col in draws.T]
    totals = draws.sum(axis=1)
    low, high = float(np.quantile(totals, 0.025)), float(np.quantile(totals, 0.975))
    if onset:
        low, high = min(low, float(edge.sum())), max(high, float(heavy.sum()))
        daily = [(m, min(lo, float(e)), max(hi, float(h))) for (m, lo, hi), e, h in zip(daily, edge, heavy)]
    total = (float(np.median(totals)), low, high)
    return Gap(first, length, model, daily, total, (len(before), len(after)))


def _side(series: dict[date, float], start: date, step: int) -> list[tuple[date, float]]:
    """Up to WINDOW consecutive observed days walking away from the gap; stops at another gap."""
    out = []
    day = start
    while len(out) < WINDOW and series.get(day, 0) > 0:
        out.append((day, float(series[day])))
        day += timedelta(days=step)
    return out


def _draws(x: np.ndarray, y: np.ndarray, new_x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """DRAWS x len(new_x) predicted counts: OLS on (x, log y), drawn from its predictive t law."""
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    dof = len(x) - 2
    resid = y - design @ coef
    sigma = float(np.sqrt(resid @ resid / dof)) if dof > 0 else 0.0
    cov = sigma**2 * np.linalg.inv(design.T @ design)
    scale = np.sqrt(stats.chi2.rvs(dof, size=DRAWS, random_state=rng) / dof) if dof > 0 else np.ones(DRAWS)
    params = coef + (rng.standard_normal((DRAWS, 2)) @ np.linalg.cholesky(cov + 1e-12 * np.eye(2)).T) / scale[:, None]
    noise = rng.standard_normal((DRAWS, len(new_x))) * sigma / scale[:, None]
    return np.exp(params[:, :1] + params[:, 1:] * new_x[None, :] + noise)


def _geometric(left: float, right: float, length: int) -> np.ndarray:
    """The log-straight path from the day before the gap to the day after it."""
    steps = np.arange(1, length + 1) / (length + 1)
    return np.exp(np.log(left) + steps * (np.log(right) - np.log(left)))
