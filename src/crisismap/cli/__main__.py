"""``python -m crisismap.cli``."""

from crisismap.cli.main import run

run()
