"""The PDF brief (A4): title, protection banner, key figures, map, regional table, time
series, data quality, methodology and attributions.

Byte-reproducible: ReportLab's invariant mode, fonts embedded (DejaVu Sans from matplotlib,
Noto Naskh Arabic from ``crisismap/fonts``), images from :mod:`crisismap.report.charts`.
Every user text reaches a paragraph through :func:`crisismap.report.typeset.paragraph`,
which escapes it (ReportLab parses markup such as ``<img>``) and, for Arabic, shapes it and
lays it out right to left. In the user's language (:mod:`crisismap.i18n`); the methodology
and credits are in :mod:`crisismap.report.methodology`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from crisismap import __version__, bilingual, i18n, pipeline, publish
from crisismap.escape import reportlab_markup
from crisismap.i18n import N_, _, format_number, ngettext
from crisismap.pipeline import Analysis
from crisismap.report import typeset
from crisismap.report.charts import chart_picture, map_picture
from crisismap.report.figures import (
    MARK,
    SPECIAL_NAMES,
    Figures,
    display_name,
    fmt_count,
    period_name,
    printed_day,
)
from crisismap.report.methodology import (
    attribution_section,
    measure_label,
    methodology,
    point_notes,
)
from crisismap.report.typeset import FONT as _FONT
from crisismap.report.typeset import FONT_BOLD as _FONT_BOLD
from crisismap.report.typeset import paragraph
from crisismap.schema import CATEGORY_SEPARATOR, IMPRECISE_CODE, IMPRECISE_PERIOD, OUTSIDE_CODE

MAX_TABLE_REGIONS = 400  # PDF table rows; the CSV always has every region
SERIES_COLUMNS = 6  # category columns per printed time-series table
MAX_ZERO_NAMES = 60  # regions without incidents named in the PDF (all are in regions.csv)
# A name or code longer than this is shortened in the PDF (with an ellipsis): a table row
# cannot break across pages, so a name of thousands of characters stopped the whole
# bundle. The CSV and spreadsheet files keep every name whole.
MAX_NAME_CHARS = 160


def render_pdf(
    analysis: Analysis,
    figures: Figures,
    *,
    title: str,
    masking: publish.Masking | None = None,
    point_notes: Sequence[str] = (),
    language: str | None = None,
) -> bytes:
    """The PDF brief (A4), byte-reproducible (ReportLab invariant mode).

    ``point_notes`` are the sentences on masked points (left out, secret, ids) for the
    methodology. ``language``: the brief's (the current one by default); Arabic is laid out
    right to left.
    """
    with i18n.using(language or i18n.language()):
        return _render(analysis, figures, title, masking, point_notes)


def _render(
    analysis: Analysis,
    figures: Figures,
    title: str,
    masking: publish.Masking | None,
    notes: Sequence[str],
) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    styles = _styles()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_CM * 1.8,
        rightMargin=_CM * 1.8,
        topMargin=_CM * 2.0,
        bottomMargin=_CM * 2.0,
        title=title,
        author="crisismap",
        subject=_("Incident summary") if figures.public else _("Incident summary (SENSITIVE)"),
        lang=i18n.language(),
        creator=f"crisismap {__version__}",
        invariant=1,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    story = _story(analysis, figures, title=title, masking=masking, styles=styles, width=doc.width)
    at = len(story) - len(attribution_section(analysis, styles))  # masked points, then credits
    story[at:at] = point_notes(notes, styles)
    from reportlab import rl_config

    ascii85, rl_config.useA85 = rl_config.useA85, 0  # binary streams: its ASCII85 is Python
    try:
        doc.build(story, canvasmaker=_numbered_canvas(_footer(figures)))
    finally:
        rl_config.useA85 = ascii85
    return buffer.getvalue()


_CM = 28.3465  # points per centimetre
_RED = "#b2182b"


def _styles() -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    typeset.register_fonts()
    base = ParagraphStyle("body", fontName=_FONT, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, spaceAfter=2),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "title": ParagraphStyle("title", parent=base, fontName=_FONT_BOLD, fontSize=17, leading=21),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=10.5, leading=14, textColor=colors.HexColor("#444444")
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=_FONT_BOLD,
            fontSize=12.5,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "banner": ParagraphStyle(
            "banner",
            parent=base,
            fontName=_FONT_BOLD,
            fontSize=9.5,
            leading=12.5,
            textColor=colors.white,
        ),
    }


def _footer(figures: Figures) -> tuple[str, str, bool]:
    label = _("PUBLIC") if figures.public else _("SENSITIVE - internal use only, do not publish")
    return label, f"crisismap {__version__}", figures.public


def _numbered_canvas(footer: tuple[str, str]) -> Any:
    """A canvas class that writes "Page n of N" and the sensitivity label on every page."""
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    label, software, public = footer

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(len(self._pages))
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width = self._pagesize[0]
            left, right, y = _CM * 1.8, width - _CM * 1.8, _CM * 1.1
            page = _("Page {page} of {pages}").format(
                page=format_number(self._pageNumber), pages=format_number(total)
            )
            self.setFillColor(colors.HexColor("#555555"))
            if typeset.needs_bidi(page):  # mirrored: the page number on the left
                typeset.draw(self, right, y, software, size=7.5, bold=False, align="right")
                typeset.draw(self, left, y, page, size=7.5, bold=False, align="left")
            else:
                self.setFont(_FONT, 7.5)
                self.drawString(left, y, software)
                self.drawRightString(right, y, page)
            self.setFillColor(colors.HexColor("#555555" if public else _RED))
            if typeset.needs_bidi(label):
                typeset.draw(self, width / 2, y, label, size=7.5, bold=True, align="centre")
            else:
                self.setFont(_FONT_BOLD, 7.5)
                self.drawCentredString(width / 2, y, label)

    return NumberedCanvas


def _story(
    analysis: Analysis,
    figures: Figures,
    *,
    title: str,
    masking: publish.Masking | None,
    styles: dict[str, Any],
    width: float,
) -> list[Any]:
    from reportlab.platypus import CondPageBreak, Spacer

    bset = analysis.boundaries
    story: list[Any] = [
        paragraph(title, styles["title"]),
        Spacer(1, 4),
        paragraph(
            _(
                "{first} to {last} · admin level {level} · period: {period} · boundaries: "
                "{boundaries}"
            ).format(
                first=printed_day(figures.first),
                last=printed_day(figures.last),
                level=figures.level,
                period=period_name(figures.period),
                boundaries=bset.name,
            ),
            styles["subtitle"],
        ),
        Spacer(1, 8),
        _banner(figures, styles, width),
        Spacer(1, 8),
        _key_figures(analysis, figures, styles, width),
        Spacer(1, 6),
    ]
    several = _several_categories(analysis)
    if several:
        story.insert(
            -1,
            paragraph(
                ngettext(
                    "{n} of the {total} accepted records carries several categories; it counts "
                    "once in each, so the figures here count incidents per category and add up "
                    "across categories.",
                    "{n} of the {total} accepted records carry several categories; they count "
                    "once in each, so the figures here count incidents per category and add up "
                    "across categories.",
                    several,
                ).format(n=format_number(several), total=format_number(len(analysis.records))),
                styles["small"],
            ),
        )
    story.append(_picture(map_picture(analysis, figures), width))
    caption = _(
        "Incidents per admin-{level} region, {first} to {last}. Classes: natural breaks of the "
        "published figures."
    ).format(level=figures.level, first=printed_day(figures.first), last=printed_day(figures.last))
    if figures.public:
        caption += " " + _("Hatched: suppressed ({mark}).").format(mark=MARK)
    story.append(paragraph(caption, styles["small"]))
    change = change_sentence(figures)
    if change:
        story.append(paragraph(change, styles["small"]))
    story += [
        paragraph(_("Regional summary"), styles["h2"]),
        *_region_table(analysis, figures, styles, width),
    ]
    story += [CondPageBreak(9 * _CM), paragraph(_("Incidents over time"), styles["h2"])]
    story.append(_picture(chart_picture(figures), width))
    story.append(Spacer(1, 4))
    story += _series_table(figures, styles, width)
    story += _quality_section(figures, styles, width)
    story += methodology(analysis, figures, masking, styles, shorten)
    story += attribution_section(analysis, styles)
    return story


def _picture(image: Any, width: float) -> Any:
    """A PIL image as a flowable ``width`` wide (ReportLab reads its pixels: no PNG)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    class Picture(Image):
        def __init__(self) -> None:
            self._img = ImageReader(image)  # Image reads its size from it
            super().__init__(io.BytesIO(), width, width * image.height / image.width)

    return Picture()


