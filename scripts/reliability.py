"""Run the adversarial suites at a larger scale and print their figures for the README.

    uv run python scripts/reliability.py               # every suite, 10x the CI case counts
    uv run python scripts/reliability.py --scale 40    # more generated files and kill rounds
    uv run python scripts/reliability.py -k malformed  # one suite (a pytest -k expression)

The suites are the ordinary pytest modules in tests/adversarial; this runs them with
``CRISISMAP_RELIABILITY_SCALE`` (how many times the CI counts of generated cases) and
collects what each prints (``CRISISMAP_FIGURES_JSON``). The exit code is pytest's: a
figure is only worth quoting when its suite passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = ROOT / "tests" / "adversarial"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10, help="times the CI case counts")
    parser.add_argument("-k", dest="select", help="only the suites matching this expression")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crisismap-reliability-") as tmp:
        target = Path(tmp) / "figures.json"
        env = {
            **os.environ,
            "CRISISMAP_RELIABILITY_SCALE": str(args.scale),
            "CRISISMAP_FIGURES_JSON": str(target),
        }
        command = [sys.executable, "-m", "pytest", str(SUITES), "-q", "-p", "no:cacheprovider"]
        if args.select:
            command += ["-k", args.select]
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)
        figures = json.loads(target.read_text()) if target.exists() else {}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nReliability figures (scale {args.scale:g}, {date.today().isoformat()}, ", end="")
    print("suites passed)" if result.returncode == 0 else "SOME SUITES FAILED)")
    for suite, values in figures.items():
        print(f"\n{suite}:")
        for name, value in values.items():
            counted = isinstance(value, int) and not isinstance(value, bool)
            print(f"    {name}: {value:,}" if counted else f"    {name}: {value}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
