"""Fetch the map's browser assets from the npm registry into ``static/vendor/``.

The dashboard must work offline: folium loads Leaflet and its plugins from public
CDNs by default, and streamlit-folium shows no map at all when one fails. We serve
the same libraries ourselves (Streamlit static serving: ``/app/static/...``).
Run: ``uv run python scripts/vendor_static.py`` (needs ``npm``); the output is committed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "static" / "vendor"

# npm package -> files kept (paths inside the package tarball, under package/)
PACKAGES: dict[str, list[str]] = {
    "leaflet@1.9.3": [
        "dist/leaflet.js",
        "dist/leaflet.css",
        "dist/images/layers.png",
        "dist/images/layers-2x.png",
        "dist/images/marker-icon.png",
        "dist/images/marker-icon-2x.png",
        "dist/images/marker-shadow.png",
        "LICENSE",
    ],
    "leaflet.markercluster@1.5.3": [
        "dist/leaflet.markercluster.js",
        "dist/MarkerCluster.css",
        "dist/MarkerCluster.Default.css",
        "MIT-LICENCE.txt",
    ],
    "leaflet.heat@0.2.0": ["dist/leaflet-heat.js", "LICENSE"],
    # TopoJSON decoding: the choropleth travels with each shared border once.
    "topojson-client@3.1.0": ["dist/topojson-client.min.js", "LICENSE"],
}


def main() -> None:
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in PACKAGES.items():
            subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True)
            tgz = next(Path(tmp).glob(spec.replace("@", "-", 1) + ".tgz"))
            target = VENDOR / spec
            shutil.rmtree(target, ignore_errors=True)
            with tarfile.open(tgz) as tar:
                for name in files:
                    member = tar.extractfile(f"package/{name}")
                    if member is None:
                        raise SystemExit(f"{spec}: {name} not found in the package")
                    out = target / name
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(member.read())
            versions[spec] = {
                name: hashlib.sha256((target / name).read_bytes()).hexdigest() for name in files
            }
    (VENDOR / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(f"vendored {len(PACKAGES)} packages into {VENDOR}")


if __name__ == "__main__":
    main()
