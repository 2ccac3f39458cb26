"""crisismap benchmarks: ``uv run python -m benchmarks --help``.

Generates its inputs with a fixed seed under ``benchmarks/out/`` (gitignored), runs each
measurement in a fresh subprocess (``benchmarks/worker.py``) and prints, per polygon layer
and size: the median seconds of each stage over several runs for the pyarrow floor, the
reference pipeline (pandas ``read_csv`` + ``geopandas.sjoin(predicate="intersects")`` +
``groupby``, run in the same process) and crisismap; peak memory of each (its own
process); the ratios; and whether crisismap's regions equal the reference's for every
point not on a border. Then the dashboard's map payload and interaction times, and
optionally the distributed engine at scale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import data

STAGES = ("read", "validate", "join", "aggregate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Benchmark crisismap against the reference pipeline (pandas read_csv + "
            "geopandas.sjoin + groupby) and the pyarrow CSV floor, on seeded synthetic "
            "incidents over three polygon layers. Full run: 1M and 5M incidents (about an hour "
            "on 2 cores). Quick run (--quick): 100k incidents, about a minute and a half once "
            "the data exists."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="100k incidents, 2 runs, map at 1k incidents"
    )
    parser.add_argument(
        "--sizes", default="1000000,5000000", help="incident counts, comma-separated"
    )
    parser.add_argument(
        "--layers", default=",".join(data.LAYERS), help=f"polygon layers ({', '.join(data.LAYERS)})"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--large-repeats", type=int, default=1, help="runs for sizes above 2M (they take minutes)"
    )
    parser.add_argument(
        "--map-sizes",
        default="1000,10000,100000,1000000",
        help="incident counts for the map payload / interaction section ('' to skip)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument(
        "--command-sizes",
        default="1000000",
        help="incident counts for the whole-command section: `crisismap summarize` and the "
        "reference script as fresh processes, CAF COD-AB admin-3 x month ('' to skip)",
    )
    parser.add_argument(
        "--only-command",
        action="store_true",
        help="run only the whole-command and CSV-writer sections",
    )
    parser.add_argument(
        "--only-public",
        action="store_true",
        help="run only the public-figures section (issue 12): `crisismap summarize --public` "
        "and the public report on 10k world admin-1 and 100k CAF admin-2 incidents, against "
        "their targets (benchmarks/public.py)",
    )
    parser.add_argument(
        "--public-repeats", type=int, default=3, help="timed runs per public case (median)"
    )
    parser.add_argument(
        "--public-timeout",
        type=float,
        default=600.0,
        help="stop a public run after this many seconds and report it as unfinished",
    )
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="do not compile crisismap's bytecode before the whole-command runs",
    )
    parser.add_argument(
        "--empty-fields-mb",
        default="20,50",
        help="sizes (MB) of the mostly-empty-fields input for reading memory ('' to skip)",
    )
    parser.add_argument(
        "--only-read-memory",
        action="store_true",
        help="run only the reading-memory section: the upload recipe on each shape of file "
        "(plain, mostly empty fields, 1 %% multi-line, all rejected, many warnings), peak "
        "over file size in a fresh process each (benchmarks/reading.py)",
    )
    parser.add_argument(
        "--read-memory-mb",
        type=int,
        default=100,
        help="size (MB) of each shape's file for --only-read-memory",
    )
    parser.add_argument(
        "--read-shapes",
        default="plain,empty,multiline,rejected,warnings",
        help="shapes for --only-read-memory, comma-separated",
    )
    parser.add_argument(
        "--dask-rows",
        type=int,
        default=0,
        help="also run the distributed engine on this many rows from Parquet (e.g. 20000000)",
    )
    parser.add_argument("--dask-workers", type=int, default=2, help="local cluster workers")
    parser.add_argument("--dask-memory-limit", default="3GiB", help="memory limit per dask worker")
    parser.add_argument(
        "--partition-rows", type=int, default=1_000_000, help="rows per Parquet partition"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.only_public:
        return _public(args)
    if args.only_read_memory:
        return _read_shapes(args)
    if args.quick:
        args.sizes, args.repeats, args.map_sizes = "100000", 2, "1000"
        args.command_sizes = "100000"
    sizes = [int(s) for s in args.sizes.split(",") if s]
    layers = [s for s in args.layers.split(",") if s]
    map_sizes = [int(s) for s in args.map_sizes.split(",") if s]
    command_sizes = [int(s) for s in args.command_sizes.split(",") if s]
    if args.only_command:
        sizes, map_sizes, args.dask_rows, args.empty_fields_mb = [], [], 0, ""
    results: dict[str, Any] = {"environment": _environment(), "pipeline": [], "map": []}
    _header(results["environment"])
    _prepare(layers if sizes else [], sizes, map_sizes)
    if command_sizes:
        results["command"] = _whole_command(command_sizes, args)

    if sizes:
        print("\n== the core: read + validate + join + aggregate (region x month x category) ==")
        print("median seconds per stage; peak RSS of a fresh process running one pipeline once")
    for layer in layers if sizes else []:
        for size in sizes:
            repeats = args.repeats if size <= 2_000_000 else args.large_repeats
            row = _pipeline(layer, size, repeats, memory=not args.no_memory)
            results["pipeline"].append(row)
            _print_pipeline(row)

    empty_sizes = [int(s) for s in args.empty_fields_mb.split(",") if s]
    if empty_sizes and not args.no_memory:
        print('\n== reading memory: mostly empty fields (every field quoted, 94 of 100 "") ==')
        print("peak RSS of a fresh process over its size after imports, divided by the file size")
        results["read_memory"] = [_read_memory(mb) for mb in empty_sizes]

    if map_sizes:
        print("\n== dashboard: map payload and interaction (synthetic admin-2, 3,000 regions) ==")
        for size in map_sizes:
            row = _run({"kind": "map", "size": size, "repeats": max(args.repeats, 3)})
            results["map"].append(row)
        _print_map(results["map"])

    if args.dask_rows:
        print("\n== beyond one machine: distributed engine over Parquet partitions ==")
        row = _run(
            {
                "kind": "dask",
                "layer": "synth2",
                "rows": args.dask_rows,
                "partition_rows": args.partition_rows,
                "workers": args.dask_workers,
                "memory_limit": args.dask_memory_limit,
            }
        )
        results["dask"] = row
        _print_dask(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nfigures written to {args.json}")
    failed = [r for r in results["pipeline"] if r["check"] and not r["check"]["agrees"]]
    return 1 if failed else 0


# --- running ---------------------------------------------------------------------------------


def _public(args: argparse.Namespace) -> int:
    """Only the public-figures section (see benchmarks/public.py)."""
    from benchmarks import public

    environment = _environment()
    _header(environment)
    public.print_header(args.public_repeats, args.public_timeout)
    rows = public.measure(
        repeats=args.public_repeats,
        timeout=args.public_timeout,
        compile_bytecode=not args.no_compile,
    )
    if args.json:
        args.json.write_text(json.dumps({"environment": environment, "public": rows}, indent=2))
        print(f"\nfigures written to {args.json}")
    return 0


def _read_shapes(args: argparse.Namespace) -> int:
    """Only the reading-memory section by shape (see benchmarks/reading.py)."""
    from benchmarks import reading

    environment = _environment()
    _header(environment)
    shapes = [s for s in args.read_shapes.split(",") if s]
    unknown = sorted(set(shapes) - set(reading.SHAPES))
    if unknown:
        raise SystemExit(f"unknown shape(s) {unknown}: expected some of {list(reading.SHAPES)}")
    rows = reading.measure(shapes, args.read_memory_mb, _run)
    if args.json:
        args.json.write_text(json.dumps({"environment": environment, "read": rows}, indent=2))
        print(f"\nfigures written to {args.json}")
    return 0


def _prepare(layers: list[str], sizes: list[int], map_sizes: list[int]) -> None:
    """Generate every input once (not timed); later runs reuse the files."""
    started = time.perf_counter()
    for key in sorted(set(layers) | ({"synth2"} if map_sizes else set())):
        layer = data.load_layer(key)
        wanted = sizes if key in layers else []
        wanted = sorted(set(wanted) | (set(map_sizes) if key == "synth2" else set()))
        for size in wanted:
            if not data.incidents_path(key, size).is_file():
                print(f"generating {size:,} incidents over {key} ...", flush=True)
            data.ensure_incidents(layer, size)
    print(f"inputs ready in {data.OUT} ({time.perf_counter() - started:.0f} s)")


def _whole_command(sizes: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """The whole ``crisismap summarize`` against the reference script, then the CSV writer."""
    from benchmarks import command

    layer = data.load_layer("caf3")
    paths = {size: data.ensure_incidents(layer, size, bbox=True) for size in sizes}
    print("\n== what users run: `crisismap summarize` and the reference, fresh processes ==")
    rows = []
    for size, path in paths.items():
        repeats = args.repeats if size <= 2_000_000 else args.large_repeats
        row = command.measure(path, repeats=repeats, compile_bytecode=not args.no_compile)
        command.print_command(row)
        rows.append(row)
    print("\n== writing CSV (crisismap.export.to_csv_bytes), in one process, median s ==")
    biggest = max(sizes)
    writer = command.writer(paths[biggest], repeats=args.repeats)
    command.print_writer(writer)
    return {"runs": rows, "writer": writer}


def _run(task: dict[str, Any]) -> dict[str, Any]:
    env = dict(
        os.environ, PYTHONPATH=str(data.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", json.dumps(task)],
        capture_output=True,
        text=True,
        cwd=data.ROOT,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker failed on {task}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pipeline(layer: str, size: int, repeats: int, *, memory: bool) -> dict[str, Any]:
    timing = _run({"kind": "pipeline", "layer": layer, "size": size, "repeats": repeats})
    row: dict[str, Any] = {"layer": layer, "size": size, "repeats": repeats, **timing}
    row["median"] = {
        name: {
            stage: statistics.median(run.get(stage, 0.0) for run in runs)
            for stage in [*STAGES, "total"]
            if stage != "total"
        }
        for name, runs in timing["runs"].items()
    }
    for name, runs in timing["runs"].items():
        row["median"][name]["total"] = statistics.median(sum(r.values()) for r in runs)
    row["warm_join_median"] = statistics.median(timing["warm_join"])
    if row["check"]:
        row["check"]["agrees"] = (
            row["check"]["mismatches"] == 0
            and row["check"]["border_choice_ok"] == row["check"]["border"]
        )
    row["memory"] = {}
    if memory:
        for name in ("floor", "reference", "crisismap"):
            row["memory"][name] = _run(
                {"kind": "memory", "layer": layer, "size": size, "pipeline": name}
            )
    return row


def _read_memory(megabytes: int) -> dict[str, Any]:
    data.ensure_empty_fields(megabytes)
    row: dict[str, Any] = {"megabytes": megabytes}
    for step in ("read", "validate"):
        run = _run({"kind": "read_memory", "megabytes": megabytes, "step": step})
        run["ratio"] = (run["peak_mb"] - run["baseline_mb"]) * 2**20 / run["bytes"]
        row[step] = run
        print(
            f"  {run['bytes'] / 1e6:>6.1f} MB {step:<9} peak {run['peak_mb']:>7.0f} MB "
            f"(after imports {run['baseline_mb']:.0f} MB): {run['ratio']:.1f}x the file, "
            f"{run['seconds']:.1f} s"
        )
    return row


# --- printing --------------------------------------------------------------------------------


def _environment() -> dict[str, Any]:
    import geopandas
    import pandas
    import pyarrow
    import shapely

    return {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "pyarrow": pyarrow.__version__,
        "pandas": pandas.__version__,
        "geopandas": geopandas.__version__,
        "shapely": shapely.__version__,
        "seed": data.SEED,
    }


def _header(env: dict[str, Any]) -> None:
    load = ", ".join(f"{x:.1f}" for x in env["load_average"])
    print(
        f"crisismap benchmarks, {env['when']}: {env['cpus']} CPUs (load {load}), Python "
        f"{env['python']}, pyarrow {env['pyarrow']}, pandas {env['pandas']}, geopandas "
        f"{env['geopandas']}, shapely {env['shapely']}; seed {env['seed']}"
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _gb(run: dict[str, Any] | None) -> str:
    return "-" if not run else f"{run['peak_mb'] / 1024:.2f} GB"


def _print_pipeline(row: dict[str, Any]) -> None:
    med = row["median"]
    floor, ref, ours = med["floor"], med["reference"], med["crisismap"]
    print(
        f"\n{row['layer']}: {row['regions']:,} regions, {row['vertices'] / 1e6:.1f}M vertices; "
        f"{row['size']:,} incidents ({row['bytes'] / 1e6:.0f} MB CSV); {row['repeats']} run(s)"
    )
    print(f"  {'stage':<12}{'floor':>9}{'reference':>11}{'crisismap':>11}")
    for stage in STAGES:
        print(
            f"  {stage:<12}{_s(floor.get(stage) if stage == 'read' else None):>9}"
            f"{_s(ref.get(stage) if stage != 'validate' else None):>11}{_s(ours.get(stage)):>11}"
            + (f"   (index cached: {row['warm_join_median']:.2f})" if stage == "join" else "")
        )
    print(f"  {'total':<12}{_s(floor['total']):>9}{_s(ref['total']):>11}{_s(ours['total']):>11}")
    mem = row["memory"]
    if mem:
        print(
            f"  {'peak RSS':<12}{_gb(mem.get('floor')):>9}{_gb(mem.get('reference')):>11}"
            f"{_gb(mem.get('crisismap')):>11}   (after imports + layer: "
            f"{mem['crisismap']['baseline_mb'] / 1024:.2f} GB)"
        )
    print(
        f"  crisismap is {ref['total'] / ours['total']:.1f}x faster than the reference and "
        f"{ours['total'] / floor['total']:.1f}x the pyarrow read floor"
    )
    check = row["check"]
    if check:
        verdict = "IDENTICAL" if check["agrees"] else "MISMATCH"
        print(
            f"  regions vs reference: {verdict}: {check['inside_same']:,} inside and "
            f"{check['outside_same']:,} outside identical; {check['border']:,} on a border "
            f"({check['border_choice_ok']:,} given one of the regions they touch); "
            f"{check['mismatches']:,} mismatches; {check['incidents_counted']:,} of "
            f"{check['records']:,} records counted"
        )
        for example in check["examples"]:
            print(f"    {example}")


def _print_map(rows: list[dict[str, Any]]) -> None:
    print(
        f"  {'incidents':>10}{'payload':>10}{'gzip':>9}{'points':>8}{'view s':>8}"
        f"{'map s':>7}{'first view s':>14}{'analyse s':>11}"
    )
    for r in rows:
        print(
            f"  {r['records']:>10,}{r['payload_bytes'] / 1e6:>8.2f}MB"
            f"{r['payload_gzip_bytes'] / 1e6:>7.2f}MB"
            f"{r['points_shown']:>8,}{r['view_s']:>8.2f}{r['map_s']:>7.2f}"
            f"{r.get('first_view_s', 0.0):>14.2f}{r['analyse_s']:>11.2f}"
        )
    big = rows[-1]
    helpers = big.get("app_helpers", {})
    print(f"  app helpers per rerun at {big['records']:,} incidents (median s):")
    for name, seconds in helpers.items():
        print(f"    {name:<22}{seconds:.3f}")
    print(f"    {'all helpers':<22}{big['app_helpers_s']:.3f}")
    print(
        f"  interaction at {big['records']:,} incidents (median s): dashboard.build_view, "
        "+ the helpers (what the library recomputes per rerun), + the map (build_map + render)"
    )
    print(f"    {'change':<22}{'build_view':>11}{'+ helpers':>11}{'+ map':>9}")
    for name, seconds in big["interaction_s"].items():
        total = big.get("interaction_total_s", {}).get(name, seconds + big["app_helpers_s"])
        with_map = total + big.get("interaction_map_s", {}).get(name, big["map_s"])
        print(f"    {name:<22}{seconds:>11.3f}{total:>11.3f}{with_map:>9.3f}")


def _print_dask(row: dict[str, Any]) -> None:
    print(
        f"  {row['rows']:,} rows in {row['partitions']} Parquet partitions, "
        f"{row['workers']} workers (memory limit {row['memory_limit']} each) on "
        f"{row['cpu_count']} CPUs: {row['seconds']:.1f} s including {row['cluster_start_s']:.1f} s "
        f"cluster start; peak RSS of all processes {row['peak_mb_all_processes'] / 1024:.2f} GB; "
        f"{row['incidents']:,} incidents in {row['summary_rows']:,} summary rows"
    )


if __name__ == "__main__":
    sys.exit(main())
