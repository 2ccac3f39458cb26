"""The dashboard in a real browser at scale: what chromium receives and how long it waits.

``uv run python -m benchmarks.browser --size 1000000 --layer caf3`` saves the seeded
incident file to a fresh workspace (as ``crisismap workspace add`` does), starts the app
on it, opens it in Debian's chromium (Playwright), picks the saved dataset and waits for
the map. It prints the bytes the browser received over Streamlit's websocket (the map
travels there, inside the component's arguments), the size of the map document inside
the iframe, and the seconds until the map shows, for opening the dataset and for each
change of the period slider. Every request that would leave the machine is refused and
counted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import data

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


class Traffic:
    """Bytes received over the websocket and over HTTP since the last ``reset``."""

    def __init__(self) -> None:
        self.ws = 0
        self.http = 0
        self.frames = []

    frames: list[tuple[float, int]]

    def reset(self) -> None:
        self.ws = self.http = 0
        self.frames = []

    def frame(self, payload: Any) -> None:
        self.ws += len(payload) if payload is not None else 0
        self.frames.append((time.perf_counter(), len(payload) if payload is not None else 0))

    def response(self, response: Any) -> None:
        try:
            self.http += len(response.body())
        except Exception:  # redirects and aborted requests have no body
            pass


def _settled_legend(page: Any, text: str, timeout: float, poll: float = 0.2) -> tuple[Any, str]:
    """The map frame once exactly one map iframe shows a legend containing ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(MAP_IFRAME).count() == 1:
            try:
                handle = page.locator(MAP_IFRAME).element_handle(timeout=2_000)
                frame = handle.content_frame()
                legend = frame.locator(".crisismap-legend").inner_text(timeout=2_000)
                if text in legend:
                    return frame, legend
            except Exception:  # the iframe was replaced while we looked
                pass
        time.sleep(poll)
    raise SystemExit(f"the map with {text!r} in its legend did not show within {timeout} s")


