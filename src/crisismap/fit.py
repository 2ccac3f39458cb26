"""How well the boundaries and the dates fit the records: what the dashboard says about it.

One place that turns an analysis and a view into short messages, each with a kind
(``info`` or ``warning``): the boundaries' vintage, stated names the boundaries lack, the
overlap checks, points outside every region (and the snapping that brings them in), and
incidents whose dates no period of the view can hold. The app only draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from crisismap import pipeline
from crisismap.boundaries.checks import counts_text, summary_lines, threshold_text
from crisismap.boundaries.model import counted
from crisismap.problems import BOUNDARY_NAMES_UNKNOWN
from crisismap.records import range_counts
from crisismap.schema import IMPRECISE_PERIOD, MatchStatus, View

SUGGESTED_SNAP_M = 2000  # offered when points fall outside boundaries without snapping
CHECK_LINES_SHOWN = 10
DATE_RANGE_LABELS = {
    "never": "Never spread: 'date not attributable' unless one period holds the range",
    "start": "Count on the start date",
    "end": "Count on the end date",
}


@dataclass(frozen=True)
class Message:
    """One thing to tell the user: ``info`` or ``warning``, and the text (plain, unescaped)."""

    kind: str
    text: str


def boundary_messages(analysis: Any) -> list[Message]:
    """The boundaries' vintage, unknown stated names and the overlap checks."""
    bset = analysis.boundaries
    out = [Message("info", f"Boundaries: {bset.name}: {bset.vintage}.")]
    for problem in analysis.report.problems:
        if problem.code == BOUNDARY_NAMES_UNKNOWN.code:
            out.append(Message("warning", problem.message))
    found = summary_lines(bset.checks)
    if found:
        shown = found[:CHECK_LINES_SHOWN]
        more = f" … and {len(found) - len(shown)} more." if len(found) > len(shown) else ""
        out.append(
            Message(
                "warning",
                f"Boundary checks: {counts_text(bset.checks)}. {threshold_text()} "
                + " ".join(shown)
                + more,
            )
        )
    return out


@dataclass(frozen=True)
class Outside:
    """Points outside every region at the top level, and how snapping treated them."""

    outside: int
    snapped: int
    snap_m: float | None
    by_default: bool

    def message(self) -> Message | None:
        if not self.outside and not self.snapped:
            return None
        if self.snap_m:
            how = "the boundaries' default" if self.by_default else "as asked"
            text = (
                f"{_points(self.snapped)} outside every region "
                f"{'was' if self.snapped == 1 else 'were'} snapped to the nearest region within "
                f"{self.snap_m:,.0f} m ({how}; match 'snapped'); {self.outside:,} "
                f"{'remains' if self.outside == 1 else 'remain'} outside."
            )
            return Message("info" if not self.outside else "warning", text)
        return Message(
            "warning",
            f"{_points(self.outside)} {'is' if self.outside == 1 else 'are'} outside every "
            "region (often at sea off a "
            "generalised coastline). Snapping is off: set 'Snap points outside regions "
            f"within (m)' in the sidebar (e.g. {SUGGESTED_SNAP_M:,}) to bring the nearest in.",
        )


def _points(n: int) -> str:
    return f"{n:,} point{'' if n == 1 else 's'}"


def outside_points(analysis: Any) -> Outside:
    """Counts at the top level (every record has a top-level match), remembered on the
    analysis: the page asks on every rerun."""
    top = min(analysis.levels)

    def count() -> Outside:
        match = analysis.joined[f"adm{top}_match"]  # categorical: compared on its categories
        return Outside(
            outside=int((match == MatchStatus.OUTSIDE.value).sum()),
            snapped=int((match == MatchStatus.SNAPPED.value).sum()),
            snap_m=analysis.parameters.get("snap_distance_m"),
            by_default=bool(analysis.parameters.get("snap_default", False)),
        )

    return analysis.memo(("outside_points", top), count)


@dataclass(frozen=True)
class Unattributed:
    """Incidents of a view no single period holds, and the date-range choice in force."""

    incidents: int
    victims: int
    ranged: int  # records dated over several days (full dates)
    ranged_victims: int
    choice: str

    def message(self, period: str) -> Message | None:
        if not self.incidents and not self.ranged:
            return None
        text = (
            f"{self.incidents:,} incidents ({self.victims:,} victims) sit in 'date not "
            f"attributable' at periods of one {period}."
        )
        if self.ranged:
            text += (
                f" {counted(self.ranged, 'record')} ({self.ranged_victims:,} victims) "
                f"{'is' if self.ranged == 1 else 'are'} dated over several days, counted "
                + {
                    "never": "only where the whole range lies in one period. Choose 'Count on "
                    "the start date' or '… end date' under 'Columns and dates' (records dated "
                    "over several days) to count each on one day.",
                    "start": "on their start date, as chosen.",
                    "end": "on their end date, as chosen.",
                }[self.choice]
            )
        return Message("warning" if self.incidents else "info", text)


def unattributed(analysis: Any, view: View) -> Unattributed:
    """Incidents and victims in 'date not attributable' for ``view`` (each record once)."""

    def make() -> Unattributed:
        table = pipeline.summarize(analysis, view, by_category=False)
        vague = table[table["period"].astype("str") == IMPRECISE_PERIOD]
        spans = analysis.memo(pipeline.DATE_RANGES, lambda: range_counts(analysis.records))
        return Unattributed(
            incidents=int(vague["incidents"].sum()),
            victims=int(pd.to_numeric(vague["victims"], errors="coerce").fillna(0).sum()),
            ranged=spans.records,
            ranged_victims=spans.victims,
            choice=str(analysis.parameters.get("date_range", "never")),
        )

    return analysis.memo(("fit-unattributed", view), make)
