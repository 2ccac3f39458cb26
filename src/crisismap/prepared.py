"""A view's protected figures, computed once per analysis for all its downloads, in a time limit.

The dashboard offers four downloads of one view (CSV, XLSX, GeoJSON, report bundle) and all
of them are written from one :class:`~crisismap.report.Figures`. Protecting a public view
can take long, so it is done once: :func:`view_figures` keeps the figures (and the files
made from them) on the user's own :class:`~crisismap.pipeline.Analysis`, keyed by the
view, public/internal and k. They live and die with that analysis, so with the user's
session; nothing here is shared between sessions (per-user data never is). Only the last
:data:`KEPT_VIEWS` views are kept, so exploring many views does not pile up memory.

The work runs through :func:`crisismap.parallel.run_limited`: within a time limit
(:func:`export_time_limit`, the same for the app and the CLI), cancellable, and stopped
when the waiting caller is (a Streamlit rerun, Ctrl-C, a server shutting down).
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crisismap import i18n, parallel, publish, report
from crisismap.errors import InvalidValueError, TimeLimitError
from crisismap.i18n import _, format_number
from crisismap.pipeline import Analysis
from crisismap.report import Figures
from crisismap.schema import PERIOD_UNIT_WORDS, View

__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "KEPT_VIEWS",
    "TIME_LIMIT_ENV",
    "bundle",
    "cached_figures",
    "export_time_limit",
    "figure_files",
    "protecting_sentence",
    "too_slow_sentence",
    "view_figures",
]

TIME_LIMIT_ENV = "CRISISMAP_EXPORT_TIME_LIMIT"
DEFAULT_TIME_LIMIT_S = 120.0
KEPT_VIEWS = 4  # prepared views kept per analysis (most recently used)
_SLOTS = "prepared_views"  # the Analysis.memo key of this module's slots
_CREATING = threading.Lock()  # guards creating a slot only; it holds no data


@dataclass
class _Slot:
    """One view's prepared figures and the files made from them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    figures: Figures | None = None
    files: dict[Any, Any] = field(default_factory=dict)


def export_time_limit(value: str | float | None = None) -> float | None:
    """Seconds an export may take: ``value`` (``--time-limit``), else
    ``$CRISISMAP_EXPORT_TIME_LIMIT``, else 120. ``0`` means no limit (None)."""
    raw = os.environ.get(TIME_LIMIT_ENV, "") if value is None else value
    if isinstance(raw, str) and not raw.strip():
        return DEFAULT_TIME_LIMIT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        where = f"${TIME_LIMIT_ENV}" if value is None else _("The time limit")
        raise InvalidValueError(
            _(
                "{where} must be a number of seconds (0 for no limit), got {raw}: for example "
                "{example}."
            ).format(where=where, raw=repr(raw), example=f"{DEFAULT_TIME_LIMIT_S:g}")
        )
    return seconds or None


def protecting_sentence(view: View, *, public: bool, k: int, incidents: int | None = None) -> str:
    """What is being done while the user waits (the dashboard's status line)."""
    what = _("admin-{level} regions by {period}").format(
        level=view.level, period=_(PERIOD_UNIT_WORDS.get(view.period.value, view.period.value))
    )
    if incidents is not None:
        what = _("{view}, {n} incidents").format(view=what, n=format_number(incidents))
    if not public:
        return _(
            "Preparing the internal figures of this view ({what}): nothing is suppressed."
        ).format(what=what)
    return _(
        "Protecting the figures of this view ({what}): hiding every figure under {k} "
        "incidents, and the figures it could be worked out from."
    ).format(what=what, k=k)


def too_slow_sentence(view: View, limit: float, *, public: bool, setting: str) -> str:
    """The one sentence a user gets when a view took too long: what, and what to do."""
    said = (
        _(
            "Protecting the figures of this view (admin-{level} regions by {period}) took "
            "longer than the time limit of {limit} s and was stopped: choose a coarser period "
            "(month, quarter or year) or a coarser admin level, fewer categories or regions, "
            "or, for your team only, an internal export; {setting} sets the limit."
        )
        if public
        else _(
            "Preparing the figures of this view (admin-{level} regions by {period}) took "
            "longer than the time limit of {limit} s and was stopped: choose a coarser period "
            "(month, quarter or year) or a coarser admin level, fewer categories or regions, "
            "or, for your team only, an internal export; {setting} sets the limit."
        )
    )
    return said.format(
        level=view.level,
        period=_(PERIOD_UNIT_WORDS.get(view.period.value, view.period.value)),
        limit=f"{limit:g}",
        setting=setting,
    )


def cached_figures(
    analysis: Analysis, view: View, *, public: bool, k: int, ledger: Any = None
) -> Figures | None:
    """The view's figures if they are prepared already (nothing is computed)."""
    with _CREATING:
        slot = analysis.memo(_SLOTS, OrderedDict).get(_key(view, public, k) + _ledger_key(ledger))
    return None if slot is None else slot.figures


