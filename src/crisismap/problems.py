"""Problems, the catalogue of their codes, and the validation report (habits 3 and 4).

Each problem has a stable code, a location the user can find (file line and column),
the raw value and a message rendered from those fields; the report keeps counts exact
even when the list of problems is capped, and says when the cap was reached. Every code
is declared once, in the catalogue at the end of this module (:data:`CODES`), with its
severity, message template and a one-line description; ``docs/problem-codes.md`` is
generated from it by :func:`catalogue_markdown`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crisismap import i18n
from crisismap.schema import Severity

DEFAULT_PROBLEM_LIMIT = 10_000


@dataclass(frozen=True)
class Problem:
    """One problem with one record (or with the file, when ``line`` is None)."""

    code: str
    severity: Severity
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    record_id: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "value": self.value,
            "record_id": self.record_id,
            "file": self.file,
        }


# What a report from validation alone (crisismap validate) leaves out, said where it is shown.
UNJOINED_NOTE = i18n.N_(
    "swapped coordinates and points outside every region are checked against boundaries by "
    "join, summarize, report and the dashboard, not here: those warnings are not in these counts."
)


PROBLEM_FIELDS = ["file", "line", "column", "code", "severity", "message", "value", "record_id"]


@dataclass
class Report:
    """A capped list of problems plus exact counts of every code.

    ``records`` counts data records in the file; ``accepted + rejected == records``
    is the invariant every ingest path keeps.
    """

    records: int = 0
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    preset: str | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    date_order: str | None = None
    category_separator: str | None = None  # how multi-label categories were split
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    limit: int = DEFAULT_PROBLEM_LIMIT
    notes: list[str] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        """Record a problem; past ``limit`` only its count is kept."""
        self.counts[(problem.code, problem.severity.value)] += 1
        if len(self.problems) < self.limit:
            self.problems.append(problem)

    @property
    def truncated(self) -> bool:
        return sum(self.counts.values()) > len(self.problems)

    @property
    def warnings(self) -> int:
        return sum(n for (_, sev), n in self.counts.items() if sev == Severity.WARNING.value)

    @property
    def errors(self) -> int:
        return sum(n for (_, sev), n in self.counts.items() if sev == Severity.ERROR.value)

    def flatten(self, fields: list[str] | None = None) -> list[list[Any]]:
        """Problems as plain lists, e.g. ``[[4, "date", "date-invalid"]]`` — handy in tests."""
        fields = fields or ["line", "column", "code"]
        return [[p.to_dict()[f] for f in fields] for p in self.problems]

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (what ``crisismap validate --json`` prints)."""
        return {
            "records": self.records,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "warned": self.warned,
            "warnings": self.warnings,
            "errors": self.errors,
            "preset": self.preset,
            "mapping": self.mapping,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "date_order": self.date_order,
            "category_separator": self.category_separator,
            "problem_counts": [
                {"code": code, "severity": sev, "count": n}
                for (code, sev), n in sorted(self.counts.items())
            ],
            "problems_truncated": self.truncated,
            "notes": self.notes,
        }


# --- the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ProblemType:
    """One kind of problem: its stable code, severity, message template and description.

    Templates are :meth:`str.format` strings. Fields named like a :class:`Problem`
    attribute (``line``, ``column``, ``value``, ``record_id``) stand for that attribute;
    in the record checks ``{value}`` is the cell as written and ``{extra}`` a detail
    the check worked out (the date read, the generated id). ``variants`` are other
    wordings of the same problem, chosen by name.
    """

    code: str
    severity: Severity
    description: str
    template: str
    variants: Mapping[str, str] = field(default_factory=dict)

    def message(self, variant: str | None = None, /, **fields: Any) -> str:
        """The message in the current language, rendered from ``fields`` (``variant`` picks
        another wording)."""
        return self.localized(variant).format(**fields)

    def localized(self, variant: str | None = None) -> str:
        """The template (or ``variant``'s) in the current language, looked up once per
        language: record checks render it for many rows."""
        return localized(self.template if variant is None else self.variants[variant])

    def localized_description(self) -> str:
        """The one-line description in the current language (``docs/problem-codes.md``
        keeps the English)."""
        return localized(self.description)

    def problem(
        self,
        *,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
        record_id: str | None = None,
        variant: str | None = None,
        **fields: Any,
    ) -> Problem:
        """A :class:`Problem` of this type; its message is rendered from its own fields
        (``line``, ``column``, ``value``, ``record_id``) and ``fields``."""
        message = self.message(
            variant, line=line, column=column, value=value, record_id=record_id, **fields
        )
        return Problem(
            code=self.code,
            severity=self.severity,
            message=message,
            line=line,
            column=column,
            value=value,
            record_id=record_id,
        )


