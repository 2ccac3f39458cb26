"""The dashboard speaks the user's language: every text the page shows goes through the
catalogue (the pseudo-language wraps each in ⟦…⟧, so a missed string shows up here), the
choice is remembered per user, and app.py hands Streamlit no bare English."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crisismap import i18n
from crisismap.dashboard import remember_language, remembered_language
from crisismap.store import Workspace

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 60

# Text the page shows as it is: the product's name, data (the demo's preset and columns,
# region names, categories, periods) and the language menu (each language in itself).
NOT_TRANSLATED = {"crisismap", "◀", "▶", *i18n.LANGUAGES.values(), "⟦pseudo⟧"}


def _wrapped(text: str) -> bool:
    """Marked text in the pseudo-language starts with ⟦ (markdown emphasis aside)."""
    return text.lstrip("*_ ").startswith("⟦")


def _pseudo_app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["language"] = i18n.PSEUDO
    at.run()
    assert not at.exception, at.exception
    return at


def _shown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(kind, text) of every text element and widget label on the page."""
    found: list[tuple[str, str]] = []
    for kind in ("title", "header", "subheader", "markdown", "caption"):
        found += [(kind, e.value) for e in getattr(at, kind)]
    for kind in ("info", "warning", "error", "success"):
        found += [(kind, e.value) for e in getattr(at, kind)]
    for kind in (
        "selectbox",
        "multiselect",
        "radio",
        "checkbox",
        "toggle",
        "button",
        "number_input",
        "text_input",
        "date_input",
        "select_slider",
        "metric",
        "expander",
    ):
        for widget in getattr(at, kind):
            found.append((f"{kind} label", widget.label))
            if getattr(widget, "help", None):
                found.append((f"{kind} help", widget.help))
    for kind in ("download_button", "file_uploader"):
        found += [(f"{kind} label", e.proto.label) for e in at.get(kind)]
    return [(kind, text) for kind, text in found if text and text not in NOT_TRANSLATED]


@pytest.mark.slow
def test_every_text_on_the_page_comes_from_the_catalogue(tmp_path, monkeypatch):
    at = _pseudo_app(tmp_path, monkeypatch)
    texts = _shown_texts(at)
    assert len(texts) > 60, texts  # the whole page was drawn, not an error
    missed = [(kind, text) for kind, text in texts if not _wrapped(text)]
    assert not missed, f"{len(missed)} texts escaped translation: {missed}"


@pytest.mark.slow
def test_option_labels_that_are_not_data_come_from_the_catalogue(tmp_path, monkeypatch):
    at = _pseudo_app(tmp_path, monkeypatch)
    menus = {w.label: w.options for w in [*at.selectbox, *at.radio]}
    for label in (
        "⟦Ambiguous dates (03/04/2024)⟧",
        "⟦Multi-label categories⟧",
        "⟦Records dated over several days⟧",
        "⟦Admin level⟧",
        "⟦Period⟧",
        "⟦Basemap⟧",
        "⟦Incident points in the report bundle⟧",
        "⟦Colour regions by⟧",
    ):
        options = [o for o in menus[label] if o not in {"OpenStreetMap", "CartoDB positron"}]
        assert options and all(_wrapped(o) for o in options), (label, options)
    assert menus["⟦date column⟧"][0] == "⟦(detected)⟧"
    slider = at.select_slider[0]
    assert slider.options[0] == "⟦All periods⟧"


@pytest.mark.slow
def test_french_page_and_switching_to_arabic_rerenders_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["language"] = "fr"
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Enregistrements"] == "3\u202f001"  # numbers in the locale's form
    assert any(e.label.startswith("Rapport de validation : 5 rejetés") for e in at.expander)
    # AppTest formats every widget's value again in the test's own thread, with the
    # page's format functions: in the page's language, as the page did.
    with i18n.using("fr"):
        at.selectbox(key="map_category@fr").set_value("description").run()
        at.selectbox(key="language").set_value("ar").run()
    assert not at.exception, at.exception
    assert {m.label for m in at.metric} >= {"السجلات", "المقبولة", "المرفوضة"}
    assert any(e.label.startswith("تقرير التحقق") for e in at.expander)
    # the menus are Arabic ones now, and keep the choices made in French
    assert at.selectbox(key="map_category@ar").value == "description"
    assert at.selectbox(key="boundary_set@ar").value == "world"
    assert at.selectbox(key="map_date@ar").options[0] == "(مُكتشَف تلقائيًا)"
    # the choice is remembered for this user in the local workspace
    assert remembered_language(Workspace.open(tmp_path), "local") == "ar"


