"""Start the Streamlit app in a subprocess for the browser tests (one recipe for every suite)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(data_dir: Path | None = None, timeout_s: float = 120) -> Iterator[str]:
    """The app's URL while it runs (with its own workspace when ``data_dir`` is given)."""
    port = free_port()
    env = dict(os.environ)
    if data_dir is not None:
        env["CRISISMAP_DATA_DIR"] = str(data_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")]
        + ["--server.port", str(port), "--server.address", "127.0.0.1"]
        + ["--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the Streamlit app did not answer its health check in {timeout_s} s"
                    )
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@dataclass
class Offline:
    """What a browser context tried: requests off the machine (refused) and dialogs."""

    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def keep_offline(context: Any, *allowed: str) -> Offline:
    """Refuse every request of ``context`` except to ``allowed`` prefixes (and data:,
    blob:, about:), and dismiss every dialog; both are recorded for the test to assert."""
    seen = Offline()
    local = (*allowed, "data:", "blob:", "about:")

    def route(r: Any) -> None:
        if r.request.url.startswith(local):
            r.continue_()
        else:
            seen.outside.append(r.request.url)
            r.abort()

    def dismiss(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    context.route("**/*", route)
    context.on("page", lambda page: page.on("dialog", dismiss))
    return seen
