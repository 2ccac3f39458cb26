"""Join and aggregate beyond one machine: dask-geopandas over Parquet partitions.

For archives too large for one process, validated records are written as GeoParquet
partitions (:func:`write_partitions`); a ``dask.distributed`` cluster reads them with
dask-geopandas, and each worker joins its partitions to the boundaries and counts them
with the same functions as the single-machine path (:func:`crisismap.join.join_points`,
:func:`crisismap.aggregate.partial_counts`). Only the small per-partition counts travel
back; :func:`crisismap.aggregate.summarize_partials` combines them into exactly the table
:func:`crisismap.aggregate.summarize` gives on one machine (same tie rule on borders,
same zero-filling, same periods).

The cluster is a ``LocalCluster`` by default, or any running scheduler by address
(``tcp://host:8786``): the code is the same. Workers need the same crisismap version
and read the partitions from a path they can all see (a shared disk or object store).
Memory stays bounded by the partition size times the number of worker threads, not by
the size of the archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from crisismap import aggregate, join
from crisismap.boundaries import BoundarySet
from crisismap.errors import InputError
from crisismap.files import private_dir
from crisismap.i18n import _
from crisismap.pipeline import SummaryResult, levels_holding, snap_distance
from crisismap.problems import Report
from crisismap.records import DEFAULT_MAX_BYTES, pin_date_ranges, validate_bytes
from crisismap.schema import IMPRECISE_CODE, OUTSIDE_CODE, DateOrder, DateRange, View
from crisismap.store import default_data_dir

DEFAULT_PARTITION_ROWS = 1_000_000
# The columns the join and the counting read; the rest stay on disk.
_NEEDED = ["lat", "lon", "max_level", "date", "date_end", "date_precision", "category", "victims"]


# --- partitions ---------------------------------------------------------------------------


def write_partitions(
    records: pd.DataFrame,
    folder: str | Path,
    *,
    rows_per_partition: int = DEFAULT_PARTITION_ROWS,
    start_index: int = 0,
    columns: Sequence[str] | None = None,
) -> list[Path]:
    """Write validated records as GeoParquet files of at most ``rows_per_partition`` rows.

    Point geometry comes from ``lon``/``lat`` (EPSG:4326); every record column is kept,
    or only ``columns`` when given. Files are named ``part-00000.parquet`` … from
    ``start_index`` so that several inputs can be added to one folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if columns is not None:
        records = records[list(columns)]
    paths = []
    for k, lo in enumerate(range(0, max(len(records), 1), rows_per_partition)):
        part = records.iloc[lo : lo + rows_per_partition]
        frame = gpd.GeoDataFrame(
            part.reset_index(drop=True),
            geometry=gpd.points_from_xy(part["lon"], part["lat"]),
            crs="EPSG:4326",
        )
        path = folder / f"part-{start_index + k:05d}.parquet"
        frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def partition_paths(source: str | Path | Sequence[str | Path]) -> list[str]:
    """The Parquet files of a folder, a single file, or a list of files."""
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            found = sorted(str(p) for p in path.glob("*.parquet"))
        elif path.is_file():
            found = [str(path)]
        else:
            found = []
        if not found:
            raise InputError(
                _(
                    "No Parquet partitions at {source!r}: expected a folder of "
                    "*.parquet files written by "
                    "crisismap.distributed.write_partitions, or one such file."
                ).format(source=str(source))
            )
        return found
    return [str(p) for p in source]


# --- scratch partitions: owner-only, never left behind --------------------------------------

SCRATCH_PREFIX = "crisismap-partitions-"


