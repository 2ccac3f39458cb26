"""Multi-label categories: the separator is chosen per column from the labels it gives."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

from crisismap import dashboard
from crisismap.cli import main
from crisismap.errors import MappingError
from crisismap.records import presets, validate_bytes
from crisismap.records.fields import choose_separator

# Bilingual labels as an Ushahidi 2.x deployment writes them: "French | English".
BILINGUAL = [
    "1a. Deces | Deaths",
    "1b. Blesses | Injured",
    "2a. Penurie d'aliments | Food Shortage",
    "2b. Penurie d'eau | Water shortage",
    "3a. Pillage | Looting",
    "3b. Incendie | Arson",
    "4a. Deplacement | Displacement",
    "4b. Abris | Shelter",
    "5a. Sante | Health",
    "5b. Ecole fermee | School closed",
]
USHAHIDI_2X_HEADER = [
    "#",
    "INCIDENT TITLE",
    "INCIDENT DATE",
    "LOCATION",
    "DESCRIPTION",
    "CATEGORY",
    "LATITUDE",
    "LONGITUDE",
    "APPROVED",
    "VERIFIED",
]


def ushahidi_2x(n: int = 120, seed: int = 1) -> tuple[bytes, list[set[str]]]:
    """A hand-built 2.x export: 1–3 bilingual labels a record, joined by ', '."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(USHAHIDI_2X_HEADER)
    truth = []
    for i in range(n):
        labels = rng.sample(BILINGUAL, rng.randint(1, 3))
        truth.append(set(labels))
        writer.writerow(
            [
                i + 1,
                f"Report {i + 1}",
                f"2011-03-{1 + i % 28:02d} 10:00:00",
                "Abidjan",
                "Water points closed, families queueing",
                ", ".join(labels),
                f"{6.8 + (i % 10) / 100:.4f}",
                f"{-5.3 + (i % 7) / 100:.4f}",
                "YES",
                "NO" if i % 4 else "YES",
            ]
        )
    return out.getvalue().encode(), truth


def labels_of(result) -> list[set[str]]:
    return [set(v.split("; ")) - {""} for v in result.records["category"]]


def test_bilingual_ushahidi_labels_are_split_on_comma_not_inside_themselves():
    data, truth = ushahidi_2x()
    result = validate_bytes(data, filename="ushahidi.csv")
    assert result.report.category_separator == "','"
    assert labels_of(result) == truth
    vocabulary = set().union(*labels_of(result))
    assert vocabulary == set(BILINGUAL)  # 10 labels, not hundreds of pieces
    note = next(n for n in result.report.notes if n.startswith("Category labels"))
    assert "split on ','" in note and "'|'" in note


def test_pipe_is_not_chosen_just_because_a_value_holds_it():
    data, _ = ushahidi_2x()
    forced = validate_bytes(data, filename="u.csv", category_separator="|")
    pieces = set().union(*labels_of(forced))
    assert "Water shortage, 2a. Penurie d'aliments" in pieces or len(pieces) > 20
    assert forced.report.category_separator == "'|'"


def test_a_label_holding_a_comma_stays_whole_when_no_piece_stands_alone():
    labels = ["Arrest, detention", "Shelling, airstrike", "Looting, arson", "Abduction, ransom"]
    values = labels * 3 + ["Killing, maiming", "Killing, maiming", "Theft"]
    uniques = sorted(set(values))
    choice, why = choose_separator(uniques, [values.count(u) for u in uniques])
    assert choice is None
    assert why.startswith("Category labels were not split: no piece between the ','")


def test_single_label_bilingual_values_are_not_cut_in_half():
    values = [BILINGUAL[k % len(BILINGUAL)] for k in range(40)]
    uniques = sorted(set(values))
    choice, _ = choose_separator(uniques, [values.count(u) for u in uniques])
    assert choice is None


def test_recurring_labels_beat_one_off_combinations():
    values = ["A; B", "A", "B", "C; A", "C", "B; C", "A"]
    uniques = sorted(set(values))
    choice, _ = choose_separator(uniques, [values.count(u) for u in uniques])
    assert choice == ";"


@pytest.mark.parametrize(
    "values",
    [
        ["killing ;arbitrary detention;killing", "looting"],  # a label repeated in a value
        ["; ___", "_; -", "_; __"],  # an empty piece; "_" in two values
        ["a; b", "c; d", "e"],  # no evidence either way: the order decides
        ["x; y", "x; y", "p; q"],  # thin evidence: one recurring value is not enough
    ],
)
def test_thin_evidence_keeps_the_conventional_order(values):
    uniques = sorted(set(values))
    choice, why = choose_separator(uniques, [values.count(u) for u in uniques])
    assert choice == ";", why


def test_ushahidi_trailing_separator_is_evidence():
    values = ["A | a, ", "B | b, ", "A | a, B | b, "]
    uniques = sorted(set(values))
    assert choose_separator(uniques, [1, 1, 1])[0] == ","


def test_no_separator_in_any_value_means_no_split():
    assert choose_separator(["A", "B"], [2, 1]) == (
        None,
        "Category labels were not split (no value holds ';', '|' or ',').",
    )


def test_the_user_can_choose_no_split_and_the_report_says_so():
    data, _ = ushahidi_2x(20)
    result = validate_bytes(data, filename="u.csv", category_separator="none")
    assert result.report.category_separator == "none"
    assert all("; " not in v for v in result.records["category"])


def test_an_unknown_separator_choice_is_a_sentence():
    with pytest.raises(MappingError, match=r"expected one of auto, none, ;, \|, ,, /"):
        presets.parse_separator("#")


def test_cli_category_separator_option(capsys, tmp_path: Path):
    data, _ = ushahidi_2x(40)
    path = tmp_path / "ushahidi.csv"
    path.write_bytes(data)
    assert main(["validate", str(path), "--json", "--category-separator", "none"]) == 0
    assert json.loads(capsys.readouterr().out)["category_separator"] == "none"
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "category separator: ','" in out
    assert "note: Category labels were split on ','" in out
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(path), "--category-separator", "#"])
    assert exc.value.code == 2


def test_mapping_panel_shows_the_separator_and_why():
    data, _ = ushahidi_2x(40)
    report = validate_bytes(data, filename="u.csv").report
    table = dashboard.mapping_table(report)
    row = table[table["field"] == "category separator"]
    assert row["column"].tolist() == ["','"]
    assert dashboard.category_notes(report)[0].startswith("Category labels were split on ','")
    assert set(dashboard.CATEGORY_SEPARATOR_LABELS) == {None, "auto", "none", ";", "|", ","}
