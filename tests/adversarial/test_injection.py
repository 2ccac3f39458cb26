"""Script injection: hostile text through every sink, checked in the HTML and in chromium.

The payloads (``payloads.SCRIPT_PAYLOADS``: ``<img onerror>``, ``<svg><script>``,
``</script>`` breakouts, ``javascript:`` links as HTML and as markdown, event handlers,
meta refresh, ``<base>``, markdown images, Jinja template syntax) go into every text
field of an incident file, into its column headers and rejected rows, and into the
region names of an uploaded admin-1 + admin-2 boundary file.

Three layers, each counting what *executed*:

* **library**: ``layers.build_map`` HTML for those inputs holds no payload unescaped, and
  no template expression was evaluated (branca renders scripts twice through Jinja);
* **standalone map in chromium**: the map HTML opened from disk, every popup and tooltip
  opened through Leaflet;
* **the app in chromium**: the Streamlit server, both files uploaded, every popup and
  tooltip opened, the validation report expanded, a hostile region drilled into (its
  name then reaches the caption, the info box and the chart title).

Executed = a dialog, ``window.__xss`` set in the page or the map frame, an element a
payload created (``[data-xss]``), or a request leaving the machine (meta refresh,
``<base>``, markdown images).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from crisismap import dashboard, pipeline
from crisismap.boundaries import read_boundary_bytes
from crisismap.layers import build_map
from crisismap.schema import View
from tests.adversarial import figures
from tests.helpers.appserver import CHROMIUM, CHROMIUM_ARGS, keep_offline, running_app
from tests.helpers.payloads import SCRIPT_PAYLOADS, boundaries_zip, incidents_csv

SUITE = "script injection"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "adversarial"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
ARGS = CHROMIUM_ARGS
# Template expressions with a result no input holds: evaluated, they would show it.
TEMPLATES = [
    "{{ 1234567 * 3 }}",
    "{{ cycler.__init__.__globals__.os.name ~ '-ran-' ~ 6 * 7 }}",  # Python on the server
]
EVALUATED = ["3703701", "-ran-42"]
PAYLOADS = SCRIPT_PAYLOADS + TEMPLATES
# Region names reach markdown sinks once drilled into (caption, info box, chart title):
# the first one, drilled into below, carries a markdown image, a markdown javascript:
# link and an HTML payload at once.
DRILLED = (
    "![tracking pixel](http://evil.example/pixel.png) [click me](javascript:window.__xss=1)"
    ' <img data-xss src=x onerror="window.__xss=1;parent.__xss=1;top.__xss=1">'
)
REGION_NAMES = [DRILLED] + [p for p in PAYLOADS if "<" in p or "{{" in p][:7]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian chromium not installed (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def hostile_files() -> tuple[bytes, bytes]:
    return incidents_csv(PAYLOADS), boundaries_zip(REGION_NAMES)


@pytest.fixture(scope="module")
def map_html(hostile_files) -> str:
    incidents, regions = hostile_files
    boundaries = read_boundary_bytes(regions, "regions.zip")
    analysis = pipeline.analyse(incidents, boundaries, filename="hostile.csv")
    view = dashboard.build_view(analysis, View(1))
    fmap = build_map(
        view.regions,
        view.points,
        total_points=view.total_points,
        title=view.title,
        asset_base=(ROOT / "static" / "vendor").as_uri(),
    )
    return fmap.get_root().render()


# --- library --------------------------------------------------------------------------


def test_map_html_holds_no_payload_unescaped_and_no_template_ran(map_html):
    markup = [p for p in PAYLOADS if "<" in p or '"' in p]
    raw = [p for p in markup if p in map_html]
    figures.add(SUITE, "payloads", len(PAYLOADS))
    figures.add(SUITE, "payloads unescaped in the map HTML", len(raw))
    assert raw == []
    ran = [e for e in EVALUATED if e in map_html]
    figures.add(SUITE, "template expressions evaluated on the server", len(ran))
    assert ran == [], "a {{ }} in the data was run by Jinja on the server"
    # the text is there, escaped: the payloads were not simply dropped
    assert "&amp;lt;img" in map_html or "\\u0026lt;img" in map_html
    assert "__xss" in map_html


# --- chromium -------------------------------------------------------------------------

_TRIGGER = """() => {
    const found = {popups: 0, tooltips: 0};
    const map = window.map || Object.values(window).find(v => v instanceof L.Map);
    map.eachLayer(layer => {
        if (layer.refreshClusters) {
            for (const m of layer.getLayers()) {
                const popup = L.popup().setLatLng(m.getLatLng())
                    .setContent(m.getPopup().getContent()).openOn(map);
                if (popup.getElement()) found.popups += 1;
            }
        }
        if (layer.feature === undefined && layer.getLayers && layer.getTooltip
            && layer.getTooltip()) {
            layer.eachLayer(f => {
                f.fire('mouseover', {latlng: f.getBounds().getCenter()}, true);
                if (layer.getTooltip().getElement()) found.tooltips += 1;
                f.fire('mouseout', {latlng: f.getBounds().getCenter()}, true);
            });
        }
    });
    document.querySelectorAll('*').forEach(el => {
        for (const type of ['mouseover', 'click', 'focus']) el.dispatchEvent(new Event(type));
    });
    return found;
}"""
_EXECUTED = """() => ({
    flag: window.__xss || null,
    elements: document.querySelectorAll(
        '[data-xss], meta[http-equiv=refresh i], base[href], a[href^="javascript:" i]').length,
})"""


def _browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


@needs_chromium
def test_standalone_map_runs_nothing_in_chromium(map_html, tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "map.html"
    page_path.write_text(map_html, encoding="utf-8")
    with sync_playwright() as p:
        browser = _browser(p)
        context = browser.new_context()
        seen = keep_offline(context, "file:")
        outside, dialogs = seen.outside, seen.dialogs
        page = context.new_page()
        page.goto(page_path.as_uri())
        page.wait_for_function("() => window.L !== undefined", timeout=30_000)
        opened = page.evaluate(_TRIGGER)
        time.sleep(0.5)
        executed = page.evaluate(_EXECUTED)
        browser.close()
    figures.add(SUITE, "popups opened", opened["popups"])
    figures.add(SUITE, "tooltips opened", opened["tooltips"])
    _count(executed, dialogs, outside)
    assert opened["popups"] >= len(PAYLOADS) and opened["tooltips"] >= len(REGION_NAMES)
    assert (executed, dialogs, outside) == ({"flag": None, "elements": 0}, [], [])


def _count(executed: dict, dialogs: list[str], outside: list[str]) -> None:
    ran = int(executed["flag"] is not None) + executed["elements"] + len(dialogs)
    figures.add(SUITE, "payloads executed", ran)
    figures.add(SUITE, "requests that left the machine", len(outside))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("workspace")) as url:
        yield url


def _settled_map(page, text: str, timeout: float = 120):
    """The map iframe once its legend shows ``text`` (st_folium swaps iframes on reruns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(MAP_IFRAME).count() == 1:
            try:
                legend = page.frame_locator(MAP_IFRAME).locator(".crisismap-legend")
                if text in legend.inner_text(timeout=2_000):
                    return page.locator(MAP_IFRAME).element_handle().content_frame()
            except Exception:  # the iframe was replaced while we looked
                pass
        time.sleep(0.5)
    pytest.fail(f"the map with {text!r} in its legend did not settle in {timeout} s")


def _open_app(p, server: str, tmp_path: Path, hostile_files) -> tuple:
    """A page of the app with both hostile files uploaded and the map settled."""
    from playwright.sync_api import expect

    incidents, regions = hostile_files
    (tmp_path / "hostile.csv").write_bytes(incidents)
    (tmp_path / "regions.zip").write_bytes(regions)
    browser = _browser(p)
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    seen = keep_offline(context, server)
    outside, dialogs = seen.outside, seen.dialogs
    page = context.new_page()
    page.goto(server)
    _settled_map(page, "incidents shown")
    uploads = page.locator('input[type="file"]')
    uploads.nth(1).set_input_files(str(tmp_path / "regions.zip"))
    uploads.nth(0).set_input_files(str(tmp_path / "hostile.csv"))
    records = str(len(PAYLOADS) + 2)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(records, timeout=120_000)
    frame = _settled_map(page, f"of {len(PAYLOADS)} incidents")
    return browser, page, frame, dialogs, outside


@needs_chromium
def test_the_app_runs_nothing_from_hostile_uploads(server, hostile_files, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, frame, dialogs, outside = _open_app(p, server, tmp_path, hostile_files)
        opened = frame.evaluate(_TRIGGER)
        page.get_by_text("Validation report").first.click()
        time.sleep(1.5)
        executed = [frame.evaluate(_EXECUTED), page.evaluate(_EXECUTED)]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "injection.png"), full_page=True)
        browser.close()
    figures.add(SUITE, "popups opened in the app", opened["popups"])
    figures.add(SUITE, "tooltips opened in the app", opened["tooltips"])
    for each in executed:
        _count(each, [], [])
    _count({"flag": None, "elements": 0}, dialogs, outside)
    assert opened["popups"] >= len(PAYLOADS) and opened["tooltips"] >= len(REGION_NAMES)
    assert all(each == {"flag": None, "elements": 0} for each in executed), executed
    assert dialogs == [], dialogs
    assert outside == [], f"requests left the machine: {outside}"


