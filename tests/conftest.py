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


def pytest_configure(config: pytest.Config) -> None:
    """Keep the tests' workspace out of the user's real one (the app saves datasets there)."""
    if "CRISISMAP_DATA_DIR" not in os.environ:
        import tempfile

        os.environ["CRISISMAP_DATA_DIR"] = tempfile.mkdtemp(prefix="crisismap-test-workspace-")
