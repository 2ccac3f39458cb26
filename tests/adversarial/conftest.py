"""Print every adversarial suite's figures at the end of the run (see figures.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.adversarial import figures


def pytest_terminal_summary(terminalreporter) -> None:
    results = figures.ordered()
    if not results:
        return
    terminalreporter.section("reliability figures")
    for suite, values in results:
        terminalreporter.write_line(f"{suite}:")
        for name, value in values.items():
            shown = f"{value:,}" if isinstance(value, int) else value
            terminalreporter.write_line(f"    {name}: {shown}")
    target = os.environ.get(figures.JSON_ENV)
    if target:
        Path(target).write_text(json.dumps(dict(results), indent=2, default=str) + "\n")