@needs_chromium
def test_drilling_into_a_hostile_region_runs_and_fetches_nothing(server, hostile_files, tmp_path):
    """The region's name reaches st.info, st.caption and st.subheader, which render markdown."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, frame, dialogs, outside = _open_app(p, server, tmp_path, hostile_files)
        before = len(outside)
        drilled = _drill(page, frame)
        executed = [page.evaluate(_EXECUTED)]
        if drilled:
            frame = _settled_map(page, "incidents shown")
            frame.evaluate(_TRIGGER)
            executed.append(frame.evaluate(_EXECUTED))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "injection-drilled.png"), full_page=True)
        browser.close()
    figures.put(SUITE, "hostile region drilled into", drilled)
    for each in executed:
        _count(each, [], [])
    _count({"flag": None, "elements": 0}, dialogs, outside[before:])
    assert drilled
    assert all(each == {"flag": None, "elements": 0} for each in executed), executed
    assert dialogs == [], dialogs
    assert outside == [], f"requests left the machine: {outside}"


def _drill(page, frame) -> bool:
    """Click a region whose name is a payload, through Leaflet; wait for the drill-down."""
    frame.evaluate(
        r"""() => {
            const map = Object.values(window).find(v => v instanceof L.Map);
            map.eachLayer(layer => {
                if (layer.feature && layer.feature.properties
                        && /evil\.example/.test(layer.feature.properties.name)
                        && !window.__clicked) {
                    window.__clicked = true;
                    const at = layer.getBounds().getCenter();
                    layer.fire('click', {latlng: at, layer: layer}, true);  // as a real click
                }
            });
        }"""
    )
    try:
        page.get_by_text(re.compile("Drilled down into")).first.wait_for(timeout=60_000)
    except Exception:
        return False
    time.sleep(1.5)
    return True
