"""The dashboard's 'Fetch current boundaries': offline until the button, then the fetched
set is chosen and used; answered by a local server like geoBoundaries' API."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crisismap.boundaries.fetch import GEOBOUNDARIES_ENV, HDX_ENV
from tests.helpers.boundary_apis import (
    fake_apis,
    geoboundaries_geojson,
    geoboundaries_meta,
    square,
)

APP = str(Path(__file__).resolve().parents[1] / "app.py")
GB = "/api/current/gbOpen"
pytestmark = pytest.mark.slow  # runs the whole app script


def _sudan(apis) -> None:
    """Two made-up halves of Sudan around the demo file's points (Khartoum is 15.6 N)."""
    levels = {
        0: geoboundaries_geojson("SDN", 0, [("SDN-0", "Sudan", square(21, 8, 18))]),
        1: geoboundaries_geojson(
            "SDN",
            1,
            [
                (
                    "SDN-N",
                    "North half",
                    {
                        **square(21, 15.5),
                        "coordinates": [[[21, 15.5], [39, 15.5], [39, 26], [21, 26], [21, 15.5]]],
                    },
                ),
                (
                    "SDN-S",
                    "South half",
                    {
                        **square(21, 8),
                        "coordinates": [[[21, 8], [39, 8], [39, 15.5], [21, 15.5], [21, 8]]],
                    },
                ),
            ],
        ),
    }
    for n, data in levels.items():
        url = apis.file(f"/files/SDN-ADM{n}.geojson", data)
        apis.json(f"{GB}/SDN/ADM{n}/", geoboundaries_meta("SDN", n, url))


def test_fetch_button_goes_online_once_and_the_fetched_set_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path))
    with fake_apis() as apis:
        monkeypatch.setenv(GEOBOUNDARIES_ENV, apis.base + GB)
        monkeypatch.setenv(HDX_ENV, apis.base)
        _sudan(apis)
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        assert apis.asked == []  # offline by default
        notice = "Offline by default. Fetching goes online: it asks 127.0.0.1"
        assert any(notice in c.value.replace("\\", "") for c in at.caption)
        assert next(s for s in at.selectbox if s.key == "boundary_set@en").value == "world"

        next(t for t in at.text_input if t.label.startswith("Country")).set_value("sdn")
        next(n for n in at.number_input if n.label == "Admin levels 0 to").set_value(1)
        at.run()  # typing in a field reruns the page; the button is enabled then
        next(b for b in at.button if b.label == "Fetch (goes online)").click().run()
        assert not at.exception, at.exception
        assert len(apis.asked) == 4

    shown = [t.value.replace("\\", "") for t in [*at.success, *at.caption]]
    assert "Fetched fetched:geoboundaries:SDN: chosen as the boundary set below." in shown
    assert "vintage: boundaries as of 2022" in shown
    chosen = next(s for s in at.selectbox if s.key == "boundary_set@en")
    assert chosen.value == "fetched:geoboundaries:SDN"
    top = next(d.value for d in reversed(at.dataframe) if "region_code" in d.value)
    assert set(top["name"]) <= {"North half", "South half"}
    at.run()  # the server is gone: the fetched set still works
    assert not at.exception, at.exception
    assert not at.error


def test_fetch_offline_shows_a_sentence_and_keeps_the_bundled_set(monkeypatch, tmp_path):
    from tests.helpers.appserver import free_port

    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(GEOBOUNDARIES_ENV, f"http://127.0.0.1:{free_port()}{GB}")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    next(t for t in at.text_input if t.label.startswith("Country")).set_value("UKR").run()
    next(b for b in at.button if b.label == "Fetch (goes online)").click().run()
    assert not at.exception, at.exception
    assert any("looks offline" in e.value for e in at.error)
    assert next(s for s in at.selectbox if s.key == "boundary_set@en").value == "world"