@contextlib.contextmanager
def scratch_folder(data_dir: str | Path | None = None) -> Iterator[Path]:
    """An owner-only folder for one run's partitions, under ``<data dir>/tmp``.

    Partitions hold records, so they stay beside the workspace (same disk, same
    owner-only folders) rather than in the shared system temp folder. The folder is
    removed when the block ends, and also when SIGTERM or SIGINT arrives (then the
    signal goes on to do what it would have done). A SIGKILLed run cannot clean up: its
    folder is named after its process (``…-<pid>-<start time>-…``), and the next run
    removes every folder whose process is gone.
    """
    base = Path(data_dir) if data_dir is not None else default_data_dir()
    if not base.is_dir():
        private_dir(base)
    root = private_dir(base / "tmp")
    remove_orphans(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{_owner_tag(os.getpid())}-", dir=root))
    restore = _remove_on_signal(folder)
    try:
        yield folder
    finally:
        restore()
        shutil.rmtree(folder, ignore_errors=True)


def remove_orphans(root: Path) -> list[Path]:
    """Remove the scratch folders in ``root`` whose process is gone; returns them."""
    removed = []
    for folder in root.glob(f"{SCRATCH_PREFIX}*"):
        pid, _, rest = folder.name.removeprefix(SCRATCH_PREFIX).partition("-")
        started = rest.partition("-")[0]
        if pid.isdigit() and _owner_tag(int(pid)) != f"{pid}-{started}":
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _owner_tag(pid: int) -> str:
    """``<pid>-<start time>``: a recycled pid has another start time ("gone" when none)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return f"{pid}-{stat.rpartition(')')[2].split()[19]}"
    except (OSError, IndexError):
        pass
    try:  # no /proc: the pid alone
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"{pid}-gone"
    except PermissionError:
        pass
    return f"{pid}-0"


def _remove_on_signal(folder: Path) -> Callable[[], None]:
    """Remove ``folder`` on SIGTERM/SIGINT, then let the signal act; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set handlers (a server's threads)
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        restore()
        earlier = previous.get(signum)
        if callable(earlier):
            earlier(signum, frame)  # e.g. Python's KeyboardInterrupt for SIGINT
        raise SystemExit(128 + signum)

    def restore() -> None:
        for signum, earlier in previous.items():
            signal.signal(signum, earlier)

    for signum in (signal.SIGTERM, signal.SIGINT):
        earlier = signal.getsignal(signum)
        if earlier is not signal.SIG_IGN:
            previous[signum] = earlier
            signal.signal(signum, handler)
    return restore


# --- the cluster ----------------------------------------------------------------------------


@contextlib.contextmanager
def local_cluster(
    n_workers: int = 2,
    *,
    threads_per_worker: int = 1,
    memory_limit: str | int = "2GiB",
    processes: bool = True,
) -> Iterator[str]:
    """A ``LocalCluster`` for the duration of the block; yields its scheduler address."""
    from distributed import LocalCluster

    where = {"host": "127.0.0.1"} if processes else {}  # never listen beyond this machine
    with LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        memory_limit=memory_limit,
        processes=processes,
        dashboard_address=None,
        **where,
    ) as cluster:
        yield cluster.scheduler_address


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int) -> Iterator[Any]:
    from distributed import Client

    if scheduler:
        try:
            client = Client(scheduler, timeout=30)
        except (ValueError, OSError, TimeoutError) as exc:
            raise InputError(
                _(
                    "Could not connect to the dask scheduler at {scheduler!r} ({exc}): "
                    "expected the address of a running scheduler, such as "
                    "tcp://10.0.0.5:8786."
                ).format(scheduler=scheduler, exc=exc)
            ) from exc
        with client:
            yield client
        return
    with local_cluster(n_workers) as address, Client(address) as client:
        yield client


# --- join + count on the cluster ------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    """What every worker counts: the view, and whether categories are split out."""

    view: View
    by_category: bool


def summarize_parquet(
    source: str | Path | Sequence[str | Path],
    levels: Any,
    view: View,
    *,
    by_category: bool = True,
    snap_distance_m: float | None = None,
    scheduler: str | None = None,
    n_workers: int = 2,
) -> pd.DataFrame:
    """Region × period (× category) figures of the records in Parquet partitions.

    The same table as ``aggregate.summarize(records, join.join_points(records, levels),
    levels, ...)`` on all the records at once. ``scheduler`` is a dask scheduler address;
    None starts a local cluster of ``n_workers`` processes for the call.
    """
    task = _task(view, by_category)
    parts = _partials(source, levels, task, snap_distance_m, scheduler, n_workers)
    return _combine(parts, "summary", levels, view, by_category=by_category)


def _task(view: View, by_category: bool) -> _Task:
    return _Task(view=view, by_category=bool(by_category))


def _partials(
    source: str | Path | Sequence[str | Path],
    levels: Any,
    task: _Task,
    snap_distance_m: float | None,
    scheduler: str | None,
    n_workers: int,
) -> pd.DataFrame:
    """Every partition's counts (see :func:`_count_partition`), combined on the cluster.

    The counts of a partition can be as large as the summary itself (a million cells),
    so they are added up in a tree, a few partitions at a time, never all in one place.
    """
    import dask
    import dask_geopandas

    mapping = {int(k): v for k, v in getattr(levels, "levels", levels).items()}
    paths = partition_paths(source)
    with _client(scheduler, n_workers):
        frame = dask_geopandas.read_parquet(paths, columns=[*_NEEDED, "geometry"])
        shared = dask.delayed(mapping, pure=True)  # shipped once per worker, not per task
        counted = frame.map_partitions(
            _count_partition,
            shared,
            task,
            snap_distance_m,
            meta=_meta(),
            align_dataframes=False,
        )
        parts = counted.to_delayed()
        while len(parts) > 1:
            width = _TREE_WIDTH
            parts = [
                dask.delayed(_add_up)(*parts[k : k + width]) for k in range(0, len(parts), width)
            ]
        return _add_up(*dask.compute(*parts))