def test_a_remembered_language_is_per_user_and_checked(tmp_path):
    ws = Workspace.open(tmp_path, team="ngo")
    assert remembered_language(ws, "a@ngo.org") is None
    remember_language(ws, "a@ngo.org", "uk")
    remember_language(ws, "b@ngo.org", "es-CO")
    assert remembered_language(ws, "a@ngo.org") == "uk"
    assert remembered_language(ws, "b@ngo.org") == "es"
    assert remembered_language(Workspace.open(tmp_path), "a@ngo.org") is None  # other workspace
    ws.set_preference("c@ngo.org", "language", "de")  # not shipped: the browser's instead
    assert remembered_language(ws, "c@ngo.org") is None
    with pytest.raises(i18n.UnknownLanguage):
        remember_language(ws, "a@ngo.org", "klingon")


# ------------------------------------------------------------------- app.py, read statically

# Streamlit calls whose first argument or label/help/placeholder the user reads.
_TEXT_CALLS = {
    "title",
    "header",
    "subheader",
    "caption",
    "markdown",
    "write",
    "info",
    "warning",
    "error",
    "success",
    "button",
    "download_button",
    "selectbox",
    "multiselect",
    "radio",
    "checkbox",
    "toggle",
    "number_input",
    "text_input",
    "date_input",
    "select_slider",
    "file_uploader",
    "expander",
    "metric",
    "spinner",
    "status",
    "update",
}
_TEXT_KEYWORDS = {"label", "help", "placeholder"}
_ALLOWED_LITERALS = {"crisismap"}  # the product's name


def _bare_texts(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals and f-strings handed to Streamlit as text a user reads."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _TEXT_CALLS:
            continue
        args = node.args[:1] + [k.value for k in node.keywords if k.arg in _TEXT_KEYWORDS]
        for arg in args:
            literal = isinstance(arg, ast.JoinedStr) or (
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and any(c.isalpha() for c in arg.value)
                and arg.value not in _ALLOWED_LITERALS
            )
            concatenated = isinstance(arg, ast.BinOp) and any(
                isinstance(side, ast.Constant | ast.JoinedStr) for side in (arg.left, arg.right)
            )
            if literal or concatenated:
                found.append((arg.lineno, ast.unparse(arg)[:80]))
    return found


def test_app_hands_streamlit_no_bare_english():
    bare = _bare_texts(ast.parse(APP.read_text(encoding="utf-8")))
    assert not bare, f"text not marked with _() in app.py: {bare}"


def test_the_static_check_finds_bare_text():
    code = 'st.button("Go")\nc1.metric(f"{n} x", 1)\nst.info("a" + b)\nst.title(_("Fine"))\n'
    assert [line for line, _ in _bare_texts(ast.parse(code))] == [1, 2, 3]


# ------------------------------------------------------------------- the parts, by hand


def test_the_browser_language_is_the_default():
    from crisismap.dashboard import browser_language

    assert browser_language("ar-YE", "fr-FR,fr;q=0.9") == "ar"
    assert browser_language(None, "de-DE,uk;q=0.7,en;q=0.3") == "uk"
    assert browser_language("de-DE", None) == "en"
    assert browser_language(None, None) == "en"


def test_choices_made_in_one_language_carry_over_to_the_next():
    from crisismap.dashboard import carry_over

    state = {"map_id@fr": "incident_id", "find_region@fr": None, "map_id@es": "x", "k": 1}
    carry_over(state, "fr", "ar")
    assert state["map_id@ar"] == "incident_id"
    assert "find_region@ar" not in state  # nothing chosen: the new menu's own default
    assert state["map_id@es"] == "x" and state["k"] == 1


def test_the_page_script_sets_direction_and_translates_streamlits_words():
    from crisismap.dashboard import page_language_script

    arabic, french = page_language_script("ar"), page_language_script("fr")
    assert "rtl" in arabic and "rtl" not in french
    assert "\u0631\u0641\u0639" in arabic  # "Upload" in Arabic
    assert "Téléverser" in french and "Téléverser" in arabic  # French words turn Arabic too
    assert "</script>" not in arabic[: -len("</script>")]  # the data cannot end the script


def test_the_map_speaks_the_language_and_reads_right_to_left_in_arabic():
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    from crisismap.layers import build_map

    regions = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["Aleppo"], "incidents": [1234], "victims": [2]},
        geometry=[box(36, 35, 38, 37)],
        crs="EPSG:4326",
    )
    none = pd.DataFrame(columns=["id", "lat", "lon", "date", "category", "victims"])
    with i18n.using("ar"):
        html = build_map(regions, none, total_points=1234).get_root().render()
    assert 'class="crisismap-legend" dir="rtl"' in html
    assert "مفتاح الخريطة" in html  # "legend"
    assert "الحوادث في كل منطقة" in html  # the layer's name
    with i18n.using("fr"):
        html = build_map(regions, none, total_points=1234).get_root().render()
    assert 'dir="ltr"' in html and "1\u202f234" in html  # the legend's numbers per locale
