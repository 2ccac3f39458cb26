"""Labels of public and internal exports: file names, notices and the manifest's settings.

Internal exports stay available, and say so: ``SENSITIVE_`` file names, a notice in
READMEs and first sheets, and every protection setting in the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crisismap.publish.masking import Masking
from crisismap.publish.suppression import DEFAULT_K

PUBLIC = "public"
SENSITIVE = "sensitive"
SENSITIVE_PREFIX = "SENSITIVE_"
SENSITIVE_NOTICE = (
    "SENSITIVE - internal use only. This file was exported without small-count "
    "suppression, location masking or column filtering; it may identify victims or "
    "witnesses. Do not publish or forward it outside the team."
)
PUBLIC_NOTICE = (
    "Public export: figures below {k} incidents are suppressed together with the figures "
    "needed to protect them; free text, sources and record identifiers are removed."
)


def sensitivity_label(public: bool, *, k: int = DEFAULT_K) -> dict[str, str]:
    """``{"sensitivity": ..., "notice": ...}`` for manifests, READMEs and first sheets."""
    if public:
        return {"sensitivity": PUBLIC, "notice": PUBLIC_NOTICE.format(k=k)}
    return {"sensitivity": SENSITIVE, "notice": SENSITIVE_NOTICE}


def export_filename(name: str, public: bool) -> str:
    """``name`` for a public export, ``SENSITIVE_name`` for an internal one."""
    return name if public else SENSITIVE_PREFIX + name


def public_settings(
    *,
    public: bool,
    k: int = DEFAULT_K,
    masking: Masking | None = None,
    suppression: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Everything a manifest must say about how an export was protected."""
    settings: dict[str, Any] = {**sensitivity_label(public, k=k), "public": public}
    if public:
        settings["suppression"] = dict(suppression or {"k": k})
        settings["masking"] = masking.settings() if masking else None
        settings["columns"] = list(columns) if columns is not None else None
    return settings
