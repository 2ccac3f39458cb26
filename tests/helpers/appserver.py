"""Start the Streamlit app in a subprocess for the browser tests (one recipe for every suite)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
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
def running_app(
    data_dir: Path | None = None,
    timeout_s: float = 120,
    *,
    readme: bool = False,
    address: str = "127.0.0.1",
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    started: list[subprocess.Popen] | None = None,
) -> Iterator[str]:
    """The app's URL while it runs (with its own workspace when ``data_dir`` is given).

    ``readme=True`` starts it as the README's command does (``streamlit run app.py``, the
    rest from .streamlit/config.toml), only on a free port; ``address`` is where it
    listens (the URL is always 127.0.0.1), ``args`` are more Streamlit options and
    ``env`` more environment variables. ``started`` receives the server's process (for
    tests that signal it).
    """
    port = free_port()
    env = {**os.environ, **(env or {})}
    if data_dir is not None:
        env["CRISISMAP_DATA_DIR"] = str(data_dir)
    server_args = ["--server.port", str(port)]
    if not readme:
        server_args += ["--server.address", address, "--server.headless", "true"]
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")]
    with _serving(
        command + server_args + list(args),
        port,
        "/_stcore/health",
        "the Streamlit app",
        timeout_s,
        cwd=ROOT,
        env=env,
        started=started,
    ) as url:
        yield url


@contextmanager
def running_oidc_provider(
    users: Sequence[Mapping[str, Any]], timeout_s: float = 30
) -> Iterator[str]:
    """A real OpenID Connect provider (``oidc-provider-mock``) on 127.0.0.1; its URL.

    ``users`` are claim sets (each with ``sub``): its sign-in page offers one button per
    user, named by ``sub``.
    """
    port = free_port()
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for claims in users:
        command += ["--user-claims", json.dumps(dict(claims))]
    with _serving(
        command, port, "/.well-known/openid-configuration", "the OpenID provider", timeout_s
    ) as url:
        yield url


@contextmanager
def _serving(
    command: list[str],
    port: int,
    ready_path: str,
    what: str,
    timeout_s: float,
    started: list[subprocess.Popen] | None = None,
    **popen: Any,
) -> Iterator[str]:
    """Run ``command`` (a server on 127.0.0.1:``port``) until ``ready_path`` answers; stop it."""
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        **popen,
    )
    if started is not None:
        started.append(proc)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}{ready_path}", timeout_s, what)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_for(url: str, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer at {url} in {timeout_s} s")
        time.sleep(0.3)


@dataclass
class Offline:
    """What a browser context tried: requests off the machine (refused) and dialogs."""

    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def keep_offline(context: Any, *allowed: str, quiet_from: tuple[str, ...] = ()) -> Offline:
    """Refuse every request of ``context`` except to ``allowed`` prefixes (and data:,
    blob:, about:), and dismiss every dialog; both are recorded for the test to assert.

    Requests made by pages under ``quiet_from`` (test infrastructure, such as an OpenID
    provider's sign-in page) are refused too, but not recorded.
    """
    seen = Offline()
    local = (*allowed, "data:", "blob:", "about:")

    def route(r: Any) -> None:
        if r.request.url.startswith(local):
            r.continue_()
            return
        try:
            page_url = r.request.frame.url
        except Exception:  # a request without a frame (service worker)
            page_url = ""
        if not (quiet_from and page_url.startswith(quiet_from)):
            seen.outside.append(r.request.url)
        r.abort()

    def dismiss(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    context.route("**/*", route)
    context.on("page", lambda page: page.on("dialog", dismiss))
    return seen
