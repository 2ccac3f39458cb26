"""Run the overlap and gap checks on the bundled world set once and keep the result.

The checks take about 40 s on the 4,646 admin-1 regions, too long for every load of the
bundled set (which is read from GeoParquet, not prepared through the cache), so they are
written to data/boundaries/world_checks.json; the loader cuts them to the countries loaded.
Rerun after scripts/build_boundaries.py.

    uv run python scripts/check_world_boundaries.py
"""

from __future__ import annotations

import json
from dataclasses import replace

from crisismap.boundaries import WORLD_DIR, load_boundaries
from crisismap.boundaries.checks import check_levels, summary_lines


def main() -> None:
    world = replace(load_boundaries("world"), checks={})
    checks = check_levels(world.levels)
    (WORLD_DIR / "world_checks.json").write_text(json.dumps(checks, indent=1) + "\n")
    print("\n".join(summary_lines(checks)) or "no overlaps, no region outside its country")


if __name__ == "__main__":
    main()
