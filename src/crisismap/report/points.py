"""What a bundle says about its masked points: how many were left out and why, which
secret displaced them (by fingerprint), and whether they move when columns change."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crisismap import publish
from crisismap.i18n import N_, _, format_number, ngettext
from crisismap.report.figures import Figures

ID_ADVICE = N_(
    "name the file's id column (crisismap report --id-column NAME, or 'Id column for masked "
    "points' in the dashboard) so that every export puts each point in the same place"
)


def points_summary(
    points: pd.DataFrame,
    figures: Figures,
    masking: publish.Masking,
    secret: bytes | None,
) -> dict[str, Any]:
    """JSON-ready facts about ``points`` (from :func:`view_points`) for the manifest.

    The number left out is the number of records in suppressed cells only: it is given
    when the overall total is published (then the tables give it away already) and
    withheld otherwise.
    """
    left_out = int(points.attrs.get("left_out", 0))
    shown = left_out if not (figures.public and _total_hidden(figures)) else None
    summary: dict[str, Any] = {
        "points": len(points),
        "left_out": shown,
        "left_out_reason": (
            _(
                "records counted only in suppressed cells are left out (a multi-label record "
                "keeps only the labels whose cells are published), so points counted per "
                "region, period and category give exactly the published figures"
            )
            if figures.public
            else None
        ),
        "generated_ids": int(points.attrs.get("generated_ids", 0)),
    }
    if masking.method == "displace" and secret:
        summary["secret_fingerprint"] = publish.secret_fingerprint(secret)
    return summary


def _total_hidden(figures: Figures) -> bool:
    return bool(figures.grand_total.get(publish.SUPPRESSED, False))


def points_notes(summary: dict[str, Any], masking: publish.Masking) -> list[str]:
    """Sentences for the README and the PDF: left out, secret, ids that move."""
    notes = []
    if summary.get("left_out_reason"):
        left_out = summary["left_out"]
        why = _(
            "A record with several categories shows only those whose figures are published; "
            "points carry the period, not the date, and no region finer than the table's "
            "level. Counting points per region, period and category gives exactly the "
            "published figures."
        )
        if left_out is None:
            said = _(
                "Records of this view (how many is not said: the overall total is suppressed) "
                "are not in points.csv: each is counted only in suppressed cells, and its "
                "point would give the hidden figure back."
            )
        else:
            said = ngettext(
                "{n} record of this view is not in points.csv: it is counted only in "
                "suppressed cells, and its point would give the hidden figure back.",
                "{n} records of this view are not in points.csv: each is counted only in "
                "suppressed cells, and its point would give the hidden figure back.",
                left_out,
            ).format(n=format_number(left_out))
        notes.append(f"{said} {why}")
    if summary.get("secret_fingerprint"):
        notes.append(
            _(
                "Displaced with the workspace secret whose fingerprint is {fingerprint} (the "
                "same in every export of this workspace)."
            ).format(fingerprint=summary["secret_fingerprint"])
        )
    generated = summary.get("generated_ids", 0)
    if generated and masking.method == "displace":
        notes.append(id_warning(generated, summary["points"]))
    return notes


def id_warning(generated: int, points: int) -> str:
    """The warning for points keyed on generated ids (CLI, app, README, PDF, manifest)."""
    return ngettext(
        "{n} of {points} masked points is keyed on a generated id ('gen-' + a hash of the "
        "record's fields): adding, removing or editing any column gives it a new id, so the "
        "point moves to a new place, and the old and new places together narrow down the "
        "true location; {advice}.",
        "{n} of {points} masked points are keyed on generated ids ('gen-' + a hash of each "
        "record's fields): adding, removing or editing any column gives them new ids, so "
        "every such point moves to a new place, and the old and new places together narrow "
        "down the true location; {advice}.",
        generated,
    ).format(n=format_number(generated), points=format_number(points), advice=_(ID_ADVICE))
