"""End-to-end pipeline rules that no single step owns: swapped coordinates, provenance."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from crisismap import pipeline
from crisismap.boundaries import load_boundaries


@pytest.fixture(scope="module")
def world():
    return load_boundaries("world")


def _csv(rows: list[tuple[str, float, float]], countries: list[str] | None = None) -> bytes:
    lines = ["id,date,latitude,longitude,category" + (",country" if countries else "")]
    for k, (i, lat, lon) in enumerate(rows):
        country = f",{countries[k]}" if countries else ""
        lines.append(f"{i},2024-01-0{1 + k % 9},{lat:.4f},{lon:.4f},killing{country}")
    return ("\n".join(lines) + "\n").encode()


def _sudan_file(*, stated: bool = True) -> bytes:
    rows = [(f"S{k}", 13.0 + (k % 10) * 0.1, 30.0 + (k % 7) * 0.1) for k in range(200)]
    rows.append(("SWAP1", 30.1, 13.2))  # Sudan written lon/lat: lands in Libya as given
    rows.append(("SWAP2", 29.8, 12.9))  # 2 of 203 records: under the 2 % share of a country
    rows.append(("CHAD", 12.1, 15.05))  # a real point in Chad: swapped it is in the sea
    countries = ["Sudan"] * 202 + ["Chad"]
    return _csv(rows, countries if stated else None)


def test_swapped_points_are_flagged_against_the_countries_the_file_is_about(world):
    analysis = pipeline.analyse(_sudan_file(), world, filename="sudan.csv")
    flagged = {p.record_id for p in analysis.report.problems if p.code == "coords-swapped"}
    assert flagged == {"SWAP1", "SWAP2"}
    codes = dict(zip(analysis.records["id"], analysis.joined["adm0_code"], strict=True))
    assert codes["SWAP1"] == "LBY" and codes["CHAD"] == "TCD"  # flagged, not moved
    assert analysis.report.warned == 2
    message = next(p.message for p in analysis.report.problems if p.record_id == "SWAP1")
    assert "not where the record says it is (Sudan)" in message


def test_a_point_in_a_less_frequent_country_is_no_evidence_without_a_stated_place(world):
    # Without a country column, landing in Libya is what a correct Libyan record does too.
    analysis = pipeline.analyse(_sudan_file(stated=False), world, filename="sudan.csv")
    assert not [p for p in analysis.report.problems if p.code == "coords-swapped"]


def test_swapped_points_are_swapped_and_rejoined_only_on_request(world):
    analysis = pipeline.analyse(_sudan_file(), world, filename="sudan.csv", fix_swapped=True)
    fixed = {p.record_id for p in analysis.report.problems if p.code == "coords-swapped-fixed"}
    assert fixed == {"SWAP1", "SWAP2"}
    by_id = analysis.records.set_index("id")
    assert (by_id.loc["SWAP1", "lat"], by_id.loc["SWAP1", "lon"]) == (13.2, 30.1)
    codes = dict(zip(analysis.records["id"], analysis.joined["adm0_code"], strict=True))
    assert codes["SWAP1"] == "SDN" and codes["SWAP2"] == "SDN" and codes["CHAD"] == "TCD"


def test_input_digest_is_the_file_digest_for_one_file_and_covers_all_for_several(world):
    data = _sudan_file()
    one = pipeline.analyse(data, world, filename="a.csv")
    assert one.input_sha256 == hashlib.sha256(data).hexdigest() == one.inputs[0]["sha256"]
    other = _csv([("X1", 13.1, 30.1)])
    two = pipeline.analyse_files([("a.csv", data), ("b.csv", other)], world)
    assert two.input_sha256 == hashlib.sha256(data + other).hexdigest()
    assert [i["sha256"] for i in two.inputs] == [
        hashlib.sha256(data).hexdigest(),
        hashlib.sha256(other).hexdigest(),
    ]


class _Watched(bytes):
    """A file's bytes that note when they are freed."""

    freed: list[str]

    def __del__(self) -> None:
        self.freed.append(self.decode().split("\n", 2)[1].split(",")[0])


def test_a_file_given_as_a_function_is_read_once_and_not_held_while_checked(world, monkeypatch):
    from crisismap.records import recipe

    data, other = _sudan_file(), _csv([("X1", 13.1, 30.1)])
    freed: list[str] = []
    _Watched.freed = freed
    calls: list[str] = []
    freed_when_checked: list[list[str]] = []
    checking = recipe.validate

    def watched_validate(*args, **kwargs):
        freed_when_checked.append(list(freed))
        return checking(*args, **kwargs)

    monkeypatch.setattr(recipe, "validate", watched_validate)

    def reader(name: str, content: bytes):
        return lambda: calls.append(name) or _Watched(content)

    lazy = pipeline.analyse_files(
        [("a.csv", reader("a.csv", data)), ("b.csv", reader("b.csv", other))], world
    )
    assert calls == ["a.csv", "b.csv"]
    # each file's bytes went once read, before its records were checked
    assert freed_when_checked == [["S0"], ["S0", "X1"]]
    eager = pipeline.analyse_files([("a.csv", data), ("b.csv", other)], world)
    assert lazy.inputs == eager.inputs
    assert lazy.input_sha256 == eager.input_sha256 == hashlib.sha256(data + other).hexdigest()
    pd.testing.assert_frame_equal(lazy.records, eager.records)
    pd.testing.assert_frame_equal(lazy.joined, eager.joined)
    assert lazy.report.summary() == eager.report.summary()


def test_rejected_records_of_several_files_say_which_file(world):
    bad = b"id,date,latitude,longitude,category\nA1,not a date,13.1,30.1,killing\n"
    worse = b"id,date,latitude,longitude,category\nB1,2024-01-01,13.1,,killing\n"
    one = pipeline.analyse(bad, world, filename="a.csv")
    assert one.rejected[["line", "id"]].values.tolist() == [[2, "A1"]]
    assert "file" not in one.rejected.columns
    two = pipeline.analyse_files([("a.csv", bad), ("b.csv", worse)], world)
    assert two.rejected[["file", "line", "id"]].values.tolist() == [
        ["a.csv", 2, "A1"],
        ["b.csv", 2, "B1"],
    ]
    assert two.rejected["reasons"].str.split(":").str[0].tolist() == [
        "date-invalid",
        "coords-missing",
    ]
    assert two.report.rejected == len(two.rejected) == 2