def localized(template: str) -> str:
    """A catalogue template in the current language (the checks look it up once per block
    of rows, then render it for each row)."""
    return i18n.gettext(template)


def axis_name(word: str) -> str:
    """``latitude`` or ``longitude`` in the current language: the ``{axis_name}`` of the
    coordinate checks' messages."""
    names = {
        "latitude": i18n.pgettext("axis", "latitude"),
        "longitude": i18n.pgettext("axis", "longitude"),
    }
    return names.get(word, word)


CODES: dict[str, ProblemType] = {}
"""Every problem code, in the order a file meets them: reading, then each field's checks."""


def _declare(
    code: str,
    severity: Severity,
    description: str,
    template: str,
    **variants: str,
) -> ProblemType:
    kind = ProblemType(code, severity, description, template, variants)
    assert code not in CODES, code
    CODES[code] = kind
    return kind


def catalogue_markdown() -> str:
    """``docs/problem-codes.md``: every code as a Markdown table row."""
    lines = [
        "# Problem codes",
        "",
        "Every problem crisismap reports. Generated from `crisismap.problems.CODES` by",
        "`crisismap.problems.catalogue_markdown()`; a test keeps it up to date.",
        "",
        "An *error* rejects the record; a *warning* keeps it, flagged. In the messages,",
        "`{line}` is the file line, `{value}` the value as written and `{extra}` what was",
        "read from it; the other fields are named for what they hold.",
        "",
        "| Code | Severity | Description | Message |",
        "| --- | --- | --- | --- |",
    ]
    for kind in CODES.values():
        message = "<br>or: ".join(
            _markdown_cell(t) for t in (kind.template, *kind.variants.values())
        )
        lines.append(
            f"| `{kind.code}` | {kind.severity.value} | {_markdown_cell(kind.description)} "
            f"| {message} |"
        )
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


_E, _W = Severity.ERROR, Severity.WARNING

# -- reading the file (crisismap.records.read and its modules) --