def _profiler(pid: int, out: str) -> subprocess.Popen:
    """py-spy sampling the app's server while the period steps run (collapsed stacks)."""
    spy = subprocess.Popen(
        ["uvx", "py-spy", "record", "--pid", str(pid), "--format", "raw", "-o", out, "-r", "200"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2)  # py-spy attaches
    return spy


# Clocks in the browser: the press of the step button, and the legend's change painted in
# the map's iframe (Date.now() is one clock for the page and its same-origin iframe).
_WATCH_CLICK = """() => document.addEventListener("mousedown",
    () => { window.crisismapClickAt = Date.now(); }, {capture: true, once: true})"""
_WATCH_LEGEND = """() => {
    window.crisismapProbe = 1;
    window.crisismapPaintedAt = null;
    window.crisismapPointsAt = null;
    window.crisismapArgsAt = null;
    window.Streamlit.events.addEventListener(window.Streamlit.RENDER_EVENT, () => {
        if (window.crisismapArgsAt === null) window.crisismapArgsAt = Date.now();
    });
    document.addEventListener("crisismap:points", () => {
        requestAnimationFrame(() => setTimeout(() => { window.crisismapPointsAt = Date.now(); }));
    }, {once: true});
    const body = document.querySelector(".crisismap-legend-body");
    const seen = new MutationObserver(() => {
        seen.disconnect();
        requestAnimationFrame(() => setTimeout(() => { window.crisismapPaintedAt = Date.now(); }));
    });
    seen.observe(body, {childList: true, subtree: true, characterData: true});
}"""


def _in_browser(page: Any, frame: Any, mark: str = "crisismapPaintedAt") -> float | None:
    """Seconds from the button's press to the new legend painted (``mark``: or the points),
    by the browser's clock (None when the iframe was replaced: its observer went with it)."""
    try:
        deadline = time.monotonic() + 5
        painted = None
        while painted is None and time.monotonic() < deadline:
            painted = frame.evaluate(f"window.{mark}")
            time.sleep(0.01)
        clicked = page.evaluate("window.crisismapClickAt")
    except Exception:  # detached: replaced
        return None
    return None if painted is None or clicked is None else (painted - clicked) / 1000


def _probe_kept(frame: Any) -> bool:
    """Whether the iframe still holds the probe set before the step (not replaced)."""
    try:
        return bool(frame.evaluate("window.crisismapProbe === 1"))
    except Exception:  # detached: replaced
        return False


def _first_map(url: str, browser: Any, timeout: float) -> float:
    """Seconds from opening the app in a new tab to its first map (the bundled demo)."""
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    _settled_legend(page, "incidents shown", timeout, poll=0.05)
    seconds = time.perf_counter() - start
    context.close()
    return seconds


# The app's first map in a fresh Python process, by the library calls the app makes: what
# importing costs, then what the bundled boundary set (prepared on disk) and the map cost.
_FRESH_FIRST_MAP = """
import json, sys, time
started = time.perf_counter()
import folium, geopandas, streamlit  # noqa: F401  (what the app imports first)
from crisismap import dashboard, layers
from crisismap.schema import View
imported = time.perf_counter()
demo = sys.argv[1]
boundaries = dashboard.load_bundled()
opened = time.perf_counter()
with open(demo, "rb") as file:
    analysis = dashboard.analyse_files([("demo.csv", file.read())], boundaries)
page = dashboard.build_view(analysis, View.parse(level=1, period="month"))
live = layers.build_live_map(page.regions, page.points, total_points=page.total_points)
live.view.add_to(live.base)
live.base.get_root().render()
done = time.perf_counter()
print(json.dumps({"imports": imported - started, "boundaries": opened - imported,
                  "first_map": done - imported}))
"""


def _fresh_first_map(workdir: Path) -> dict[str, float]:
    """The library's share of the first map in a fresh process (see ``_FRESH_FIRST_MAP``)."""
    env = {**os.environ, "CRISISMAP_DATA_DIR": str(workdir)}
    demo = data.ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_FIRST_MAP, str(demo)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(
    size: int,
    layer: str,
    steps: int,
    timeout: float,
    profile: str | None = None,
    upload: int = 100_000,
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from crisismap.store import Workspace
    from tests.helpers.appserver import CHROMIUM, CHROMIUM_ARGS, keep_offline, running_app

    path = data.ensure_incidents(data.load_layer(layer), size)
    workdir = Path(tempfile.mkdtemp(prefix="crisismap-browser-bench-"))
    name = f"benchmark {layer} {size:,}"
    Workspace.open(workdir).save_dataset(name, path.read_bytes(), filename=path.name)
    results: dict[str, Any] = {"size": size, "layer": layer, "csv_mb": path.stat().st_size / 1e6}
    traffic = Traffic()
    server: list[Any] = []
    with running_app(workdir, started=server) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1300})

        offline = keep_offline(context, url)
        page = context.new_page()
        page.on("websocket", lambda ws: ws.on("framereceived", traffic.frame))
        page.on("response", traffic.response)
        start = time.perf_counter()
        page.goto(url)
        _settled_legend(page, "incidents shown", timeout, poll=0.05)  # the demo file first
        results["first_map_new_process_s"] = time.perf_counter() - start
        results["first_map_warm_process_s"] = _first_map(url, browser, timeout)
        if upload:
            upload_path = data.ensure_incidents(data.load_layer(layer), upload)
            seconds = []
            for _ in range(3):  # each upload is new to the app (its id): analysed again
                start = time.perf_counter()
                page.locator('input[type="file"]').first.set_input_files(str(upload_path))
                _settled_legend(page, f"of {upload:,} incidents", timeout, poll=0.05)
                seconds.append(time.perf_counter() - start)
                page.goto(url)  # a new session, back to the demo file
                _settled_legend(page, "incidents shown", timeout)
            results["upload"] = {
                "incidents": upload,
                "csv_mb": upload_path.stat().st_size / 1e6,
                "seconds": statistics.median(seconds),
                "runs": seconds,
            }
        traffic.reset()
        start = time.perf_counter()
        box = page.get_by_test_id("stMultiSelect").filter(has_text="Saved datasets")
        box.locator("input").click()
        page.get_by_role("option", name=name).first.click()
        page.keyboard.press("Escape")
        frame, legend = _settled_legend(page, f"of {size:,} incidents", timeout)
        results["open_s"] = time.perf_counter() - start
        results["open_ws_mb"] = traffic.ws / 1e6
        results["open_http_mb"] = traffic.http / 1e6
        results["map_document_mb"] = len(frame.content().encode("utf-8")) / 1e6
        results["legend"] = " ".join(legend.split())
        changes = []
        step = page.get_by_role("button", name="▶")
        spy = _profiler(server[0].pid, profile) if profile else None
        for _ in range(steps):
            frame, legend = _settled_legend(page, "incidents shown", timeout)
            frame.evaluate(_WATCH_LEGEND)  # its marks are gone if the iframe is replaced
            page.evaluate(_WATCH_CLICK)
            traffic.reset()
            start = time.perf_counter()
            step.click()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                frame, now = _settled_legend(page, "incidents shown", timeout, poll=0.02)
                if " ".join(now.split()) != " ".join(legend.split()):
                    break
                time.sleep(0.02)
            else:
                raise SystemExit("the map did not change after a period step")
            seconds = time.perf_counter() - start
            frames = [(at - start, size) for at, size in traffic.frames]
            big = [at for at, size in frames if size > 100_000]  # the map's arguments
            changes.append(
                {
                    "seconds": seconds,
                    "ws_mb": traffic.ws / 1e6,
                    "first_frame_s": frames[0][0] if frames else None,
                    "map_frame_s": big[0] if big else None,
                    "map_kept": _probe_kept(frame),
                    "in_browser_s": _in_browser(page, frame),
                    "points_in_browser_s": _in_browser(page, frame, "crisismapPointsAt"),
                    "args_in_browser_s": _in_browser(page, frame, "crisismapArgsAt"),
                    "clicked_at": page.evaluate("window.crisismapClickAt"),
                    "legend": " ".join(now.split())[:80],
                }
            )
            legend = now
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        results["period_changes"] = changes
        results["outside_requests"] = len(offline.outside)
        context.close()
        browser.close()
    # fresh server processes on the same workspace: the boundary set's display geometry
    # was prepared (on disk) by the first one
    prepared = []
    for _ in range(3):
        with running_app(workdir) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            prepared.append(_first_map(url, browser, timeout))
            browser.close()
    results["first_map_prepared_process_s"] = statistics.median(prepared)
    library = [_fresh_first_map(workdir) for _ in range(3)]
    results["fresh_process_library"] = {
        key: statistics.median(run[key] for run in library) for key in library[0]
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="incidents in the file")
    parser.add_argument("--layer", default="caf3", choices=data.LAYERS, help="where the points lie")
    parser.add_argument("--steps", type=int, default=3, help="period slider changes to time")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for a map")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    parser.add_argument(
        "--profile",
        metavar="OUT",
        help="sample the server with py-spy (uvx) during the period steps: collapsed stacks",
    )
    parser.add_argument(
        "--upload",
        type=int,
        default=100_000,
        help="incidents in the file uploaded through the page (0: no upload)",
    )
    args = parser.parse_args(argv)
    r = measure(args.size, args.layer, args.steps, args.timeout, args.profile, args.upload)
    csv_mb, layer = r["csv_mb"], r["layer"]
    print(f"dashboard in chromium: {r['size']:,} incidents ({csv_mb:.0f} MB CSV, {layer})")
    print(
        "  first map (page opened -> bundled demo's map): new server process "
        f"{r['first_map_new_process_s']:.2f} s, a fresh process once the boundary set was "
        f"prepared {r['first_map_prepared_process_s']:.2f} s (median of 3), the same process again "
        f"{r['first_map_warm_process_s']:.2f} s"
    )
    lib = r["fresh_process_library"]
    print(
        "  of which the library in a fresh process (boundary set prepared; median of 3): imports "
        f"{lib['imports']:.2f} s, then the bundled boundary set opened {lib['boundaries']:.2f} s"
        f" and the first map built {lib['first_map']:.2f} s (with the demo file analysed)"
    )
    if "upload" in r:
        up = r["upload"]
        print(
            f"  upload of {up['incidents']:,} incidents ({up['csv_mb']:.1f} MB) -> map shown: "
            f"median {up['seconds']:.2f} s (runs {', '.join(f'{x:.2f}' for x in up['runs'])})"
        )
    print(f"  open saved dataset -> map shown: {r['open_s']:.1f} s")
    print(
        f"  received over the websocket: {r['open_ws_mb']:.2f} MB; over HTTP: "
        f"{r['open_http_mb']:.2f} MB"
    )
    print(f"  map document in the iframe: {r['map_document_mb']:.2f} MB")
    print(f"  legend: {r['legend']}")
    for k, change in enumerate(r["period_changes"], 1):
        seconds, mb, shown = change["seconds"], change["ws_mb"], change["legend"]
        first, big = change["first_frame_s"], change["map_frame_s"]
        when = (
            f"first reply {first:.2f} s, map arguments {big:.2f} s"
            if first is not None and big is not None
            else "no map arguments received"
        )
        kept = "map kept" if change["map_kept"] else "map redrawn"
        if change["in_browser_s"] is not None:
            kept += f"; by the browser's clock: {change['in_browser_s']:.2f} s press to paint"
        if change["args_in_browser_s"] is not None:
            kept += f" (the map's arguments in its iframe {change['args_in_browser_s']:.2f} s)"
        if change["points_in_browser_s"] is not None:
            kept += f", {change['points_in_browser_s']:.2f} s with the points"
        print(f"  period step {k}: {seconds:.2f} s ({when}; {kept}), {mb:.2f} MB received")
        print(f"      {shown}...")
    painted = [c["in_browser_s"] for c in r["period_changes"] if c["in_browser_s"] is not None]
    points = [
        c["points_in_browser_s"]
        for c in r["period_changes"]
        if c["points_in_browser_s"] is not None
    ]
    if painted:
        median = statistics.median(painted)
        print(
            f"  period step, press to paint (browser's clock): median {median:.2f}"
            f" s, max {max(painted):.2f} s; with the points: median "
            f"{statistics.median(points) if points else float('nan'):.2f} s "
            f"({len(painted)} steps)"
        )
    print(f"  requests that tried to leave the machine: {r['outside_requests']}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
