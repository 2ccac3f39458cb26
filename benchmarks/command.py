"""What users run: the whole ``crisismap summarize`` command as a fresh process.

Each run is a new Python process, timed from spawn to exit (median of ``repeats``), with
its peak resident memory (``os.wait4``). Beside it: the reference script
(``benchmarks/reference_command.py``: pandas ``read_csv`` + ``geopandas.sjoin`` +
``groupby``) as a fresh process too, and the start-up every such process pays before its
work: ``python -c pass`` and ``python -c "import geopandas"`` (the common floor; "work"
is a run minus this floor) and crisismap's own imports beyond it. The first crisismap run
starts with an empty data directory, so it also prepares the boundary set (reported
apart); the timed runs open it from ``<data dir>/cache``.

Also the CSV writer (:func:`crisismap.export.to_csv_bytes`) on a real summary and on the
``crisismap join`` table of every record, in this process.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from benchmarks import data

CAF_DIR = data.SHARED_DATA / "boundaries" / "caf_codab"
REFERENCE = data.ROOT / "benchmarks" / "reference_command.py"


# --- fresh processes -----------------------------------------------------------------------


# Runs one command from a small process and reports its wall and CPU seconds and peak RSS.
# Linux carries ru_maxrss over fork and exec: a command started straight from this runner
# (which holds the generated data, up to 3 GB) reported the runner's peak as its own.
_LAUNCH = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
print(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def timed_process(
    argv: list[str], env: dict[str, str], timeout: float | None = None
) -> dict[str, float] | None:
    """Seconds from spawn to exit, CPU seconds and peak RSS (MB) of one process; fails
    loudly; None when it ran past ``timeout`` seconds (it is stopped)."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            text=True,
            start_new_session=True,  # the launcher and the command: one group to stop
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None
        fields = out.split()
        if proc.returncode != 0 or len(fields) != 4 or fields[3] != "0":
            errors.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed:\n{errors.read().decode()[-3000:]}")
    seconds, cpu, peak_kb = float(fields[0]), float(fields[1]), int(fields[2])
    # CPU: less sensitive to other work than wall time
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak_kb / 1024}


def _median(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "runs": [round(r["seconds"], 3) for r in runs],
        "median": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
    }


