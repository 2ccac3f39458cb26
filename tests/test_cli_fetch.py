"""`crisismap boundaries fetch ISO3` against a local server that answers like the APIs; the
fetched set then used offline through --boundaries fetched:ISO3."""

from __future__ import annotations

import csv
import io

import pytest

from crisismap.boundaries.fetch import GEOBOUNDARIES_ENV, HDX_ENV
from crisismap.cli.main import main
from tests.helpers.appserver import free_port
from tests.helpers.boundary_apis import (
    fake_apis,
    geoboundaries_geojson,
    geoboundaries_meta,
    square,
)

GB = "/api/current/gbOpen"
LEVELS = {
    0: geoboundaries_geojson("UKR", 0, [("UKR-0", "Ukraine", square(0, 0, 2))]),
    1: geoboundaries_geojson(
        "UKR", 1, [("UKR-1-A", "Kyivska", square(0, 0)), ("UKR-1-B", "Lvivska", square(1, 0))]
    ),
}


@pytest.fixture(autouse=True)
def private_workspace(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """A data dir of the test's own; both services at a closed port unless a test serves them."""
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(GEOBOUNDARIES_ENV, closed + GB)
    monkeypatch.setenv(HDX_ENV, closed)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fetch_then_join_offline_with_the_fetched_set(capsys, monkeypatch, tmp_path):
    with fake_apis() as apis:
        monkeypatch.setenv(GEOBOUNDARIES_ENV, apis.base + GB)
        for n, data in LEVELS.items():
            url = apis.file(f"/files/UKR-ADM{n}.geojson", data)
            apis.json(f"{GB}/UKR/ADM{n}/", geoboundaries_meta("UKR", n, url))
        code, out, err = run(capsys, "boundaries", "fetch", "ukr", "--level", "1")

    assert code == 0, err
    assert "Fetching goes online: it asks 127.0.0.1" in err
    assert "fetched:geoboundaries:UKR: geoBoundaries gbOpen" in out
    assert "  admin-1: 2 regions" in out
    assert "  vintage: boundaries as of 2022" in out
    assert "  licence: Creative Commons Attribution 3.0" in out
    assert "--boundaries fetched:UKR" in out
    # the server is gone: everything from here on is offline
    code, out, err = run(capsys, "boundaries", "fetched:UKR")
    assert code == 0, err
    assert "  version: gbOpen build Dec 12, 2023" in out
    assert "  date: boundaries as of 2022 (fetched " in out
    assert "note: Fetched from geoBoundaries" in out

    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "date,latitude,longitude,killed\n2024-01-05,0.5,0.5,2\n2024-01-06,0.5,1.5,1\n"
    )
    out_csv = tmp_path / "joined.csv"
    argv = ["join", incidents, "--boundaries", "fetched:UKR", "--internal", "--out", out_csv]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "SENSITIVE_joined.csv").read_text())))
    assert [r["adm1_code"] for r in rows] == ["UKR-1-A", "UKR-1-B"]


def test_fetch_offline_is_one_sentence_and_exit_2(capsys):
    code, out, err = run(capsys, "boundaries", "fetch", "UKR")
    assert code == 2 and out == ""
    assert "crisismap: error: Could not reach geoBoundaries" in err
    assert "looks offline" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["boundaries", "fetch"], "needs a country: write e.g. `crisismap boundaries fetch UKR`"),
        (["boundaries", "fetch", "XYZ"], "'XYZ' is not an ISO 3166-1 country code"),
        (["boundaries", "fetch", "UKR", "--source", "gadm"], "expected one of geoboundaries"),
        (["boundaries", "world", "--level", "1"], "--level only go with `crisismap boundaries"),
        (["boundaries", "fetched:UKR"], "No boundaries for UKR have been fetched"),
    ],
)
def test_fetch_mistakes_are_sentences(capsys, argv, expected):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert expected in err