_TREE_WIDTH = 4  # partitions' counts added up per task
_KEYS = ["kind", "region_code", "region_name", "imprecise", "period", "category"]
_SUMS = ["incidents", "victims", "victims_known", "partly_in_range"]


def _add_up(*parts: pd.DataFrame) -> pd.DataFrame:
    """Counts of several partitions as one frame, one row per distinct cell."""
    frame = pd.concat(parts, ignore_index=True)
    summed = frame.groupby(_KEYS, dropna=False, sort=False)[_SUMS].sum().reset_index()
    return summed[list(_meta().columns)]


def _meta() -> pd.DataFrame:
    columns = {"kind": pd.Series(dtype="str")}
    for name, dtype in (
        ("region_code", "str"),
        ("region_name", "str"),
        ("imprecise", bool),
        ("period", np.int64),
        ("category", "str"),
        ("incidents", np.int64),
        ("victims", float),
        ("victims_known", np.int64),
        ("partly_in_range", np.int64),
    ):
        columns[name] = pd.Series(dtype=dtype)
    return pd.DataFrame(columns)


def _count_partition(
    part: pd.DataFrame, levels: dict[int, Any], task: _Task, snap_distance_m: float | None
) -> pd.DataFrame:
    """Join one partition at every level, then count it four ways (see ``_KINDS``)."""
    records = pd.DataFrame(part.drop(columns="geometry")).reset_index(drop=True)
    if "max_level" in records:
        records["max_level"] = records["max_level"].astype("Int64")
    joined = join.join_points(records, levels, snap_distance_m=snap_distance_m)
    view = task.view
    everything = View(view.level, view.period)
    counted = [
        # the view itself
        aggregate.partial_counts(records, joined, levels, view, by_category=task.by_category)
        .assign(kind="summary"),
        # each record once per region over the view: the GeoJSON export's figures
        aggregate.partial_counts(records, joined, levels, view, by_category=False)
        .assign(kind="regions"),
        # every record, no filter: the manifest's totals at the level
        aggregate.partial_counts(records, joined, levels, everything, by_category=False)
        .assign(kind="totals"),
        # the top-level regions holding records: which countries the data is about
        aggregate.partial_counts(
            records, joined, levels, View(min(levels), view.period), by_category=False
        ).assign(kind="top"),
    ]  # fmt: skip
    return pd.concat(counted, ignore_index=True)[list(_meta().columns)]


def _combine(
    parts: pd.DataFrame,
    kind: str,
    levels: Any,
    view: View,
    *,
    by_category: bool,
) -> pd.DataFrame:
    chosen = parts[parts["kind"] == kind].drop(columns="kind")
    return aggregate.summarize_partials(chosen, levels, view, by_category=by_category)


# --- the command line's path: a CSV (or partitions) to exports ---------------------------------