def _several_categories(analysis: Analysis) -> int:
    """Accepted records with more than one category label."""
    if "category" not in analysis.records:
        return 0
    labels = analysis.records["category"].fillna("").astype("str")
    return int(labels.str.contains(CATEGORY_SEPARATOR.strip(), regex=False).sum())


def _banner(figures: Figures, styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    if figures.public:
        k = figures.suppression.get("k", 0)
        text = _(
            "PUBLIC. Figures below {k} incidents are hidden ({mark}), together with the "
            "figures that would reveal them in this or any other public release of this data. "
            "No free text, names, sources or exact locations are included."
        ).format(k=k, mark=MARK)
        color = "#2b5d8a"
    else:
        text = _(
            "SENSITIVE - internal use only. Not protected: small counts are shown and may "
            "identify victims or witnesses. Do not publish or forward."
        )
        color = _RED
    table = Table([[paragraph(text, styles["banner"])]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(color)),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


CHANGE_BASELINE = 8  # previous periods the brief's change line compares with
CHANGE_NAMED = 5  # regions named in it


def change_sentence(figures: Figures) -> str | None:
    """The brief's line on change: which regions rose above (fell below) their usual level
    in the last complete period against the previous ones (see
    :mod:`crisismap.aggregate.trends`). Read from the brief's own cells, so a public brief
    compares published figures only (a region with a hidden cell is left out)."""
    from crisismap.aggregate import trends

    cells = figures.cells
    cells = cells[
        ~cells["region_code"].astype(object).isin([OUTSIDE_CODE, IMPRECISE_CODE])
        & (cells["period"].astype(object) != IMPRECISE_PERIOD)
    ]
    if not len(cells):
        return None
    keys = ["region_code", "region_name", "period", "period_start", "period_end"]
    table = (
        cells.groupby(keys, observed=True, sort=False)["incidents"]
        .sum(min_count=1)  # a hidden cell (NA) hides the region's figure
        .reset_index()
    )
    hidden = cells[cells["incidents"].isna()].set_index(keys[:1] + keys[2:3]).index
    table.loc[table.set_index(["region_code", "period"]).index.isin(hidden), "incidents"] = pd.NA
    periods = table[["period", "period_end"]].drop_duplicates("period")
    latest = trends.latest_complete_period(periods, figures.last)
    if latest is None:
        return None
    at = trends.trends(table, latest=latest, settings=trends.TrendSettings(CHANGE_BASELINE))
    if not len(at) or (at["status"] == trends.SHORT).all():
        return None

    def named(status: str) -> str:
        rows = at[at["status"] == status]
        if not len(rows):
            return _("none")
        names = ", ".join(display_name(n) for n in rows["region_name"].head(CHANGE_NAMED))
        more = len(rows) - min(len(rows), CHANGE_NAMED)
        if more <= 0:
            return names
        return ngettext("{names} and {n} more", "{names} and {n} more", more).format(
            names=names, n=format_number(more)
        )

    baseline = int(at["baseline_periods"].max())
    return ngettext(
        "Change in {latest} against each region's previous period ({period}; a test for small "
        "counts; a rise means more was recorded): above the usual level: {rising}; below it: "
        "{falling}.",
        "Change in {latest} against each region's previous {n} periods ({period}; a test for "
        "small counts; a rise means more was recorded): above the usual level: {rising}; "
        "below it: {falling}.",
        baseline,
    ).format(
        latest=typeset.left_to_right(str(latest)),
        n=format_number(baseline),
        period=period_name(figures.period),
        rising=named(trends.RISING),
        falling=named(trends.FALLING),
    )


def _victims(measure: Any, value: Any, suppressed: bool) -> str:
    """A victims figure as printed: "not reported" when the file has no such column."""
    return fmt_count(value, suppressed) if measure.reported else _("not reported")


def _key_figures(analysis: Analysis, figures: Figures, styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    grand = figures.grand_total
    regions = figures.regions[~figures.regions["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])]
    with_incidents = int((regions["suppressed"] | (regions["incidents"].fillna(0) > 0)).sum())
    n_regions = len(regions) or len(pipeline.summary_levels(analysis)[figures.level])
    real_periods = figures.periods[figures.periods["period"] != IMPRECISE_PERIOD]
    measure = pipeline.victims_measure(analysis)
    cells = [
        (_("Incidents"), fmt_count(grand["incidents"], bool(grand["suppressed"]))),
        (measure_label(measure), _victims(measure, grand["victims"], bool(grand["suppressed"]))),
        (
            _("Admin-{level} regions with incidents").format(level=figures.level),
            _("{n} of {total}").format(
                n=format_number(with_incidents), total=format_number(n_regions)
            ),
        ),
        (
            _("Periods ({period})").format(period=period_name(figures.period)),
            format_number(len(real_periods)),
        ),
    ]
    big = styles["title"].clone("big", fontSize=15, leading=18)
    row1 = [paragraph(value, big) for _label, value in cells]
    row2 = [paragraph(label, styles["small"]) for label, _value in cells]
    rows, widths, commands = typeset.mirror(
        [row1, row2],
        [width / 4] * 4,
        [
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f2f2f2")),
            ("LINEAFTER", (0, 0), (-2, -1), 0.5, colors.white),
            ("TOPPADDING", (0, 0), (-1, 0), 6),
            ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
        ],
    )
    table = Table(rows, colWidths=widths)
    table.setStyle(TableStyle(commands))
    return table


def _grid_style(header_rows: int = 1, numeric_from: int = 2, total_row: bool = False) -> list:
    from reportlab.lib import colors

    total = (
        [
            ("FONT", (0, -1), (-1, -1), _FONT_BOLD, 8.5),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ]
        if total_row
        else []
    )
    return total + [
        ("FONT", (0, 0), (-1, -1), _FONT, 8.5),
        ("FONT", (0, 0), (-1, header_rows - 1), _FONT_BOLD, 8.5),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, colors.black),
        (
            "ROWBACKGROUNDS",
            (0, header_rows),
            (-1, -1),
            [colors.white, colors.HexColor("#f4f4f4")],
        ),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]


def _table(rows: list[list[Any]], widths: list[float], commands: list) -> Any:
    """A long table (header repeated on each page), mirrored when right to left."""
    from reportlab.platypus import LongTable, TableStyle

    rows, widths, commands = typeset.mirror(rows, widths, commands)
    flow = LongTable(rows, colWidths=widths, repeatRows=1)
    flow.setStyle(TableStyle(commands))
    return flow


def _text(text: str, style: Any) -> Any:
    """A table cell of text: a plain string where ReportLab draws it as it is (English,
    no Arabic), else a paragraph shaped and ordered by :mod:`crisismap.report.typeset`."""
    return paragraph(text, style) if typeset.needs_bidi(text) else text


def _name(value: Any, style: Any) -> Any:
    """A code or name from the data (as :func:`display_name` shows it) as a table cell."""
    return paragraph(shorten(display_name(value)), style)


def _region_table(
    analysis: Analysis, figures: Figures, styles: dict[str, Any], width: float
) -> list[Any]:
    """Regions with incidents (largest first), then suppressed ones, then the special rows."""
    table = figures.regions.copy()
    special = table["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])
    shown = table[~special & ~table["suppressed"] & (table["incidents"].fillna(0) > 0)]
    shown = shown.assign(_n=shown["incidents"].astype(int)).sort_values(
        ["_n", "region_name", "region_code"], ascending=[False, True, True]
    )
    hidden = table[~special & table["suppressed"]].sort_values(["region_name", "region_code"])
    zero = table[~special & ~table["suppressed"] & (table["incidents"].fillna(0) == 0)]
    ordered = pd.concat([shown, hidden, table[special]])
    truncated = len(ordered) > MAX_TABLE_REGIONS
    ordered = ordered.head(MAX_TABLE_REGIONS)
    shapes = pipeline.summary_levels(analysis)[figures.level]
    countries = pipeline.region_countries(shapes, figures.level)  # None: one country
    head = styles["cell"].clone("head-cell", fontName=_FONT_BOLD)
    country = [] if countries is None else [_text(_("Country"), head)]
    measure = pipeline.victims_measure(analysis)
    header = [_("Region"), _("Code"), _("Incidents"), measure_label(measure)]
    rows = [[_text(header[0], head), *country, *(_text(h, head) for h in header[1:])]]
    for row in ordered.itertuples(index=False):
        hide = bool(row.suppressed)
        special = row.region_code in SPECIAL_NAMES
        where = [] if countries is None else [countries.get(row.region_code, "")]
        rows.append(
            [
                _name(row.region_code if special else row.region_name, styles["cell"]),
                *(_name("" if special else w, styles["cell"]) for w in where),
                _name("" if special else row.region_code, styles["cell"]),
                fmt_count(row.incidents, hide),
                _text(_victims(measure, row.victims, hide), styles["cell"]),
            ]
        )
    grand = figures.grand_total
    hide = bool(grand["suppressed"])
    bold = styles["cell"].clone("total-cell", fontName=_FONT_BOLD)
    rows.append(
        [
            _text(_("All incidents"), bold),
            *([""] * len(country)),
            "",
            fmt_count(grand["incidents"], hide),
            _text(_victims(measure, grand["victims"], hide), bold),
        ]
    )
    widths = [0.46, 0.22, 0.16, 0.16] if not country else [0.38, 0.1, 0.2, 0.16, 0.16]
    flow = _table(rows, [width * w for w in widths], _grid_style(total_row=True))
    notes = []
    if len(zero):
        notes.append(paragraph(_zero_note(analysis, figures, zero), styles["small"]))
    if truncated:
        notes.append(
            paragraph(
                _("Only the first {n} rows are printed; regions.csv has all.").format(
                    n=format_number(MAX_TABLE_REGIONS)
                ),
                styles["small"],
            )
        )
    if figures.public and (table["suppressed"]).any():
        notes.append(paragraph(_mark_note(figures), styles["small"]))
    return [flow, *notes]


def _zero_note(analysis: Analysis, figures: Figures, zero: pd.DataFrame) -> str:
    """Regions with no incident, named for the countries the data is about."""
    shapes = pipeline.summary_levels(analysis)[figures.level]
    main = pipeline.main_countries(analysis)
    if "country" in shapes and main:
        country = dict(zip(shapes["code"], shapes["country"], strict=True))
        inside = zero["region_code"].map(country).isin(main)
    else:
        inside = pd.Series(True, index=zero.index)
    named = zero[inside]
    n = format_number(len(zero))
    if not len(named) or len(named) > MAX_ZERO_NAMES:
        return ngettext(
            "No incidents recorded in {n} region (all listed in regions.csv).",
            "No incidents recorded in {n} regions (all listed in regions.csv).",
            len(zero),
        ).format(n=n)
    names = ", ".join(sorted(shorten(display_name(n)) for n in named["region_name"]))
    others = len(zero) - len(named)
    if not others:
        return ngettext(
            "No incidents recorded in {n} region: {names} (all listed in regions.csv).",
            "No incidents recorded in {n} regions: {names} (all listed in regions.csv).",
            len(zero),
        ).format(n=n, names=names)
    return ngettext(
        "No incidents recorded in {n} regions, among them {names}; and {others} in "
        "neighbouring countries (all listed in regions.csv).",
        "No incidents recorded in {n} regions, among them {names}; and {others} in "
        "neighbouring countries (all listed in regions.csv).",
        others,
    ).format(n=n, names=names, others=format_number(others))


def _mark_note(figures: Figures) -> str:
    k = figures.suppression.get("k", 0)
    return _(
        "{mark}: suppressed because fewer than {k} incidents, or because it would reveal such "
        "a figure from the totals."
    ).format(mark=MARK, k=k)


def _series_table(figures: Figures, styles: dict[str, Any], width: float) -> list[Any]:
    """Period × category figures, as in the chart (and series.csv / periods.csv); many
    categories are split over several tables of at most ``SERIES_COLUMNS`` columns."""
    from reportlab.platypus import Spacer

    series = bilingual.displayed(figures.series)  # bilingual labels as the user chose
    cats = list(dict.fromkeys(series["category"]))
    lookup = {  # (period, category) -> (incidents, suppressed): no pandas lookup per cell
        (period, category): (incidents, bool(hidden))
        for period, category, incidents, hidden in zip(
            series["period"].tolist(),
            series["category"].tolist(),
            series["incidents"].tolist(),
            series["suppressed"].tolist(),
            strict=True,
        )
    }
    head = styles["cell"].clone("head", fontName=_FONT_BOLD, fontSize=7, leading=8.5)
    out: list[Any] = [
        paragraph(
            _("Incidents per period ({period}) and category (victims in series.csv).").format(
                period=period_name(figures.period)
            ),
            styles["small"],
        )
    ]
    chunks = [cats[i : i + SERIES_COLUMNS] for i in range(0, len(cats), SERIES_COLUMNS)] or [[]]
    right = head.clone("head-right", alignment=2)  # over right-aligned numbers
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        names = [*chunk, ALL_CATEGORIES] if last else chunk
        rows = [
            [
                paragraph(_("Period"), head),
                *[_name(_(c) if c is ALL_CATEGORIES else c, right) for c in names],
            ]
        ]
        for row in figures.periods.itertuples(index=False):
            line = [paragraph(display_name(row.period), styles["cell"])]
            for cat in chunk:
                line.append(fmt_count(*lookup[(row.period, cat)]))
            if last:
                line.append(fmt_count(row.incidents, bool(row.suppressed)))
            rows.append(line)
        first = width * 0.16
        other = (width - first) / max(1, len(names))
        out += [
            _table(rows, [first] + [other] * len(names), _grid_style(numeric_from=1)),
            Spacer(1, 6),
        ]
    return out


ALL_CATEGORIES = N_("All categories")
SEVERITIES = {"error": N_("error"), "warning": N_("warning")}


def _quality_section(figures: Figures, styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.platypus import Spacer

    head = styles["cell"].clone("head-cell", fontName=_FONT_BOLD)
    out: list[Any] = [paragraph(_("Data quality"), styles["h2"])]
    rows = [["", _text(_("Records"), head)]]
    for item, value, hidden in figures.quality.itertuples(index=False):
        shown = fmt_count(value, bool(hidden))
        rows.append([paragraph(item, styles["cell"]), shown])
    out += [
        _table(rows, [width * 0.8, width * 0.2], _grid_style(numeric_from=1)),
        Spacer(1, 6),
    ]
    problems = figures.problems
    if len(problems):
        out.append(
            paragraph(
                _(
                    "Problems found in the input, by kind (a rejected record has at least one "
                    "error; a warning keeps the record, flagged):"
                ),
                styles["body"],
            )
        )
        rows = [[_text(h, head) for h in (_("Problem"), _("Severity"), _("Records"))]]
        rows += [
            [
                _name(p.problem, styles["cell"]),
                _text(_(SEVERITIES.get(p.severity, p.severity)), styles["cell"]),
                format_number(int(p.records)),
            ]
            for p in problems.itertuples(index=False)
        ]
        widths = [width * 0.6, width * 0.2, width * 0.2]
        out.append(_table(rows, widths, _grid_style(numeric_from=2)))
    else:
        out.append(paragraph(_("No problems were found in the input."), styles["body"]))
    return out


def markup(text: Any) -> str:
    """A code or name (as :func:`display_name` shows it) as ReportLab paragraph text."""
    return reportlab_markup(shorten(display_name(text)))


def shorten(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
