"""One measurement in a fresh process: ``python -m benchmarks.worker '<json task>'``.

A fresh process per measurement keeps peak-memory figures honest (``ru_maxrss`` is the
peak resident set of this process, pyarrow's and GEOS's memory included) and keeps one
measurement's caches out of the next. The result is printed as one JSON line.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import psutil

warnings.filterwarnings("ignore", message=".*geographic CRS.*")


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_mb() -> float:
    """Peak resident memory of this process image, in MB.

    Linux keeps ``ru_maxrss`` across ``exec``: a worker started by a runner holding 1 GB
    reported that 1 GB as its own peak. ``VmHWM`` belongs to the process's address
    space, which ``exec`` replaces, so it counts this worker alone.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(task: dict[str, Any]) -> dict[str, Any]:
    kind = task["kind"]
    if kind == "pipeline":
        return pipeline_task(task)
    if kind == "memory":
        return memory_task(task)
    if kind == "read_memory":
        return read_memory_task(task)
    if kind == "read_shape":
        from benchmarks import reading

        return reading.run(task)
    if kind == "map":
        return map_task(task)
    if kind == "dask":
        return dask_task(task)
    raise SystemExit(f"unknown task {kind!r}")


# --- read + validate + join + aggregate -------------------------------------------------------


def pipeline_task(task: dict[str, Any]) -> dict[str, Any]:
    """Floor, reference and crisismap interleaved ``repeats`` times in this one process."""
    from benchmarks import data, pipelines
    from crisismap import join

    layer = data.load_layer(task["layer"])
    path = data.incidents_path(layer.key, task["size"])
    runs: dict[str, list[dict[str, float]]] = {"floor": [], "reference": [], "crisismap": []}
    warm_join: list[float] = []
    check = None
    for k in range(task["repeats"]):
        # Each pipeline runs with the other's results gone: a million live shapely points
        # from the reference would slow every later cyclic GC pass (and the reverse).
        gc.collect()
        runs["floor"].append(pipelines.floor(path).stages)
        gc.collect()
        ours = pipelines.crisismap(path, layer.level, layer.frame, cold=True)
        runs["crisismap"].append(ours.stages)
        result, joined, summary = ours.result
        start = time.perf_counter()
        join.join_points(result.records, {layer.level: layer.frame})
        warm_join.append(time.perf_counter() - start)
        del ours
        gc.collect()
        ref = pipelines.reference(path, layer.frame)
        runs["reference"].append(ref.stages)
        if k == 0 and task.get("check", True):
            check = pipelines.agreement(result.records, joined, layer.level, ref.result[1]).__dict__
            check["records"] = len(result.records)
            check["incidents_counted"] = int(summary["incidents"].sum())
            check["rejected"] = int(result.report.rejected)
        del ref, result, joined, summary
    return {
        "runs": runs,
        "warm_join": warm_join,
        "check": check,
        "regions": len(layer.frame),
        "vertices": layer.vertices,
        "bytes": path.stat().st_size,
    }


def memory_task(task: dict[str, Any]) -> dict[str, Any]:
    """Peak resident memory of one pipeline run (baseline: after imports and the layer)."""
    from benchmarks import data, pipelines

    layer = data.load_layer(task["layer"])
    path = data.incidents_path(layer.key, task["size"])
    import crisismap.aggregate
    import crisismap.join
    import crisismap.records  # noqa: F401

    baseline = rss_mb()
    which = task["pipeline"]
    start = time.perf_counter()
    if which == "floor":
        pipelines.floor(path)
    elif which == "reference":
        pipelines.reference(path, layer.frame)
    else:
        pipelines.crisismap(path, layer.level, layer.frame)
    return {"baseline_mb": baseline, "peak_mb": peak_mb(), "seconds": time.perf_counter() - start}


def read_memory_task(task: dict[str, Any]) -> dict[str, Any]:
    """Peak resident memory of reading one file (``read``) or of the upload recipe
    (``validate``: read, map, validate), over the size after imports (and a warm-up run
    on a small file, so that lazily imported modules count as baseline)."""
    from benchmarks import data
    from crisismap import records

    path = data.empty_fields_path(task["megabytes"])
    # the same calls on a small file first: the modules they import lazily are baseline
    records.validate_bytes(data.empty_fields_csv(20_000), filename="warm-up.csv")
    gc.collect()
    baseline = rss_mb()
    start = time.perf_counter()
    if task["step"] == "read":
        records.read_csv_file(path)
    else:
        records.validate_bytes(path.read_bytes(), filename=path.name)
    return {
        "baseline_mb": baseline,
        "peak_mb": peak_mb(),
        "bytes": path.stat().st_size,
        "seconds": time.perf_counter() - start,
    }


# --- the map payload and the dashboard's interaction ----------------------------------------------