def compile_crisismap() -> None:
    """crisismap's bytecode, up to date, as an installed wheel with [tool.uv] compile-bytecode
    has it (an editable checkout under PYTHONDONTWRITEBYTECODE=1 would otherwise compile every
    changed module in every run: 0.15 s of start-up after a merge)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(data.ROOT / "src" / "crisismap")],
        check=True,
    )


def bytecode_state() -> dict[str, Any]:
    """Whether the imports can come from compiled bytecode, and whether Python may write it."""

    def compiled(module: str) -> bool:
        spec = find_spec(module)
        if spec is None or spec.origin is None:
            return False
        cache = Path(spec.origin).parent / "__pycache__"
        return cache.is_dir() and any(cache.glob("__init__.*.pyc"))

    return {
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        "site_packages_compiled": compiled("geopandas") and compiled("pandas"),
        "crisismap_compiled": compiled("crisismap") and compiled("crisismap.records"),
    }


def measure(
    incidents: Path,
    *,
    boundaries: Path = CAF_DIR,
    level: int = 3,
    repeats: int = 3,
    compile_bytecode: bool = True,
) -> dict[str, Any]:
    """``crisismap summarize`` and the reference script on ``incidents``, fresh processes."""
    if compile_bytecode:
        compile_crisismap()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="crisismap-bench-command-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, CRISISMAP_DATA_DIR=str(work / "data"))
        ours_out, ref_out = work / "SENSITIVE_summary.csv", work / "reference.csv"
        ours = [  # internal figures, as the reference script makes (no suppression)
            python, "-m", "crisismap.cli", "summarize", str(incidents), "--boundaries",
            str(boundaries), "--level", str(level), "--period", "month", "--no-categories",
            "--internal", "--out", str(ours_out), "--max-size-mb", "4000",
        ]  # fmt: skip
        reference = [
            python, str(REFERENCE), str(incidents), str(boundaries / f"caf_admin{level}.parquet"),
            f"adm{level}_pcode", str(ref_out),
        ]  # fmt: skip
        startup = {
            "python": [python, "-c", "pass"],
            "geopandas": [python, "-c", "import geopandas"],
            "crisismap_imports": [
                python,
                "-c",
                "import geopandas, crisismap.cli, crisismap.pipeline",
            ],
        }
        result: dict[str, Any] = {
            "size": _rows(incidents),
            "bytes": incidents.stat().st_size,
            "repeats": repeats,
            "bytecode": bytecode_state(),
            "load_average": os.getloadavg(),
        }
        result["startup"] = {
            name: _median([timed_process(argv, env) for _ in range(repeats)])
            for name, argv in startup.items()
        }
        result["first_run"] = timed_process(ours, env)  # prepares the boundary set
        runs: dict[str, list[dict[str, float]]] = {"crisismap": [], "reference": []}
        for _ in range(repeats):  # interleaved, so that load changes hit both alike
            runs["crisismap"].append(timed_process(ours, env))
            runs["reference"].append(timed_process(reference, env))
        result.update({name: _median(r) for name, r in runs.items()})
        result["check"] = agreement(ours_out, ref_out)
    floor = result["startup"]["geopandas"]["median"]
    ours_work = result["crisismap"]["median"] - floor
    ref_work = result["reference"]["median"] - floor
    result["work"] = {"crisismap": ours_work, "reference": ref_work}
    millions = result["size"] / 1e6
    result["peak_gb_per_million"] = {  # issue 15: at most 0.5 at 5M
        name: result[name]["peak_mb"] / 1024 / millions if millions else None
        for name in ("crisismap", "reference")
    }
    result["ratio_whole"] = result["reference"]["median"] / result["crisismap"]["median"]
    result["ratio_work"] = ref_work / ours_work if ours_work > 0 else None
    floor_cpu = result["startup"]["geopandas"]["cpu"]
    ours_cpu = result["crisismap"]["cpu"] - floor_cpu
    result["ratio_cpu_work"] = (
        (result["reference"]["cpu"] - floor_cpu) / ours_cpu if ours_cpu > 0 else None
    )
    return result


def _rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1


def agreement(ours: Path, reference: Path) -> dict[str, Any]:
    """Cells (region x month) where crisismap's count differs from the reference's."""
    import pandas as pd

    mine = pd.read_csv(ours, dtype={"region_code": str, "period": str})
    regions = ~mine["region_code"].str.startswith("__")  # not __outside__ and the like
    mine = mine[regions & (mine["incidents"] > 0)].set_index(["region_code", "period"])["incidents"]
    theirs = pd.read_csv(reference, dtype={"region_code": str, "period": str})
    theirs = theirs.set_index(["region_code", "period"])["incidents"]
    both = pd.concat([mine.rename("crisismap"), theirs.rename("reference")], axis=1).fillna(0)
    differ = both[both["crisismap"] != both["reference"]]
    return {
        "cells": len(both),
        "cells_differing": len(differ),
        "in_regions_crisismap": int(both["crisismap"].sum()),
        "in_regions_reference": int(both["reference"].sum()),
    }


# --- the CSV writer ------------------------------------------------------------------------


def writer(
    incidents: Path, *, boundaries: Path = CAF_DIR, level: int = 3, repeats: int = 3
) -> dict[str, Any]:
    """``to_csv_bytes`` on 25,000 summary rows and on the join table of every record."""
    import pandas as pd

    from crisismap import pipeline
    from crisismap.boundaries import load_boundaries
    from crisismap.export import to_csv_bytes
    from crisismap.schema import View

    data = incidents.read_bytes()  # over the upload cap at 5M: this is batch work
    analysis = pipeline.analyse(data, load_boundaries(boundaries), max_bytes=len(data) + 1)
    summary = pipeline.summary_result(analysis, View.parse(level=level)).summary
    summary = pd.concat([summary] * (25_000 // len(summary) + 1)).head(25_000)
    tables = {"summary": summary, "join table": pipeline.join_table(analysis)}
    result: dict[str, Any] = {}
    for name, frame in tables.items():
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            out = to_csv_bytes(frame)
            seconds.append(time.perf_counter() - start)
        result[name] = {
            "rows": len(frame),
            "columns": frame.shape[1],
            "bytes": len(out),
            "median": statistics.median(seconds),
        }
    start = time.perf_counter()
    former = former_csv_bytes(summary)
    result["summary"]["former_s"] = time.perf_counter() - start
    result["summary"]["identical"] = former == to_csv_bytes(summary)
    return result


def former_csv_bytes(frame: Any) -> bytes:
    """The writer before it was vectorised: csv.writer, one Python call per cell."""
    import pandas as pd

    from crisismap.escape import cell_text, neutralise_formula

    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_formula(str(name)) for name in frame.columns])
    columns = []
    for name in frame.columns:
        texts = [cell_text(v) for v in frame[name].tolist()]
        if pd.api.types.is_string_dtype(frame[name]) or frame[name].dtype == object:
            texts = [neutralise_formula(t) for t in texts]
        columns.append(texts)
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue().encode("utf-8")


# --- printing ------------------------------------------------------------------------------


def print_command(row: dict[str, Any]) -> None:
    st, bc = row["startup"], row["bytecode"]
    load = ", ".join(f"{x:.1f}" for x in row["load_average"])
    print(
        f"\n{row['size']:,} incidents ({row['bytes'] / 1e6:.0f} MB CSV) over the CAF bounding "
        f"box, COD-AB CAF folder, admin-3 x month; median of {row['repeats']} fresh processes "
        f"(load average at start {load})"
    )
    print(
        f"  bytecode: site-packages compiled {_yes(bc['site_packages_compiled'])}, crisismap "
        f"compiled {_yes(bc['crisismap_compiled'])}; PYTHONDONTWRITEBYTECODE="
        f"{bc['PYTHONDONTWRITEBYTECODE'] or '(unset)'}"
    )
    print(
        f"  start-up: python {st['python']['median']:.2f} s; + import geopandas "
        f"{st['geopandas']['median']:.2f} s (the floor); + crisismap's imports "
        f"{st['crisismap_imports']['median'] - st['geopandas']['median']:.2f} s"
    )
    print(f"  {'':<24}{'whole s':>9}{'work s':>9}{'CPU s':>8}{'peak RSS':>10}")
    for name in ("crisismap", "reference", "geopandas"):
        runs = row["startup"][name] if name == "geopandas" else row[name]
        work = "" if name == "geopandas" else f"{row['work'][name]:.2f}"
        label = "import geopandas (floor)" if name == "geopandas" else name
        print(
            f"  {label:<24}{runs['median']:>9.2f}{work:>9}{runs['cpu']:>8.2f}"
            f"{runs['peak_mb'] / 1024:>8.2f}GB   runs {runs['runs']}"
        )
    first = row["first_run"]
    print(
        f"  {'crisismap, first run':<24}{first['seconds']:>9.2f}{'':>9}{first['cpu']:>8.2f}"
        f"{'':>10}   (empty data dir: prepares the boundary set)"
    )
    ratio_work = "-" if row["ratio_work"] is None else f"{row['ratio_work']:.1f}x"
    print(
        f"  crisismap is {row['ratio_whole']:.1f}x the reference's speed as a whole process, "
        f"{ratio_work} with the start-up floor taken out of both"
    )
    if row["ratio_cpu_work"] is not None:
        print(
            f"  in CPU seconds beyond the floor (steadier on a busy machine; crisismap's two "
            f"threads both count): {row['ratio_cpu_work']:.1f}x"
        )
    per = row["peak_gb_per_million"]
    if per["crisismap"] is not None:
        print(
            f"  peak memory per million incidents: crisismap {per['crisismap']:.2f} GB, the "
            f"reference {per['reference']:.2f} GB (issue 15's target at 5M: at most 0.50 GB)"
        )
    c = row["check"]
    print(
        f"  check: {c['cells_differing']:,} of {c['cells']:,} region x month cells differ; "
        f"{c['in_regions_crisismap']:,} incidents in regions (reference "
        f"{c['in_regions_reference']:,})"
    )


def print_writer(row: dict[str, Any]) -> None:
    s, j = row["summary"], row["join table"]
    print(
        f"  summary, {s['rows']:,} rows x {s['columns']} columns: {s['median']:.3f} s "
        f"(the former cell-by-cell writer: {s['former_s']:.3f} s; identical bytes: "
        f"{_yes(s['identical'])})"
    )
    print(
        f"  join table, {j['rows']:,} records x {j['columns']} columns "
        f"({j['bytes'] / 1e6:.0f} MB): {j['median']:.3f} s"
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
