"""Closed vocabularies and the column contract shared by every pipeline step.

Leaf module: imports only the errors and i18n leaves. Enums parse case-insensitively and list
the allowed values on failure (habit 6), so the CLI and the app can pass user text
straight in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from crisismap.errors import InvalidValueError
from crisismap.i18n import N_, _, language


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
        what = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()  # DateOrder: date order
        raise InvalidValueError(
            _("Unknown {what} {value!r}: expected one of {allowed}.").format(
                what=_(_ENUM_NAMES.get(cls.__name__, what)), value=value, allowed=allowed
            )
        )

    def __str__(self) -> str:
        return self.value


# What each vocabulary is called in the message listing its values.
_ENUM_NAMES = {
    "Severity": N_("severity"),
    "Period": N_("period"),
    "DateOrder": N_("date order"),
    "DateRange": N_("date range"),
    "DatePrecision": N_("date precision"),
    "MatchStatus": N_("match status"),
}


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


PERIOD_UNIT_WORDS = {  # one period of each unit, as a sentence names it ("at periods of one …")
    "day": N_("day"),
    "week": N_("week"),
    "acled-week": N_("ACLED week"),
    "month": N_("month"),
    "quarter": N_("quarter"),
    "year": N_("year"),
}


class DateOrder(_ParseableEnum):
    """How to read ambiguous numeric dates such as 03/04/2024."""

    AUTO = "auto"
    DMY = "dmy"
    MDY = "mdy"


class DateRange(_ParseableEnum):
    """Where a record whose dates span several days (``date`` .. ``date_end``) is counted.

    ``never``: in the period holding the whole range, else "date not attributable" (never
    spread or guessed; the default). ``start`` / ``end``: on its first / last day, as the
    user chose (a record keeps its range in the records; only the counting day changes).
    """

    NEVER = "never"
    START = "start"
    END = "end"


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
# ``stated_adm{N}_name`` / ``stated_adm{N}_code`` columns the file provides, and
# ``approved`` / ``verified``, nullable booleans, when the file has them).
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

# Names in other languages, where the boundary file has them (COD-AB ``ADM1_FR``, HDX
# ``adm1_name1`` + ``lang1``, Natural Earth ``name_ar``, the bundled set's ISO 3166 names):
# one extra text column per language, ``name:<ISO 639-1>``, NA where that region has none.
# ``name`` stays the source's own name; codes never change with the language.
NAME_PREFIX = "name:"


def name_column(lang: str) -> str:
    """The level frame's column of names in ``lang`` (``name:fr``)."""
    return f"{NAME_PREFIX}{lang}"


def name_languages(frame: Any) -> list[str]:
    """The languages a level frame has names in, besides its source name."""
    return sorted(c[len(NAME_PREFIX) :] for c in frame.columns if str(c).startswith(NAME_PREFIX))


def region_names(frame: Any, lang: str | None = None) -> Any:
    """The regions' names to show in ``lang`` (the current language by default).

    Each region's name in that language where the set has one, its source name elsewhere
    (and its code where it has no name at all): the one place a region's display name is
    looked up, so that tables, maps, exports and the brief follow the user's language.
    """
    names = frame["name"] if "name" in frame else frame["code"]
    column = name_column(lang or language())
    if column in frame:
        names = frame[column].where(frame[column].notna(), names)
    return names.where(names.notna(), frame["code"]) if "code" in frame else names


def with_region_names(frame: Any, lang: str | None = None) -> Any:
    """``frame`` with ``name`` in ``lang`` (see :func:`region_names`) and without the
    per-language columns: what a map, a table or an export shows."""
    extra = [c for c in frame.columns if str(c).startswith(NAME_PREFIX)]
    if not extra:
        return frame
    return frame.assign(name=region_names(frame, lang)).drop(columns=extra)


# Period bucket for records whose date is known less precisely than the period unit
# (a "2023" record when summarising by month): counted, never spread or guessed.
IMPRECISE_PERIOD = "__date_not_attributable__"


@dataclass(frozen=True)
class VictimsMeasure:
    """What the file's victims column counts, said the way its source says it.

    ACLED's ``fatalities`` include combatants; UCDP's ``best`` is an estimate of deaths;
    a "victims" column is victims. Figures are labelled accordingly (a brief once read
    "959 Victims" for ACLED fatalities), and a file without such a column says "not
    reported" instead of 0.
    """

    label: str  # "Fatalities", "Deaths", "Victims", "Casualties", "People affected"
    note: str  # one sentence for methodology sections
    reported: bool  # the file has such a column

    def show(self, value: Any) -> str:
        """A figure as shown next to the label ("not reported" without a column)."""
        if not self.reported:
            return _("not reported")
        return "" if value is None else str(value)


_MEASURES: list[tuple[set[str], str, str]] = [
    ({"fatalities"}, N_("Fatalities"), N_("reported fatalities, combatants included")),
    ({"best", "deaths_best"}, N_("Deaths"), N_("best estimate of deaths, combatants included")),
    (
        {"killed", "deaths", "dead", "total_deaths", "persons_killed"},
        N_("Deaths"),
        N_("deaths as the file states them"),
    ),
    ({"casualties"}, N_("Casualties"), N_("people killed or injured, as the file states them")),
    (
        {"affected", "people_affected", "persons_affected"},
        N_("People affected"),
        N_("people affected, as the file states them"),
    ),
]


