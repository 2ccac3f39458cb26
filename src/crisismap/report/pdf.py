"""The PDF brief (A4): title, protection banner, key figures, map, regional table, time
series, data quality, methodology and attributions.

Byte-reproducible: ReportLab's invariant mode, fonts embedded from matplotlib's DejaVu Sans,
images from :mod:`crisismap.report.charts`. Every user text reaches a paragraph through
:func:`crisismap.escape.reportlab_markup` (ReportLab parses markup such as ``<img>``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from crisismap import __version__, basemap, bilingual, pipeline, publish
from crisismap.escape import reportlab_markup
from crisismap.pipeline import Analysis
from crisismap.report.charts import chart_png, map_png
from crisismap.report.figures import MARK, SPECIAL_NAMES, Figures, display_name, fmt_count
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
) -> bytes:
    """The PDF brief (A4), byte-reproducible (ReportLab invariant mode).

    ``point_notes`` are the sentences on masked points (left out, secret, ids) for the
    methodology.
    """
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
        subject="Incident summary" + ("" if figures.public else " (SENSITIVE)"),
        creator=f"crisismap {__version__}",
        invariant=1,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    story = _story(analysis, figures, title=title, masking=masking, styles=styles, width=doc.width)
    at = len(story) - len(_attributions(analysis, styles))  # masked points before the credits
    story[at:at] = _point_notes(point_notes, styles)
    from reportlab import rl_config

    ascii85, rl_config.useA85 = rl_config.useA85, 0  # binary streams: its ASCII85 is Python
    try:
        doc.build(story, canvasmaker=_numbered_canvas(_footer(figures)))
    finally:
        rl_config.useA85 = ascii85
    return buffer.getvalue()


_CM = 28.3465  # points per centimetre
_FONT = "CrisismapSans"
_FONT_BOLD = "CrisismapSans-Bold"
_RED = "#b2182b"


def _fonts() -> None:
    """DejaVu Sans (shipped with matplotlib): Latin, Cyrillic, Greek and more, embedded."""
    from pathlib import Path

    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(_FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    addMapping(_FONT, 0, 0, _FONT)
    addMapping(_FONT, 1, 0, _FONT_BOLD)
    addMapping(_FONT, 0, 1, _FONT)
    addMapping(_FONT, 1, 1, _FONT_BOLD)


def _styles() -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    _fonts()
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


def _footer(figures: Figures) -> tuple[str, str]:
    label = "PUBLIC" if figures.public else "SENSITIVE - internal use only, do not publish"
    return label, f"crisismap {__version__}"


def _numbered_canvas(footer: tuple[str, str]) -> Any:
    """A canvas class that writes "Page n of N" and the sensitivity label on every page."""
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    label, software = footer

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
            width, _ = self._pagesize
            self.setFont(_FONT, 7.5)
            self.setFillColor(colors.HexColor("#555555"))
            self.drawString(_CM * 1.8, _CM * 1.1, software)
            self.drawRightString(
                width - _CM * 1.8, _CM * 1.1, f"Page {self._pageNumber} of {total}"
            )
            self.setFillColor(colors.HexColor(_RED if label != "PUBLIC" else "#555555"))
            self.setFont(_FONT_BOLD, 7.5)
            self.drawCentredString(width / 2, _CM * 1.1, label)

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
    from reportlab.platypus import CondPageBreak, Image, Paragraph, Spacer

    bset = analysis.boundaries
    story: list[Any] = [
        Paragraph(reportlab_markup(title), styles["title"]),
        Spacer(1, 4),
        Paragraph(
            reportlab_markup(
                f"{figures.first} to {figures.last} · admin level {figures.level} · "
                f"periods of one {figures.period.value} · boundaries: {bset.name}"
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
            Paragraph(
                reportlab_markup(
                    f"{several:,} of the {len(analysis.records):,} accepted records carry "
                    "several categories; they count once in each, so the figures here count "
                    "incidents per category and add up across categories."
                ),
                styles["small"],
            ),
        )
    map_image, map_size = map_png(analysis, figures)
    map_width = width
    story.append(Image(io.BytesIO(map_image), map_width, map_width * map_size[1] / map_size[0]))
    story.append(
        Paragraph(
            reportlab_markup(
                f"Incidents per admin-{figures.level} region, {figures.first} to "
                f"{figures.last}. Classes: natural breaks of the published figures."
                + (f" Hatched: suppressed ({MARK})." if figures.public else "")
            ),
            styles["small"],
        )
    )
    change = change_sentence(figures)
    if change:
        story.append(Paragraph(reportlab_markup(change), styles["small"]))
    story += [
        Paragraph("Regional summary", styles["h2"]),
        *_region_table(analysis, figures, styles, width),
    ]
    story += [CondPageBreak(9 * _CM), Paragraph("Incidents over time", styles["h2"])]
    chart_image, chart_size = chart_png(figures)
    story.append(Image(io.BytesIO(chart_image), width, width * chart_size[1] / chart_size[0]))
    story.append(Spacer(1, 4))
    story += _series_table(figures, styles, width)
    story += _quality_section(figures, styles, width)
    story += _methodology(analysis, figures, masking, styles)
    story += _attributions(analysis, styles)
    return story


def _several_categories(analysis: Analysis) -> int:
    """Accepted records with more than one category label."""
    if "category" not in analysis.records:
        return 0
    labels = analysis.records["category"].fillna("").astype("str")
    return int(labels.str.contains(CATEGORY_SEPARATOR.strip(), regex=False).sum())


def _banner(figures: Figures, styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    if figures.public:
        k = figures.suppression.get("k", 0)
        text = (
            f"PUBLIC. Figures below {k} incidents are hidden ({MARK}), together with the "
            "figures that would reveal them in this or any other public release of this data. "
            "No free text, names, sources or exact locations are included."
        )
        color = "#2b5d8a"
    else:
        text = (
            "SENSITIVE - internal use only. Not protected: small counts are shown and may "
            "identify victims or witnesses. Do not publish or forward."
        )
        color = _RED
    table = Table([[Paragraph(reportlab_markup(text), styles["banner"])]], colWidths=[width])
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
            return "none"
        names = [display_name(n) for n in rows["region_name"].head(CHANGE_NAMED)]
        more = len(rows) - len(names)
        return ", ".join(names) + (f" and {more} more" if more > 0 else "")

    baseline = int(at["baseline_periods"].max())
    return (
        f"Change in {latest} against each region's previous {baseline} "
        f"{figures.period.value}s (a test for small counts; a rise means more was recorded): "
        f"above the usual level: {named(trends.RISING)}; below it: {named(trends.FALLING)}."
    )


def _victims(measure: Any, value: Any, suppressed: bool) -> str:
    """A victims figure as printed: "not reported" when the file has no such column."""
    return fmt_count(value, suppressed) if measure.reported else "not reported"


def _key_figures(analysis: Analysis, figures: Figures, styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    grand = figures.grand_total
    regions = figures.regions[~figures.regions["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])]
    with_incidents = int((regions["suppressed"] | (regions["incidents"].fillna(0) > 0)).sum())
    n_regions = len(regions) or len(pipeline.summary_levels(analysis)[figures.level])
    real_periods = figures.periods[figures.periods["period"] != IMPRECISE_PERIOD]
    measure = pipeline.victims_measure(analysis)
    cells = [
        ("Incidents", fmt_count(grand["incidents"], bool(grand["suppressed"]))),
        (measure.label, _victims(measure, grand["victims"], bool(grand["suppressed"]))),
        (
            f"Admin-{figures.level} regions with incidents",
            f"{with_incidents:,} of {n_regions:,}",
        ),
        (f"Periods ({figures.period.value})", f"{len(real_periods):,}"),
    ]
    big = styles["title"].clone("big", fontSize=15, leading=18)
    row1 = [Paragraph(reportlab_markup(v), big) for _, v in cells]
    row2 = [Paragraph(reportlab_markup(label), styles["small"]) for label, _ in cells]
    table = Table([row1, row2], colWidths=[width / 4] * 4)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f2f2f2")),
                ("LINEAFTER", (0, 0), (-2, -1), 0.5, colors.white),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
            ]
        )
    )
    return table


def _grid_style(header_rows: int = 1, numeric_from: int = 2, total_row: bool = False) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    total = (
        [
            ("FONT", (0, -1), (-1, -1), _FONT_BOLD, 8.5),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ]
        if total_row
        else []
    )
    return TableStyle(
        total
        + [
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
    )


def _region_table(
    analysis: Analysis, figures: Figures, styles: dict[str, Any], width: float
) -> list[Any]:
    """Regions with incidents (largest first), then suppressed ones, then the special rows."""
    from reportlab.platypus import LongTable, Paragraph

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
    country = [] if countries is None else ["Country"]
    measure = pipeline.victims_measure(analysis)
    rows = [["Region", *country, "Code", "Incidents", measure.label]]
    for row in ordered.itertuples(index=False):
        hide = bool(row.suppressed)
        special = row.region_code in SPECIAL_NAMES
        where = [] if countries is None else [markup(countries.get(row.region_code, ""))]
        rows.append(
            [
                Paragraph(markup(row.region_name), styles["cell"]),
                *(Paragraph("" if special else w, styles["cell"]) for w in where),
                Paragraph("" if special else markup(row.region_code), styles["cell"]),
                fmt_count(row.incidents, hide),
                _victims(measure, row.victims, hide),
            ]
        )
    grand = figures.grand_total
    hide = bool(grand["suppressed"])
    rows.append(
        [
            "All incidents",
            *([""] * len(country)),
            "",
            fmt_count(grand["incidents"], hide),
            _victims(measure, grand["victims"], hide),
        ]
    )
    widths = [0.46, 0.22, 0.16, 0.16] if not country else [0.38, 0.1, 0.2, 0.16, 0.16]
    flow = LongTable(rows, colWidths=[width * w for w in widths], repeatRows=1)
    flow.setStyle(_grid_style(total_row=True))
    notes = []
    if len(zero):
        notes.append(
            Paragraph(reportlab_markup(_zero_note(analysis, figures, zero)), styles["small"])
        )
    if truncated:
        notes.append(
            Paragraph(
                reportlab_markup(
                    f"Only the first {MAX_TABLE_REGIONS} rows are printed; regions.csv has all."
                ),
                styles["small"],
            )
        )
    if figures.public and (table["suppressed"]).any():
        notes.append(Paragraph(reportlab_markup(_mark_note(figures)), styles["small"]))
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
    text = f"No incidents recorded in {len(zero):,} region(s)"
    if len(named) and len(named) <= MAX_ZERO_NAMES:
        names = ", ".join(sorted(shorten(display_name(n)) for n in named["region_name"]))
        others = len(zero) - len(named)
        text += f", among them {names}" if others else f": {names}"
        if others:
            text += f"; and {others:,} in neighbouring countries"
    return text + " (all listed in regions.csv)."


def _mark_note(figures: Figures) -> str:
    k = figures.suppression.get("k", 0)
    return (
        f"{MARK}: suppressed because fewer than {k} incidents, or because it would reveal such "
        "a figure from the totals."
    )


def _series_table(figures: Figures, styles: dict[str, Any], width: float) -> list[Any]:
    """Period × category figures, as in the chart (and series.csv / periods.csv); many
    categories are split over several tables of at most ``SERIES_COLUMNS`` columns."""
    from reportlab.platypus import LongTable, Paragraph, Spacer

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
        Paragraph(
            reportlab_markup(
                f"Incidents per {figures.period.value} and category (victims in series.csv)."
            ),
            styles["small"],
        )
    ]
    chunks = [cats[i : i + SERIES_COLUMNS] for i in range(0, len(cats), SERIES_COLUMNS)] or [[]]
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        names = [*chunk, "All categories"] if last else chunk
        right = head.clone("head-right", alignment=2)  # over right-aligned numbers
        rows = [[Paragraph("Period", head), *[Paragraph(markup(c), right) for c in names]]]
        for row in figures.periods.itertuples(index=False):
            line = [Paragraph(reportlab_markup(display_name(row.period)), styles["cell"])]
            for cat in chunk:
                line.append(fmt_count(*lookup[(row.period, cat)]))
            if last:
                line.append(fmt_count(row.incidents, bool(row.suppressed)))
            rows.append(line)
        first = width * 0.16
        other = (width - first) / max(1, len(names))
        flow = LongTable(rows, colWidths=[first] + [other] * len(names), repeatRows=1)
        flow.setStyle(_grid_style(numeric_from=1))
        out += [flow, Spacer(1, 6)]
    return out


def _quality_section(figures: Figures, styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.platypus import LongTable, Paragraph, Spacer

    out: list[Any] = [Paragraph("Data quality", styles["h2"])]
    rows = [["", "Records"]]
    for item, value, hidden in figures.quality.itertuples(index=False):
        shown = fmt_count(value, bool(hidden))
        rows.append([Paragraph(reportlab_markup(item), styles["cell"]), shown])
    table = LongTable(rows, colWidths=[width * 0.8, width * 0.2], repeatRows=1)
    table.setStyle(_grid_style(numeric_from=1))
    out += [table, Spacer(1, 6)]
    problems = figures.problems
    if len(problems):
        out.append(
            Paragraph(
                reportlab_markup(
                    "Problems found in the input, by kind (a rejected record has at least one "
                    "error; a warning keeps the record, flagged):"
                ),
                styles["body"],
            )
        )
        rows = [["Problem", "Severity", "Records"]]
        rows += [
            [Paragraph(markup(p.problem), styles["cell"]), p.severity, f"{int(p.records):,}"]
            for p in problems.itertuples(index=False)
        ]
        table = LongTable(rows, colWidths=[width * 0.6, width * 0.2, width * 0.2], repeatRows=1)
        table.setStyle(_grid_style(numeric_from=2))
        out.append(table)
    else:
        out.append(Paragraph("No problems were found in the input.", styles["body"]))
    return out


def _methodology(
    analysis: Analysis, figures: Figures, masking: publish.Masking | None, styles: dict[str, Any]
) -> list[Any]:
    from reportlab.platypus import Paragraph

    bset = analysis.boundaries
    view = figures.view
    filters = []
    if view.get("categories"):
        filters.append(
            "categories: " + ", ".join(shorten(display_name(c)) for c in view["categories"])
        )
    if view.get("regions"):
        filters.append("regions: " + ", ".join(shorten(str(r)) for r in view["regions"]))
    paragraphs = [
        f"Incident records ({_inputs_named(analysis, figures.public)}; preset "
        f"{analysis.report.preset}) were validated record by record: each is accepted, accepted "
        "with warnings or rejected with a reason; none is silently dropped or changed.",
        f"Boundaries: {bset.name} ({bset.vintage}). Each incident is "
        f"attributed to the admin-{figures.level} region containing its coordinates; a point "
        "on a shared border counts once. Incidents whose location is known only at a coarser "
        "level, or whose date is coarser than the period unit, are counted apart, never "
        "spread or guessed." + _date_range_sentence(analysis.parameters.get("date_range")),
        f"Figures cover {figures.first} to {figures.last} by {figures.period.value}"
        + (f"; filtered by {'; '.join(filters)}" if filters else "")
        + ". "
        + pipeline.victims_measure(analysis).note
        + " A record with no figure adds nothing. "
        "Totals are sums of the cells: an incident with several categories counts once in "
        "each.",
    ]
    s = figures.suppression
    if figures.public:
        paragraphs.append(
            f"Small-count protection: every figure with 1 to {s['k'] - 1} incidents is hidden "
            f"({MARK}). All public releases of this data read one protected grid of figures "
            "(every region level; ISO weeks, months, quarters, years and the whole span; each "
            "category and all categories), so figures from any number of public releases — "
            "other periods, levels, date windows or categories — cannot be combined to work "
            "out a hidden figure: for every hidden figure there is another table, with no "
            "negative count, that agrees with every published figure and differs in the "
            "hidden one. A few further figures (sometimes zeros) are hidden for that. Date "
            "windows cover whole periods; a total over a window is the sum of the whole years, "
            "quarters and months (or weeks) inside it, and is hidden when one of them is. "
            f"Victim figures are hidden with their cells. {s.get('suppressed_figures', 0):,} of "
            f"{s.get('figures', 0):,} figures in this brief are hidden."
        )
    else:
        paragraphs.append("No small-count protection was applied: this brief is for internal use.")
    if masking is not None:
        paragraphs.append(
            f"Point locations (points.csv): {masking.settings()['description']}. One row per "
            "incident"
            + (
                " counted in a published cell (see Masked points)."
                if figures.public
                else ": the point file shows every count."
            )
        )
    listed = (
        "the SHA-256 of every output file (input files are named by a fingerprint keyed "
        "with the team's workspace secret, never by name or plain hash)"
        if figures.public
        else "the SHA-256 of every input and output file"
    )
    paragraphs.append(
        f"Reproducibility: manifest.json lists {listed}, the software versions and every "
        "parameter; the same inputs and parameters give byte-identical files."
    )
    out: list[Any] = [Paragraph("Methodology", styles["h2"])]
    out += [Paragraph(reportlab_markup(text), styles["body"]) for text in paragraphs]
    return out


def _inputs_named(analysis: Analysis, public: bool) -> str:
    """The incident files as the methodology names them: by count only when public (a file
    name can hold a witness's or a village's name)."""
    if not public:
        return ", ".join(i["name"] for i in analysis.inputs)
    count = len(analysis.inputs)
    return f"{count} file" + ("" if count == 1 else "s")


def _point_notes(notes: Sequence[str], styles: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph

    if not notes:
        return []
    out: list[Any] = [Paragraph("Masked points", styles["h2"])]
    return out + [Paragraph(reportlab_markup(note), styles["body"]) for note in notes]


def _date_range_sentence(choice: str | None) -> str:
    """How incidents dated over several days were counted (the date-range choice)."""
    if choice in ("start", "end"):
        return (
            f" Incidents dated over several days are counted on their {choice} date, as "
            "chosen for this report."
        )
    return (
        " Incidents dated over several days count in a period only when the whole range lies in it."
    )


def attributions(analysis: Analysis) -> list[str]:
    """Credit lines for the boundary and incident sources used."""
    bset = analysis.boundaries
    text = f"{bset.name} {bset.source}".lower()
    lines = [f"Boundaries: {bset.source} (version {bset.version}; dated {bset.date})."]
    if "natural earth" in text or bset.name.startswith("world"):
        lines.append(
            "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com "
            "(public domain)."
        )
    if "geoboundaries" in text:
        lines.append(
            "geoBoundaries: Runfola, D. et al. (2020) geoBoundaries: A global database of "
            "political administrative boundaries. PLoS ONE 15(4): e0231866; "
            "www.geoboundaries.org (licence as stated by the source)."
        )
    if "cod-ab" in text or "ocha" in text:
        lines.append(
            "OCHA Common Operational Datasets, administrative boundaries (COD-AB), via the "
            "Humanitarian Data Exchange (data.humdata.org), CC BY-IGO."
        )
    preset = str(analysis.report.preset or "").lower()
    if "ucdp" in preset:
        lines.append(
            "Incident data: UCDP Georeferenced Event Dataset (Sundberg & Melander 2013; "
            "Davies, Pettersson & Öberg), Uppsala Conflict Data Program, CC BY 4.0."
        )
    if "acled" in preset:
        lines.append("Incident data: Armed Conflict Location & Event Data (ACLED), acleddata.com.")
    lines.append(basemap.CREDIT)  # the PDF map's land, water and place names
    lines.append(f"Produced with crisismap {__version__} (Apache-2.0), matplotlib and ReportLab.")
    return lines


def _attributions(analysis: Analysis, styles: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph

    out: list[Any] = [Paragraph("Sources and attributions", styles["h2"])]
    out += [Paragraph(reportlab_markup(line), styles["body"]) for line in attributions(analysis)]
    return out


def markup(text: Any) -> str:
    """A code or name (as :func:`display_name` shows it) as ReportLab paragraph text."""
    return reportlab_markup(shorten(display_name(text)))


def shorten(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
