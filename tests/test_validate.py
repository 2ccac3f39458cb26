"""Mapping and validation: every record ends accepted, accepted with warnings, or rejected."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisismap.errors import MappingError
from crisismap.records import presets
from crisismap.records import read as ingest
from crisismap.records import validation as validate
from crisismap.schema import RECORD_COLUMNS

TODAY = dt.date(2025, 6, 30)


def check(
    text: str | bytes, *, mapping: dict | None = None, **options
) -> validate.ValidationResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    raw = ingest.read_csv_bytes(data)
    found = presets.detect_mapping(raw.header, raw.hxl_tags, **(mapping or {}))
    return validate.validate(raw, found, today=TODAY, **options)


def flat(result: validate.ValidationResult) -> list[list[object]]:
    return result.report.flatten()


def dates(result: validate.ValidationResult) -> list[list[object]]:
    frame = result.records
    return [
        [int(line), str(start.date()), str(end.date()), prec]
        for line, start, end, prec in zip(
            frame["line"], frame["date"], frame["date_end"], frame["date_precision"], strict=True
        )
    ]


def assert_accounted(result: validate.ValidationResult) -> None:
    report = result.report
    assert report.accepted + report.rejected == report.records
    assert len(result.records) == report.accepted
    assert len(result.rejected) == report.rejected
    assert report.warned == int((result.records["warnings"] > 0).sum())


# --- the records contract ---------------------------------------------------------------------


def test_clean_file_gives_typed_records_in_contract_order():
    result = check(
        "id,date,lat,lon,category,victims,description,source,admin1\n"
        "A-1,2024-03-15,48.5123,37.2034,killing,3,Shelling,witness,Donetsk\n"
    )
    records = result.records
    assert list(records.columns) == [*RECORD_COLUMNS, "stated_adm1_name"]
    row = records.iloc[0].to_dict()
    assert pd.isna(row.pop("subcategory")) and pd.isna(row.pop("max_level"))
    assert row == {
        "id": "A-1",
        "line": 2,
        "date": pd.Timestamp("2024-03-15"),
        "date_end": pd.Timestamp("2024-03-15"),
        "date_precision": "day",
        "lat": 48.5123,
        "lon": 37.2034,
        "category": "killing",
        "victims": 3.0,
        "description": "Shelling",
        "source": "witness",
        "warnings": 0,
        "stated_adm1_name": "Donetsk",
    }
    assert str(records["date"].dtype) == "datetime64[ns]"
    assert records["line"].dtype == np.int64 and str(records["max_level"].dtype) == "Int64"
    assert flat(result) == []
    assert (result.report.records, result.report.accepted, result.report.rejected) == (1, 1, 0)


def test_rejected_rows_keep_line_raw_fields_and_reasons():
    result = check(
        "id,date,lat,lon\n"
        "1,2024-01-01,48.51,37.21\n"
        "2,2023-02-30,95.0,37.21\n"
        "3,2024-01-01,48.51,37.21,extra\n"
    )
    assert flat(result) == [
        [3, "date", "date-impossible"],
        [3, "lat", "coords-out-of-range"],
        [4, None, "too-many-fields"],
    ]
    rejected = result.rejected
    assert list(rejected.columns) == ["line", "id", "date", "lat", "lon", "raw_text", "reasons"]
    assert rejected["line"].tolist() == [3, 4]
    assert rejected.iloc[0][["id", "date", "lat"]].tolist() == ["2", "2023-02-30", "95.0"]
    assert rejected.iloc[0]["reasons"].startswith("date-impossible: ")
    assert " | coords-out-of-range: " in rejected.iloc[0]["reasons"]
    assert rejected.iloc[1]["raw_text"] == "3,2024-01-01,48.51,37.21,extra"
    assert_accounted(result)


def test_report_names_preset_mapping_encoding_delimiter_and_date_order():
    result = check("when;y;x\n15/03/2024;48,51;37,22\n", mapping={"overrides": {"date": "when"}})
    report = result.report
    assert report.preset == "generic + overrides"
    assert report.mapping == {"date": "when", "lat": "y", "lon": "x"}
    assert (report.encoding, report.delimiter, report.date_order) == ("utf-8", ";", "dmy")


def test_problem_list_is_capped_but_counts_stay_exact():
    body = "".join(f"{i},2024-01-01,,\n" for i in range(30))
    result = check("id,date,lat,lon\n" + body, problem_limit=10)
    assert len(result.report.problems) == 10
    assert result.report.counts[("coords-missing", "error")] == 60
    assert result.report.truncated
    assert result.report.rejected == 30


# --- ids ------------------------------------------------------------------------------------------


def test_generated_ids_are_stable_and_content_based():
    text = "date,lat,lon\n2024-01-01,48.51,37.21\n2024-01-02,48.52,37.22\n"
    first, again = check(text), check(text)
    assert first.records["id"].tolist() == again.records["id"].tolist()
    assert all(i.startswith("gen-") and len(i) == 20 for i in first.records["id"])
    swapped = check("date,lat,lon\n2024-01-02,48.52,37.22\n2024-01-01,48.51,37.21\n")
    assert swapped.records["id"].tolist() == first.records["id"].tolist()[::-1]


def test_ids_equal_as_numbers_are_not_repeats_and_repeats_are_found_unsorted():
    rows = "\n".join(f"{i},2024-01-01,48.51,37.21" for i in ("12", "007", "7", "3", "12", "+7"))
    result = check("id,date,lat,lon\n" + rows + "\n")
    assert flat(result) == [[6, "id", "id-duplicate"]]  # only the second "12"
    assert "line 2" in result.report.problems[0].message
    unique = check("id,date,lat,lon\n12,2024-01-01,48.51,37.21\n007,2024-01-01,48.51,37.21\n"
                   "7,2024-01-01,48.51,37.21\n")  # fmt: skip
    assert flat(unique) == []


def test_missing_and_duplicate_ids_are_warnings():
    result = check(
        "id,date,lat,lon\n7,2024-01-01,48.51,37.21\n,2024-01-01,48.51,37.21\n7,2024-01-02,48.51,37.21\n"
    )
    assert flat(result) == [[3, "id", "id-missing"], [4, "id", "id-duplicate"]]
    assert "line 2" in result.report.problems[1].message
    assert result.records["warnings"].tolist() == [0, 1, 1]
    assert result.report.warned == 2


# --- dates ----------------------------------------------------------------------------------------


def test_date_formats_and_partial_dates():
    result = check(
        "id,date,lat,lon\n"
        "1,2014-01-27 00:00:00.000,48.51,37.21\n"
        "2,2024-03-15T23:30:00Z,48.51,37.21\n"
        "3,15 March 2024,48.51,37.21\n"
        '4,"March 15, 2024",48.51,37.21\n'
        "5,2024-02,48.51,37.21\n"
        "6,2023,48.51,37.21\n"
        "7,March 2024,48.51,37.21\n"
        "8,20240315,48.51,37.21\n"
        "9,Fri 15 Mar 2024,48.51,37.21\n"
    )
    assert flat(result) == []
    assert dates(result) == [
        [2, "2014-01-27", "2014-01-27", "day"],
        [3, "2024-03-15", "2024-03-15", "day"],
        [4, "2024-03-15", "2024-03-15", "day"],
        [5, "2024-03-15", "2024-03-15", "day"],
        [6, "2024-02-01", "2024-02-29", "month"],
        [7, "2023-01-01", "2023-12-31", "year"],
        [8, "2024-03-01", "2024-03-31", "month"],
        [9, "2024-03-15", "2024-03-15", "day"],
        [10, "2024-03-15", "2024-03-15", "day"],
    ]


def test_date_errors_and_warnings():
    result = check(
        "id,date,lat,lon\n"
        "1,2023-02-30,48.51,37.21\n"
        "2,yesterday,48.51,37.21\n"
        "3,,48.51,37.21\n"
        "4,2026-01-02,48.51,37.21\n"
        "5,45366,48.51,37.21\n"
        "6,15-Mar-24,48.51,37.21\n"
        "7,2024-13,48.51,37.21\n"
    )
    assert flat(result) == [
        [2, "date", "date-impossible"],
        [3, "date", "date-invalid"],
        [4, "date", "date-missing"],
        [5, "date", "date-future"],
        [6, "date", "date-excel-serial"],
        [7, "date", "date-two-digit-year"],
        [8, "date", "date-impossible"],
    ]
    assert dates(result) == [
        [5, "2026-01-02", "2026-01-02", "day"],
        [6, "2024-03-15", "2024-03-15", "day"],
        [7, "2024-03-15", "2024-03-15", "day"],
    ]
    assert "2024-03-15" in result.report.problems[4].message


def test_date_ranges_from_start_and_end_columns():
    result = check(
        "id,date_start,date_end,lat,lon\n"
        "1,2024-01-01,2024-01-05,48.51,37.21\n"
        "2,2024-01-05,2024-01-01,48.51,37.21\n"
        "3,2024-02,,48.51,37.21\n"
        "4,2024-01-01,soon,48.51,37.21\n"
    )
    assert flat(result) == [[3, "date_end", "date-range-reversed"], [5, "date_end", "date-invalid"]]
    assert dates(result) == [
        [2, "2024-01-01", "2024-01-05", "day"],
        [4, "2024-02-01", "2024-02-29", "month"],
    ]


def _numeric_dates(*values: str, **options) -> validate.ValidationResult:
    body = "".join(f"{i},{v},48.51,37.21\n" for i, v in enumerate(values))
    return check("id,date,lat,lon\n" + body, **options)


def test_day_first_is_decided_by_the_whole_column():
    result = _numeric_dates("03/04/2024", "13/04/2024")
    assert flat(result) == []
    assert [d[1] for d in dates(result)] == ["2024-04-03", "2024-04-13"]
    assert result.report.date_order == "dmy"
    assert any("'13/04/2024' on line 3 decides" in n for n in result.report.notes)


def test_month_first_is_decided_by_the_whole_column():
    result = _numeric_dates("03/04/2024", "04/13/2024", "12.25.2023")
    assert flat(result) == []
    assert [d[1] for d in dates(result)] == ["2024-03-04", "2024-04-13", "2023-12-25"]
    assert result.report.date_order == "mdy"


def test_undecidable_column_reads_day_first_and_flags_ambiguous_dates():
    result = _numeric_dates("03/04/2024", "05/05/2024", "2024-06-01")
    assert flat(result) == [[2, "date", "date-ambiguous"]]
    assert "3 April 2024" in result.report.problems[0].message
    assert [d[1] for d in dates(result)] == ["2024-04-03", "2024-05-05", "2024-06-01"]
    assert result.report.date_order == "dmy"


def test_mixed_orders_reject_what_cannot_be_decided():
    result = _numeric_dates("03/04/2024", "13/04/2024", "04/14/2024", "06/06/2024")
    assert flat(result) == [
        [2, "date", "date-order-conflict"],
        [3, "date", "date-order-mixed"],
        [4, "date", "date-order-mixed"],
    ]
    assert [d[1] for d in dates(result)] == ["2024-04-13", "2024-04-14", "2024-06-06"]
    assert result.report.date_order == "mixed"


def test_explicit_date_order_wins():
    result = _numeric_dates("03/04/2024", "13/04/2024", date_order="mdy")
    assert flat(result) == [[3, "date", "date-impossible"]]
    assert [d[1] for d in dates(result)] == ["2024-03-04"]
    assert result.report.date_order == "mdy"


# --- coordinates --------------------------------------------------------------------------------


def test_coordinate_errors_reject_the_record():
    result = check(
        "id,date,lat,lon\n"
        "1,2024-01-01,95.5,37.21\n"
        "2,2024-01-01,48.51,-181.0\n"
        "3,2024-01-01,0,0\n"
        "4,2024-01-01,,37.21\n"
        "5,2024-01-01,inf,37.21\n"
        "6,2024-01-01,north,37.21\n"
        "7,2024-01-01,48.51S,37.21\n"
        '8,2024-01-01,"48,51",37.21\n'
        "9,2024-01-01,48.51,37.21W\n"
    )
    assert flat(result) == [
        [2, "lat", "coords-out-of-range"],
        [3, "lon", "coords-out-of-range"],
        [4, "lat", "coords-zero"],
        [5, "lat", "coords-missing"],
        [6, "lat", "coords-not-finite"],
        [7, "lat", "coords-invalid"],
        [8, "lat", "coords-hemisphere"],
        [9, "lat", "coords-invalid"],
        [10, "lon", "coords-hemisphere"],
    ]
    assert result.records[["line", "lat", "lon"]].values.tolist() == [
        [8, -48.51, 37.21],
        [10, 48.51, -37.21],
    ]
    assert "comma-delimited" in result.report.problems[7].message


def test_decimal_commas_in_a_semicolon_file_are_read_with_a_warning():
    result = check("id;date;lat;lon\n1;2024-01-01;48,5123;37,2034\n2;2024-01-01;48.5123;37.2034\n")
    assert flat(result) == [[2, "lat", "coords-decimal-comma"], [2, "lon", "coords-decimal-comma"]]
    assert result.records[["lat", "lon"]].values.tolist() == [[48.5123, 37.2034]] * 2
    assert result.records["warnings"].tolist() == [2, 0]


def test_degrees_minutes_seconds_are_converted_with_a_warning():
    result = check(
        "id,date,lat,lon\n1,2024-01-01,48°30'15\"N,37°12'W\n2,2024-01-01,S 12° 30',37d 30m 36s E\n"
    )
    assert flat(result) == [
        [2, "lat", "coords-dms"],
        [2, "lon", "coords-dms"],
        [3, "lat", "coords-dms"],
        [3, "lon", "coords-dms"],
    ]
    assert np.allclose(
        result.records[["lat", "lon"]].to_numpy(), [[48.504167, -37.2], [-12.5, 37.51]]
    )


def test_low_precision_coordinates_are_a_warning():
    result = check("id,date,lat,lon\n1,2024-01-01,48.5,37\n2,2024-01-01,48.51,37.20\n")
    assert flat(result) == [[2, "lat", "coords-low-precision"], [2, "lon", "coords-low-precision"]]
    assert result.report.accepted == 2


@pytest.mark.parametrize(
    "value,expected",
    [
        ("48.5123, 37.2034", [48.5123, 37.2034]),
        ("48.5123 37.2034 150 5", [48.5123, 37.2034]),  # Kobo geopoint
        ("POINT (37.2034 48.5123)", [48.5123, 37.2034]),  # WKT is x y
    ],
)
def test_combined_coordinate_column(value, expected):
    result = check(f'id,date,coordinates\n1,2024-01-01,"{value}"\n')
    assert result.report.mapping["coords"] == "coordinates"
    assert flat(result) == []
    assert result.records[["lat", "lon"]].values.tolist() == [expected]


def test_unreadable_combined_coordinates_are_one_problem():
    result = check('id,date,coordinates\n1,2024-01-01,"near the bridge"\n2,2024-01-01,\n')
    assert flat(result) == [
        [2, "coordinates", "coords-invalid"],
        [3, "coordinates", "coords-missing"],
    ]


# --- categories, victims, precision, stated admin units ------------------------------------


def test_multi_label_categories_are_split_trimmed_and_joined():
    result = check(
        "id,date,lat,lon,category\n"
        "1,2024-01-01,48.51,37.21, killing ;arbitrary detention;killing\n"
        "2,2024-01-01,48.51,37.21,looting\n"
        "3,2024-01-01,48.51,37.21,\n"
    )
    assert result.records["category"].tolist() == ["killing; arbitrary detention", "looting", ""]
    assert flat(result) == [[4, "category", "category-missing"]]
    assert result.report.accepted == 3


def test_pipe_separated_categories():
    result = check("id,date,lat,lon,category\n1,2024-01-01,48.51,37.21,a|b\n")
    assert result.records["category"].tolist() == ["a; b"]


def test_victims_unknown_values_are_silent_bad_values_warn():
    result = check(
        "id,date,lat,lon,fatalities\n"
        + "".join(
            f"{i},2024-01-01,48.51,37.21,{v}\n"
            for i, v in enumerate(["3", "", "NA", "unknown", "-2", "2.5", "several", "4.0"])
        )
    )
    assert flat(result) == [
        [6, "fatalities", "victims-negative"],
        [7, "fatalities", "victims-not-integer"],
        [8, "fatalities", "victims-invalid"],
    ]
    assert result.records["victims"].fillna(-1).tolist() == [3, -1, -1, -1, -1, -1, -1, 4]
    assert result.report.accepted == 8


@pytest.mark.parametrize(
    "scheme,values,levels",
    [
        ("ucdp", ["1", "2", "3", "4", "5", "6", "7"], [None, None, 2, 1, 0, 0, -1]),
        ("acled", ["1", "2", "3"], [None, None, 1]),
        ("admin-level", ["2", "", "0"], [2, None, 0]),
    ],
)
def test_location_precision_becomes_max_level(scheme, values, levels):
    body = "".join(f"{i},2024-01-01,48.51,37.21,{v}\n" for i, v in enumerate(values))
    result = check(
        "id,date,lat,lon,prec\n" + body,
        mapping={"overrides": {"location_precision": "prec"}, "precision_scheme": scheme},
    )
    assert [None if pd.isna(x) else int(x) for x in result.records["max_level"]] == levels
    assert flat(result) == []


def test_unknown_precision_value_is_a_warning():
    result = check(
        "id,date,lat,lon,where_prec\n1,2024-01-01,48.51,37.21,9\n",
        mapping={"overrides": {"location_precision": "where_prec"}},
    )
    assert flat(result) == [[2, "where_prec", "precision-invalid"]]
    assert pd.isna(result.records["max_level"].iloc[0])


def test_stated_admin_units_are_kept_as_text():
    result = check(
        "id,date,lat,lon,country,admin1,adm1_pcode,admin2\n"
        "1,2024-01-01,48.51,37.21,Namibia,Khomas,NA08,\n"
    )
    row = result.records.iloc[0]
    assert row["stated_adm0_name"] == "Namibia"
    assert (row["stated_adm1_name"], row["stated_adm1_code"]) == ("Khomas", "NA08")
    assert pd.isna(row["stated_adm2_name"])


# --- presets and mapping -------------------------------------------------------------------

ACLED_HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,"
    "source_scale,notes,fatalities,tags,timestamp"
)


def test_acled_export():
    row = (
        "UKR12345,15 March 2024,2024,1,Political violence,Explosions/Remote violence,Shelling,"
        "Military Forces of Russia,,8,Civilians (Ukraine),,7,78,Civilian targeting,804,Europe,"
        'Ukraine,Donetsk,Pokrovskyi,Myrnohradska,Myrnohrad,48.3022,37.2651,3,Suspilne,National,"A '
        'shell hit, 2 killed",2,,1710720000'
    )
    result = check(f"{ACLED_HEADER}\n{row}\n")
    report = result.report
    assert report.preset == "acled"
    assert report.mapping["subcategory"] == "sub_event_type"
    record = result.records.iloc[0]
    assert (record["id"], str(record["date"].date())) == ("UKR12345", "2024-03-15")
    assert (record["category"], record["subcategory"]) == ("Explosions/Remote violence", "Shelling")
    assert (record["victims"], record["max_level"]) == (2.0, 1)
    assert (record["stated_adm0_name"], record["stated_adm1_name"]) == ("Ukraine", "Donetsk")
    assert "stated_adm0_code" not in result.records  # ACLED's numeric iso is left out
    assert record["description"] == "A shell hit, 2 killed"


def test_ucdp_type_of_violence_becomes_readable_labels():
    result = check(
        "id,type_of_violence,where_prec,adm_1,latitude,longitude,date_start,date_end,best\n"
        "1,1,4,Donetsk oblast,48.01,37.80,2014-08-29 00:00:00.000,2014-08-30 00:00:00.000,3\n"
        "2,3,1,,48.01,37.80,2014-08-29 00:00:00.000,2014-08-29 00:00:00.000,0\n"
        "3,9,1,,48.01,37.80,2014-08-29 00:00:00.000,2014-08-29 00:00:00.000,0\n"
    )
    assert result.report.preset == "ucdp"
    assert result.records["category"].tolist() == [
        "state-based conflict",
        "one-sided violence",
        "9",
    ]
    assert flat(result) == [[4, "type_of_violence", "category-unknown-code"]]
    assert dates(result)[0] == [2, "2014-08-29", "2014-08-30", "day"]


@pytest.mark.parametrize(
    "header,row,preset,expected",
    [
        (
            "Post ID,Survey,Post Status,Created (UTC),Updated (UTC),Post Date (UTC),Title,"
            "Description,Location.lat,Location.lon,Categories",
            '17,Incidents,published,2024-03-16,2024-03-16,2024-03-15 10:00:00,Raid,"Night raid",'
            '12.8611,30.2176,"Arbitrary detention,Looting"',
            "ushahidi",
            ["17", "2024-03-15", 12.8611, 30.2176, "Arbitrary detention; Looting"],
        ),
        (
            "#,INCIDENT TITLE,INCIDENT DATE,LOCATION,DESCRIPTION,CATEGORY,LATITUDE,LONGITUDE,"
            "APPROVED,VERIFIED",
            '5,Raid,2024-03-15 10:00:00,El Fasher,Night raid,"1. Killing, 2. Looting",13.6279,'
            "25.3494,YES,NO",
            "ushahidi",
            ["5", "2024-03-15", 13.6279, 25.3494, "1. Killing; 2. Looting"],
        ),
        (
            "start;end;today;incident/date_incident;incident/violation;location;_location_latitude;"
            "_location_longitude;_location_altitude;_location_precision;_id;_uuid;_submission_time",
            "2024-03-16T09:00:00.000+03:00;2024-03-16T09:10:00.000+03:00;2024-03-16;2024-03-15;"
            "killing detention;13.6279 25.3494 700 5;13.6279;25.3494;700;5;101;a1b2;"
            "2024-03-16T06:10:00",
            "kobo",
            ["101", "2024-03-15", 13.6279, 25.3494, "killing; detention"],
        ),
        (
            "start;end;incident/when;violation_type;gps;_id;_uuid;_submission_time",
            "2024-03-16T09:00;2024-03-16T09:10;2024-03-15;arbitrary_detention;13.6279 25.3494 0 0;"
            "7;u;2024-03-16",
            "kobo",
            ["7", "2024-03-15", 13.6279, 25.3494, "arbitrary_detention"],
        ),
        (
            "Event ID,Lat,Long,When,What,Killed\n#event+id,#geo+lat,#geo+lon,#date,#event+type,"
            "#affected+killed",
            "e1,13.6279,25.3494,2024-03-15,Shelling,4",
            "hxl",
            ["e1", "2024-03-15", 13.6279, 25.3494, "Shelling"],
        ),
    ],
)
def test_presets_are_detected_from_realistic_headers(header, row, preset, expected):
    overrides = {"date": "incident/when"} if "incident/when" in header else None
    result = check(f"{header}\n{row}\n", mapping={"overrides": overrides})
    assert result.report.preset.split(" ")[0] == preset
    record = result.records.iloc[0]
    got = [
        record["id"],
        str(record["date"].date()),
        record["lat"],
        record["lon"],
        record["category"],
    ]
    assert got == expected
    assert_accounted(result)


def test_kobo_submission_time_is_not_taken_for_the_incident_date():
    with pytest.raises(MappingError, match="_submission_time"):
        check("_id;_uuid;_submission_time;_gps_latitude;_gps_longitude\n1;u;2024-01-01;1.5;2.5\n")


def test_overrides_win_and_are_reported():
    result = check(
        "ref,when,reported,y,x\nR1,2024-03-15,2024-04-01,48.51,37.21\n",
        mapping={"overrides": {"date": "when", "id": "ref", "lat": "y", "lon": "x"}},
    )
    assert result.report.mapping == {"id": "ref", "date": "when", "lat": "y", "lon": "x"}
    assert dates(result) == [[2, "2024-03-15", "2024-03-15", "day"]]


def test_override_naming_a_missing_column_lists_the_columns():
    with pytest.raises(MappingError, match=r"no such column\. Columns in the file: 'id', 'date'"):
        check("id,date,lat,lon\n1,2024-01-01,1.5,2.5\n", mapping={"overrides": {"date": "when"}})
    with pytest.raises(MappingError, match="Unknown field 'colour'"):
        check("id,date,lat,lon\n1,2024-01-01,1.5,2.5\n", mapping={"overrides": {"colour": "id"}})


def test_missing_essential_columns_is_a_mapping_error():
    with pytest.raises(MappingError, match="no coordinate columns.*Columns in the file: 'id'"):
        check("id,date,place\n1,2024-01-01,Kyiv\n")
    with pytest.raises(MappingError, match="does not look like a 'acled' export"):
        check("id,date,lat,lon\n1,2024-01-01,1.5,2.5\n", mapping={"preset": "acled"})


# --- the invariant ------------------------------------------------------------------------------

_cells = {
    "date": st.sampled_from(["2024-01-05", "05/01/2024", "13/01/2024", "2024-02-30", "", "2024"]),
    "lat": st.sampled_from(["48.51", "95", "", "0", "48,5", "48°30'N", "x", "-12.25"]),
    "lon": st.sampled_from(["37.21", "0", "", "200", "37.2E", "nan"]),
    "victims": st.sampled_from(["", "1", "-1", "NA", "many"]),
    "category": st.sampled_from(["", "a; b", "c", "a|b"]),
}


@pytest.mark.slow
@settings(max_examples=60, deadline=None, database=None)
@given(
    rows=st.lists(st.fixed_dictionaries(_cells), min_size=1, max_size=15),
    broken=st.lists(st.integers(0, 14), max_size=3),
)
def test_every_record_is_accepted_or_rejected(rows, broken):
    lines = [",".join(f'"{v}"' for v in row.values()) for row in rows]
    for b in broken:
        if b < len(lines):
            lines[b] += ",extra"
    result = check("date,lat,lon,victims,category\n" + "\n".join(lines) + "\n")
    assert result.report.records == len(rows)
    assert_accounted(result)
    assert sorted(result.records["line"].tolist() + result.rejected["line"].tolist()) == list(
        range(2, len(rows) + 2)
    )


# --- real files (UCDP GED via HDX, CC BY 4.0; see ../shared/data/ATTRIBUTION.md) ----------


@pytest.mark.parametrize(
    "name,records",
    [("ucdp_ged_ukr_2014_2021_hxl.csv", 2989), ("ucdp_ged_ukr_2014_2019_hxl_oldlayout.csv", 1167)],
)
def test_real_ucdp_files(shared_data, name, records):
    path = shared_data / "incidents" / "ucdp_ged_ukr" / name
    raw = ingest.read_csv_file(path)
    mapping = presets.detect_mapping(raw.header, raw.hxl_tags)
    result = validate.validate(raw, mapping, today=TODAY)
    report = result.report
    assert report.preset == "ucdp (HXL tags detected)"
    assert (report.records, report.accepted, report.rejected) == (records, records, 0)
    assert_accounted(result)
    assert report.mapping["lat"] == "latitude" and report.mapping["lon"] == "longitude"
    assert report.mapping["adm0_code"] == "iso3"
    original = pd.read_csv(path, dtype=str, keep_default_na=False, skiprows=[1])
    assert result.records["lon"].tolist() == original["longitude"].astype(float).tolist()
    assert result.records["victims"].tolist() == original["best"].astype(float).tolist()
    expected_level = original["where_prec"].map(
        {"1": None, "2": None, "3": 2, "4": 1, "5": 0, "6": 0, "7": -1}
    )
    got_level = [None if pd.isna(x) else int(x) for x in result.records["max_level"]]
    assert got_level == [None if pd.isna(x) else int(x) for x in expected_level]
    stated = result.records["stated_adm1_name"].fillna("").tolist()
    assert stated == original["adm_1"].tolist()
    assert set(result.records["category"]) <= set(presets.UCDP_VIOLENCE_TYPES.values())
    assert (result.records["date_end"] >= result.records["date"]).all()
    assert result.records["line"].iloc[0] == 3  # line 2 is the HXL row


def test_numeric_columns_are_not_copied_into_the_records_and_stay_independent():
    # pandas 3 copies an array put in a Series unless told not to: at 5M records the four
    # numeric columns and the line numbers were held twice at the peak of a summary
    data = (
        b"id,date,latitude,longitude,category,victims\n"
        b"a,2024-01-02,12.5,30.25,killing,3\n"
        b"b,2024-01-03,12.75,30.5,killing,\n"
    )
    raw = ingest.read_csv_bytes(data)
    result = validate.validate(raw, presets.detect_mapping(raw.header))
    line = result.records["line"]
    assert np.shares_memory(line.to_numpy(), raw.lines)
    assert line.tolist() == [2, 3]
    result.records.loc[0, "line"] = 99  # copy on write: the reader's line numbers stay
    assert raw.lines.tolist() == [2, 3]
    assert result.records["lat"].tolist() == [12.5, 12.75]
    assert result.records["victims"].isna().tolist() == [False, True]
