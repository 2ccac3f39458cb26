"""Hostile uploads: each refused, or repaired with a note, within a time and memory bound.

Every case goes through the function the dashboard calls for that upload
(``read_boundary_bytes`` for boundary files, ``read_csv_bytes`` + presets + validate for
incident files; the sparse-file cases through the CLI's path loaders). A case passes
when the expected outcome happens *and*:

* it ends within ``TIME_LIMIT_S`` seconds of wall time, and
* the process's peak resident memory grows by at most ``MEMORY_LIMIT_MB`` above what it
  was when the case started. The peak (``VmHWM``) is reset per case through
  ``/proc/self/clear_refs``, so it counts GDAL's and Arrow's allocations too, which
  ``tracemalloc`` cannot see (and tracing would slow the timed code down). Allocating the
  hostile input is not counted: an upload arrives as bytes already in memory.

Bounds are generous for a busy two-core machine; the printed figures are the measured
ones. A refusal must be an :class:`~crisismap.errors.InputError` with a message naming
the file, and must never echo a server file's content.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from crisismap.boundaries import load_boundaries, read_boundary_bytes
from crisismap.errors import CrisismapError, InputError, UnsafeInputError
from crisismap.records import presets
from crisismap.records import read as ingest
from crisismap.records import validation as validate
from tests.adversarial import figures

SUITE = "hostile uploads"
TIME_LIMIT_S = 30.0
MEMORY_LIMIT_MB = 1024.0
SECRET_FILE = "/etc/passwd"  # what a VRT would make GDAL read; its content must never show
VRT = f"""<OGRVRTDataSource>
  <OGRVRTLayer name="leak"><SrcDataSource>CSV:{SECRET_FILE}</SrcDataSource>
  <GeometryType>wkbPolygon</GeometryType></OGRVRTLayer>
