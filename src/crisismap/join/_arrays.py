"""Vectorised array idioms shared by the level index and the grid (no Python loops)."""

from __future__ import annotations

import numpy as np


def _distinct(ordered: np.ndarray) -> np.ndarray:
    """Sorted values without repeats."""
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, c - 1 for each count c, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def _ramp_from(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """start, start + 1, …, start + c - 1 for each (start, count), concatenated."""
    return np.repeat(starts, counts) + _ramp(counts)
