"""The dashboard in French and in Arabic in a real browser (Debian's chromium, offline):
the page's language and direction, the sidebar on the reading side, no English left on
screen apart from data, the choice remembered after a reload. Screenshots for the README
are written to docs/."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.helpers.appserver import CHROMIUM, CHROMIUM_ARGS, keep_offline, running_app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LOCALE = ROOT / "src" / "crisismap" / "locale"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
# Streamlit's own words that a translated page must not show in English.
STREAMLIT_ENGLISH = (
    "Drag and drop",
    "Browse files",
    "per file",
    "Skip to main content",
    "Upload",
    "Choose an option",
    "Choose options",
)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian chromium not installed (apt-get install chromium)",
)


def _english_phrases(lang: str) -> list[str]:
    """The dashboard catalogue's English strings of more than one word (placeholders
    aside) that ``lang`` says otherwise: none may be left on a page in ``lang``."""
    with (LOCALE / lang / "LC_MESSAGES" / "dashboard.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    phrases = []
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        text = message.id
        if "{" not in text and len(text.split()) > 1 and message.string != text:
            phrases.append(text)
    return sorted(set(phrases)) + list(STREAMLIT_ENGLISH)


@pytest.fixture
def server(tmp_path):
    with running_app(tmp_path / "data", timeout_s=90) as url:
        yield url


def _open(browser, server: str, locale: str):
    context = browser.new_context(viewport={"width": 1500, "height": 1400}, locale=locale)
    seen = keep_offline(context, server)
    page = context.new_page()
    page.goto(server)
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=90_000)
    return context, seen, page


def _settled_map(page, timeout: float = 90):
    """The map's legend once st_folium has stopped swapping its iframe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(MAP_IFRAME).count() == 1:
            legend = page.frame_locator(MAP_IFRAME).locator(".crisismap-legend")
            try:
                if legend.inner_text(timeout=2_000).strip():
                    return legend
            except Exception:  # the iframe was replaced while we looked
                pass
        time.sleep(0.5)
    pytest.fail("the map did not settle")


def _translations(lang: str) -> list[str]:
    """``lang``'s translations of more than one word (placeholders aside)."""
    with (LOCALE / lang / "LC_MESSAGES" / "dashboard.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    return sorted(
        {
            m.string
            for m in catalog
            if m.id and isinstance(m.string, str) and "{" not in m.string
            if len(m.string.split()) > 1 and m.string != m.id
        }
    )


def _visible_english(page, lang: str, also: list[str] = ()) -> list[str]:
    """English (and ``also``) phrases on the page."""
    time.sleep(1.5)  # Streamlit's words are translated as they appear
    text = page.evaluate(
        """() => [document.body.innerText, ...Array.from(
            document.querySelectorAll("[placeholder]"), e => e.getAttribute("placeholder"))
        ].join("\\n")"""
    )
    return [
        p
        for p in [*_english_phrases(lang), *also]
        if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text)
    ]


def _boxes(page) -> tuple[dict, dict]:
    sidebar = page.get_by_test_id("stSidebar").bounding_box()
    main = page.get_by_test_id("stMain").bounding_box()
    return sidebar, main


def _choose_language(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=name).click()


def test_french_from_the_browser_with_nothing_left_in_english(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context, seen, page = _open(browser, server, "fr-FR")
        legend = _settled_map(page)
        assert "incidents affichés comme points" in legend.inner_text()
        assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
            "fr",
            "ltr",
        ]
        assert page.get_by_text("Enregistrements", exact=True).first.is_visible()
        uploader = page.get_by_test_id("stFileUploader").first.inner_text()
        assert "Téléverser" in uploader and "MB par fichier" in uploader, uploader
        assert _visible_english(page, "fr") == []
        sidebar, main = _boxes(page)
        assert sidebar["x"] + sidebar["width"] <= main["x"] + 1  # left to right: sidebar left
        time.sleep(2)
        page.screenshot(path=str(DOCS / "dashboard-fr.png"))
        # a period step reruns the map's part of the page alone, in a thread of its own
        before = legend.inner_text()
        page.get_by_role("button", name="▶").click()
        deadline = time.monotonic() + 60
        while legend.inner_text() == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert legend.inner_text() != before, "the period step did not reach the map"
        assert "incidents affichés comme points" in legend.inner_text()
        assert _visible_english(page, "fr") == []
        assert seen.outside == [], seen.outside
        context.close()
        browser.close()


def test_arabic_is_right_to_left_and_remembered_after_a_reload(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context, seen, page = _open(browser, server, "fr-FR")
        _choose_language(page, "العربية")
        expect(page.locator("html")).to_have_attribute("dir", "rtl", timeout=60_000)
        expect(page.get_by_text("السجلات", exact=True).first).to_be_visible(timeout=60_000)
        legend = _settled_map(page)
        assert legend.get_attribute("dir") == "rtl"
        assert "مفتاح الخريطة" in legend.inner_text()
        assert page.evaluate("document.documentElement.lang") == "ar"
        sidebar, main = _boxes(page)
        assert sidebar["x"] >= main["x"] + main["width"] - 1  # right to left: sidebar right
        # nothing left in English, nor in the French the page opened in
        assert _visible_english(page, "ar", also=_translations("fr")) == []
        time.sleep(2)
        page.screenshot(path=str(DOCS / "dashboard-ar.png"))
        # a new session (a reload) opens in the language this user chose, not the browser's
        page.reload()
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=90_000)
        expect(page.locator("html")).to_have_attribute("dir", "rtl", timeout=60_000)
        expect(page.get_by_text("السجلات", exact=True).first).to_be_visible(timeout=60_000)
        assert _visible_english(page, "ar") == []
        assert seen.outside == [], seen.outside
        context.close()
        browser.close()
