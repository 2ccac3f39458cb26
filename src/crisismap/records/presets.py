"""Which column holds which field: presets for known exports, header-name detection, overrides.

A :class:`ColumnMapping` says, for each canonical field, which file column it comes
from and why (the preset). Detection only looks at the header names and HXL tags, so
it is cheap and predictable; every choice can be overridden explicitly, and the mapping
is reported so that a user can check it.

Canonical fields
----------------
``id``, ``date`` (or ``date_start`` + ``date_end``), ``lat`` + ``lon`` (or one combined
``coords`` column: ``"lat, lon"``, ``"lat lon [alt acc]"`` as in Kobo geopoints, or WKT
``POINT (lon lat)``), ``category`` (multi-label), ``subcategory``, ``victims``,
``description``, ``source``, ``location_precision`` (read with a :class:`PrecisionScheme`),
``approved`` / ``verified`` (yes/no flags, or a post status such as ``published``), and
the admin units the file states: ``adm0_name`` … ``adm4_name``, ``adm0_code`` …
``adm4_code`` (``country`` is an alias of ``adm0_name``, ``country_code`` of ``adm0_code``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from crisismap.errors import MappingError
from crisismap.i18n import _

ADMIN_FIELDS = tuple(f"adm{n}_{kind}" for n in range(5) for kind in ("name", "code"))
FIELDS: tuple[str, ...] = (
    "id",
    "date",
    "date_start",
    "date_end",
    "lat",
    "lon",
    "coords",
    "category",
    "subcategory",
    "victims",
    "description",
    "source",
    "location_precision",
    "approved",
    "verified",
    *ADMIN_FIELDS,
)
ALIASES = {
    "country": "adm0_name",
    "country_name": "adm0_name",
    "country_code": "adm0_code",
    "iso3": "adm0_code",
    "latitude": "lat",
    "longitude": "lon",
    "coordinates": "coords",
    "fatalities": "victims",
    "type": "category",
    "notes": "description",
    "precision": "location_precision",
    **{f"admin{n}": f"adm{n}_name" for n in range(5)},
    **{f"adm{n}": f"adm{n}_name" for n in range(5)},
}
PRESETS = ("ucdp", "acled", "kobo", "ushahidi", "hxl", "generic")
_PRESET_ALIASES = {"ucdp-ged": "ucdp", "ucdp_ged": "ucdp", "ged": "ucdp", "kobotoolbox": "kobo"}

AUTO = "auto"  # category separator: detect from the values (one of ; | ,)
NO_SPLIT = "none"  # category separator: every value is one label
SEPARATOR_CHOICES = (AUTO, NO_SPLIT, ";", "|", ",", "/")  # "/" only when asked for


def parse_separator(value: str | None) -> str | None:
    """A user's category-separator choice: ``auto``, ``none``, ``;``, ``|``, ``,`` or ``/``.

    Returns None for "the preset's choice" (no value given), ``""`` for no split.
    """
    if value is None:
        return None
    text = str(value).strip().strip("'\"").lower() or str(value).strip()
    if text in (AUTO, NO_SPLIT):
        return AUTO if text == AUTO else ""
    if text in SEPARATOR_CHOICES:
        return text
    allowed = ", ".join(SEPARATOR_CHOICES)
    raise MappingError(
        _(
            "Unknown category separator {value!r}: expected one of {allowed} "
            "(auto decides from the labels each one gives)."
        ).format(value=value, allowed=allowed)
    )


UCDP_VIOLENCE_TYPES = {
    "1": "state-based conflict",
    "2": "non-state conflict",
    "3": "one-sided violence",
}


class PrecisionScheme(StrEnum):
    """How to read a location-precision column into the finest attributable admin level.

    - ``ucdp`` (``where_prec``): 1–2 exact or near → any level; 3 → admin 2; 4 → admin 1;
      5–6 → country only; 7 → not even a country (international waters or air space).
    - ``acled`` (``geo_precision``): 1–2 → any level; 3 → admin 1 (a region centroid).
    - ``admin-level``: the value is the finest level itself (-1 … 4); empty = any.
    """

    UCDP = "ucdp"
    ACLED = "acled"
    LEVEL = "admin-level"


@dataclass(frozen=True)
class ColumnMapping:
    """Where each canonical field comes from, and how to read the multi-valued ones."""

    preset: str
    fields: dict[str, str]
    hxl: bool = False
    category_separator: str | None = AUTO
    category_split_on_space: bool = False
    category_labels: Mapping[str, str] = field(default_factory=dict)
    precision_scheme: PrecisionScheme | None = None
    overridden: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        """Human-readable preset name, e.g. ``"ucdp (HXL tags detected)"``."""
        suffix = " (HXL tags detected)" if self.hxl and self.preset != "hxl" else ""
        extra = " + overrides" if self.overridden else ""
        return f"{self.preset}{suffix}{extra}"

    def column(self, name: str) -> str | None:
        """The file column for ``name`` (a canonical field), or None when unmapped."""
        return self.fields.get(name)

    def describe(self) -> dict[str, str]:
        """Field → column, in canonical field order (what the report shows)."""
        return {f: self.fields[f] for f in FIELDS if f in self.fields}


def detect_mapping(
    header: Sequence[str],
    hxl_tags: Sequence[str] | None = None,
    *,
    preset: str | None = None,
    overrides: Mapping[str, str | None] | None = None,
    category_separator: str | None = None,
    precision_scheme: PrecisionScheme | str | None = None,
) -> ColumnMapping:
    """Choose a column for each canonical field.

    Parameters
    ----------
    header
        The file's (unique) column names.
    hxl_tags
        HXL hashtag per column (``""`` where untagged), or None when the file has none.
    preset
        Force a preset (one of :data:`PRESETS`); by default the first whose signature
        columns are all present, else HXL tags, else ``generic`` header-name detection.
    overrides
        ``{field: column}`` applied last; a ``None`` column unmaps the field. Field names
        may use :data:`ALIASES` (``country``, ``latitude``, …).
    category_separator
        Separator of multi-label categories: ``"auto"`` decides from the labels each of
        ``;``, ``|``, ``,`` and no split gives, ``"none"`` (or ``""``) keeps each value
        whole; by default the preset's choice.
    precision_scheme
        How to read ``location_precision`` when it is set by an override.

    Raises
    ------
    MappingError
        When a forced preset does not fit, an override names an unknown field or a
        missing column, or no date or coordinate columns can be found.
    """
    header = list(header)
    tags = list(hxl_tags) if hxl_tags else None
    base = _choose_preset(header, tags, preset)
    mapping = _apply_overrides(base, header, overrides or {})
    category_separator = parse_separator(category_separator)
    if category_separator is not None:
        mapping = _replace(mapping, category_separator=category_separator or None)
    if precision_scheme is not None:
        mapping = _replace(mapping, precision_scheme=_parse_scheme(precision_scheme))
    _require_essentials(mapping, header)
    return mapping


def _parse_scheme(value: PrecisionScheme | str) -> PrecisionScheme:
    text = str(value).strip().lower()
    for scheme in PrecisionScheme:
        if text in (scheme.value, scheme.name.lower()):
            return scheme
    allowed = ", ".join(s.value for s in PrecisionScheme)
    raise MappingError(
        _("Unknown precision scheme {value!r}: expected one of {allowed}.").format(
            value=value, allowed=allowed
        )
    )


# --- name normalisation ---------------------------------------------------------------


def _norm(name: str) -> str:
    """``"Post Date (UTC)"`` → ``post_date``; ``"grp/Incident date"`` → ``incident_date``."""
    text = name.strip().lower()
    if text == "#":
        return "#"
    text = re.sub(r"\((utc|gmt)\)", "", text)
    text = text.rsplit("/", 1)[-1]
    lead = text[: len(text) - len(text.lstrip("_"))]  # keep Kobo's _id, _submission_time
    return lead + re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def _index(header: list[str]) -> dict[str, str]:
    """Normalised name → first column with that name."""
    index: dict[str, str] = {}
    for name in header:
        index.setdefault(_norm(name), name)
    return index


def _pick(index: Mapping[str, str], *candidates: str) -> str | None:
    for candidate in candidates:
        if candidate in index:
            return index[candidate]
    return None


def _collect(index: Mapping[str, str], spec: Mapping[str, Sequence[str]]) -> dict[str, str]:
    found = {}
    for name, candidates in spec.items():
        column = _pick(index, *candidates)
        if column is not None:
            found[name] = column
    return found


# Second pass for names like "date_incident" or "type_violation": a token of the name
# says what it is, unless another token says it is something else.
_TOKEN_RULES: dict[str, tuple[set[str], set[str]]] = {
    "date": (
        {"date", "datetime"},
        {"submission", "submitted", "created", "updated", "modified", "report", "reported",
         "birth", "start", "end", "from", "to", "entry", "upload", "prec", "precision"},
    ),
    "lat": ({"lat", "latitude"}, {"precision", "accuracy", "prec"}),
    "lon": ({"lon", "lng", "long", "longitude"}, {"precision", "accuracy", "prec"}),
    "category": (
        {"category", "categories", "violation", "violations"},
        {"sub", "subcategory", "code", "id", "other", "count"},
    ),
    "victims": (
        {"victims", "fatalities", "killed", "deaths", "casualties"},
        {"names", "name", "age", "sex", "gender", "type", "identity", "list"},
    ),
}  # fmt: skip


def _by_tokens(index: Mapping[str, str], fields: dict[str, str]) -> dict[str, str]:
    used = set(fields.values())
    for name, (wanted, unwanted) in _TOKEN_RULES.items():
        if name in fields:
            continue
        for norm, column in index.items():
            tokens = set(norm.strip("_").split("_"))
            if tokens & wanted and not tokens & unwanted and column not in used:
                fields[name] = column
                used.add(column)
                break
    return fields


# --- presets ------------------------------------------------------------------------------

_GENERIC: dict[str, tuple[str, ...]] = {
    "id": (
        "id", "event_id", "incident_id", "record_id", "event_id_cnty", "report_id", "case_id",
        "post_id", "uid", "uuid", "_id", "#",
    ),
    "date": (
        "date", "event_date", "incident_date", "date_of_incident", "date_of_event",
        "incident_date_time", "occurred", "occurred_on", "date_occurred", "when", "datetime",
        "post_date",
    ),
    "date_start": (
        "date_start", "start_date", "date_from", "from_date", "begin_date", "date_begin",
    ),
    "date_end": ("date_end", "end_date", "date_to", "to_date", "finish_date"),
    "lat": ("lat", "latitude", "y", "lat_dd", "latitude_dd", "geo_lat", "location_lat", "gps_lat"),
    "lon": (
        "lon", "lng", "long", "longitude", "x", "lon_dd", "longitude_dd", "geo_lon", "geo_long",
        "location_lon", "location_lng", "gps_lon", "gps_lng",
    ),
    "coords": (
        "coords", "coordinates", "geopoint", "latlon", "lat_lon", "latlng", "lat_lng",
        "gps_coordinates", "geometry", "wkt", "geom_wkt", "the_geom", "point",
    ),
    "category": (
        "category", "categories", "event_type", "incident_type", "violation", "violations",
        "violation_type", "type_of_violation", "type", "category_name", "type_of_violence",
    ),
    "subcategory": ("subcategory", "sub_category", "sub_event_type", "subtype", "sub_type"),
    "victims": (
        "victims", "fatalities", "killed", "deaths", "casualties", "dead", "victim_count",
        "number_of_victims", "num_victims", "nb_victims", "total_deaths", "best",
        "deaths_best", "persons_killed",
    ),
    "description": (
        "description", "notes", "summary", "details", "narrative", "incident_description",
        "event_description", "comments", "text", "title", "incident_title",
    ),
    "source": ("source", "sources", "source_url", "reference", "source_article", "url", "link"),
    "approved": ("approved",),
    "verified": ("verified",),
    "adm0_name": ("country", "country_name", "adm0", "adm0_name", "admin0", "admin0_name"),
    "adm0_code": (
        "iso3", "country_code", "iso", "adm0_pcode", "adm0_code", "admin0pcode", "admin0_pcode",
        "iso_a3",
    ),
    **{
        f"adm{n}_name": (
            f"adm{n}", f"adm{n}_name", f"admin{n}", f"admin{n}_name", f"adm_{n}",
            f"admin{n}name", f"adm{n}_en", f"admin{n}name_en",
        )
        for n in range(1, 5)
    },
    **{
        f"adm{n}_code": (
            f"adm{n}_pcode", f"adm{n}_code", f"admin{n}pcode", f"admin{n}_pcode",
            f"admin{n}_code", f"adm{n}pcode",
        )
        for n in range(1, 5)
    },
}  # fmt: skip


def _match_ucdp(header: list[str], index: dict[str, str]) -> ColumnMapping | None:
    needed = ("date_start", "latitude", "longitude", "where_prec", "best", "type_of_violence")
    if not all(n in index for n in needed):
        return None
    spec = {
        "id": ("id",),
        "date_start": ("date_start",),
        "date_end": ("date_end",),
        "lat": ("latitude",),
        "lon": ("longitude",),
        "category": ("type_of_violence",),
        "victims": ("best",),
        "description": ("source_headline", "where_description"),
        "source": ("source_article", "source_original", "source_office"),
        "location_precision": ("where_prec",),
        "adm0_name": ("country",),
        "adm0_code": ("iso3",),
        "adm1_name": ("adm_1",),
        "adm2_name": ("adm_2",),
    }
    return ColumnMapping(
        preset="ucdp",
        fields=_collect(index, spec),
        category_separator=None,
        category_labels=UCDP_VIOLENCE_TYPES,
        precision_scheme=PrecisionScheme.UCDP,
    )


def _match_acled(header: list[str], index: dict[str, str]) -> ColumnMapping | None:
    if not ("event_date" in index and "event_type" in index and "fatalities" in index):
        return None
    if not ({"event_id_cnty", "event_id_no_cnty", "data_id"} & index.keys()):
        return None
    spec = {
        "id": ("event_id_cnty", "event_id_no_cnty", "data_id"),
        "date": ("event_date",),
        "lat": ("latitude",),
        "lon": ("longitude",),
        "category": ("event_type",),
        "subcategory": ("sub_event_type",),
        "victims": ("fatalities",),
        "description": ("notes",),
        "source": ("source",),
        "location_precision": ("geo_precision",),
        "adm0_name": ("country",),
        "adm0_code": ("iso3",),  # ACLED's "iso" is the numeric ISO 3166 code: not comparable
        "adm1_name": ("admin1",),
        "adm2_name": ("admin2",),
        "adm3_name": ("admin3",),
    }
    return ColumnMapping(
        preset="acled",
        fields=_collect(index, spec),
        category_separator=None,
        precision_scheme=PrecisionScheme.ACLED,
    )


_KOBO_META = {"_uuid", "_submission_time", "_index", "_validation_status", "__version__"}
_KOBO_GEOPOINT = ("geopoint", "location", "gps", "coordinates", "coords", "point", "position")
_KOBO_NOT_INCIDENT_DATE = ("_submission_time", "start", "end", "today")


def _match_kobo(header: list[str], index: dict[str, str]) -> ColumnMapping | None:
    if len(_KOBO_META & {n.strip().lower() for n in header}) < 2:
        return None
    lowered = {n.strip().lower(): n for n in header}
    skip = set(_KOBO_NOT_INCIDENT_DATE)
    generic_index = {k: v for k, v in index.items() if k not in skip}
    fields = _collect(generic_index, {k: v for k, v in _GENERIC.items() if k != "id"})
    fields = _by_tokens({k: v for k, v in generic_index.items() if not k.startswith("_")}, fields)
    fields["id"] = lowered.get("_id") or lowered.get("_uuid") or fields.get("id", "")
    if not fields["id"]:
        del fields["id"]
    for name in header:  # _<question>_latitude / _longitude, possibly group-prefixed
        match = re.fullmatch(r"(.*?)_latitude", name.strip(), re.IGNORECASE)
        if match and match.group(1).rsplit("/", 1)[-1].startswith("_"):
            lon = _find_case(header, f"{match.group(1)}_longitude")
            if lon:
                fields["lat"], fields["lon"] = name, lon
                fields.pop("coords", None)
                break
    if "lat" not in fields:
        coords = _pick(generic_index, *_KOBO_GEOPOINT)
        if coords:
            fields["coords"] = coords
    return ColumnMapping(preset="kobo", fields=fields, category_split_on_space=True)


def _find_case(header: list[str], name: str) -> str | None:
    for column in header:
        if column.strip().lower() == name.strip().lower():
            return column
    return None


# Ushahidi 2.x ("Download reports" in the admin panel) writes
#   #,INCIDENT TITLE,INCIDENT DATE,LOCATION,DESCRIPTION,CATEGORY,LATITUDE,LONGITUDE,
#   [custom form fields,]FIRST NAME,LAST NAME,EMAIL,APPROVED,VERIFIED
# (as in the 2.x export plugin lmmrssa/Ushahidi-plugin-exportreports, export_csv.php; some
# deployments name the first column "Serial"), categories joined by ", ". The current
# platform (3.x+) exports the native post fields "Post ID", "Post Status", "Created (UTC)",
# "Updated (UTC)", "Post Date (UTC)", "Contact ID", "Contact", "Sets", then each survey
# field under its label, a location field as "<label>.lat" / "<label>.lon"
# (FormAttributeRepository::getByForms and Formatter/Post/CSV.php in ushahidi/platform,
# found with the search tool). Post Status is published / draft (in review) / archived.
def _match_ushahidi(header: list[str], index: dict[str, str]) -> ColumnMapping | None:
    titled = {"incident_title", "incident_date"} <= index.keys()
    v2 = titled and bool({"#", "serial"} & index.keys())
    v3 = "post_id" in index and bool({"title", "post_status", "post_date"} & index.keys())
    if not (v2 or v3):
        return None
    spec = {
        "id": ("post_id", "#", "serial"),
        "date": ("incident_date", "post_date", "date"),
        "lat": ("latitude", "location_lat", "lat"),
        "lon": ("longitude", "location_lon", "lon", "lng"),
        "category": ("categories", "category"),
        "description": ("description", "incident_description", "title", "incident_title"),
        "source": ("source", "source_url", "url"),
        "approved": ("approved", "post_status", "status"),
        "verified": ("verified",),
    }
    fields = _collect(index, spec)
    if "lat" not in fields:  # v3 exports a location field as "<label>.lat" / "<label>.lon"
        for name in header:
            if name.lower().endswith(".lat"):
                lon = _find_case(header, name[:-4] + ".lon")
                if lon:
                    fields["lat"], fields["lon"] = name, lon
                    break
    return ColumnMapping(preset="ushahidi", fields=fields)  # labels decide the separator


# HXL: (tag, required attributes) → field; the first matching column wins.
_HXL_RULES: tuple[tuple[str, frozenset[str], frozenset[str], str], ...] = (
    ("#geo", frozenset({"lat"}), frozenset(), "lat"),
    ("#geo", frozenset({"lon"}), frozenset(), "lon"),
    ("#geo", frozenset({"coord"}), frozenset(), "coords"),
    ("#date", frozenset({"start"}), frozenset(), "date_start"),
    ("#date", frozenset({"end"}), frozenset(), "date_end"),
    ("#date", frozenset(), frozenset({"start", "end", "year", "reported", "updated"}), "date"),
    ("#event", frozenset({"id"}), frozenset(), "id"),
    ("#meta", frozenset({"id"}), frozenset(), "id"),
    ("#event", frozenset({"type"}), frozenset({"sub"}), "category"),
    ("#event", frozenset({"category"}), frozenset(), "category"),
    ("#category", frozenset(), frozenset(), "category"),
    ("#crisis", frozenset({"type"}), frozenset(), "category"),
    ("#event", frozenset({"type", "sub"}), frozenset(), "subcategory"),
    ("#affected", frozenset({"killed"}), frozenset(), "victims"),
    ("#affected", frozenset({"dead"}), frozenset(), "victims"),
    ("#affected", frozenset({"casualties"}), frozenset(), "victims"),
    ("#description", frozenset(), frozenset(), "description"),
    ("#event", frozenset({"description"}), frozenset(), "description"),
    ("#meta", frozenset({"source"}), frozenset(), "source"),
    ("#meta", frozenset({"url"}), frozenset(), "source"),
    ("#country", frozenset({"name"}), frozenset(), "adm0_name"),
    ("#country", frozenset({"code"}), frozenset(), "adm0_code"),
    *(
        (f"#adm{n}", frozenset({kind}), frozenset(), f"adm{n}_{kind}")
        for n in range(1, 5)
        for kind in ("name", "code")
    ),
)


def _hxl_fields(header: list[str], tags: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for column, tag in zip(header, tags, strict=False):
        if not tag:
            continue
        name, *attrs = tag.split("+")
        attr_set = set(attrs)
        for rule_tag, required, excluded, target in _HXL_RULES:
            if name == rule_tag and required <= attr_set and not (excluded & attr_set):
                fields.setdefault(target, column)
                break
    return fields


def _match_hxl(header: list[str], tags: list[str] | None) -> ColumnMapping | None:
    if not tags:
        return None
    fields = _hxl_fields(header, tags)
    if not ({"lat", "coords", "date", "date_start"} & fields.keys()):
        return None
    generic = _collect(_index(header), _GENERIC)
    used = set(fields.values())
    for name, column in generic.items():
        if name not in fields and column not in used and not _conflicts(name, fields):
            fields[name] = column
    return ColumnMapping(preset="hxl", fields=fields, hxl=True)


def _conflicts(name: str, fields: Mapping[str, str]) -> bool:
    groups = ({"date", "date_start", "date_end"}, {"lat", "lon", "coords"})
    return any(name in g and g & fields.keys() for g in groups)


def _match_generic(header: list[str], index: dict[str, str]) -> ColumnMapping:
    fields = _by_tokens(index, _collect(index, _GENERIC))
    fields = _resolve_conflicts(fields)
    return ColumnMapping(preset="generic", fields=fields)


def _resolve_conflicts(fields: dict[str, str]) -> dict[str, str]:
    """Prefer lat+lon over a combined column, and one date over a start/end pair."""
    if "lat" in fields and "lon" in fields:
        fields.pop("coords", None)
    elif "coords" in fields:
        fields.pop("lat", None)
        fields.pop("lon", None)
    if "date" in fields and "date_start" in fields:
        fields.pop("date")
    return fields


def _choose_preset(header: list[str], tags: list[str] | None, preset: str | None) -> ColumnMapping:
    index = _index(header)
    hxl = bool(tags and any(tags))
    matchers = {
        "ucdp": lambda: _match_ucdp(header, index),
        "acled": lambda: _match_acled(header, index),
        "kobo": lambda: _match_kobo(header, index),
        "ushahidi": lambda: _match_ushahidi(header, index),
        "hxl": lambda: _match_hxl(header, tags),
        "generic": lambda: _match_generic(header, index),
    }
    if preset:
        name = preset.strip().lower()
        name = _PRESET_ALIASES.get(name, name)
        if name not in matchers:
            raise MappingError(
                _(
                    "Unknown preset {preset!r}: expected one of {values} (or none, to "
                    "detect it from the header)."
                ).format(preset=preset, values=", ".join(PRESETS))
            )
        found = matchers[name]()
        if found is None:
            raise MappingError(
                _(
                    "The file does not look like a {name!r} export: its signature "
                    "columns are missing. Columns in the file: {columns}. Choose "
                    "another preset, or none to detect it."
                ).format(name=name, columns=_columns(header))
            )
    else:
        for match in matchers.values():
            found = match()
            if found is not None:
                break
    assert found is not None  # generic always matches
    if hxl and not found.hxl:
        found = _replace(found, hxl=True)
    return found


def _replace(mapping: ColumnMapping, **changes: object) -> ColumnMapping:
    values = {
        "preset": mapping.preset,
        "fields": dict(mapping.fields),
        "hxl": mapping.hxl,
        "category_separator": mapping.category_separator,
        "category_split_on_space": mapping.category_split_on_space,
        "category_labels": mapping.category_labels,
        "precision_scheme": mapping.precision_scheme,
        "overridden": mapping.overridden,
    }
    values.update(changes)
    return ColumnMapping(**values)  # type: ignore[arg-type]


# --- overrides and checks -------------------------------------------------------------------

_EXCLUSIVE = {
    "coords": ("lat", "lon"),
    "lat": ("coords",),
    "lon": ("coords",),
    "date": ("date_start", "date_end"),
    "date_start": ("date",),
}


def _columns(header: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in header[:60])
    return shown + (f" … ({len(header)} in all)" if len(header) > 60 else "")


def _canonical_field(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in FIELDS:
        raise MappingError(
            _(
                "Unknown field {name!r} in the column mapping: expected one of "
                "{values} (or an alias: {values2})."
            ).format(name=name, values=", ".join(FIELDS), values2=", ".join(sorted(ALIASES)))
        )
    return key


def _resolve_column(column: str, header: list[str], field_name: str) -> str:
    if column in header:
        return column
    folded = [c for c in header if c.strip().lower() == column.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    raise MappingError(
        _(
            "The mapping puts field {field_name!r} in column {column!r}, but "
            "the file has no such column. Columns in the file: {columns}."
        ).format(field_name=field_name, column=column, columns=_columns(header))
    )


def _apply_overrides(
    mapping: ColumnMapping, header: list[str], overrides: Mapping[str, str | None]
) -> ColumnMapping:
    if not overrides:
        return mapping
    fields = dict(mapping.fields)
    changed: set[str] = set()
    scheme = mapping.precision_scheme
    for raw_name, column in overrides.items():
        name = _canonical_field(raw_name)
        changed.add(name)
        if column is None or not str(column).strip():
            fields.pop(name, None)
            continue
        fields[name] = _resolve_column(str(column), header, name)
        for other in _EXCLUSIVE.get(name, ()):
            if other not in overrides:
                fields.pop(other, None)
        if name == "location_precision":
            scheme = _scheme_for_column(fields[name]) or scheme
    extra: dict[str, object] = {}
    if fields.get("category") != mapping.fields.get("category"):
        extra = {"category_labels": {}, "category_separator": AUTO}  # labels were per column
    return _replace(
        mapping,
        fields=fields,
        overridden=mapping.overridden | changed,
        precision_scheme=scheme,
        **extra,
    )


def _scheme_for_column(column: str) -> PrecisionScheme | None:
    return {"where_prec": PrecisionScheme.UCDP, "geo_precision": PrecisionScheme.ACLED}.get(
        _norm(column)
    )


def _require_essentials(mapping: ColumnMapping, header: list[str]) -> None:
    fields = mapping.fields
    missing = []
    if "date" not in fields and "date_start" not in fields:
        hint = ""
        kobo_dates = [c for c in header if _norm(c) in _KOBO_NOT_INCIDENT_DATE]
        if kobo_dates:
            hint = " " + _(
                "(column(s) {columns} only say when the form was filled in or sent, not when "
                "the incident happened: map one only if that is what you mean)"
            ).format(columns=", ".join(map(repr, kobo_dates)))
        missing.append(
            _(
                "no date column was found: choose it (--map date=COLUMN on the command line, "
                "'date column' under 'Columns and dates' in the dashboard; date_start and "
                "date_end for ranges)"
            )
            + hint
        )
    if not ("coords" in fields or ("lat" in fields and "lon" in fields)):
        missing.append(
            _(
                "no coordinate columns were found: choose them (--map lat=COLUMN --map "
                "lon=COLUMN, or --map coords=COLUMN for one 'lat, lon' column; the same fields "
                "under 'Columns and dates' in the dashboard)"
            )
        )
    if "location_precision" in fields and mapping.precision_scheme is None:
        missing.append(
            _(
                "column {column!r} is mapped to location_precision but its codes are "
                "unknown: choose the preset whose precision codes it uses (ucdp or acled), or "
                "leave the column unmapped"
            ).format(column=fields["location_precision"])
        )
    if missing:
        raise MappingError(
            _(
                "Cannot read incidents with the {mapping} mapping: {missing}. Columns in the "
                "file: {columns}."
            ).format(mapping=mapping.label, missing="; ".join(missing), columns=_columns(header))
        )