def view_figures(
    analysis: Analysis,
    view: View,
    *,
    public: bool = True,
    k: int = publish.DEFAULT_K,
    time_limit: float | None = None,
    cancel: threading.Event | None = None,
    on_wait: Callable[[float], None] | None = None,
    setting: str = f"${TIME_LIMIT_ENV}",
    ledger: Any = None,
) -> Figures:
    """The view's figures (:func:`crisismap.report.view_figures`), computed once per analysis.

    A second caller asking for the same view while it is computed waits for the first.
    Past ``time_limit`` seconds the work stops and :class:`~crisismap.errors.TimeLimitError`
    says what to do instead (``setting`` names where the limit is set); ``cancel`` and
    ``on_wait`` are those of :func:`crisismap.parallel.run_limited`. Nothing is kept from
    work that was stopped. ``ledger``: the CLI's release ledger
    (:func:`crisismap.report.view_figures`); figures made with one are kept apart.
    """
    slot = _slot(analysis, _key(view, public, k) + _ledger_key(ledger))
    if slot.figures is not None:
        return slot.figures

    def compute() -> Figures:
        with slot.lock:  # one computation per view, however many downloads ask
            if slot.figures is None:
                slot.figures = report.view_figures(
                    analysis, view, public=public, k=k, ledger=ledger
                )
            return slot.figures

    try:
        return parallel.run_limited(
            compute,
            time_limit=time_limit,
            cancel=cancel,
            on_wait=on_wait,
            what="Protecting the view's figures",
        )
    except TimeLimitError as exc:
        raise TimeLimitError(
            too_slow_sentence(view, time_limit or 0, public=public, setting=setting)
        ) from exc


def figure_files(
    analysis: Analysis,
    view: View,
    *,
    public: bool,
    k: int,
    title: str,
    only: str | None = None,
    **limits: Any,
) -> dict[str, bytes]:
    """The view's CSV, XLSX and GeoJSON files (:func:`crisismap.report.figure_files`), once.

    ``only`` builds just that file (a workbook of a large grid takes long to write).
    ``limits``: ``time_limit``, ``cancel``, ``on_wait`` as for :func:`view_figures`.
    """
    figures = view_figures(analysis, view, public=public, k=k, **limits)
    return _files(
        analysis,
        _key(view, public, k) + _ledger_key(limits.get("ledger")),
        ("tables", title, only),
        lambda: report.figure_files(analysis, figures, title=title, only=only),
    )


def map_png(analysis: Analysis, view: View, *, public: bool, k: int, **limits: Any) -> bytes:
    """The view's map as a PNG, drawn on the server like the brief's (published figures,
    hidden regions hatched when public), from its one set of figures, made once."""
    from crisismap.report.charts import map_png as draw

    figures = view_figures(analysis, view, public=public, k=k, **limits)
    return _files(
        analysis,
        _key(view, public, k) + _ledger_key(limits.get("ledger")),
        ("map.png",),
        lambda: draw(analysis, figures)[0],
    )


def bundle(
    analysis: Analysis,
    view: View,
    *,
    public: bool,
    k: int,
    title: str,
    masking: Any = None,
    secret: bytes | None = None,
    **limits: Any,
) -> bytes:
    """The view's report bundle (:func:`crisismap.report.build_bundle`: ``masking`` adds
    masked points keyed on the workspace's ``secret``) from its one set of figures, made once."""
    figures = view_figures(analysis, view, public=public, k=k, **limits)
    return _files(
        analysis,
        _key(view, public, k) + _ledger_key(limits.get("ledger")),
        ("bundle", title, repr(masking), secret),
        lambda: report.build_bundle(
            analysis,
            view,
            public=public,
            k=k,
            title=title,
            masking=masking,
            secret=secret,
            figures=figures,
        ),
    )


def _ledger_key(ledger: Any) -> tuple[Any, ...]:
    return () if ledger is None else (str(ledger.directory),)


def _key(view: View, public: bool, k: int) -> tuple[Any, ...]:
    # The view itself (frozen; parsed again so list filters become tuples); k changes
    # nothing internal.
    return (view.with_(), public, k if public else 0)


def _slot(analysis: Analysis, key: tuple[Any, ...]) -> _Slot:
    """The view's slot (made if new), now the most recently used; the oldest are dropped."""
    with _CREATING:
        slots = analysis.memo(_SLOTS, OrderedDict)
        slot = slots.setdefault(key, _Slot())
        slots.move_to_end(key)
        while len(slots) > KEPT_VIEWS:
            slots.popitem(last=False)
        return slot


def _files(analysis: Analysis, key: tuple[Any, ...], name: Any, make: Callable[[], Any]) -> Any:
    """``make()`` kept in the view's slot under ``name`` (files are quick next to figures)."""
    slot = _slot(analysis, key)
    name = (name, i18n.language())  # files carry words (headers, titles) in the user's language
    if name not in slot.files:
        slot.files[name] = make()
    return slot.files[name]
