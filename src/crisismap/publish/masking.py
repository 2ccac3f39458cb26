"""Location masking: points leave a public export only rounded or displaced.

Coordinates are rounded to a stated number of decimals, or displaced (geodesic, WGS84)
by a bearing and distance drawn from HMAC-SHA256(workspace secret, record id): stable
per record across exports, so averaging many exports converges to the displaced point,
never to the true one. Works on frames only: it imports no other step.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crisismap.i18n import _


@dataclass(frozen=True)
class Masking:
    """How point locations are masked in a public export.

    ``method="round"``: latitude and longitude rounded to ``decimals`` (2 ≈ 1.1 km).
    ``method="displace"``: each point moved by a geodesic distance between
    ``min_radius_m`` and ``radius_m`` (uniform over that ring's area) in a bearing drawn
    from HMAC-SHA256(secret, record id) — DHS uses 2 km urban / 5 km rural; a per-record
    radius can come from ``radius_column`` (metres). With region geometries given, a
    displaced point is kept inside its record's region (DHS keeps admin-2) by drawing
    again, up to ``attempts`` times; a point whose draws all fall outside (a region
    smaller than the ring) keeps its first draw, outside the region.
    """

    method: str = "displace"
    decimals: int = 2
    radius_m: float = 5_000.0
    min_radius_m: float = 500.0
    radius_column: str | None = None
    keep_in_region: bool = True
    attempts: int = 100

    def __post_init__(self) -> None:
        if self.method not in ("round", "displace"):
            raise ValueError(f"Unknown masking method {self.method!r}: expected round or displace.")
        if self.method == "round" and not 0 <= self.decimals <= 4:
            raise ValueError(f"Rounding keeps 0 to 4 decimals (4 ≈ 11 m), got {self.decimals}.")
        if self.method == "displace" and not 0 <= self.min_radius_m < self.radius_m:
            raise ValueError(
                f"Displacement needs 0 <= min_radius_m < radius_m, got {self.min_radius_m} "
                f"and {self.radius_m}."
            )

    def settings(self) -> dict[str, Any]:
        """JSON-ready description for manifests and the methodology notes."""
        if self.method == "round":
            metres = round(111_320 * 10 ** (-self.decimals))
            return {
                "method": "round",
                "decimals": self.decimals,
                "approx_precision_m": metres,
                "description": _(
                    "coordinates rounded to {decimals} decimal places (about {metres:,} m "
                    "north-south)"
                ).format(decimals=self.decimals, metres=metres),
            }
        radius = (
            _("per record from column {column!r} (metres)").format(column=self.radius_column)
            if self.radius_column
            else f"{self.radius_m:,.0f} m"
        )
        return {
            "method": "displace",
            "radius_m": self.radius_m if not self.radius_column else None,
            "radius_column": self.radius_column,
            "min_radius_m": self.min_radius_m,
            "distribution": "bearing uniform; distance uniform over the ring's area",
            "geodesic": "WGS84 ellipsoid (pyproj.Geod)",
            "stable": "HMAC-SHA256(workspace secret, record id): same point in every export",
            "kept_in_region": self.keep_in_region,
            "description": (
                _(
                    "each point displaced between {min_m:,.0f} m and {radius} in a bearing and "
                    "distance fixed per record by a keyed hash (the same in every export), kept "
                    "inside its admin region"
                )
                if self.keep_in_region
                else _(
                    "each point displaced between {min_m:,.0f} m and {radius} in a bearing and "
                    "distance fixed per record by a keyed hash (the same in every export)"
                )
            ).format(min_m=self.min_radius_m, radius=radius),
        }


def new_secret() -> bytes:
    """A fresh 32-byte workspace secret (keep it private, keep it stable)."""
    return os.urandom(32)


FINGERPRINT_MESSAGE = b"crisismap secret fingerprint"


def secret_fingerprint(secret: bytes) -> str:
    """16 hex digits naming a secret in manifests: HMAC-SHA256(secret, a fixed message).

    Two exports with the same fingerprint were displaced with the same secret; the
    fingerprint tells nothing about the secret itself.
    """
    return hmac.new(secret, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


# ----------------------------------------------------------------------------- what points say


def finer_columns(columns: Sequence[str], level: int) -> list[str]:
    """The ``admN_code`` / ``admN_name`` / ``admN_match`` columns finer than ``level``.

    A public point is kept inside its region at ``level`` only: a finer region's code or
    name would tell which finer region holds it, and counting points per finer region
    would give back the figures suppression hides there.
    """
    finer = []
    for column in columns:
        head, _, part = str(column).partition("_")
        if head.startswith("adm") and head[3:].isdigit() and part in ("code", "name", "match"):
            if int(head[3:]) > level:
                finer.append(column)
    return finer


def published_pairs(pairs: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Which counted (record, label) pairs fall in a published cell (a boolean per pair).

    ``pairs`` has one row per counted pair: ``row``, ``region_code``, ``period``,
    ``category``; ``cells`` is the published table with its boolean ``suppressed``
    column. A pair is published only when its cell is present and not suppressed.

    A public point shows its published pairs only: a record with no published pair is
    left out, and a multi-label record keeps only the labels whose cells are published.
    Counting points per cell then gives each published figure exactly and 0 in every
    suppressed cell. (Leaving a multi-label record out altogether would make a
    published cell's points fall short of its figure, and the shortfall would count
    records in the suppressed cells of its other labels.)
    """
    keys = ["region_code", "period", "category"]
    shown = cells.loc[~cells["suppressed"].astype(bool), keys].astype("str").drop_duplicates()
    index = pd.MultiIndex.from_frame(shown)
    wanted = pd.MultiIndex.from_frame(pairs[keys].astype("str"))
    return wanted.isin(index)


def mask_points(
    points: pd.DataFrame,
    masking: Masking,
    *,
    secret: bytes | None = None,
    id_column: str = "id",
    regions: Any = None,
    region_column: str | None = None,
) -> pd.DataFrame:
    """A copy of ``points`` (``lat``/``lon`` in WGS84) with masked coordinates.

    ``regions`` (a GeoDataFrame with ``code`` and ``geometry``) and ``region_column``
    (each record's region code) keep displaced points inside their region.
    """
    out = points.copy()
    if masking.method == "round":
        out["lat"] = out["lat"].round(masking.decimals)
        out["lon"] = out["lon"].round(masking.decimals)
        return out
    if not secret:
        raise ValueError(
            "Displacing points needs the workspace secret (bytes): without it the "
            "displacement could not be the same in every export."
        )
    radius = (
        pd.to_numeric(points[masking.radius_column], errors="coerce")
        .fillna(masking.radius_m)
        .to_numpy(float)
        if masking.radius_column
        else np.full(len(points), masking.radius_m)
    )
    lat, lon = displace(
        points["lat"].to_numpy(float),
        points["lon"].to_numpy(float),
        points[id_column].astype("str").tolist(),
        secret=secret,
        radius_m=radius,
        min_radius_m=np.minimum(masking.min_radius_m, radius * 0.99),
        regions=_region_shapes(points, regions, region_column) if masking.keep_in_region else None,
        attempts=masking.attempts,
    )
    out["lat"], out["lon"] = lat, lon
    return out


def _region_shapes(points: pd.DataFrame, regions: Any, column: str | None) -> list[Any] | None:
    if regions is None or column is None or column not in points:
        return None
    lookup = dict(zip(regions["code"].astype("str"), regions.geometry, strict=True))
    return [lookup.get(str(c)) if pd.notna(c) else None for c in points[column]]


def displace(
    lat: np.ndarray,
    lon: np.ndarray,
    ids: Sequence[str],
    *,
    secret: bytes,
    radius_m: float | np.ndarray,
    min_radius_m: float | np.ndarray = 0.0,
    regions: Sequence[Any] | None = None,
    attempts: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic displacement keyed by ``secret`` and record id (see :class:`Masking`)."""
    import shapely
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    n = len(lat)
    r_max = np.broadcast_to(np.asarray(radius_m, float), (n,))
    r_min = np.broadcast_to(np.asarray(min_radius_m, float), (n,))
    out_lat, out_lon = np.full(n, np.nan), np.full(n, np.nan)
    todo = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    shapes = list(regions) if regions is not None else [None] * n
    attempts = max(1, attempts)
    first_lat, first_lon = np.full(n, np.nan), np.full(n, np.nan)
    for attempt in range(attempts):
        if not len(todo):
            break
        u = np.array([_uniforms(secret, ids[i], attempt) for i in todo]).reshape(-1, 2)
        bearing = 360.0 * u[:, 0]
        dist = np.sqrt(r_min[todo] ** 2 + u[:, 1] * (r_max[todo] ** 2 - r_min[todo] ** 2))
        new_lon, new_lat, _ = geod.fwd(lon[todo], lat[todo], bearing, dist)
        if attempt == 0:
            first_lat[todo], first_lon[todo] = new_lat, new_lon
        inside = np.array(
            [
                shapes[i] is None or bool(shapely.contains_xy(shapes[i], x, y))
                for i, x, y in zip(todo, new_lon, new_lat, strict=True)
            ],
            dtype=bool,
        )
        out_lat[todo[inside]], out_lon[todo[inside]] = new_lat[inside], new_lon[inside]
        todo = todo[~inside]
    # No draw landed inside the region (tiny region, large radius): keep the first draw.
    # Privacy before neatness: never the true point, nor a fixed point near it.
    out_lat[todo], out_lon[todo] = first_lat[todo], first_lon[todo]
    return np.round(out_lat, 6), np.round(out_lon, 6)


def _uniforms(secret: bytes, record_id: str, attempt: int) -> tuple[float, float]:
    message = b"crisismap-displace-v1\x00" + record_id.encode("utf-8") + b"\x00%d" % attempt
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    a = int.from_bytes(digest[:8], "big") / 2.0**64
    b = int.from_bytes(digest[8:16], "big") / 2.0**64
    return a, b
