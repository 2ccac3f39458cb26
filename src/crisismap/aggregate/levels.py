"""The boundary levels every view is given: one check of the level asked for, one message.

The pipeline, the distributed engine and every view here refuse an unknown level the
same way, by calling :func:`level_frame`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crisismap.errors import InvalidValueError
from crisismap.i18n import _


def level_frame(levels: Any, level: int) -> Any:
    """The boundary frame of admin ``level``, refusing a level the boundaries lack.

    Parameters
    ----------
    levels
        A ``{level: GeoDataFrame}`` mapping, or an object holding one as ``.levels``
        (a ``BoundarySet``: the message then names the set).
    level
        The admin level asked for.

    Raises
    ------
    InvalidValueError
        When ``level`` is not one of the levels; the message lists the ones there are.
    """
    frames = frames_by_level(levels)
    if level not in frames:
        name = getattr(levels, "name", None)
        if name is None:
            said = _("Admin level {level} is not in the boundaries: available levels are {levels}.")
        else:
            said = _(
                "Admin level {level} is not in boundary set {name!r}: available levels are "
                "{levels}."
            )
        raise InvalidValueError(
            said.format(level=level, name=name, levels=", ".join(map(str, frames)) or _("none"))
        )
    return frames[level]


def frames_by_level(levels: Any) -> dict[int, Any]:
    """``{level: frame}`` in level order, from a mapping or an object with ``.levels``."""
    mapping = getattr(levels, "levels", levels)
    if not isinstance(mapping, Mapping):
        raise ValueError(
            f"Expected boundary levels as a {{level: GeoDataFrame}} mapping, got "
            f"{type(levels).__name__}."
        )
    return {int(k): mapping[k] for k in sorted(mapping)}
