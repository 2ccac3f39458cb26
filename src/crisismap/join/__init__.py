"""Records → regions: locate points (grid index, exact tests), the border rule,
snapping, swapped coordinates, and stated admin names compared with the joined ones."""

from crisismap.join.index import clear_index_cache
from crisismap.join.locate import join_points
from crisismap.join.names import compare_stated, disagreement_pairs, names_match, normalise_name
from crisismap.join.swapped import check_swapped, find_swapped
from crisismap.join.unknown_names import (
    NAMES_SHOWN,
    UNKNOWN_SHARE,
    UnknownNames,
    unknown_stated_names,
)

__all__ = [
    "NAMES_SHOWN",
    "UNKNOWN_SHARE",
    "UnknownNames",
    "check_swapped",
    "clear_index_cache",
    "compare_stated",
    "disagreement_pairs",
    "find_swapped",
    "join_points",
    "names_match",
    "normalise_name",
    "unknown_stated_names",
]