def map_task(task: dict[str, Any]) -> dict[str, Any]:
    """Payload and build time of the app's map, and a filter / period change, at one size.

    Times what ``app.py`` runs on a rerun: the helpers that fill its widgets
    (``date_bounds``, ``categories_of``, ``region_choices``, ``period_labels``), the one
    ``dashboard.build_view`` call and the map (``build_map`` + render).
    """
    import gzip

    from benchmarks import data
    from crisismap import dashboard, pipeline
    from crisismap.boundaries import BoundarySet
    from crisismap.layers import build_map
    from crisismap.schema import Period, View

    layer = data.load_layer("synth2")
    bset = BoundarySet(
        name="synthetic admin-2",
        source="benchmarks/data.py",
        version="seeded",
        levels={layer.level: layer.frame},
    )
    path = data.incidents_path(layer.key, task["size"])
    start = time.perf_counter()
    analysis = pipeline.analyse(path.read_bytes(), bset, filename=path.name, max_bytes=1 << 40)
    analyse_s = time.perf_counter() - start
    level = layer.level
    repeats = task["repeats"]

    def timed(func: Any) -> tuple[float, Any]:
        times, value = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            value = func()
            times.append(time.perf_counter() - t0)
        return statistics.median(times), value

    first_view_s = _once(lambda: dashboard.build_view(analysis, View(level)))
    view_s, view = timed(lambda: dashboard.build_view(analysis, View(level)))

    def render(view: Any) -> str:
        fmap = build_map(
            view.regions, view.points, total_points=view.total_points, title=view.title
        )
        return fmap.get_root().render()

    map_s, html = timed(lambda: render(view))
    categories = dashboard.categories_of(analysis)
    periods = dashboard.period_labels(analysis, View(level, Period.MONTH))
    first, last = dashboard.date_bounds(analysis)
    regions = [c for c, _ in dashboard.region_choices(analysis, level)[:3]]
    changes = {
        "category filter": dict(categories=categories[:2]),
        "period slider": dict(period=periods[len(periods) // 2]),
        "date range": dict(start=first.replace(year=first.year + 1), end=last),
        "region filter": dict(regions=regions),
        "period unit (week)": dict(period_unit="week"),
    }
    interaction, interaction_map = {}, {}
    for name, widgets in changes.items():
        interaction[name], changed = timed(
            lambda w=widgets: _build_view(dashboard, analysis, level, w)
        )
        interaction_map[name] = timed(lambda v=changed: render(v))[0]
    filters = dict(start=first, end=last, categories=None, regions=None)
    helpers = {  # what app.py calls on every rerun besides build_view
        "date_bounds": lambda: dashboard.date_bounds(analysis),
        "categories_of": lambda: dashboard.categories_of(analysis),
        "region_choices": lambda: dashboard.region_choices(analysis, level),
        "period_labels": lambda: dashboard.period_labels(
            analysis, View.parse(level, "month", **filters)
        ),
    }
    helpers_s = {name: timed(func)[0] for name, func in helpers.items()}
    encoded = html.encode("utf-8")
    return {
        "records": len(analysis.records),
        "analyse_s": analyse_s,
        "first_view_s": first_view_s,
        "view_s": view_s,
        "map_s": map_s,
        "payload_bytes": len(encoded),
        "payload_gzip_bytes": len(gzip.compress(encoded, 6)),
        "points_shown": len(view.points),
        "interaction_s": interaction,
        "interaction_map_s": interaction_map,
        "app_helpers": helpers_s,
        "app_helpers_s": sum(helpers_s.values()),
        "interaction_total_s": {
            name: seconds + sum(helpers_s.values()) for name, seconds in interaction.items()
        },
        "peak_mb": peak_mb(),
    }


def _once(func: Any) -> float:
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0


# --- beyond one machine ---------------------------------------------------------------------------


def dask_task(task: dict[str, Any]) -> dict[str, Any]:
    """The distributed engine over Parquet partitions on a local cluster, memory sampled."""
    import threading

    from benchmarks import data
    from crisismap import distributed
    from crisismap.schema import Period, View

    layer = data.load_layer(task["layer"])
    folder = data.ensure_parquet(layer, task["rows"], task["partition_rows"])
    peak = {"mb": 0.0}
    stop = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not stop.is_set():
            total = 0
            try:
                for proc in [me, *me.children(recursive=True)]:
                    total += proc.memory_info().rss
            except psutil.Error:
                pass
            peak["mb"] = max(peak["mb"], total / 2**20)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    with distributed.local_cluster(
        n_workers=task["workers"], memory_limit=task.get("memory_limit", "3GiB")
    ) as address:
        connected = time.perf_counter()
        summary = distributed.summarize_parquet(
            folder,
            {layer.level: layer.frame},
            View(layer.level, Period.MONTH),
            scheduler=address,
        )
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    return {
        "rows": task["rows"],
        "partitions": len(list(Path(folder).glob("*.parquet"))),
        "seconds": elapsed,
        "cluster_start_s": connected - start,
        "summary_rows": len(summary),
        "incidents": int(summary["incidents"].sum()),
        "peak_mb_all_processes": peak["mb"],
        "workers": task["workers"],
        "memory_limit": task.get("memory_limit", "3GiB"),
        "cpu_count": os.cpu_count(),
    }


def _build_view(dashboard: Any, analysis: Any, level: int, widgets: dict[str, Any]) -> Any:
    """``dashboard.build_view`` for one widget change (the period slider is not a filter)."""
    from crisismap.schema import View

    options = dict(widgets)
    period = options.pop("period", None)
    unit = options.pop("period_unit", "month")
    return dashboard.build_view(analysis, View.parse(level, unit, **options), period=period)


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