</OGRVRTDataSource>""".encode()


# --- measuring ---------------------------------------------------------------------


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Measure:
    seconds: float = 0.0
    rss_mb: float = 0.0  # peak resident growth during the case


@contextmanager
def measured() -> Iterator[Measure]:
    result = Measure()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to now
    except OSError:
        pass
    base = _rss_mb("VmRSS")
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - start
        result.rss_mb = max(_rss_mb("VmHWM") - base, 0.0)


# --- the hostile inputs ------------------------------------------------------------


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _feature_collection(rings: list[list[list[float]]]) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"ADM1_PCODE": f"XX{i:02d}", "ADM1_EN": f"Region {i}"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for i, ring in enumerate(rings)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _circle(n: int) -> list[list[float]]:
    ring = [
        [10 + math.cos(2 * math.pi * i / n), 10 + math.sin(2 * math.pi * i / n)] for i in range(n)
    ]
    return ring + [ring[0]]


def _nested_zip_bomb() -> bytes:
    inner = _zip({"adm1.geojson": b"\0" * (50 * 1024**2)})
    return _zip({f"layer{i}.zip": inner for i in range(10)})


def _many_members() -> bytes:
    """501 members of 1 MiB each: no single one looks like a bomb, together 501 MiB."""
    chunk = b"\0" * 1024**2
    return _zip({f"part{i:03d}.geojson": chunk for i in range(501)})


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("adm1.geojson")
        info.external_attr = (0o120777 << 16) | 0x20  # a symbolic link to a server file
        archive.writestr(info, SECRET_FILE)
    return buffer.getvalue()


def _topojson_reusing_one_arc(vertices: int, polygons: int) -> bytes:
    half = vertices // 2
    arc = [[0, 0]] + [[1, 0]] * half + [[0, 1]] + [[-1, 0]] * half + [[0, -1]]
    geometries = [
        {"type": "Polygon", "arcs": [[0]], "properties": {"ADM1_PCODE": f"X{i}", "ADM1_EN": "x"}}
        for i in range(polygons)
    ]
    topology = {
        "type": "Topology",
        "transform": {"scale": [1e-6, 1e-6], "translate": [10, 10]},
        "objects": {"adm1": {"type": "GeometryCollection", "geometries": geometries}},
        "arcs": [arc],
    }
    return json.dumps(topology, separators=(",", ":")).encode()


def _geoparquet(rows: int, geometry: shapely.Geometry) -> bytes:
    """A GeoParquet whose rows all point at one dictionary entry: tiny on disk."""
    indices = pa.array([0] * rows, pa.int32())
    table = pa.table(
        {
            "ADM1_PCODE": pa.DictionaryArray.from_arrays(indices, pa.array(["XX01"])),
            "geometry": pa.DictionaryArray.from_arrays(
                indices, pa.array([shapely.to_wkb(geometry)], pa.binary())
            ),
        }
    )
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Polygon"]}},
    }
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def _deep_geojson(depth: int) -> bytes:
    return (
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":'
        + b"[" * depth
        + b"]" * depth
        + b'},"geometry":null}]}'
    )


def _deep_topojson(depth: int) -> bytes:
    return (
        b'{"type":"Topology","objects":{"a":'
        + b'{"x":' * depth
        + b"1"
        + b"}" * depth
        + b'},"arcs":[]}'
    )


HEADER = b"id,date,latitude,longitude,category,description\n"
GOOD = b"1,2024-01-01,15.51,32.52,killing,text\n"
STRAY = b'2,2024-01-01,15.51,32.52,killing,"text\n'


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "boundaries" | "incidents"
    make: Callable[[], bytes]
    filename: str
    expect: str  # "refused" | "repaired" | "accepted"
    match: str = ""  # in the refusal message, or in a note when repaired
    slow: bool = False  # over ~1 s (mostly a big file): marked slow, out of the quick loop


BOUNDARY_CASES = [
    Case(
        "zip bomb, flat (300 MiB of zeros)",
        "boundaries",
        lambda: _zip({"adm1.geojson": b"\0" * (300 * 1024**2)}),
        "bomb.zip",
        "refused",
        "zip bomb",
        slow=True,
    ),
    Case(
        "zip bomb, nested zips", "boundaries", _nested_zip_bomb, "nested.zip", "refused", "archive"
    ),
    Case(
        "zip of 501 x 1 MiB members",
        "boundaries",
        _many_members,
        "many.zip",
        "refused",
        "expand",
        slow=True,
    ),
    Case(
        "gzip bomb (600 MiB of spaces)",
        "boundaries",
        lambda: gzip.compress(b" " * (600 * 1024**2), 9),
        "adm1.geojson.gz",
        "refused",
        "fold",
        slow=True,
    ),
    Case(
        "gzip holding a zip",
        "boundaries",
        lambda: gzip.compress(_zip({"a.geojson": b"{}"})),
        "adm1.zip.gz",
        "refused",
        "archive",
    ),
    *[
        Case(
            f"zip-slip member {member!r}",
            "boundaries",
            lambda member=member: _zip({member: _feature_collection([_circle(8)])}),
            "slip.zip",
            "refused",
            "zip-slip",
        )
        for member in (
            "../evil.geojson",
            "a/../../evil.geojson",
            "/tmp/evil.geojson",
            "..\\evil.geojson",
            "C:/evil.geojson",
        )
    ],
    Case("zip with a symlink member", "boundaries", _symlink_zip, "link.zip", "refused", ""),
    *[
        Case(
            f"GDAL VRT named {name}",
            "boundaries",
            lambda data=data: data,
            name,
            "refused",
            "",
        )
        for name, data in (
            ("adm1.geojson", VRT),
            ("adm1.json", VRT),
            ("adm1.topojson", VRT),
            ("adm1.gpkg", VRT),
            ("adm1.parquet", VRT),
            ("adm1.geojson.gz", gzip.compress(VRT)),
            ("adm1.zip", _zip({"adm1.shp": VRT, "adm1.dbf": b"", "adm1.shx": b""})),
            ("adm1-geojson.zip", _zip({"adm1.geojson": VRT})),
            ("adm1-vrt.zip", _zip({"adm1.vrt": VRT})),
            ("bom.geojson", b"\xef\xbb\xbf \n\t" + VRT),
            ("utf16.geojson", VRT.decode().encode("utf-16")),
        )
    ],
    Case(
        "GeoJSON nested 100,000 levels deep",
        "boundaries",
        lambda: _deep_geojson(100_000),
        "deep.geojson",
        "refused",
        "",
    ),
    Case(
        "TopoJSON nested 100,000 levels deep",
        "boundaries",
        lambda: _deep_topojson(100_000),
        "deep.topojson",
        "refused",
        "",
    ),
    Case(
        "TopoJSON: 200 polygons reuse one 100,000-vertex arc (0.7 MB)",
        "boundaries",
        lambda: _topojson_reusing_one_arc(100_000, 200),
        "reuse.topojson",
        "refused",
        "vertices",
    ),
    Case(
        "GeoParquet: 2 million rows in 0.1 MB (dictionary)",
        "boundaries",
        lambda: _geoparquet(2_000_000, shapely.box(0, 0, 1, 1)),
        "rows.parquet",
        "refused",
        "features",
    ),
    Case(
        "GeoParquet: 100,000 rows share one 60,000-vertex polygon",
        "boundaries",
        lambda: _geoparquet(100_000, shapely.Polygon(_circle(60_000))),
        "shared.parquet",
        "refused",
        "MB",
    ),
    Case(
        "one polygon of 1,000,000 vertices (37 MB GeoJSON)",
        "boundaries",
        lambda: _feature_collection([_circle(1_000_000)]),
        "big.geojson",
        "accepted",
        slow=True,
    ),
    Case(
        "self-intersecting polygon (bow tie)",
        "boundaries",
        lambda: _feature_collection([[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]),
        "bowtie.geojson",
        "repaired",
        "make_valid",
    ),
    Case(
        "polygon drawn across the antimeridian",
        "boundaries",
        lambda: _feature_collection(
            [[[179, -17], [-179, -17], [-179, -16], [179, -16], [179, -17]]]
        ),
        "fiji.geojson",
        "repaired",
        "antimeridian",
    ),
    Case(
        "polygon in 0..360 longitudes, beyond 180",
        "boundaries",
        lambda: _feature_collection([[[170, -17], [190, -17], [190, -16], [170, -16], [170, -17]]]),
        "fiji360.geojson",
        "repaired",
        "antimeridian",
    ),
    Case(
        "boundary upload of 201 MB",
        "boundaries",
        lambda: b" " * (201 * 1024**2),
        "huge.geojson",
        "refused",
        "limit",
    ),
]

INCIDENT_CASES = [
    Case(
        "incident upload of 201 MB",
        "incidents",
        lambda: b"a" * (201 * 1024**2),
        "huge.csv",
        "refused",
    ),
    Case(
        "header of 200,000 columns",
        "incidents",
        lambda: b",".join(b"c%d" % i for i in range(200_000)) + b"\n" + b"1," * 199_999 + b"1\n",
        "wide.csv",
        "refused",
        "columns",
    ),
    Case(
        "a stray quote on each of 50,000 lines",
        "incidents",
        lambda: HEADER + STRAY * 50_000,
        "quotes.csv",
        "accepted",
        slow=True,
    ),
    Case(
        "20,000 stray quotes among 200,000 lines",
        "incidents",
        lambda: HEADER + (GOOD * 9 + STRAY) * 20_000,
        "some-quotes.csv",
        "accepted",
        slow=True,
    ),
    Case(
        "one value of 50 MB",
        "incidents",
        lambda: HEADER + b"1,2024-01-01,15.51,32.52,killing," + b"x" * 50_000_000 + b"\n",
        "long.csv",
        "accepted",
    ),
    Case(
        "a quote never closed, 100,000 lines from the end",
        "incidents",
        lambda: HEADER + b'1,2024-01-01,15.51,32.52,killing,"' + b"a,b,c\n" * 100_000,
        "runaway.csv",
        "accepted",
        slow=True,
    ),
    Case(
        "a zip archive uploaded as CSV",
        "incidents",
        lambda: _zip({"x.csv": HEADER + GOOD * 1000}),
        "archive.csv",
        "refused",
    ),
    Case(
        "a million blank lines",
        "incidents",
        lambda: HEADER + b"\n" * 1_000_000 + GOOD,
        "blank.csv",
        "accepted",
    ),
    Case(
        "NUL bytes throughout",
        "incidents",
        lambda: HEADER + (GOOD.replace(b"text", b"te\0xt")) * 10_000,
        "nul.csv",
        "accepted",
        slow=True,
    ),
]


# --- running a case ------------------------------------------------------------------


def _run(case: Case, data: bytes) -> tuple[str, str]:
    """(outcome, message or notes) of giving ``data`` to the app's reader."""
    try:
        if case.kind == "boundaries":
            result = read_boundary_bytes(data, case.filename)
            notes = " ".join(result.notes)
            return ("repaired" if case.match and case.match in notes else "accepted"), notes
        raw = ingest.read_csv_bytes(data, filename=case.filename)
        report = validate.validate(raw, presets.detect_mapping(raw.header, raw.hxl_tags)).report
        assert report.accepted + report.rejected == report.records
        return "accepted", f"{report.records:,} records, {report.rejected:,} rejected"
    except InputError as exc:
        return "refused", str(exc)


