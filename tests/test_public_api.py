"""The package's public API: every name resolves, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import crisismap


def test_every_public_name_resolves():
    missing = [name for name in crisismap.__all__ if getattr(crisismap, name, None) is None]
    assert missing == []
    assert crisismap.View.parse(1, "week").period is crisismap.Period.ISO_WEEK


def test_import_loads_no_heavy_dependency():
    code = (
        "import sys, crisismap; "
        "print(sorted(m for m in ('geopandas', 'pyarrow', 'folium', 'streamlit') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
