"""Shared fixtures (the real-world files in ../shared/data, see its ATTRIBUTION.md) and the
markers set by where a test lives or what it starts (see pyproject's pytest markers)."""

from __future__ import annotations

import os
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CRISISMAP_SHARED_DATA", ROOT.parent / "shared" / "data"))
TESTS = Path(__file__).resolve().parent
ADVERSARIAL = TESTS / "adversarial"
BROWSER_FILES = {TESTS / "test_browser.py"}
# A test that calls one of these, itself or through a fixture, drives chromium or starts
# the app's server (tests/helpers/appserver.py): it is a browser test wherever it lives.
BROWSER_CALLS = {"sync_playwright", "running_app"}


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
    # English unless a test asks for another language: a French desktop must not turn the
    # suite's expected messages French (the CLI follows $LANG like any gettext program).
    os.environ.setdefault("CRISISMAP_LANG", "en")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``adversarial`` by folder and ``browser`` by file or by what the test calls,
    so that new tests get them without anyone remembering to (``slow`` is marked by hand)."""
    for item in items:
        path = Path(item.path)
        if ADVERSARIAL in path.parents:
            item.add_marker(pytest.mark.adversarial)
        if path in BROWSER_FILES or BROWSER_CALLS & _names_called(item):
            item.add_marker(pytest.mark.browser)


def _names_called(item: pytest.Item) -> set[str]:
    """The global and imported names the test function and its fixtures refer to."""
    functions = [getattr(item, "function", None)]
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is not None:
        functions += [d.func for defs in fixtures.name2fixturedefs.values() for d in defs]
    names: set[str] = set()
    for function in functions:
        code = getattr(function, "__code__", None)
        for inner in _code_objects(code) if code else ():
            names.update(inner.co_names)
    return names


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    """A code object and those nested in it (inner functions, lambdas, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)