_WORST = {"s": 0.0, "mb": 0.0}
_OUTCOME_FIGURE = {
    "refused": "refused with a message",
    "repaired": "repaired with a note",
    "accepted": "read within the bounds",
}


def _record(case: Case, outcome: str, measure: Measure) -> None:
    figures.add(SUITE, "cases")
    figures.add(SUITE, _OUTCOME_FIGURE[outcome])
    _WORST["s"] = max(_WORST["s"], measure.seconds)
    _WORST["mb"] = max(_WORST["mb"], measure.rss_mb)
    figures.put(SUITE, "slowest case (s)", round(_WORST["s"], 2))
    figures.put(SUITE, "largest memory growth (MB)", round(_WORST["mb"]))
    figures.put(
        SUITE, f"  {case.name}", f"{outcome}, {measure.seconds:.2f} s, +{measure.rss_mb:.0f} MB"
    )


@pytest.fixture(scope="module", autouse=True)
def _figure_order():
    """The summary figures first, then one line per case (in the order they ran)."""
    for name in ("cases", *_OUTCOME_FIGURE.values(), "crashes"):
        figures.put(SUITE, name, 0)
    figures.put(SUITE, "bounds per case", f"{TIME_LIMIT_S:.0f} s, {MEMORY_LIMIT_MB:.0f} MB")
    figures.put(SUITE, "slowest case (s)", 0.0)
    figures.put(SUITE, "largest memory growth (MB)", 0)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else [])
        for c in BOUNDARY_CASES + INCIDENT_CASES
    ],
)
def test_hostile_upload_is_refused_or_repaired_within_bounds(case):
    data = case.make()
    try:
        with measured() as measure:
            outcome, text = _run(case, data)
    except CrisismapError as exc:  # pragma: no cover - a CrisismapError not an InputError
        figures.add(SUITE, "crashes")
        pytest.fail(f"{case.name}: {type(exc).__name__} is not an InputError: {exc}")
    except Exception:
        figures.add(SUITE, "crashes")
        raise
    figures.add(SUITE, "crashes", 0)
    del data
    _record(case, outcome, measure)
    assert outcome == case.expect, f"{case.name}: {outcome}: {text[:300]}"
    assert case.match in text, f"{case.name}: {text[:300]}"
    assert "root:" not in text, "a server file's content reached the message"
    if outcome == "refused":  # sentences the app can show as they are
        assert text.rstrip().endswith((".", ")")), text
    assert measure.seconds <= TIME_LIMIT_S, f"{case.name}: {measure.seconds:.1f} s"
    assert measure.rss_mb <= MEMORY_LIMIT_MB, f"{case.name}: +{measure.rss_mb:.0f} MB"


