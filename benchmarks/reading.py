"""Reading memory by shape of file (issue 13, point 6): peak ≤ 5× the file's size.

Each shape is a seeded CSV of about the size asked for, written once under
``benchmarks/out/``; each measurement runs in a fresh process (``benchmarks/worker.py``,
task ``read_shape``) that reads the file's bytes and runs the upload recipe
(``records.validate_bytes``: read, map, validate) on them, as the dashboard does with an
upload. The ratio is the peak resident set (``VmHWM``) over the size after imports (and
a warm-up on a small file of the same shape), divided by the file size; the file's own
bytes count, as an upload's do.

Shapes:

* ``plain`` — one incident a line, every description quoted (commas and quotes inside);
* ``empty`` — 100 quoted columns, 94 of them ``""`` (a long Kobo form mostly unanswered);
* ``multiline`` — ``plain`` with 1 % of descriptions spanning five lines;
* ``rejected`` — every record rejected (an unreadable date and unreadable coordinates);
* ``warnings`` — every record kept with several warnings (two-digit years, coordinates
  with one decimal, negative victim counts, no category).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import data

SHAPES = ("plain", "empty", "multiline", "rejected", "warnings")
TARGET = 5.0
_HEADER = "id,date,latitude,longitude,category,victims,description,source\n"
_PLAIN = '{i},2024-{m:02d}-{d:02d},{lat:.5f},{lon:.5f},{cat},{v},"{text}",{src}\n'
_REJECTED = '{i},not a date {i},lat {lat:.5f},lon {lon:.5f},{cat},{v},"{text}",{src}\n'
_WARNINGS = '{i},{d:02d}/{m:02d}/24,{lat:.1f},{lon:.1f},,-{v},"{text}",{src}\n'


def path(shape: str, megabytes: int) -> Path:
    return data.OUT / f"read_{shape}_{megabytes}mb.csv"


def ensure(shape: str, megabytes: int) -> Path:
    """The ``shape`` file of about ``megabytes`` MB (written once)."""
    target = path(shape, megabytes)
    if not target.is_file():
        data.OUT.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(generate(shape, megabytes * 1_000_000))
        tmp.replace(target)
    return target


def generate(shape: str, size: int) -> bytes:
    """About ``size`` bytes of the given shape (deterministic)."""
    if shape == "empty":
        return data.empty_fields_csv(size)
    row = {"rejected": _REJECTED, "warnings": _WARNINGS}.get(shape, _PLAIN)
    parts, total, i = [_HEADER], len(_HEADER), 0
    words, cats, sources = data._WORDS, data.CATEGORIES, data.SOURCES
    while total < size:
        text = f'{words[i % 10]}, then ""{words[(i * 7) % 10]}"" near km {i % 313}'
        if shape == "multiline" and i % 100 == 7:
            text = "\n".join(f"{words[(i + k) % 10]} ({k})" for k in range(5))
        line = row.format(
            i=i,
            m=1 + i % 12,
            d=1 + i % 28,
            lat=4 + (i % 9973) / 3000,
            lon=18 + (i % 8929) / 2500,
            cat=cats[i % len(cats)],
            v=i % 7,
            text=text,
            src=sources[i % len(sources)],
        )
        parts.append(line)
        total += len(line)
        i += 1
    return "".join(parts).encode("utf-8")


def run(task: dict[str, Any]) -> dict[str, Any]:
    """In the worker: validate the file's bytes once; peak over the size after a warm-up."""
    import gc
    import time

    from benchmarks.worker import peak_mb, rss_mb
    from crisismap import records

    source = path(task["shape"], task["megabytes"])
    records.validate_bytes(generate(task["shape"], 50_000), filename="warm-up.csv")
    gc.collect()
    baseline = rss_mb()
    start = time.perf_counter()
    result = records.validate_bytes(source.read_bytes(), filename=source.name)
    seconds = time.perf_counter() - start
    report = result.report
    return {
        "shape": task["shape"],
        "bytes": source.stat().st_size,
        "baseline_mb": baseline,
        "peak_mb": peak_mb(),
        "seconds": seconds,
        "records": report.records,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "warned": report.warned,
    }


def measure(shapes: list[str], megabytes: int, run_task: Any) -> list[dict[str, Any]]:
    """Each shape in a fresh process; prints one line per shape."""
    print(f"\n== reading memory by shape: validate_bytes on a ~{megabytes} MB upload ==")
    print(f"peak over the size after imports, divided by the file size (target <= {TARGET:g}x)")
    rows = []
    for shape in shapes:
        ensure(shape, megabytes)
        row = run_task({"kind": "read_shape", "shape": shape, "megabytes": megabytes})
        row["ratio"] = (row["peak_mb"] - row["baseline_mb"]) * 2**20 / row["bytes"]
        verdict = "ok" if row["ratio"] <= TARGET else "OVER"
        print(
            f"  {shape:<10}{row['bytes'] / 1e6:>7.1f} MB  peak {row['peak_mb']:>6.0f} MB "
            f"(after imports {row['baseline_mb']:.0f} MB): {row['ratio']:>5.1f}x {verdict:<4} "
            f"{row['seconds']:>5.1f} s; {row['records']:,} records, {row['accepted']:,} "
            f"accepted ({row['warned']:,} with warnings), {row['rejected']:,} rejected",
            flush=True,
        )
        rows.append(row)
    return rows
