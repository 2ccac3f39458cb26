"""Labels of public and internal exports: file names, notices and the manifest's settings.

Internal exports stay available, and say so: ``SENSITIVE_`` file names, a notice in
READMEs and first sheets, and every protection setting in the manifest.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from crisismap.i18n import N_, _
from crisismap.publish.masking import Masking
from crisismap.publish.suppression import DEFAULT_K

PUBLIC = "public"
SENSITIVE = "sensitive"
SENSITIVE_PREFIX = "SENSITIVE_"
SENSITIVE_NOTICE = N_(
    "SENSITIVE - internal use only. This file was exported without small-count "
    "suppression, location masking or column filtering; it may identify victims or "
    "witnesses. Do not publish or forward it outside the team."
)
PUBLIC_NOTICE = N_(
    "Public export: figures below {k} incidents are suppressed together with the figures "
    "needed to protect them; free text, sources and record identifiers are removed."
)


MIN_PUBLIC_K = 2  # k = 1 suppresses nothing: a published 1 is one person
FINGERPRINT = "hmac-sha256"


def public_k_refusal(k: object, *, option: str = "--k") -> str | None:
    """Why ``k`` cannot protect a public output (the sentence to show), or None if it can.

    The shells raise their own error with it: this package works on values alone.
    """
    if not isinstance(k, bool) and isinstance(k, int) and k >= MIN_PUBLIC_K:
        return None
    return _(
        "{option} {k} was given, but a public output needs k of {min_k} or more "
        "(below 2 nothing is suppressed, and a published 1 points at one incident). "
        "Give {option} {min_k} or more (default 5), or, for unprotected figures "
        "for the team only, ask for internal output with --internal (files named "
        "SENSITIVE_...)."
    ).format(option=option, k=k, min_k=MIN_PUBLIC_K)


def keyed_fingerprint(sha256_hex: str, secret: bytes) -> str:
    """A file's fingerprint for public manifests: HMAC-SHA256 of its SHA-256, keyed by the
    workspace secret, so the team can tell which file it was and nobody else can check a guess."""
    digest = hmac.new(secret, bytes.fromhex(sha256_hex), hashlib.sha256).hexdigest()
    return f"{FINGERPRINT}:{digest}"


def public_inputs(
    inputs: Sequence[Mapping[str, Any]], secret: bytes | None
) -> list[dict[str, Any]]:
    """How a public manifest names the incident files: never by name, SHA-256 or size.

    With the workspace secret each file gets a :func:`keyed_fingerprint`; without it only
    its position (``incident file 1``) is said.
    """
    out: list[dict[str, Any]] = []
    for number, item in enumerate(inputs, start=1):
        entry: dict[str, Any] = {"name": f"incident file {number}"}
        if secret is not None and item.get("sha256"):
            entry["fingerprint"] = keyed_fingerprint(str(item["sha256"]), secret)
            entry["fingerprint_key"] = "the workspace secret (HMAC-SHA256 of the file's SHA-256)"
        out.append(entry)
    return out


def sensitivity_label(public: bool, *, k: int = DEFAULT_K) -> dict[str, str]:
    """``{"sensitivity": ..., "notice": ...}`` for manifests, READMEs and first sheets."""
    if public:
        return {"sensitivity": PUBLIC, "notice": _(PUBLIC_NOTICE).format(k=k)}
    return {"sensitivity": SENSITIVE, "notice": _(SENSITIVE_NOTICE)}


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
