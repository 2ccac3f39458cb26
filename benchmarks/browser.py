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

    def reset(self) -> None:
        self.ws = self.http = 0

    def frame(self, payload: Any) -> None:
        self.ws += len(payload) if payload is not None else 0

    def response(self, response: Any) -> None:
        try:
            self.http += len(response.body())
        except Exception:  # redirects and aborted requests have no body
            pass


def _settled_legend(page: Any, text: str, timeout: float) -> tuple[Any, str]:
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
        time.sleep(0.2)
    raise SystemExit(f"the map with {text!r} in its legend did not show within {timeout} s")


def measure(size: int, layer: str, steps: int, timeout: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from crisismap.store import Workspace
    from tests.helpers.appserver import CHROMIUM, CHROMIUM_ARGS, keep_offline, running_app

    path = data.ensure_incidents(data.load_layer(layer), size)
    workdir = Path(tempfile.mkdtemp(prefix="crisismap-browser-bench-"))
    name = f"benchmark {layer} {size:,}"
    Workspace.open(workdir).save_dataset(name, path.read_bytes(), filename=path.name)
    results: dict[str, Any] = {"size": size, "layer": layer, "csv_mb": path.stat().st_size / 1e6}
    traffic = Traffic()
    with running_app(workdir) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1300})

        offline = keep_offline(context, url)
        page = context.new_page()
        page.on("websocket", lambda ws: ws.on("framereceived", traffic.frame))
        page.on("response", traffic.response)
        page.goto(url)
        _settled_legend(page, "incidents shown", timeout)  # the demo file first
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
        for _ in range(steps):
            traffic.reset()
            start = time.perf_counter()
            step.click()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                frame, now = _settled_legend(page, "incidents shown", timeout)
                if now != legend:
                    break
                time.sleep(0.1)
            else:
                raise SystemExit("the map did not change after a period step")
            changes.append(
                {
                    "seconds": time.perf_counter() - start,
                    "ws_mb": traffic.ws / 1e6,
                    "legend": " ".join(now.split())[:80],
                }
            )
            legend = now
        results["period_changes"] = changes
        results["outside_requests"] = len(offline.outside)
        context.close()
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="incidents in the file")
    parser.add_argument("--layer", default="caf3", choices=data.LAYERS, help="where the points lie")
    parser.add_argument("--steps", type=int, default=3, help="period slider changes to time")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for a map")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    r = measure(args.size, args.layer, args.steps, args.timeout)
    csv_mb, layer = r["csv_mb"], r["layer"]
    print(f"dashboard in chromium: {r['size']:,} incidents ({csv_mb:.0f} MB CSV, {layer})")
    print(f"  open saved dataset -> map shown: {r['open_s']:.1f} s")
    print(
        f"  received over the websocket: {r['open_ws_mb']:.2f} MB; over HTTP: "
        f"{r['open_http_mb']:.2f} MB"
    )
    print(f"  map document in the iframe: {r['map_document_mb']:.2f} MB")
    print(f"  legend: {r['legend']}")
    for k, change in enumerate(r["period_changes"], 1):
        seconds, mb, shown = change["seconds"], change["ws_mb"], change["legend"]
        print(f"  period step {k}: {seconds:.2f} s, {mb:.2f} MB received ({shown}...)")
    print(f"  requests that tried to leave the machine: {r['outside_requests']}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
