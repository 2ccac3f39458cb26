"""Records → regions: locate points (grid index, exact tests), the border rule,
snapping, swapped coordinates, and stated admin names compared with the joined ones."""

from crisismap.join.index import clear_index_cache
from crisismap.join.locate import join_points
from crisismap.join.names import compare_stated, disagreement_pairs, names_match, normalise_name
from crisismap.join.swapped import check_swapped, find_swapped

__all__ = [
    "check_swapped",
    "clear_index_cache",
    "compare_stated",
    "disagreement_pairs",
    "find_swapped",
    "join_points",
    "names_match",
    "normalise_name",
]
