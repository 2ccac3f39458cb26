"""Reproducible benchmarks of crisismap (run ``uv run python -m benchmarks --help``)."""
