"""One hostile string per target, and the exact text each escape turns it into."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from crisismap import escape


def test_markdown_backslashes_every_sign_streamlit_would_render():
    hostile = "![x](http://evil/a.png) *b* <i>"
    assert escape.markdown(hostile) == r"\!\[x\]\(http\://evil/a\.png\) \*b\* \<i\>"


def test_html_text_escapes_markup_and_template_braces():
    hostile = "<img src=x onerror=alert(1)> {{ cycler }} & \"q\" 's'"
    assert escape.html_text(hostile) == (
        "&lt;img src=x onerror=alert(1)&gt; &#123;&#123; cycler &#125;&#125; "
        "&amp; &quot;q&quot; &#x27;s&#x27;"
    )
    assert escape.html_text("abcdef", 3) == "abc"
    assert escape.html_text(None) == escape.html_text(float("nan")) == ""
    assert escape.html_texts(["<b>{x}</b> long text", None], limit=8) == [
        "&lt;b&gt;&#123;x&#125;&lt;…",
        "",
    ]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.text(),
            st.none(),
            st.just(float("nan")),
            st.just(pd.NA),
            st.integers(),
            st.text(alphabet="<>&\"'{}é😀\ud800 ab", max_size=12),
        ),
        max_size=12,
    ),
    limit=st.one_of(st.none(), st.integers(1, 10)),
)
def test_html_texts_column_wise_is_html_text_one_by_one(values, limit):
    """The column-wise escape gives, value by value, what the one-by-one escape gives,
    the cut with "…" included (lone surrogates and numbers take the one-by-one way)."""

    def one(value: object) -> str:
        if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            return ""
        raw = str(value)
        return escape.html_text(raw[: limit - 1] + "…" if limit and len(raw) > limit else raw)

    assert escape.html_texts(values, limit) == [one(v) for v in values]
    texts = [v for v in values if isinstance(v, str) and "\ud800" not in v]
    column = pd.Series(texts + [None], dtype="str")  # read in place from its arrow arrays
    assert escape.html_texts(column, limit) == [one(v) for v in texts] + [""]


def test_js_data_can_neither_end_a_script_nor_open_a_template():
    value = {"a": "</script><b>{{x}}</b>&'\u2028"}
    literal = escape.js_data(value)
    assert literal == (
        r'JSON.parse("\u007b\"a\":\"\u003c/script\u003e\u003cb\u003e\u007b\u007bx'
        r'\u007d\u007d\u003c/b\u003e\u0026\u0027\u2028\"\u007d")'
    )
    assert json.loads(json.loads(literal[len("JSON.parse(") : -1])) == value


def test_reportlab_markup_escapes_tags_and_ampersands():
    hostile = '<img src="http://evil/x.png"/> & <b>bold</b>'
    assert escape.reportlab_markup(hostile) == (
        '&lt;img src="http://evil/x.png"/&gt; &amp; &lt;b&gt;bold&lt;/b&gt;'
    )


def test_matplotlib_text_shows_dollars_and_leading_underscores_as_written():
    assert escape.matplotlib_text("_hidden $x^2$") == r" _hidden \$x^2\$"


def test_spreadsheet_cells_never_start_a_formula():
    assert escape.neutralise_formula('=HYPERLINK("http://evil","x")') == (
        '\'=HYPERLINK("http://evil","x")'
    )
    assert escape.neutralise_formula("  +1") == "'  +1"
    assert escape.neutralise_formula("\uff1d1") == "'\uff1d1"
    assert escape.neutralise_formula("a=1") == "a=1"
    values = [None, pd.NA, float("nan"), 3.0, np.float32(2.5), pd.Timestamp("2024-01-02")]
    values.append(pd.Timestamp("2024-01-02 03:04"))
    assert [escape.cell_text(v) for v in values] == [
        "",
        "",
        "",
        "3",
        "2.5",
        "2024-01-02",
        "2024-01-02T03:04:00",
    ]
