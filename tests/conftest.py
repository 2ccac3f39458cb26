"""Shared fixtures: the real-world files in ../shared/data (see its ATTRIBUTION.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CRISISMAP_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; fails in CI (where it must exist), skips elsewhere."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"Real test data expected at {SHARED_DATA} but not found.")
        pytest.skip(f"real test data not found at {SHARED_DATA}")
    return SHARED_DATA


# Modules that test main's store itself (delete overwrites at once there): no stand-in.
_OWN_STORE_SEMANTICS = {"tests.test_store", "tests.test_cli", "tests.adversarial.test_concurrency"}


@pytest.fixture(scope="module", autouse=True)
def store_contract(request: pytest.FixtureRequest):
    """The issue-11 Store API for the app's tests until ``teams-store`` is merged.

    TEMPORARY (see tests/store_standin.py): does nothing once the real API exists.
    """
    if request.module.__name__ in _OWN_STORE_SEMANTICS:
        yield
        return
    from tests import store_standin

    with pytest.MonkeyPatch.context() as patch:
        store_standin.install(patch)
        yield


def pytest_configure(config: pytest.Config) -> None:
    """Keep the tests' workspace out of the user's real one (the app saves datasets there)."""
    if "CRISISMAP_DATA_DIR" not in os.environ:
        import tempfile

        os.environ["CRISISMAP_DATA_DIR"] = tempfile.mkdtemp(prefix="crisismap-test-workspace-")
