"""User text made inert for each place it is shown: one escaping module for every output.

Region names, categories, descriptions and file names come from uploads and may carry
markup, template syntax or spreadsheet formulas. Each target has its own rules:

* **Markdown** (Streamlit's ``st.info``, ``st.caption``...): :func:`markdown`.
* **HTML** of the map's popups, tooltips and legend, which branca reads again as a Jinja
  template: :func:`html_text`, :func:`html_texts`; data inside the map's scripts:
  :func:`js_data`, :func:`js_string`.
* **ReportLab markup** (the PDF's paragraphs): :func:`reportlab_markup`; text drawn by
  matplotlib (the PDF's map and chart): :func:`matplotlib_text`.
* **Spreadsheet cells** (CSV and XLSX): :func:`cell_text`, :func:`neutralise_formula`.
* **Terminals** (names the CLI prints): :func:`printable`, :func:`printable_json`. Printed
  raw, ``\\x1b]52;c;…\\x07`` writes the administrator's clipboard, ``\\x1b[2K\\r`` erases
  the line just printed, and the Unicode bidi overrides make ``evil\\u202egpj.csv`` read
  as ``evilvsc.jpg``; each such character is shown as a visible escape instead.

A leaf: it imports nothing from crisismap.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# ----------------------------------------------------------------------------- Markdown

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=$:])")


def markdown(text: object) -> str:
    """User text made inert for Streamlit's markdown elements (st.info, st.caption...).

    Streamlit escapes HTML but still renders markdown: an image link in a region name
    would make every viewer's browser fetch it. Backslash-escape every markdown sign.
    """
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# ----------------------------------------------------------------------------- HTML


def html_text(value: object, limit: int | None = None) -> str:
    """User text made safe for the map's HTML *and* for branca's template re-rendering.

    HTML-escaped, with its braces written as character references: a ``{{ ... }}`` left
    in a popup or a region name would run as Python on the server. Missing values
    (None, NaN, NA) become ""; ``limit`` cuts the text before escaping.
    """
    missing = value is None or (pd.api.types.is_scalar(value) and pd.isna(value))
    raw = "" if missing else str(value)
    return _html(raw[:limit] if limit is not None else raw)


# html.escape's replacements, in its order (& first), then the braces
_HTML_REFERENCES = [
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("'", "&#x27;"),
    ("{", "&#123;"),
    ("}", "&#125;"),
]


def html_texts(values: Sequence[object] | pd.Series, limit: int | None = None) -> list[str]:
    """:func:`html_text` of many values at once; a text longer than ``limit`` is cut with "…".

    Column-wise (pyarrow) where the values are texts, read in place from a text column:
    the map's 3,000 points took 8 ms one by one on every period step, 1 ms this way.
    """
    array = _text_array(values)
    if array is None:  # numbers, lone surrogates: one by one
        values = list(values)
        return _html_texts(values, pd.isna(pd.Series(values, dtype=object)).tolist(), limit)
    if limit is not None:
        ellipsis, nothing = pa.scalar("…", array.type), pa.scalar("", array.type)
        cut = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(array, 0, limit - 1), ellipsis, nothing
        )
        array = pc.if_else(pc.greater(pc.utf8_length(array), limit), cut, array)
    for char, reference in _HTML_REFERENCES:
        array = pc.replace_substring(array, char, reference)
    return array.fill_null("").to_pylist()


def _text_array(values: Sequence[object] | pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """The values as arrow text (a text column's own arrays), or None where one isn't text."""
    stored = getattr(getattr(values, "array", None), "_pa_array", None)
    if isinstance(stored, pa.ChunkedArray) and (
        pa.types.is_string(stored.type) or pa.types.is_large_string(stored.type)
    ):
        return stored
    series = pd.Series(values, dtype=object)
    missing = series.isna().to_numpy()
    try:
        return pa.array(series.where(~missing, None), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None


def _html_texts(values: Sequence[object], missing: list[bool], limit: int | None) -> list[str]:
    out = []
    for value, absent in zip(values, missing, strict=True):
        if absent:
            out.append("")
            continue
        raw = str(value)
        if limit is not None and len(raw) > limit:
            raw = raw[: limit - 1] + "…"
        out.append(_html(raw))
    return out


def _html(raw: str) -> str:
    return html.escape(raw).replace("{", "&#123;").replace("}", "&#125;")


_JS_STRING_ESCAPES = [
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("'", "\\u0027"),
    ("{", "\\u007b"),
    ("}", "\\u007d"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
]


def js_data(value: Any) -> str:
    """A JavaScript expression evaluating to ``value`` (JSON types), safe inside a script.

    The JSON text travels as one string literal in which ``< > & '`` and braces are
    ``\\uXXXX`` escapes: it cannot end the script element, and no ``{{``/``{%`` is left
    for branca's second Jinja pass. ``JSON.parse`` also reads large data faster than a
    script literal.
    """
    return "JSON.parse(" + js_string(value) + ")"


def js_string(value: Any) -> str:
    """The JSON text of ``value`` as a script string literal (see :func:`js_data`)."""
    json_text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    literal = json.dumps(json_text, ensure_ascii=False)
    for char, escaped in _JS_STRING_ESCAPES:  # str.replace: ~20x faster than translate here
        literal = literal.replace(char, escaped)
    return literal


# ----------------------------------------------------------------------------- the PDF


def reportlab_markup(text: str) -> str:
    """Text made safe for a ReportLab paragraph (which parses markup such as <img>)."""
    return _xml_escape(text)


def matplotlib_text(text: str) -> str:
    """A label matplotlib shows as written (no mathtext, no hidden "_" labels)."""
    text = text.replace("$", r"\$")
    return " " + text if text.startswith("_") else text


# ----------------------------------------------------------------------------- spreadsheets

# Characters that make a spreadsheet treat a cell as a formula or command, incl. the
# full-width forms LibreOffice and Excel normalise (＝ ＋ － ＠).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_formula(text: str) -> str:
    """Return ``text`` with a leading apostrophe when a spreadsheet would evaluate it."""
    if text and text.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


# The same test over a whole column: optional spaces, then one of the prefixes.
_FORMULA_START = "^ *[" + "".join(FORMULA_PREFIXES).replace("-", "\\-") + "]"


def neutralise_formulas(texts: Any) -> Any:
    """:func:`neutralise_formula` of a whole pyarrow string array at once (no Python loop)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    live = pc.match_substring_regex(texts, _FORMULA_START)
    apostrophe, nothing = pa.scalar("'", texts.type), pa.scalar("", texts.type)
    return pc.if_else(live, pc.binary_join_element_wise(apostrophe, texts, nothing), texts)


def cell_text(value: Any) -> str:
    """A value as CSV text: missing is "", whole floats lose ".0", midnight is a date."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


# ----------------------------------------------------------------------------- terminals

# C0 controls (tab and newline included: a name is one line), DEL, C1 controls.
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
# Bidi marks, embeddings, overrides and isolates; line and paragraph separators.
_INVISIBLE = [
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
]

_TABLE = {code: f"\\x{code:02x}" for code in _CONTROLS} | {
    code: f"\\u{code:04x}" for code in _INVISIBLE
}


def printable(text: object) -> str:
    """``text`` with every terminal control and bidi override shown as ``\\x1b``/``\\u202e``."""
    return str(text).translate(_TABLE)


# json.dumps escapes C0 inside strings itself (and writes newlines between items).
_JSON_TABLE = {code: f"\\u{code:04x}" for code in _CONTROLS[0x20:] + _INVISIBLE}


def printable_json(text: str) -> str:
    """JSON text with the same characters as ``\\u001b`` escapes (still valid JSON)."""
    return text.translate(_JSON_TABLE)
