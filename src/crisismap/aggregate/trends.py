"""Where did incidents rise or fall: each region's latest period against its own baseline.

Small counts are the rule in documentation work: 0 → 2 is not a "200 % rise". Each
region's count in the latest period is compared with the distribution its previous
``baseline`` periods suggest:

- expected count = the baseline mean; Poisson when the baseline varies no more than a
  Poisson count would, otherwise a negative binomial with the baseline's own variance
  (method of moments), so a region whose counts always swing widely needs a bigger swing;
- a tiny floor (``FLOOR_RATE`` incidents per period) keeps an all-zero baseline from making
  any incident "impossible";
- ``p_rise`` = P(count ≥ observed), ``p_fall`` = P(count ≤ observed) under that
  distribution; across the regions of one table each is adjusted for the number of
  regions tested (Benjamini–Hochberg), so a table of 300 regions does not raise about 15
  false alarms at 5 %;
- a region is *rising* when the adjusted ``p_rise`` is under ``alpha`` and it holds at least
  ``min_count`` incidents in the latest period; *falling* when the adjusted ``p_fall`` is
  under ``alpha`` and its baseline mean is at least ``min_count`` (a drop from one incident
  to none says nothing).

Limits (said in the methodology): documentation effort changes counts as much as
violence does; the baseline assumes the previous periods are comparable (no seasonality
model); a period the data only partly covers is not compared (the latest *complete*
period is used unless another is named). Pure arrays and pandas: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_BASELINE = 8
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_COUNT = 3
FLOOR_RATE = 0.1  # incidents per period assumed at least, so that an empty past is not proof

RISING, FALLING, STEADY = "rising", "falling", "no clear change"
SHORT, HIDDEN = "too little history", "not published"
STATUSES = (RISING, FALLING, STEADY, SHORT, HIDDEN)

COLUMNS = [
    "region_code",
    "region_name",
    "period",
    "incidents",
    "baseline_periods",
    "baseline_mean",
    "usual_high",
    "change",
    "p_rise",
    "p_fall",
    "status",
]


@dataclass(frozen=True)
class TrendSettings:
    """How the comparison is made (JSON-ready through :meth:`to_dict`)."""

    baseline: int = DEFAULT_BASELINE
    alpha: float = DEFAULT_ALPHA
    min_count: int = DEFAULT_MIN_COUNT

    def __post_init__(self) -> None:
        if not 2 <= self.baseline <= 520:
            raise ValueError(f"baseline must be 2..520 periods, got {self.baseline}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {self.min_count}")

    def to_dict(self) -> dict[str, object]:
        return {
            "baseline_periods": self.baseline,
            "alpha": self.alpha,
            "min_count": self.min_count,
            "test": "Poisson, or negative binomial when the baseline is overdispersed",
            "multiple_testing": "Benjamini-Hochberg across the regions of the table",
            "floor_rate": FLOOR_RATE,
        }


def latest_complete_period(periods: pd.DataFrame, last_day: object) -> str | None:
    """The last period (``period``, ``period_end``) that ends on or before ``last_day``
    (the data's last date): a period the data covers only in part is not compared."""
    if not len(periods) or last_day is None or pd.isna(last_day):
        return None
    ends = pd.to_datetime(periods["period_end"])
    done = periods[ends <= pd.Timestamp(last_day)]
    if not len(done):
        return None
    return str(done.sort_values("period_end")["period"].iloc[-1])


def trends(
    table: pd.DataFrame,
    *,
    latest: str,
    settings: TrendSettings | None = None,
) -> pd.DataFrame:
    """One row per region with incidents in the compared periods: its count in period
    ``latest`` against its previous periods (rising first, then falling, then the rest,
    the busiest first).

    ``table`` has ``region_code``, ``region_name``, ``period``, ``period_start`` and
    ``incidents`` (NA where a public figure is hidden), one row per region × period,
    periods contiguous (the aggregation's zero-filled grid). A region with a hidden
    figure in the latest period or its baseline gets ``not published`` and no numbers.
    """
    settings = settings or TrendSettings()
    periods = (
        table[["period", "period_start"]]
        .drop_duplicates("period")
        .sort_values("period_start")["period"]
        .astype(str)
        .tolist()
    )
    if latest not in periods:
        raise ValueError(f"period {latest!r} is not in the table (have {periods[-3:]}...)")
    at = periods.index(latest)
    window = periods[max(0, at - settings.baseline) : at]
    regions = table[["region_code", "region_name"]].drop_duplicates("region_code")
    long = table.assign(
        period=table["period"].astype(str),
        incidents=pd.array(table["incidents"], dtype="Float64"),  # NA (hidden) kept
    )
    wide = long.set_index(["region_code", "period"])["incidents"].unstack()
    wide = wide.reindex(index=regions["region_code"], columns=[*window, latest])
    values = wide.to_numpy(dtype=float, na_value=np.nan)
    observed, past = values[:, -1], values[:, :-1]
    hidden = np.isnan(observed) | np.isnan(past).any(axis=1)
    n = past.shape[1]
    # a hidden figure makes its row NaN, which the tests below never read
    mean = past.mean(axis=1) if n else np.full(len(values), np.nan)
    var = past.var(axis=1, ddof=1) if n >= 2 else np.full(len(values), np.nan)
    p_rise, p_fall, high = _exceedance(observed, mean, var)
    short = n < 2  # one flag for the table: every region has the same periods
    tested = np.zeros(len(values), dtype=bool) if short else ~hidden
    q_rise, q_fall = np.full(len(values), np.nan), np.full(len(values), np.nan)
    q_rise[tested], q_fall[tested] = _bh(p_rise[tested]), _bh(p_fall[tested])
    status = np.full(len(values), STEADY, dtype=object)
    status[tested & (q_rise < settings.alpha) & (observed >= settings.min_count)] = RISING
    status[tested & (q_fall < settings.alpha) & (mean >= settings.min_count)] = FALLING
    if short:
        status[~hidden] = SHORT
    status[hidden] = HIDDEN
    out = pd.DataFrame(
        {
            "region_code": regions["region_code"].to_numpy(),
            "region_name": regions["region_name"].to_numpy(),
            "period": latest,
            "incidents": pd.array(np.where(hidden, 0, observed), dtype="Int64"),
            "baseline_periods": n,
            "baseline_mean": np.round(mean, 2),
            "usual_high": high,
            "change": np.round(observed - mean, 2),
            "p_rise": np.round(q_rise, 4),
            "p_fall": np.round(q_fall, 4),
            "status": status,
        }
    )
    figures = ["incidents", "baseline_mean", "usual_high", "change", "p_rise", "p_fall"]
    for column in figures:  # nothing derived from a hidden figure is shown
        out[column] = out[column].astype("Float64" if column != "incidents" else "Int64")
        out.loc[hidden, column] = pd.NA
    if short:
        out[["p_rise", "p_fall", "usual_high"]] = pd.NA
    # regions with no incident in any compared period say nothing: left out
    quiet = ~hidden & (np.nan_to_num(observed) == 0) & (np.nan_to_num(past).sum(axis=1) == 0)
    out = out[~quiet]
    order = {s: i for i, s in enumerate(STATUSES)}
    out = out.assign(_order=out["status"].map(order), _n=out["incidents"].fillna(-1))
    out = out.sort_values(
        ["_order", "_n", "region_code"], ascending=[True, False, True], na_position="last"
    )
    return out.drop(columns=["_order", "_n"]).reset_index(drop=True)[COLUMNS]


def _exceedance(
    observed: np.ndarray, mean: np.ndarray, var: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(X ≥ observed), P(X ≤ observed) and the 95th percentile under the baseline's
    Poisson (or, overdispersed, negative binomial) distribution.

    The distribution functions are scipy.special's, those scipy.stats is built on (scipy.stats
    itself takes 0.6 s to import, more than the whole comparison)."""
    from scipy import special

    rate = np.maximum(np.nan_to_num(mean, nan=0.0), FLOOR_RATE)
    spread = np.nan_to_num(var, nan=0.0)
    over = spread > rate * 1.0001
    x = np.floor(np.nan_to_num(observed, nan=0.0))
    before = np.maximum(x - 1, 0)

    def poisson_cdf(k: np.ndarray) -> np.ndarray:
        return np.where(k < 0, 0.0, special.pdtr(np.maximum(k, 0), rate))

    p_rise = np.where(x < 1, 1.0, special.pdtrc(before, rate))
    p_fall = poisson_cdf(x)
    high = _quantile(0.95, np.ceil(special.pdtrik(0.95, rate)), poisson_cdf)
    if over.any():
        # negative binomial with mean m and variance v: n = m² / (v - m), p = m / v
        m, v = rate[over], spread[over]
        size, prob = m * m / (v - m), m / v

        def nb_cdf(k: np.ndarray) -> np.ndarray:
            return np.where(k < 0, 0.0, special.betainc(size, np.maximum(k, 0) + 1, prob))

        p_rise[over] = np.where(x[over] < 1, 1.0, special.betainc(before[over] + 1, size, 1 - prob))
        p_fall[over] = nb_cdf(x[over])
        guess = np.nan_to_num(np.ceil(special.nbdtrik(0.95, size, prob)), nan=0.0)
        high[over] = _quantile(0.95, guess, nb_cdf)
    return p_rise, p_fall, high


def _quantile(q: float, guess: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The smallest whole k with cdf(k) ≥ q, stepping from a guess (a step or two away)."""
    k = np.maximum(np.asarray(guess, dtype=float), 0.0)
    while True:
        low = cdf(k) < q
        if not low.any():
            break
        k = k + low
    while True:
        lower = (k > 0) & (cdf(k - 1) >= q)
        if not lower.any():
            return k
        k = k - lower


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (monotone, at most 1): p·n/rank, made monotone
    from the largest p down, as scipy.stats.false_discovery_control computes them."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    n = len(p)
    if not n:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out
