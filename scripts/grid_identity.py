"""Digests of the publication grid's releases, to check that a change to ``Grid.release``
keeps every result: ``uv run python scripts/grid_identity.py [case ...]``."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

from crisismap.publish import grid as grid_mod

BENCH = "/work/main/benchmarks/out"
SHARED = "/work/shared/data"
WORLD = [f"{BENCH}/incidents_world5_10000.csv", "--boundaries", "world:SDN,SSD,TCD,CAF,COD"]
CASES = {
    "world5-month": [*WORLD, "--level", "1", "--period", "month"],
    "world5-week": [*WORLD, "--level", "1", "--period", "week"],
    "caf2-month": [
        f"{BENCH}/incidents_caf2_100000.csv",
        "--boundaries",
        f"{SHARED}/boundaries/caf_codab",
        "--level",
        "2",
        "--period",
        "month",
    ],
    "ucdp-month": [
        f"{SHARED}/incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv",
        "--boundaries",
        "world:UKR",
        "--level",
        "1",
        "--period",
        "month",
        "--preset",
        "ucdp",
    ],
}


def digest(grid: grid_mod.Grid) -> str:
    return hashlib.sha256(json.dumps(grid.state(), sort_keys=True).encode()).hexdigest()[:16]


def run(argv: list[str]) -> list[tuple[grid_mod.Grid, float]]:
    """The grids ``crisismap report`` released (fresh ledger), with each release's time."""
    from crisismap.cli import main

    grids: list[tuple[grid_mod.Grid, float]] = []
    original = grid_mod.Grid.release

    def release(self, combos):
        t0 = time.perf_counter()
        out = original(self, combos)
        grids.append((self, time.perf_counter() - t0))
        return out

    data = tempfile.mkdtemp(prefix="grid-identity-")
    os.environ["CRISISMAP_DATA_DIR"] = data
    grid_mod.Grid.release = release
    try:
        out = os.path.join(data, "out.zip")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(["report", *argv, "--out", out])
        assert code in (0, None), code
    finally:
        grid_mod.Grid.release = original
        shutil.rmtree(data, ignore_errors=True)
    return grids


def second_release(grid: grid_mod.Grid, first: Callable[[tuple[int, int, int]], bool]) -> str:
    """A release of the ``first`` combos, then of all: later moves avoid published nodes."""
    again = grid_mod.Grid.build(*grid.axes, k=grid.k)
    again.release([c for c in again.combos if first(c)])
    try:
        again.release(again.combos)
    except grid_mod.UnprotectableError:
        return f"unprotectable at {digest(again)} hidden={len(again.hidden)}"
    return f"{digest(again)} hidden={len(again.hidden)}"


SECOND = {"labels": lambda c: c[2] == 1, "level-0": lambda c: c[0] == 1}


def main(names: list[str]) -> None:
    for name in names or list(CASES):
        for i, (grid, seconds) in enumerate(run(CASES[name])):
            print(f"{name}[{i}] {digest(grid)} hidden={len(grid.hidden)} ({seconds:.2f} s)")
            if name in ("world5-month", "ucdp-month") and i == 0:
                for first, which in SECOND.items():
                    print(f"{name}[{i}] {first} first: {second_release(grid, which)}")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
