"""Closed vocabularies and the column contract shared by every pipeline step.

Leaf module: imports nothing from crisismap. Enums parse case-insensitively and list
the allowed values on failure (habit 6), so the CLI and the app can pass user text
straight in.
"""

from __future__ import annotations

from enum import StrEnum


class _ParseableEnum(StrEnum):
    """A str enum with a forgiving, explanatory ``parse``."""

    @classmethod
    def parse(cls, value: str | _ParseableEnum) -> _ParseableEnum:
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower().replace("_", "-")
        for member in cls:
            if text == member.value or text == member.name.lower().replace("_", "-"):
                return member
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"Unknown {cls.__name__} {value!r}: expected one of {allowed}.")

    def __str__(self) -> str:
        return self.value


class Severity(_ParseableEnum):
    """How bad a problem is. ``ERROR`` rejects the record; ``WARNING`` keeps it, flagged."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Period(_ParseableEnum):
    """Aggregation periods. ACLED weeks run Saturday to Friday."""

    DAY = "day"
    ISO_WEEK = "week"
    ACLED_WEEK = "acled-week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class DateOrder(_ParseableEnum):
    """How to read ambiguous numeric dates such as 03/04/2024."""

    AUTO = "auto"
    DMY = "dmy"
    MDY = "mdy"


class DatePrecision(_ParseableEnum):
    """How precisely the record's date is known (partial dates keep their precision)."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class MatchStatus(_ParseableEnum):
    """How a record was attributed to a region at one admin level."""

    INSIDE = "inside"  # strictly inside exactly one polygon
    BORDER = "border"  # on a shared border: resolved by the documented tie rule
    SNAPPED = "snapped"  # outside every polygon, snapped to the nearest within the distance
    OUTSIDE = "outside"  # outside every polygon
    IMPRECISE = "imprecise"  # location only known at a coarser level than this one


# Codes used in aggregate tables for records that have no region at a level.
OUTSIDE_CODE = "__outside__"
IMPRECISE_CODE = "__not_attributable__"

# --- The validated-records contract -------------------------------------------------
# ``validate`` returns a pandas DataFrame with exactly these columns (plus any
# ``stated_adm{N}_name`` / ``stated_adm{N}_code`` columns the file provides).
RECORD_COLUMNS: dict[str, str] = {
    "id": "str: record id from the file, or a stable generated one (sha1 of the raw line)",
    "line": "int: 1-based physical line in the file where the record starts",
    "date": "datetime64[ns]: start date (first day of the period for partial dates)",
    "date_end": "datetime64[ns]: end date (== date unless a range or partial date)",
    "date_precision": "str: DatePrecision value",
    "lat": "float64: WGS84 latitude",
    "lon": "float64: WGS84 longitude",
    "category": "str: category labels joined by CATEGORY_SEPARATOR ('' when none)",
    "subcategory": "str or NA",
    "victims": "float64: victim / fatality count, NaN when not stated",
    "description": "str or NA",
    "source": "str or NA",
    "max_level": "Int64: finest admin level the location supports; NA = any level",
    "warnings": "int: number of warnings this record carries",
}

CATEGORY_SEPARATOR = "; "


def stated_name_column(level: int) -> str:
    """Column holding the admin name the input file states for ``level``."""
    return f"stated_adm{level}_name"


def stated_code_column(level: int) -> str:
    """Column holding the admin code (P-code, ISO) the input file states for ``level``."""
    return f"stated_adm{level}_code"


# --- The boundary-level contract ----------------------------------------------------
# Each level of a BoundarySet is a GeoDataFrame in EPSG:4326 with these columns.
BOUNDARY_COLUMNS: dict[str, str] = {
    "code": "str: unique, stable code within the level (P-code / ISO 3166-2 / derived)",
    "name": "str: display name",
    "parent_code": "str or NA: code of the containing region at the level above",
    "country": "str or NA: ISO 3166-1 alpha-3 of the country",
    "geometry": "Polygon/MultiPolygon, valid, EPSG:4326",
}

# Period bucket for records whose date is known less precisely than the period unit
# (a "2023" record when summarising by month): counted, never spread or guessed.
IMPRECISE_PERIOD = "__date_not_attributable__"