ENCODING_NO_BOM = _declare(
    "encoding-no-bom",
    _W,
    "The file is UTF-16 without a byte-order mark; it was read as such.",
    "The file has no byte-order mark but its bytes are {codec} (a NUL in every other byte); "
    "it was read as {codec}. Re-save it as UTF-8, or confirm by choosing the encoding "
    "{codec!r} explicitly.",
)
ENCODING_NOT_UTF8 = _declare(
    "encoding-not-utf8",
    _W,
    "The file is not UTF-8; its encoding was guessed.",
    "The file is not UTF-8 (first invalid byte at line {invalid_line}); it was read as "
    "{guess}, a guess. Check accented names in the records; re-save the file as UTF-8, or "
    "confirm the guess by choosing the encoding {guess!r} explicitly.",
)
QUOTE_UNCLOSED = _declare(
    "quote-unclosed",
    _E,
    "A quote is opened and never closed; only its line was set aside, nothing swallowed.",
    "Line {line} opens a quote that is not closed on that line; read literally it would "
    "swallow line(s) {next_line}–{last_line} into one value. Only line {line} was set aside "
    "and reading resumed on the next line. Remove the stray quote or close it.",
    at_end="Line {line} opens a quoted value that is never closed: the file ends inside it. "
    "The line was set aside; close the quote or remove it.",
)
QUOTE_MALFORMED = _declare(
    "quote-malformed",
    _E,
    "A quote the CSV rules cannot read (a closing quote mid-value, an undoubled inner "
    "quote); the line was set aside.",
    "Line {line} has a quote the CSV rules cannot read ({error}): a quoted value must end "
    "with a quote followed by the delimiter or the end of the line, and a quote inside a "
    'quoted value must be doubled (""). The line was set aside; fix its quotes.',
)
FIELD_TOO_LARGE = _declare(
    "field-too-large",
    _E,
    "A value longer than the field limit, or a quote never closed; the line was set aside.",
    "Line {line} holds a value longer than {limit:,} characters, or opens a quote that is "
    "never closed. The line was set aside and reading resumed on the next line; shorten the "
    "value or fix its quotes.",
)
TOO_MANY_FIELDS = _declare(
    "too-many-fields",
    _E,
    "The record has more fields than the header; it was set aside.",
    "The record on {where} has {n_fields} fields; the header has {width}. Extra fields usually "
    "come from an unquoted delimiter inside a value: quote that value. The record was set "
    "aside so that no value lands in the wrong column.",
)
TOO_FEW_FIELDS = _declare(
    "too-few-fields",
    _E,
    "The record has fewer fields than the header; it was set aside.",
    "The record on {where} has {n_fields} fields; the header has {width}. A delimiter is "
    "missing, or the line was cut short. The record was set aside so that no value lands in "
    "the wrong column.",
)
NUL_BYTES = _declare(
    "nul-bytes",
    _W,
    "The file contains NUL bytes (corrupt, or UTF-16 without a byte-order mark).",
    "The file contains NUL bytes ({records} record(s) affected and set aside). Re-save it as "
    "UTF-8 CSV from the program that produced it.",
)
NUL_BYTE = _declare(
    "nul-byte",
    _E,
    "The record contains NUL bytes; it was set aside.",
    "The record on line {line} contains NUL bytes, a sign of a corrupt file or one saved as "
    "UTF-16 without a byte-order mark. The record was set aside; re-save the file as UTF-8 CSV.",
)

# -- checking the records (crisismap.records.validation and its modules) --

