"""Records → regions: locate points (grid index, exact tests), the border rule,
snapping, swapped coordinates, and stated admin names compared with the joined ones."""

from crisismap.join.locate import clear_index_cache, find_swapped, join_points
from crisismap.join.names import compare_stated, names_match, normalise_name

__all__ = [
    "clear_index_cache",
    "compare_stated",
    "find_swapped",
    "join_points",
    "names_match",
    "normalise_name",
]
