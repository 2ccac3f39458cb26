"""The validation report's notes a shell shows on their own, found in the current language.

crisismap.records writes its notes as sentences in the user's language, from templates of
the "core" catalogue; the dashboard's validation report and ``crisismap validate`` show two
kinds apart: how the category column was split, and how many records are not approved or
verified. They are found by their templates, as translated now (never by English words).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from crisismap import i18n
from crisismap.problems import Report

_CATEGORY_NOTES = (
    "Category values are Kobo choice names: split on spaces.",
    "Category labels were not split.",
    "Category labels hold one category in two languages around {separator!r} ({shape}): "
    "each label is kept whole.",
    "Category labels were not split (no value holds ';', '|' or ',').",
    "Category labels were split on {separator!r}: {reason} ({described}).",
    "Category labels were not split: {reason} ({described}).",
)
_FLAG_NOTES = ("{no:,} of {n:,} records are not {name} (column {column!r}).",)


def _notes_like(report: Report, templates: Sequence[str], english: Sequence[str]) -> list[str]:
    """The notes written from ``templates`` (as translated now), or holding ``english``."""
    patterns = [_template_pattern(i18n.gettext(t)) for t in templates]
    return [
        n for n in report.notes if any(p.match(n) for p in patterns) or any(e in n for e in english)
    ]


def _template_pattern(template: str) -> re.Pattern[str]:
    """A template's text as a pattern: its {fields} match anything, its end is open."""
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(
            re.escape(literal.rstrip(".").rstrip()) if name is None else re.escape(literal)
        )
        if name is not None:
            parts.append(".+?")
    return re.compile("".join(parts), re.DOTALL)


def category_notes(report: Report) -> list[str]:
    """Why the category column was split as it was (one sentence per file)."""
    return _notes_like(report, _CATEGORY_NOTES, ("Category labels", "Kobo choice names"))


def flag_notes(report: Report) -> list[str]:
    """How many records are not approved / not verified (when the file says)."""
    return _notes_like(report, _FLAG_NOTES, ("records are not approved", "not verified"))
