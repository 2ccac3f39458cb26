"""Change in one view: each region's latest period against its own past (the table behind
the dashboard's "rising / falling" panel, the map's change layer, the brief's line and
``crisismap trends``).

Public (the default everywhere): the counts compared are the published figures of the
dataset's protection grid (:mod:`crisismap.releases`), so a trend table says nothing a
public summary of the same view does not; a region with a hidden figure in the compared
periods shows "not published", and an incident with several categories counts in each
(as in public totals). Internal: every count, each record once. The statistics are in
:mod:`crisismap.aggregate.trends`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from crisismap import pipeline, publish, releases
from crisismap.aggregate import trends as method
from crisismap.aggregate.trends import TrendSettings
from crisismap.errors import InvalidValueError
from crisismap.export import to_csv_bytes, to_xlsx_bytes
from crisismap.i18n import _
from crisismap.pipeline import Analysis
from crisismap.schema import IMPRECISE_CODE, IMPRECISE_PERIOD, OUTSIDE_CODE, View

__all__ = ["TrendSettings", "Trends", "export", "view_trends"]


@dataclass(frozen=True)
class Trends:
    """The table (one row per region, rising first) and how it was made."""

    table: pd.DataFrame
    latest: str | None  # the period compared (None: no complete period in the view)
    settings: dict[str, Any]
    public: bool

    def counts(self) -> dict[str, int]:
        """Regions per status (for a one-line summary)."""
        found = self.table["status"].value_counts()
        return {status: int(found.get(status, 0)) for status in method.STATUSES}

    def sentence(self) -> str:
        """One line for the brief and the command line."""
        if self.latest is None:
            return _("No complete period in this view to compare.")
        n = self.counts()
        return _(
            "In {latest}, {rising} region(s) rose above their usual level and {falling} fell "
            "below it, against each region's previous {baseline} periods."
        ).format(
            latest=self.latest,
            rising=n[method.RISING],
            falling=n[method.FALLING],
            baseline=self.settings["baseline_periods"],
        )


def view_trends(
    analysis: Analysis,
    view: View,
    *,
    public: bool = True,
    k: int = publish.DEFAULT_K,
    ledger: releases.Ledger | None = None,
    settings: TrendSettings | None = None,
    latest: str | None = None,
) -> Trends:
    """The trend table of ``view``: ``latest`` (a period label of the view's unit, default
    the last one the data covers completely) against the previous periods."""
    settings = settings or TrendSettings()
    if public:
        releases.check_public(view, k)
        summary = pipeline.summarize(analysis, view)
        counts = releases.public_region_periods(analysis, view, summary, k=k, ledger=ledger)
    else:
        counts = pipeline.summarize(analysis, view, by_category=False)
    counts = counts[
        ~counts["region_code"].astype(object).isin([OUTSIDE_CODE, IMPRECISE_CODE])
        & (counts["period"].astype(object) != IMPRECISE_PERIOD)
    ]
    about = {
        **settings.to_dict(),
        "period_unit": view.period.value,
        "level": view.level,
        "k": int(k) if public else None,
        # the protection grid's totals count an incident in each of its categories
        "counting": "once per category label, as public totals" if public else "once per record",
    }
    periods = counts[["period", "period_start", "period_end"]].drop_duplicates("period")
    last_day = _last_day(analysis, view)
    chosen = latest or method.latest_complete_period(periods, last_day)
    if chosen is not None and chosen not in set(periods["period"].astype(str)):
        have = ", ".join(periods["period"].astype(str).tolist()[-4:])
        raise InvalidValueError(
            f"--latest {chosen!r} is not a {view.period.value} of this view; the last ones are "
            f"{have}. Give one of them, or leave --latest out for the last complete one."
        )
    if chosen is None:
        empty = pd.DataFrame(columns=method.COLUMNS)
        return Trends(empty, None, about, public)
    table = method.trends(counts, latest=chosen, settings=settings)
    return Trends(table, chosen, about, public)


def _last_day(analysis: Analysis, view: View) -> Any:
    """The last day the view's data covers: the view's end, else the last record's end."""
    if view.end is not None:
        return pd.Timestamp(view.end)
    records = analysis.records
    if not len(records) or "date_end" not in records:
        return None
    return records["date_end"].max()


def export(trends: Trends, fmt: str) -> bytes:
    """The table as CSV, or XLSX with an About sheet saying how it was made (headers and
    the About sheet in the user's language; statuses and region codes as they are)."""
    if fmt == "csv":
        return to_csv_bytes(trends.table, localized=True)
    if fmt != "xlsx":
        raise ValueError(f"trend tables are written as csv or xlsx, not {fmt!r}")
    s = trends.settings
    label = publish.sensitivity_label(trends.public, k=s.get("k") or publish.DEFAULT_K)
    counting = (
        _("Incidents are counted once per category label, as in public totals.")
        if trends.public
        else _("Incidents are counted once per record.")
    )
    about = pd.DataFrame(
        {
            "about": [
                trends.sentence(),
                label["notice"],
                _(
                    "Admin level {level}, period unit {unit}; each region's count in {latest} "
                    "against its previous {baseline} periods."
                ).format(
                    level=s["level"],
                    unit=s["period_unit"],
                    latest=trends.latest,
                    baseline=s["baseline_periods"],
                ),
                _(
                    "Test: Poisson, or negative binomial when the baseline is overdispersed; "
                    "Benjamini-Hochberg across the regions of the table (p_rise, p_fall are "
                    "adjusted)."
                ),
                counting,
                _(
                    "Rising: adjusted p_rise under {alpha} and at least {min_count} incidents; "
                    "falling: adjusted p_fall under {alpha} and a baseline mean of at least "
                    "{min_count}."
                ).format(alpha=s["alpha"], min_count=s["min_count"]),
                _(
                    "Counts follow documentation effort as much as events: read a rise as "
                    "'more was recorded', and check it with the teams before reporting it."
                ),
            ]
        }
    )
    return to_xlsx_bytes({"Trends": trends.table, "About": about}, created=None)
