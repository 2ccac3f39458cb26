"""Text as the PDF brief and its charts draw it, in every language: fonts, Arabic shaping,
right to left.

Neither ReportLab (without its optional rlbidi and uharfbuzz) nor matplotlib's Agg shape
Arabic or order right-to-left text, so the brief does it before they see the text:
``arabic_reshaper`` replaces each letter by its contextual form (initial, medial, final,
isolated, lam-alef ligatures: the Unicode presentation forms) and ``python-bidi`` puts each
line in visual order (the Unicode bidi algorithm: Arabic runs right to left, numbers and
Latin names inside them left to right). Lines are broken here, in logical order, before
reordering: a paragraph's first line must hold the start of the sentence.

Fonts: DejaVu Sans (shipped with matplotlib) for Latin, Cyrillic and Greek, Noto Naskh Arabic
(bundled in ``crisismap/fonts``, SIL OFL) for Arabic; a line is drawn in runs, each in the font
that has its characters. The PDF's ToUnicode maps a presentation form back to its letters, so
copying, searching and ``pdftotext`` give the logical Arabic text, not the glyph forms.

English text without Arabic letters takes none of these paths (the same bytes as before).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from crisismap import i18n
from crisismap.escape import reportlab_markup

FONT = "CrisismapSans"
FONT_BOLD = "CrisismapSans-Bold"
ARABIC = "CrisismapArabic"
ARABIC_BOLD = "CrisismapArabic-Bold"
FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"
ARABIC_FILES = {ARABIC: "NotoNaskhArabic-Regular.ttf", ARABIC_BOLD: "NotoNaskhArabic-Bold.ttf"}
ARABIC_FAMILY = "Noto Naskh Arabic"  # matplotlib's name of the same font

# Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation forms)
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# Marks that steer the bidi algorithm (Babel puts RLM in Arabic dates): none has a glyph.
# Babel's are dropped before the algorithm, ours (see :func:`left_to_right`) after it.
_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FOREIGN_CONTROLS = re.compile("[\u061c\u200e\u200f\u202b\u202d\u202e\u2066-\u2069]")
_LRE, _PDF = "\u202a", "\u202c"
# A bracket in a right-to-left run is drawn mirrored ("(" as ")"); it is written as a
# private-use alias of the mirrored glyph, whose ToUnicode entry gives the logical bracket
MIRRORED_BRACKETS = "()[]{}<>\u00ab\u00bb"
_MIRRORED = 0xF000


def needs_bidi(text: str) -> bool:
    """Whether ``text`` must be shaped and reordered (the language is RTL or it has RTL letters)."""
    return i18n.is_rtl() or bool(_RTL.search(text))


# --- fonts -----------------------------------------------------------------------------------


def register_fonts() -> None:
    """Register the brief's fonts with ReportLab once per process (embedded as subsets)."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics, ttfonts
    from reportlab.pdfbase.ttfonts import TTFont

    if ARABIC_BOLD in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    for name, file in ARABIC_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    for family, regular, bold in ((FONT, FONT, FONT_BOLD), (ARABIC, ARABIC, ARABIC_BOLD)):
        for italic in (0, 1):
            addMapping(family, 0, italic, regular)
            addMapping(family, 1, italic, bold)
    for name in (FONT, FONT_BOLD):
        face = pdfmetrics.getFont(name).face
        for char in MIRRORED_BRACKETS:
            if ord(char) in face.charToGlyph:  # as ReportLab aliases U+00A0 to the space
                face.charToGlyph[_MIRRORED + ord(char)] = face.charToGlyph[ord(char)]
                face.charWidths[_MIRRORED + ord(char)] = face.charWidths[ord(char)]
    if ttfonts.makeToUnicodeCMap is not _logical_cmap:
        _logical_cmap.original = ttfonts.makeToUnicodeCMap  # type: ignore[attr-defined]
        ttfonts.makeToUnicodeCMap = _logical_cmap


