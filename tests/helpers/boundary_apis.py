"""A local HTTP server that answers like geoBoundaries' API and HDX's CKAN API, so the
fetch tests never reach the internet (the env vars point crisismap at it)."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait this long before answering (a slow service)


@dataclass
class FakeApis:
    """The server's address, what it answers (path with query -> Route) and what it was asked."""

    base: str
    routes: dict[str, Route]
    asked: list[str] = field(default_factory=list)

    def json(self, path: str, value: Any, status: int = 200) -> str:
        self.routes[path] = Route(
            status, json.dumps(value).encode(), {"Content-Type": "application/json"}
        )
        return self.base + path

    def file(self, path: str, data: bytes, **headers: str) -> str:
        self.routes[path] = Route(200, data, headers)
        return self.base + path


@contextmanager
def fake_apis() -> Iterator[FakeApis]:
    """A server on 127.0.0.1 in a thread; unknown paths answer 404 like the real APIs."""
    apis = FakeApis("", {})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            apis.asked.append(self.path)
            route = apis.routes.get(self.path, Route(404, b'{"detail": "Not Found"}'))
            time.sleep(route.delay_s)
            self.send_response(route.status)
            for key, value in route.headers.items():
                self.send_header(key, value)
            if "Content-Length" not in route.headers:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    apis.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield apis
    finally:
        server.shutdown()
        server.server_close()


def square(x: float, y: float, size: float = 1.0) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def geoboundaries_geojson(iso3: str, level: int, regions: list[tuple[str, str, dict]]) -> bytes:
    """A FeatureCollection laid out like geoBoundaries' files: (shapeID, shapeName, geometry)."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "shapeName": name,
                "shapeISO": "",
                "shapeID": code,
                "shapeGroup": iso3,
                "shapeType": f"ADM{level}",
            },
            "geometry": geometry,
        }
        for code, name, geometry in regions
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def geoboundaries_meta(iso3: str, level: int, url: str, **extra: Any) -> dict[str, Any]:
    """One level's metadata as the gbOpen API answers it (the fields crisismap reads, and more)."""
    return {
        "boundaryID": f"{iso3}-ADM{level}-12345678",
        "boundaryName": iso3,
        "boundaryISO": iso3,
        "boundaryYearRepresented": "2022",
        "boundaryType": f"ADM{level}",
        "boundaryCanonical": "Oblasts" if level == 1 else "Unknown",
        "boundarySource": "OCHA ROSEA, State Statistics Service",
        "boundaryLicense": (
            "Creative Commons Attribution 3.0 Intergovernmental Organisations (CC BY 3.0 IGO)"
        ),
        "licenseDetail": "",
        "licenseSource": "data.humdata.org/dataset/cod-ab-ukr",
        "boundarySourceURL": "data.humdata.org/dataset/cod-ab-ukr",
        "sourceDataUpdateDate": "Tue Jun 06 2023",
        "buildDate": "Dec 12, 2023",
        "Continent": "Europe",
        "admUnitCount": "2",
        "staticDownloadLink": url.replace(".geojson", "-all.zip"),
        "gjDownloadURL": url,
        "tjDownloadURL": url.replace(".geojson", ".topojson"),
        "imagePreview": url.replace(".geojson", "-PREVIEW.png"),
        "simplifiedGeometryGeoJSON": url.replace(".geojson", "_simplified.geojson"),
        **extra,
    }


def ckan_package(iso3: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """HDX's package_show answer for ``cod-ab-<iso3>`` (the fields crisismap reads, and more)."""
    return {
        "help": "https://data.humdata.org/api/3/action/help_show?name=package_show",
        "success": True,
        "result": {
            "name": f"cod-ab-{iso3.lower()}",
            "title": f"{iso3} - Subnational Administrative Boundaries",
            "dataset_date": "[2024-01-01T00:00:00 TO 2024-04-16T23:59:59]",
            "dataset_source": "State Scientific and Production Enterprise",
            "license_id": "cc-by-igo",
            "license_title": "Creative Commons Attribution for Intergovernmental Organisations",
            "last_modified": "2024-05-02T10:11:12.000000",
            "metadata_modified": "2024-05-02T10:11:13.000000",
            "organization": {
                "name": "ocha-fiss",
                "title": "OCHA Field Information Services Section (FISS)",
            },
            "num_resources": len(resources),
            "resources": resources,
        },
    }


def cod_resource(url: str, fmt: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "format": fmt,
        "url": url,
        "size": None,
        "last_modified": "2024-04-16T00:00:00",
    }


def cod_geojson(level: int, regions: list[tuple[str, str, str, dict]]) -> bytes:
    """A COD-AB level as GeoJSON: (pcode, name, parent pcode, geometry)."""
    features = []
    for pcode, name, parent, geometry in regions:
        props = {"adm0_pcode": "UA", "iso3": "UKR", f"adm{level}_pcode": pcode}
        props[f"adm{level}_name"] = name
        if level > 0:
            props[f"adm{level - 1}_pcode"] = parent
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