ID_MISSING = _declare(
    "id-missing",
    _W,
    "The record has no id; it was given one generated from its fields.",
    "The record has no id; it was given the generated id {extra} (a hash of its fields). "
    "Give every record an id so that it can be traced.",
)
ID_DUPLICATE = _declare(
    "id-duplicate",
    _W,
    "The id was already used by an earlier record.",
    "Id {value!r} was already used by the record on line {extra}: ids should be unique; "
    "check for a duplicated record.",
    generated="Id {value!r} was already used by the record on line {extra} (same content): "
    "this looks like a duplicated record.",
)
DATE_MISSING = _declare(
    "date-missing",
    _E,
    "The record has no date.",
    "The record has no date: every incident needs one (YYYY-MM-DD, or 2024-03 / 2024 when "
    "only the month or year is known).",
)
DATE_INVALID = _declare(
    "date-invalid",
    _E,
    "The date is in no form this tool reads.",
    "{value!r} is not a date this tool can read: use YYYY-MM-DD (e.g. 2024-03-15), "
    "DD/MM/YYYY, '15 March 2024', 2024-03 or 2024.",
)
DATE_IMPOSSIBLE = _declare(
    "date-impossible",
    _E,
    "The date is not on the calendar (e.g. 30 February).",
    "{value!r} is not on the calendar{extra}: check the day and the month.",
)
DATE_ORDER_CONFLICT = _declare(
    "date-order-conflict",
    _E,
    "The date reads both day-first and month-first, and the column holds dates of both kinds.",
    "{value!r} could be day-first or month-first, and this column holds dates of both "
    "kinds{extra}, so it cannot be decided. Choose the date order (dmy or mdy) explicitly; "
    "dates that do not fit it will then be listed.",
)
DATE_AMBIGUOUS = _declare(
    "date-ambiguous",
    _W,
    "The date was read day-first, as no date in the column decides; month-first differs.",
    "{value!r} could be day-first or month-first; no date in the column decides, so it was "
    "read day-first as {extra}. If the file writes month first, choose the date order mdy.",
)
DATE_ORDER_MIXED = _declare(
    "date-order-mixed",
    _W,
    "The date reads one way only, in a column that mixes day-first and month-first.",
    "{value!r} can only be read as {extra}, but the column mixes day-first and month-first "
    "dates: check this record.",
)
DATE_EXCEL_SERIAL = _declare(
    "date-excel-serial",
    _W,
    "The date is an Excel date number; it was converted.",
    "{value!r} looks like an Excel date number and was read as {extra}. Format the column as "
    "dates in the spreadsheet before exporting.",
)
DATE_TWO_DIGIT_YEAR = _declare(
    "date-two-digit-year",
    _W,
    "The date has a two-digit year; it was expanded.",
    "{value!r} has a two-digit year, read as {extra}. Write four-digit years.",
)
DATE_RANGE_REVERSED = _declare(
    "date-range-reversed",
    _E,
    "The end date is before the start date.",
    "The end date {value!r} is before the start date {extra}: fix or swap them.",
)
DATE_FUTURE = _declare(
    "date-future",
    _W,
    "The date is after today.",
    "The date {value!r} is in the future (after {extra}): check the year.",
)
COORDS_MISSING = _declare(
    "coords-missing",
    _E,
    "The record has no latitude or longitude.",
    "The record has no {axis_name}: it cannot be placed on the map.",
)
COORDS_INVALID = _declare(
    "coords-invalid",
    _E,
    "The coordinate (or coordinate pair) is in no form this tool reads.",
    "{value!r} is not a {axis_name} this tool can read{extra}: use decimal degrees such as "
    "48.5123 (or degrees-minutes-seconds like 48°30'44\"N).",
    pair="{value!r} is not a coordinate pair this tool can read: expected 'lat, lon' "
    "(e.g. '48.5, 37.2'), 'lat lon [altitude accuracy]' (Kobo geopoint) or WKT "
    "'POINT (lon lat)'.",
)
COORDS_NOT_FINITE = _declare(
    "coords-not-finite",
    _E,
    "The coordinate is infinite or NaN.",
    "{value!r} is not a finite {axis_name}.",
)
COORDS_OUT_OF_RANGE = _declare(
    "coords-out-of-range",
    _E,
    "The latitude is beyond ±90 or the longitude beyond ±180.",
    "{value!r} is outside the {axis_name} range -{limit:g} to {limit:g}: check the value "
    "(latitude and longitude may be swapped, or the decimal point lost).",
)
COORDS_DECIMAL_COMMA = _declare(
    "coords-decimal-comma",
    _W,
    "The coordinate has a decimal comma; it was read as a decimal point.",
    "{value!r} uses a decimal comma; read as {extra}. Use a decimal point for {axis_name}s.",
)
COORDS_DMS = _declare(
    "coords-dms",
    _W,
    "The coordinate is in degrees, minutes and seconds; it was converted.",
    "{value!r} is in degrees, minutes and seconds; converted to {extra} decimal degrees. "
    "Check the conversion.",
)
COORDS_HEMISPHERE = _declare(
    "coords-hemisphere",
    _W,
    "The coordinate has a hemisphere letter (N, S, E, W); it was converted to a signed value.",
    "{value!r} uses a hemisphere letter; read as {extra}. Use signed decimal degrees "
    "(negative for south and west) for {axis_name}s.",
)
COORDS_ZERO = _declare(
    "coords-zero",
    _E,
    "The coordinates are exactly (0, 0), almost always a missing location.",
    "Coordinates (0, 0) are in the Gulf of Guinea and almost always stand for a missing "
    "location: give the real coordinates or leave them empty.",
)
COORDS_LOW_PRECISION = _declare(
    "coords-low-precision",
    _W,
    "The coordinate has fewer than 2 decimals (about 1 km or worse).",
    "{value!r} has fewer than 2 decimals (about 1 km or worse): the point may fall in the "
    "wrong district. Give more precise coordinates if you have them.",
)
CATEGORY_MISSING = _declare(
    "category-missing",
    _W,
    "The record has no category; it is counted under no category.",
    "The record has no category: it is kept with category '' and counted under no category. "
    "Add the violation type if it is known.",
)
CATEGORY_UNKNOWN_CODE = _declare(
    "category-unknown-code",
    _W,
    "The category is not one of the preset's codes; it was kept as written.",
    "{value!r} is not a known code for this column (expected {allowed}); it was kept as written.",
)
VICTIMS_NEGATIVE = _declare(
    "victims-negative",
    _W,
    "The victim count is negative; it was set to unknown.",
    "The victim count {value!r} is negative: it was set to unknown. Use a whole number of "
    "people, or leave it empty when unknown.",
)
VICTIMS_NOT_INTEGER = _declare(
    "victims-not-integer",
    _W,
    "The victim count is not a whole number; it was set to unknown.",
    "The victim count {value!r} is not a whole number: it was set to unknown. Use a whole "
    "number of people, or leave it empty when unknown.",
)
VICTIMS_INVALID = _declare(
    "victims-invalid",
    _W,
    "The victim count is not a number; it was set to unknown.",
    "The victim count {value!r} is not a number: it was set to unknown. Use a whole number "
    "of people, or leave it empty when unknown.",
)
PRECISION_INVALID = _declare(
    "precision-invalid",
    _W,
    "The location precision is not a value of its scheme; the record counts at every level.",
    "{value!r} is not a {scheme} location precision (expected {allowed}): the record is "
    "attributed at every admin level, as if precise.",
)