def _logical_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode CMap, with each presentation form mapped to its letters (NFKC:
    ``ﻟ`` → ``ل``). A ligature's letters (lam-alef) are listed last to first: the glyphs of
    a right-to-left line are drawn in visual order and extractors (poppler's pdftotext,
    viewers' copy) reverse the characters of the whole run, a ligature's too. Other
    characters map as before."""
    text = _logical_cmap.original(fontname, subset)  # type: ignore[attr-defined]
    for i, code in enumerate(subset):
        if _MIRRORED < code <= _MIRRORED + 0xFF:
            logical = _mirror(chr(code - _MIRRORED))
            text = text.replace(f"<{i:02X}> <{code:04X}>", f"<{i:02X}> <{ord(logical):04X}>", 1)
        elif 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF:
            letters = unicodedata.normalize("NFKC", chr(code))[::-1]
            target = "".join(f"{ord(c):04X}" for c in letters)
            text = text.replace(f"<{i:02X}> <{code:04X}>", f"<{i:02X}> <{target}>", 1)
    return text


@cache
def _arabic_glyphs() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(FONT_DIR / ARABIC_FILES[ARABIC]).getBestCmap())


def _face(char: str, bold: bool) -> str:
    arabic = ord(char) >= 0x0600 and ord(char) in _arabic_glyphs()
    if arabic:
        return ARABIC_BOLD if bold else ARABIC
    return FONT_BOLD if bold else FONT


def runs(text: str, bold: bool = False) -> list[tuple[str, str]]:
    """``text`` cut into (font, characters) runs, each in the font that has them."""
    out: list[tuple[str, str]] = []
    for char in text:
        face = _face(char, bold) if not char.isspace() or not out else out[-1][0]
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + char)
        else:
            out.append((face, char))
    return out


def matplotlib_fonts() -> dict[str, Any]:
    """matplotlib settings for the charts: DejaVu Sans, falling back to Noto Naskh Arabic."""
    _add_to_matplotlib()
    return {"font.family": ["DejaVu Sans", ARABIC_FAMILY]}


@cache
def _add_to_matplotlib() -> None:
    from matplotlib import font_manager

    for file in ARABIC_FILES.values():
        font_manager.fontManager.addfont(str(FONT_DIR / file))


# --- shaping and order -----------------------------------------------------------------------


def shape(text: str) -> str:
    """One line in drawing order: Arabic letters joined, right-to-left runs reversed (for
    matplotlib and single-line PDF strings); unchanged when there is nothing to do."""
    if not needs_bidi(text):
        return text
    return _visual(_reshape(text))


def _reshape(text: str) -> str:
    import arabic_reshaper

    text = _FOREIGN_CONTROLS.sub("", text)
    return arabic_reshaper.reshape(text) if _RTL.search(text) else text


def left_to_right(text: str) -> str:
    """``text`` kept left to right inside a right-to-left sentence (a period code such as
    ``2024-03``, which the bidi algorithm would show as ``03-2024`` after Arabic words)."""
    return f"{_LRE}{text}{_PDF}" if i18n.is_rtl() else text


def _visual(shaped: str) -> str:
    """A shaped logical line in visual order (the paragraph direction is the language's),
    brackets of right-to-left runs mirrored (as private-use aliases, see ``register_fonts``)."""
    from bidi import algorithm as uba  # the Unicode bidi algorithm, step by step

    storage = uba.get_empty_storage()
    storage["base_level"] = uba.PARAGRAPH_LEVELS["R" if i18n.is_rtl() else "L"]
    storage["base_dir"] = ("L", "R")[storage["base_level"]]
    uba.get_embedding_levels(shaped, storage)
    for step in (
        uba.explicit_embed_and_overrides,
        uba.resolve_weak_types,
        uba.resolve_neutral_types,
        uba.resolve_implicit_levels,
        uba.reorder_resolved_levels,
    ):
        step(storage, False)
    out = []
    for char in storage["chars"]:
        ch = char["ch"]
        if char["level"] % 2 and ch in MIRRORED_BRACKETS:  # L4: mirrored in a RTL run
            ch = chr(_MIRRORED + ord(_mirror(ch)))
        out.append(ch)
    return _CONTROLS.sub("", "".join(out))


def _mirror(char: str) -> str:
    from bidi.mirror import MIRRORED

    return MIRRORED.get(char, char)


def width(text: str, size: float, bold: bool = False) -> float:
    """The width of ``text`` in points, drawn in runs of the brief's fonts."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return sum(stringWidth(part, face, size) for face, part in runs(text, bold))


def lines(text: str, size: float, available: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines that fit ``available`` points, each in visual order."""
    words = _reshape(text).split(" ")
    out: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if line and width(candidate, size, bold) > available:
            out.append(line)
            line = word
        else:
            line = candidate
    out.append(line)
    return [_visual(one) for one in out]


def markup(line: str, bold: bool = False) -> str:
    """A visual line as ReportLab paragraph markup, each run in its font (text escaped)."""
    return "".join(
        f'<font face="{face}">{reportlab_markup(part)}</font>' for face, part in runs(line, bold)
    )


def draw(
    canvas: Any, x: float, y: float, text: str, *, size: float, bold: bool, align: str
) -> None:
    """One line on a canvas at ``x`` (``left``, ``right`` or ``centre`` of it), shaped."""
    line = shape(text)
    total = width(line, size, bold)
    start = {"left": x, "right": x - total, "centre": x - total / 2}[align]
    for face, part in runs(line, bold):
        canvas.setFont(face, size)
        canvas.drawString(start, y, part)
        start += width(part, size, bold)


def paragraph(text: str, style: Any) -> Any:
    """A paragraph of plain ``text``: ReportLab's own when left to right with no Arabic,
    else one broken into lines here, right-aligned when the language is right to left."""
    from reportlab.platypus import Paragraph

    if not needs_bidi(text):
        return Paragraph(reportlab_markup(text), style)
    return BidiParagraph(text, style)


def _bidi_flowable() -> type:
    from reportlab.platypus import Flowable, Paragraph

    class BidiParagraph(Flowable):
        """Plain text broken into visual lines at the width the layout gives it; drawn and
        split by an ordinary Paragraph of those lines."""

        def __init__(self, text: str, style: Any) -> None:
            super().__init__()
            self.text = text
            if i18n.is_rtl():
                style = style.clone(style.name + "-rtl", alignment=2)
            self.style = style
            self._built: tuple[float, Any] | None = None

        def _inner(self, available: float) -> Any:
            if self._built is None or self._built[0] != available:
                bold = self.style.fontName == FONT_BOLD
                broken = lines(self.text, self.style.fontSize, available - 1, bold)
                text = "<br/>".join(markup(line, bold) for line in broken)
                self._built = (available, Paragraph(text, self.style))
            return self._built[1]

        def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
            self.width, self.height = self._inner(availWidth).wrap(availWidth, availHeight)
            return self.width, self.height

        def split(self, availWidth: float, availHeight: float) -> list[Any]:
            return self._inner(availWidth).split(availWidth, availHeight)

        def draw(self) -> None:
            self._built[1].drawOn(self.canv, 0, 0)  # type: ignore[index]

        def getSpaceBefore(self) -> float:
            return self.style.spaceBefore

        def getSpaceAfter(self) -> float:
            return self.style.spaceAfter

    return BidiParagraph


def BidiParagraph(text: str, style: Any) -> Any:
    return _flowable_class()(text, style)


@cache
def _flowable_class() -> type:
    return _bidi_flowable()


# --- tables ----------------------------------------------------------------------------------


def mirror(rows: list[list[Any]], widths: list[float], commands: list[tuple]) -> tuple:
    """A table's rows, column widths and style commands mirrored for a right-to-left page
    (the first column on the right); unchanged in a left-to-right language."""
    if not i18n.is_rtl():
        return rows, widths, commands
    n = len(widths)

    def column(c: int) -> int:
        return n - 1 - (c % n)

    swapped = {"LINEAFTER": "LINEBEFORE", "LINEBEFORE": "LINEAFTER"}
    flipped = []
    for name, (c0, r0), (c1, r1), *rest in commands:
        a, b = column(c0), column(c1)
        flipped.append((swapped.get(name, name), (min(a, b), r0), (max(a, b), r1), *rest))
    return [list(reversed(row)) for row in rows], list(reversed(widths)), flipped
