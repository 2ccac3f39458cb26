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
from crisismap.i18n import N_, _, format_number, ngettext
from crisismap.problems import BOUNDARY_NAMES_UNKNOWN
from crisismap.records import range_counts
from crisismap.schema import IMPRECISE_PERIOD, PERIOD_UNIT_WORDS, MatchStatus, View

SUGGESTED_SNAP_M = 2000  # offered when points fall outside boundaries without snapping
CHECK_LINES_SHOWN = 10
DATE_RANGE_LABELS = {
    "never": N_("Never spread: 'date not attributable' unless one period holds the range"),
    "start": N_("Count on the start date"),
    "end": N_("Count on the end date"),
}
UNIT_WORDS = PERIOD_UNIT_WORDS  # "at periods of one …"


@dataclass(frozen=True)
class Message:
    """One thing to tell the user: ``info`` or ``warning``, and the text (plain, unescaped)."""

    kind: str
    text: str


def boundary_messages(analysis: Any) -> list[Message]:
    """The boundaries' vintage, unknown stated names and the overlap checks."""
    bset = analysis.boundaries
    out = [
        Message(
            "info",
            _("Boundaries: {name}: {vintage}.").format(name=bset.name, vintage=bset.vintage),
        )
    ]
    for problem in analysis.report.problems:
        if problem.code == BOUNDARY_NAMES_UNKNOWN.code:
            out.append(Message("warning", problem.message))
    found = summary_lines(bset.checks)
    if found:
        shown = found[:CHECK_LINES_SHOWN]
        rest = len(found) - len(shown)
        more = " " + _("… and {n} more.").format(n=format_number(rest)) if rest else ""
        text = _("Boundary checks: {counts}. {tolerance}").format(
            counts=counts_text(bset.checks), tolerance=threshold_text()
        )
        out.append(Message("warning", text + " " + " ".join(shown) + more))
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
            how = _("the boundaries' default") if self.by_default else _("as asked")
            snapped = ngettext(
                "{n} point outside every region was snapped to the nearest region within "
                "{distance} m ({how}; match 'snapped');",
                "{n} points outside every region were snapped to the nearest region within "
                "{distance} m ({how}; match 'snapped');",
                self.snapped,
            ).format(
                n=format_number(self.snapped),
                distance=format_number(round(self.snap_m)),
                how=how,
            )
            remain = ngettext("{n} remains outside.", "{n} remain outside.", self.outside).format(
                n=format_number(self.outside)
            )
            return Message("info" if not self.outside else "warning", snapped + " " + remain)
        return Message(
            "warning",
            ngettext(
                "{n} point is outside every region (often at sea off a generalised "
                "coastline). Snapping is off: set 'Snap points outside regions within (m)' in "
                "the sidebar (e.g. {distance}) to bring the nearest in.",
                "{n} points are outside every region (often at sea off a generalised "
                "coastline). Snapping is off: set 'Snap points outside regions within (m)' in "
                "the sidebar (e.g. {distance}) to bring the nearest in.",
                self.outside,
            ).format(n=format_number(self.outside), distance=format_number(SUGGESTED_SNAP_M)),
        )


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

    def message(self, period: Any) -> Message | None:
        """What to say for a view by ``period`` (a :class:`Period` or its value)."""
        if not self.incidents and not self.ranged:
            return None
        unit = _(UNIT_WORDS.get(getattr(period, "value", str(period)), str(period)))
        text = ngettext(
            "{n} incident ({victims} victims) sits in 'date not attributable' at periods of "
            "one {period}.",
            "{n} incidents ({victims} victims) sit in 'date not attributable' at periods of "
            "one {period}.",
            self.incidents,
        ).format(n=format_number(self.incidents), victims=format_number(self.victims), period=unit)
        if self.ranged:
            ranged = ngettext(
                "{n} record ({victims} victims) is dated over several days, counted",
                "{n} records ({victims} victims) are dated over several days, counted",
                self.ranged,
            ).format(n=format_number(self.ranged), victims=format_number(self.ranged_victims))
            how = {
                "never": N_(
                    "only where the whole range lies in one period. Choose 'Count on the start "
                    "date' or '… end date' under 'Columns and dates' (records dated over several "
                    "days) to count each on one day."
                ),
                "start": N_("on their start date, as chosen."),
                "end": N_("on their end date, as chosen."),
            }[self.choice]
            text += " " + ranged + " " + _(how)
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