# -- against the boundaries (crisismap.pipeline) --

COORDS_SWAPPED = _declare(
    "coords-swapped",
    _W,
    "Latitude and longitude look swapped (judged against the boundaries); only flagged.",
    "Latitude {lat} / longitude {lon} is outside every region (in the sea or off the map), "
    "and with the two swapped it falls in one of the countries this file is about. Check the "
    "source; rerun with the swap option to swap them.",
    stated="Latitude {lat} / longitude {lon} is not where the record says it is ({stated}); "
    "with the two swapped it is. Check the source; rerun with the swap option to swap them.",
)
COORDS_SWAPPED_FIXED = _declare(
    "coords-swapped-fixed",
    _W,
    "Latitude and longitude looked swapped and were swapped, as asked.",
    "Latitude {lat} / longitude {lon} is outside every region (in the sea or off the map), "
    "and with the two swapped it falls in one of the countries this file is about. They were "
    "swapped as you asked.",
    stated="Latitude {lat} / longitude {lon} is not where the record says it is ({stated}); "
    "with the two swapped it is. They were swapped as you asked.",
)
BOUNDARY_NAMES_UNKNOWN = _declare(
    "boundary-names-unknown",
    _W,
    "Over 10 % of the admin names the file states at a level are in no region of the "
    "boundaries: the boundaries are older than (or other than) the ones the file was written "
    "against.",
    "{unknown} of {stated} records ({share:.0%}) state an admin-{level} name or code that no "
    "region of the boundaries {boundaries} has ({dated}): {names}. The boundaries may be out of "
    "date or from another source: load current ones from geoBoundaries (geoboundaries.org) "
    "or OCHA's COD-AB on HDX (data.humdata.org), for example with `crisismap boundaries fetch "
    "ISO3`, and analyse again.",
)
