"""How the app is served: the WebSocket answers only to this machine's own names.

A web page whose name is made to resolve to 127.0.0.1 (DNS rebinding) sends its own name
as Host and Origin; Streamlit treats Origin == Host as same-origin, so without
``server.allowedHosts`` that page could open the app's WebSocket and read the workspace.
The app is started as the README says (only the port differs) and the upgrade is sent
on a raw socket, as the hostile page's browser would.
"""

from __future__ import annotations

import base64
import os
import socket
from urllib.parse import urlparse

import pytest

from tests.helpers.appserver import running_app


def upgrade_status(url: str, host: str) -> int:
    """The HTTP status of a WebSocket upgrade to the app's stream with ``host`` as Host/Origin."""
    target = urlparse(url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Origin: http://{host}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n"
        "\r\n"
    )
    with socket.create_connection((target.hostname, target.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.makefile("rb").readline().decode("latin-1")
    return int(status_line.split()[1])


@pytest.fixture(scope="module")
def readme_app():
    """The app started with the README's command (``streamlit run app.py``) on a free port."""
    with running_app(readme=True) as url:
        yield url


def test_a_rebound_hostname_is_refused(readme_app):
    port = urlparse(readme_app).port
    assert upgrade_status(readme_app, f"evil.example:{port}") == 403
    assert upgrade_status(readme_app, f"127.0.0.1.evil.example:{port}") == 403


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_machines_own_names_are_served(readme_app, name):
    port = urlparse(readme_app).port
    assert upgrade_status(readme_app, f"{name}:{port}") == 101


def test_the_readme_command_listens_on_loopback_only(readme_app):
    """The config file binds 127.0.0.1: another address of this machine gets no answer."""
    port = urlparse(readme_app).port
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError), socket.create_connection((outside, port), timeout=3):
        pass


def _outside_address() -> str | None:
    """One of this machine's non-loopback IPv4 addresses (no packet leaves the machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: connect() on UDP sends nothing
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address