def victims_measure(column: str | None, preset: str | None = None) -> VictimsMeasure:
    """The measure of the column mapped to ``victims`` (None: the file has none)."""
    if not column:
        return VictimsMeasure(
            _("Victims"), _("The file states no victim figure: victims are not reported."), False
        )
    key = str(column).strip().casefold().replace(" ", "_").replace("-", "_")
    source = {"acled": "ACLED", "ucdp": "UCDP"}.get(str(preset or "").casefold(), "")
    for names, label, meaning in _MEASURES:
        if key in names:
            # Translators: {source} is ACLED or UCDP, {meaning} e.g. "reported fatalities".
            said = _("{source} {meaning}").format(source=source, meaning=_(meaning))
            note = _("{label}: {meaning} (column \u201c{column}\u201d), summed.").format(
                label=_(label), meaning=said if source else _(meaning), column=column
            )
            return VictimsMeasure(_(label), note, True)
    return VictimsMeasure(
        _("Victims"),
        _("Victims: the figures of column \u201c{column}\u201d, summed.").format(column=column),
        True,
    )


@dataclass(frozen=True)
class View:
    """One view of the data: admin level, period unit, date window, categories, regions,
    and whether only approved / verified records count.

    Parsed once where a request comes in (CLI arguments, dashboard widgets) and passed
    inward unchanged: every summary, figure, export and manifest of a view is computed
    from one of these, so the filters cannot drift apart between steps. ``None`` means
    "no filter"; an empty category or region list is no filter either.
    """

    level: int
    period: Period = Period.MONTH
    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    approved_only: bool = False
    verified_only: bool = False

    @classmethod
    def parse(
        cls,
        level: int | str,
        period: Period | str = Period.MONTH,
        start: Any = None,
        end: Any = None,
        categories: Any = None,
        regions: Any = None,
        approved_only: Any = False,
        verified_only: Any = False,
    ) -> View:
        """A view from user values (text or objects), with messages that name the field."""
        try:
            level_number = int(level)
        except (TypeError, ValueError):
            raise InvalidValueError(
                _("Expected an admin level such as 1 or 2, got {level!r}.").format(level=level)
            ) from None
        view = cls(
            level=level_number,
            period=Period.parse(period),
            start=_date(start, "start"),
            end=_date(end, "end"),
            categories=_names(categories),
            regions=_names(regions),
            approved_only=_flag(approved_only, "approved_only"),
            verified_only=_flag(verified_only, "verified_only"),
        )
        if view.start and view.end and view.start > view.end:
            raise InvalidValueError(
                _(
                    "The date window starts after it ends ({start} > {end}): swap start and end."
                ).format(start=view.start, end=view.end)
            )
        return view

    def filters(self) -> dict[str, Any]:
        """The selection as keyword arguments: ``start``, ``end``, ``categories``, ``regions``
        (and ``approved_only`` / ``verified_only`` when set)."""
        return {
            "start": self.start,
            "end": self.end,
            "categories": list(self.categories) if self.categories else None,
            "regions": list(self.regions) if self.regions else None,
            **self._flags(),
        }

    def _flags(self) -> dict[str, bool]:
        """The approval filters that are on (none for most files, which have no such flag)."""
        flags = {"approved_only": self.approved_only, "verified_only": self.verified_only}
        return {k: v for k, v in flags.items() if v}

    def with_(self, **changes: Any) -> View:
        """A copy with some fields changed (parsed like :meth:`parse`)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"View has no field(s) {', '.join(sorted(unknown))}.")
        return View.parse(**{**values, **changes})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields for manifests and shared links (dates as ISO text)."""
        return {
            "level": self.level,
            "period": self.period.value,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "categories": list(self.categories) if self.categories else None,
            "regions": list(self.regions) if self.regions else None,
            **self._flags(),
        }


def _flag(value: Any, field_name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(
        _("Expected yes or no for {field_name}, got {value!r}.").format(
            field_name=field_name, value=value
        )
    )


def _date(value: Any, field_name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas.Timestamp, numpy-backed
        try:
            return value.date()
        except ValueError:  # NaT
            return None
    text = str(value).strip()
    for parse in (dt.date.fromisoformat, lambda t: dt.datetime.fromisoformat(t).date()):
        try:
            return parse(text)
        except ValueError:
            pass
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").date()  # 2024-3-5
    except ValueError:
        raise InvalidValueError(
            _("Expected a date such as 2024-03-05 for {field_name}, got {value!r}.").format(
                field_name=field_name, value=value
            )
        ) from None


def _names(values: Any) -> tuple[str, ...] | None:
    if values is None or isinstance(values, str) and not values:
        return None
    if isinstance(values, str):
        values = [values]
    names = tuple(str(v) for v in values)
    return names or None


__all__ = [
    "VictimsMeasure",
    "victims_measure",
    "BOUNDARY_COLUMNS",
    "CATEGORY_SEPARATOR",
    "IMPRECISE_CODE",
    "IMPRECISE_PERIOD",
    "OUTSIDE_CODE",
    "RECORD_COLUMNS",
    "DateOrder",
    "DatePrecision",
    "MatchStatus",
    "NAME_PREFIX",
    "Period",
    "Severity",
    "View",
    "name_column",
    "name_languages",
    "region_names",
    "stated_code_column",
    "stated_name_column",
    "with_region_names",
]
