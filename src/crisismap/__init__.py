"""crisismap: validate incident records, join them to admin boundaries, aggregate, export."""

from __future__ import annotations

__version__ = "0.1.0"
