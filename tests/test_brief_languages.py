"""The PDF brief and the bundle in the user's language: Arabic shaped and right to left
(rendered, measured and extracted with poppler), French accents intact, nothing left
untranslated (the pseudo-language), the language in the manifest and from ``--lang``."""

from __future__ import annotations

import contextvars
import json
import re
import shutil
import subprocess
import unicodedata
import zipfile

import pytest

from crisismap import __version__, i18n, parallel, pipeline, report
from crisismap.cli import main
from crisismap.report import typeset
from tests.test_bundle import MONTHLY, incidents_csv, squares, unzip
from tests.test_cli import DEMO

BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} (Debian package poppler-utils) is not installed")
    return path


def pdf_text(data: bytes, *options: str) -> str:
    return subprocess.run(
        [_poppler("pdftotext"), *options, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")


def words(text: str) -> str:
    """pdftotext's text without its direction marks, whitespace collapsed."""
    return " ".join(BIDI_MARKS.sub("", text).split())


@pytest.fixture(scope="module")
def analysis() -> pipeline.Analysis:
    return pipeline.analyse(incidents_csv(), squares(), filename="cases.csv")


@pytest.fixture(scope="module")
def briefs(analysis) -> dict[str, bytes]:
    out = {}
    for lang in ("ar", "fr", i18n.PSEUDO):
        with i18n.using(lang):  # the data-quality lines are written in the language too
            figures = report.view_figures(analysis, MONTHLY)
            out[lang] = report.render_pdf(analysis, figures, title=report.default_title(figures))
    return out


def translated(lang: str, text: str) -> str:
    with i18n.using(lang):
        return i18n._(text)


# --- Arabic ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_arabic_brief_extracts_as_the_logical_text(briefs):
    """pdftotext gives the Arabic sentences in logical order and as letters (not the glyphs'
    presentation forms): it reorders the right-to-left runs itself, and the ToUnicode map
    gives each contextual form's letters (a lam-alef ligature's in the order that reversal
    needs) and each mirrored bracket's logical bracket."""
    text = words(pdf_text(briefs["ar"]))
    assert not PRESENTATION_FORMS.search(text)
    for heading in ("Regional summary", "Methodology", "Data quality", "Incidents over time"):
        assert translated("ar", heading) in text
    # a lam-alef ligature (الإداري) and a sentence with brackets, in reading order
    assert "مناطق المستوى الإداري" in text
    assert "(شهر؛ اختبار ملائم للأعداد الصغيرة؛" in text
    with i18n.using("ar"):
        sentence = i18n._("No problems were found in the input.")
    assert sentence in text


@pytest.mark.slow
def test_arabic_brief_is_laid_out_right_to_left(briefs, tmp_path):
    """Words of a heading run from the right margin leftwards, each drawn right to left (the
    word boxes of ``pdftotext -bbox`` list their glyphs left to right: reversed, they read);
    the regional table's first column (region) is on the right."""
    path = tmp_path / "brief.pdf"
    path.write_bytes(briefs["ar"])
    html = subprocess.run(
        [_poppler("pdftotext"), "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    boxes = [
        (float(x0), float(x1), float(y0), word[::-1])  # -bbox words: glyphs left to right
        for x0, y0, x1, word in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<', html
        )
    ]
    heading = translated("ar", "Regional summary").split()  # ملخص حسب المنطقة
    line = next(y for _x0, _x1, y, word in boxes if word == heading[0])
    placed = {word: (x0, x1, y) for x0, x1, y, word in boxes if word in heading and y == line}
    assert set(placed) == set(heading)
    xs = [placed[w][0] for w in heading]
    assert xs == sorted(xs, reverse=True), "the first word is the rightmost"
    page_width = 595.3
    assert placed[heading[0]][1] > page_width - 1.8 * 28.35 - 6 - 2, (
        "right-aligned (frame padding 6)"
    )
    region = translated("ar", "Region")
    code = translated("ar", "Code")
    columns = {word: x0 for x0, _x1, _y, word in boxes if word in (region, code)}
    assert columns[region] > columns[code], "the table is mirrored"


def _ink_width(data: bytes, tmp_path) -> int:
    """The width in pixels of what a one-line PDF draws (rendered by pdftoppm)."""
    from PIL import Image

    (tmp_path / "line.pdf").write_bytes(data)
    subprocess.run(
        [_poppler("pdftoppm"), "-r", "144", "-gray", "-png", "-singlefile",
         str(tmp_path / "line.pdf"), str(tmp_path / "line")],
        check=True,
    )  # fmt: skip
    image = Image.open(tmp_path / "line.png").point(lambda v: 255 if v < 128 else 0)
    box = image.getbbox()
    assert box is not None
    return box[2] - box[0]


def _one_line_pdf(text: str, *, shaped: bool) -> bytes:
    import io

    from reportlab.pdfgen.canvas import Canvas

    typeset.register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(400, 60), invariant=1)
    with i18n.using("ar"):
        if shaped:
            typeset.draw(canvas, 390, 20, text, size=24, bold=False, align="right")
        else:  # each letter alone: its isolated form, side by side, right to left
            isolated = "".join(typeset.shape(letter) for letter in reversed(text))
            canvas.setFont(typeset.ARABIC, 24)
            canvas.drawRightString(390, 20, isolated)
    canvas.save()
    return buffer.getvalue()


@pytest.mark.slow
def test_arabic_letters_are_joined(tmp_path):
    """A word drawn as the brief draws it is narrower than its letters drawn apart: the
    letters take their joined (initial, medial, final) forms."""
    word = "المنهجية"
    joined = _ink_width(_one_line_pdf(word, shaped=True), tmp_path)
    apart = _ink_width(_one_line_pdf(word, shaped=False), tmp_path)
    assert joined < 0.85 * apart, (joined, apart)
    with i18n.using("ar"):
        forms = typeset.shape(word)

    assert all(PRESENTATION_FORMS.match(c) for c in forms)  # contextual forms, drawing order
    assert unicodedata.normalize("NFKC", forms[::-1]) == word


def test_bidi_keeps_numbers_and_codes_readable_inside_arabic():
    with i18n.using("ar"):
        line = typeset.shape("الفترة 2024-03 من 12,345")
        kept = typeset.shape(f"في {typeset.left_to_right('2024-03')}")
    assert "12,345" in line
    assert "2024-03" in kept
    assert typeset.shape("North-East") == "North-East"  # no Arabic, no change


def test_table_commands_mirror_with_the_columns():
    rows = [["a", "b", "c"]]
    with i18n.using("ar"):
        mirrored = typeset.mirror(
            rows,
            [1.0, 2.0, 3.0],
            [("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("LINEAFTER", (0, 0), (0, 0), 1)],
        )
    assert mirrored[0] == [["c", "b", "a"]]
    assert mirrored[1] == [3.0, 2.0, 1.0]
    assert mirrored[2] == [("ALIGN", (0, 0), (1, -1), "RIGHT"), ("LINEBEFORE", (2, 0), (2, 0), 1)]
    assert typeset.mirror(rows, [1.0], [])[0] is rows  # left to right: unchanged


# --- French and the pseudo-language ----------------------------------------------------------


@pytest.mark.slow
def test_french_brief_keeps_its_accents(briefs):
    text = words(pdf_text(briefs["fr"]))
    for expected in (
        "Synthèse par région",
        "Qualité des données",
        "Méthodologie",
        "Protection des petits effectifs",
        "du 1 janv. 2024 au 31 mars 2024",
        "Évolution des incidents dans le temps",
    ):
        assert expected in text


@pytest.mark.slow
def test_every_text_of_the_brief_is_translated(briefs, analysis):
    """In the pseudo-language every translated text is ⟦wrapped⟧: what is left once they
    are taken out is data (names, codes, figures, dates, file and product names)."""
    text = pdf_text(briefs[i18n.PSEUDO])
    assert text.count("⟦") == text.count("⟧") > 40
    rest, before = text, None
    while rest != before:  # innermost first: a translated sentence holds translated words
        before, rest = rest, re.sub(r"⟦[^⟦⟧]*⟧", " ", rest)
    bset = analysis.boundaries
    data = {"x", "crisismap", __version__, analysis.report.preset}
    for value in (bset.name, bset.source, bset.version, bset.vintage, bset.date):
        data |= set(str(value).replace("(", " ").replace(")", " ").split())
    for frame in pipeline.summary_levels(analysis).values():
        data |= {w for name in frame["name"] for w in str(name).split()}
        data |= set(frame["code"])
    data |= set(analysis.records["category"].dropna())
    left = {
        w
        for w in re.split(r"[\s,;:·()]+", rest)
        if w and not re.fullmatch(r"[\d.,\-/WQ]+", w) and w not in data
    }
    assert not left, f"text outside the catalogue in the brief: {sorted(left)}"


# --- the bundle and the command line ---------------------------------------------------------


@pytest.mark.slow
def test_manifest_records_the_language_and_the_forked_brief_speaks_it(analysis):
    with parallel.processes_allowed(), i18n.using("ar"):
        files = unzip(report.build_bundle(analysis, MONTHLY))
    manifest = json.loads(files["manifest.json"])
    assert manifest["language"] == "ar"
    assert manifest["reproduce"] == translated("ar", manifest_reproduce_english())
    assert translated("ar", "Methodology") in words(pdf_text(files["brief.pdf"]))
    english = unzip(report.build_bundle(analysis, MONTHLY))
    assert json.loads(english["manifest.json"])["language"] == "en"


def manifest_reproduce_english() -> str:
    return (
        "Run crisismap with the same input files, boundaries and parameters (and, for "
        "displaced points, the same workspace secret); every output's SHA-256 must match."
    )


@pytest.mark.slow
def test_report_command_takes_lang(tmp_path, capsys):
    out = tmp_path / "report.zip"
    argv = ["--lang", "fr", "report", str(DEMO), "--boundaries", "world:SDN", "--level", "1"]
    argv += ["--period", "quarter", "--out", str(out)]
    code = contextvars.copy_context().run(main, argv)  # the CLI sets the language
    assert code == 0, capsys.readouterr().err
    with zipfile.ZipFile(out) as bundle:
        assert json.loads(bundle.read("manifest.json"))["language"] == "fr"
        assert "Méthodologie" in words(pdf_text(bundle.read("brief.pdf")))
    assert i18n.language() == "en"


def test_a_paragraph_breaks_in_reading_order_before_it_is_reordered():
    """The first line of an Arabic paragraph holds its first words (each line is reordered
    on its own, after the break)."""
    typeset.register_fonts()
    text = "واحد اثنان ثلاثة أربعة خمسة ستة سبعة ثمانية"
    with i18n.using("ar"):
        lines = typeset.lines(text, size=10, available=80)
    assert len(lines) > 2
    logical = [unicodedata.normalize("NFKC", line[::-1]) for line in lines]
    assert " ".join(logical) == text
    assert logical[0].startswith("واحد")


def test_shaped_text_is_escaped_for_reportlab():
    """An Arabic name in a left-to-right brief takes the shaping path: its markup is escaped."""
    with i18n.using("fr"):
        line = typeset.shape('<img src="x"/> منطقة')
    assert "<img" not in typeset.markup(line)
    assert "&lt;img" in typeset.markup(line)


def test_chart_text_is_laid_out_by_matplotlib():
    """The charts get Arabic in logical order: matplotlib (3.11, libraqm) joins the letters
    itself, so the word is narrower than its isolated forms side by side."""
    import arabic_reshaper
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    word = "المنهجية"
    apart = "".join(arabic_reshaper.reshape(letter) for letter in word)
    with plt.rc_context(typeset.matplotlib_fonts()):
        fig = plt.figure()
        renderer = fig.canvas.get_renderer()
        widths = [
            fig.text(0, 0, t, fontsize=20).get_window_extent(renderer).width for t in (word, apart)
        ]
        plt.close(fig)
    assert widths[0] < 0.85 * widths[1], widths