def summarize_input(
    source: str | Path,
    boundaries: BoundarySet,
    view: View,
    *,
    by_category: bool = True,
    preset: str | None = None,
    overrides: dict[str, str] | None = None,
    date_order: DateOrder | str = DateOrder.AUTO,
    encoding: str | None = None,
    category_separator: str | None = None,
    date_range: DateRange | str = DateRange.NEVER,
    snap_distance_m: float | None = None,
    scheduler: str | None = None,
    n_workers: int = 2,
    rows_per_partition: int = DEFAULT_PARTITION_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    scratch_dir: str | Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> SummaryResult:
    """A CSV validated here (or a folder of partitions), joined and counted on a cluster.

    A CSV is validated on this machine exactly as the local path does, and the columns
    its accepted records need for the join and the counts (never descriptions or
    sources) are written to scratch partitions under ``scratch_dir`` (default: the data
    directory; see :func:`scratch_folder`). A folder (or ``.parquet`` file) is read as
    partitions of records already validated. Latitude/longitude swaps are not checked
    here: the local engine does that. Returns the local engine's result type.
    """
    aggregate.level_frame(boundaries, view.level)  # fail early on an unknown level
    if view.approved_only or view.verified_only:  # the partitions carry no approval flags
        raise InputError(
            _(
                "Counting only approved or verified records is not available with "
                "the dask engine yet: use the local engine, or leave the filter "
                "out."
            )
        )
    snap_asked = snap_distance_m
    snap_distance_m = snap_distance(boundaries, snap_distance_m)
    task = _task(view, by_category)
    options = {
        "preset": preset,
        "overrides": overrides,
        "date_order": date_order,
        "category_separator": category_separator,
        "date_range": date_range,
    }
    with scratch_folder(scratch_dir) as tmp:
        prepared = _prepare(
            Path(source), tmp, options, encoding, max_bytes, rows_per_partition, progress
        )
        if scheduler:
            progress(
                _("joining and counting on the cluster at {scheduler}").format(scheduler=scheduler)
            )
        else:
            progress(_("joining and counting on a local cluster"))
        parts = _partials(
            prepared.partitions, boundaries.levels, task, snap_distance_m, scheduler, n_workers
        )
    present = parts.loc[(parts["kind"] == "top") & (parts["incidents"] > 0), "region_code"]
    levels = levels_holding(boundaries, present.dropna().unique())
    everything = View(view.level, view.period)
    prepared.parameters.update(
        snap_distance_m=snap_distance_m,
        snap_default=snap_asked is None,
        fix_swapped=False,
        by_category=by_category,
        engine="dask",
        scheduler=scheduler,
    )
    by_region = _combine(parts, "regions", levels, view, by_category=False)
    return SummaryResult(
        view=view,
        summary=_combine(parts, "summary", levels, view, by_category=by_category),
        totals=_totals(_combine(parts, "totals", levels, everything, by_category=False)),
        regions=levels[view.level],
        boundaries=boundaries,
        rejected=prepared.rejected,
        report=prepared.report,
        inputs=prepared.inputs,
        parameters=prepared.parameters,
        make_figures=lambda: _region_figures(by_region, levels[view.level]),
    )


@dataclass
class _Prepared:
    partitions: Path
    report: Report | None = None
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


def _prepare(
    source: Path,
    tmp: Path,
    options: dict[str, Any],
    encoding: str | None,
    max_bytes: int,
    rows_per_partition: int,
    progress: Callable[[str], None],
) -> _Prepared:
    """Partitions to read: the given ones, or a CSV validated here and written to ``tmp``."""
    if source.is_dir() or source.suffix.lower() == ".parquet":
        if DateRange.parse(options.get("date_range") or DateRange.NEVER) != DateRange.NEVER:
            raise InputError(
                _(
                    "Counting date ranges on their start or end date needs the "
                    "incident CSV: {name} holds partitions already prepared. Pass the "
                    "CSV, or leave --date-range out."
                ).format(name=source.name)
            )
        count = len(partition_paths(source))
        return _Prepared(source, inputs=[{"name": str(source), "partitions": count}])
    data = source.read_bytes()
    progress(_("validating {name} on this machine").format(name=source.name))
    result = validate_bytes(
        data,
        filename=source.name,
        preset=options["preset"],
        overrides=options["overrides"],
        date_order=options["date_order"],
        category_separator=options["category_separator"],
        encoding=encoding,
        max_bytes=max_bytes,
    )
    date_range = DateRange.parse(options.get("date_range") or DateRange.NEVER)
    records = pin_date_ranges(result.records, date_range)
    write_partitions(records, tmp, rows_per_partition=rows_per_partition, columns=_NEEDED)
    report = result.report
    return _Prepared(
        tmp,
        report=report,
        rejected=result.rejected,
        inputs=[
            {"name": source.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        ],
        parameters={
            "preset": report.preset,
            "mapping": report.mapping,
            "date_order": report.date_order or DateOrder.parse(options["date_order"]).value,
            "encoding": report.encoding,
            "date_range": date_range.value,
        },
    )


def _region_figures(by_region: pd.DataFrame, regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per region (every region of the level, zeros included): totals over all periods,
    as ``pipeline.region_figures`` gives them."""
    table = by_region.groupby("region_code")[["incidents", "victims", "victims_known"]].sum()
    table = table[~table.index.isin([OUTSIDE_CODE, IMPRECISE_CODE])]
    codes = pd.Index(regions["code"].astype("str").dropna().unique())
    return table.reindex(table.index.union(codes), fill_value=0)


def _totals(table: pd.DataFrame) -> dict[str, int]:
    counts = table.groupby("region_code")["incidents"].sum()
    outside = int(counts.get(OUTSIDE_CODE, 0))
    imprecise = int(counts.get(IMPRECISE_CODE, 0))
    accepted = int(counts.sum())
    return {
        "accepted": accepted,
        "in_regions": accepted - outside - imprecise,
        OUTSIDE_CODE: outside,
        IMPRECISE_CODE: imprecise,
    }


__all__ = [
    "DEFAULT_PARTITION_ROWS",
    "local_cluster",
    "partition_paths",
    "scratch_folder",
    "summarize_input",
    "summarize_parquet",
    "write_partitions",
]