def test_repaired_antimeridian_polygon_covers_the_right_side():
    data = _feature_collection([[[179, -17], [-179, -17], [-179, -16], [179, -16], [179, -17]]])
    shape = read_boundary_bytes(data, "fiji.geojson").levels[1].geometry.iloc[0]
    assert shape.contains(shapely.Point(179.5, -16.5)) and shape.contains(
        shapely.Point(-179.5, -16.5)
    )
    assert not shape.contains(shapely.Point(0, -16.5))


@pytest.mark.parametrize("kind", ["boundaries", "incidents"])
def test_oversized_files_on_disk_are_refused_before_reading(tmp_path, kind):
    """The CLI's path loaders check the size first: a sparse 300 MB file costs nothing."""
    path = tmp_path / ("huge.geojson" if kind == "boundaries" else "huge.csv")
    with path.open("wb") as handle:
        handle.truncate(300 * 1024**2)
    with measured() as measure, pytest.raises(UnsafeInputError, match="limit"):
        if kind == "boundaries":
            load_boundaries(path)
        else:
            ingest.read_csv_file(path)
    assert measure.rss_mb < 50


def test_nothing_escapes_the_extraction_folder(tmp_path, monkeypatch):
    """After every zip-slip attempt, nothing was written next to the temporary folders."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    for member in ("../evil.geojson", "a/../../evil.geojson"):
        with pytest.raises(UnsafeInputError):
            read_boundary_bytes(_zip({member: b"{}"}), "slip.zip")
    assert not any(p.name == "evil.geojson" for p in tmp_path.rglob("*"))
