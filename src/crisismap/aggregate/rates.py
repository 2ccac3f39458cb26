"""Incidents per 100,000 people, from published counts and known populations only."""

from __future__ import annotations

import numpy as np
import pandas as pd

PER = 100_000


def per_100k(counts: pd.Series, population: pd.Series) -> pd.Series:
    """``counts`` per 100,000 people of ``population``, aligned on the index.

    NaN where the population is unknown or not positive ("no population figure", never
    0) and where the count itself is hidden (NaN, or a suppression mark such as
    ``"<5"``): a rate is derived only from a count that is shown, so it cannot reveal a
    suppressed one.
    """
    shown = pd.to_numeric(counts, errors="coerce").astype("float64")
    people = pd.to_numeric(population, errors="coerce").astype("float64")
    people = people.reindex(shown.index) if people.index is not shown.index else people
    rate = shown * PER / people.where(people > 0)
    return rate.where(np.isfinite(rate))
