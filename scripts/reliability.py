"""Run the adversarial suites at a larger scale and print their figures for the README.

    uv run python scripts/reliability.py               # every suite, 10x the CI case counts
    uv run python scripts/reliability.py --scale 40    # more generated files and kill rounds
    uv run python scripts/reliability.py -k malformed  # one suite (a pytest -k expression)
    uv run python scripts/reliability.py --no-browser  # without the team-mode browser tests

The suites are the ordinary pytest modules in tests/adversarial, plus the team-mode
browser tests (tests/test_browser_teams.py: real sign-in in chromium), which add their
sessions to the access-control figures; this runs them with
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
BROWSER_TEAMS = ROOT / "tests" / "test_browser_teams.py"
ACCESS = "access control"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10, help="times the CI case counts")
    parser.add_argument("-k", dest="select", help="only the suites matching this expression")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--no-browser", action="store_true", help="skip the team-mode browser tests (chromium)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crisismap-reliability-") as tmp:
        target = Path(tmp) / "figures.json"
        env = {
            **os.environ,
            "CRISISMAP_RELIABILITY_SCALE": str(args.scale),
            "CRISISMAP_FIGURES_JSON": str(target),
        }
        suites = [str(SUITES)] + ([] if args.no_browser else [str(BROWSER_TEAMS)])
        command = [sys.executable, "-m", "pytest", *suites, "-q", "-p", "no:cacheprovider"]
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
    if ACCESS in figures:
        print("\n" + access_line(figures[ACCESS]))
    return result.returncode


def access_line(values: dict) -> str:
    """The one line the README quotes: sessions x actions, and what got through."""
    sessions = values.get("sessions", 0)
    tried = values.get("actions tried (every action on own and other team)", 0)
    actions, teams = values.get("actions", 0), values.get("teams", 0)
    line = (
        f"Access control: {sessions:,} sessions x {actions} actions x {teams} teams' data = "
        f"{tried:,} tried across teams and roles, "
        f"{values.get('unauthorised actions tried', 0):,} of them "
        "unauthorised; unauthorised actions that succeeded: "
        f"{values.get('unauthorised actions that succeeded', 0):,}"
    )
    browser = values.get("browser sessions (signed in through the provider or not)")
    if browser:
        checks = values.get("browser checks of what a session must not get", 0)
        found = values.get("browser checks that found it", 0)
        taken = values.get("browser actions taken", 0)
        missing = values.get("browser actions missing from the audit log", 0)
        line += (
            f"; in chromium, {browser} sessions "
            f"({values.get('browser sign-ins through the OpenID provider', 0)} signed in "
            f"through the OpenID provider): {found} of "
            f"{checks} checks found hidden data or controls, {missing} of {taken} actions "
            "missing from the audit log"
        )
    return line + "."


if __name__ == "__main__":
    sys.exit(main())
