"""Responsible publication: small-cell suppression with complementary cells, stable
keyed masking of points, column allow-lists and the labels of public and internal files."""

from crisismap.publish.columns import (
    NEVER_PUBLIC,
    PUBLIC_POINT_COLUMNS,
    PUBLIC_SUMMARY_COLUMNS,
    allow_columns,
)
from crisismap.publish.labels import (
    MIN_PUBLIC_K,
    PUBLIC,
    PUBLIC_NOTICE,
    SENSITIVE,
    SENSITIVE_NOTICE,
    SENSITIVE_PREFIX,
    export_filename,
    keyed_fingerprint,
    public_inputs,
    public_k_refusal,
    public_settings,
    sensitivity_label,
)
from crisismap.publish.masking import Masking, displace, mask_points, new_secret
from crisismap.publish.suppression import (
    CELL_DIMS,
    DEFAULT_K,
    DEFAULT_MARGINS,
    DIM_ATTRIBUTES,
    SUPPRESSED,
    Protected,
    pinned,
    suppress,
)

__all__ = [
    "CELL_DIMS",
    "DEFAULT_K",
    "DEFAULT_MARGINS",
    "DIM_ATTRIBUTES",
    "MIN_PUBLIC_K",
    "NEVER_PUBLIC",
    "PUBLIC",
    "PUBLIC_NOTICE",
    "PUBLIC_POINT_COLUMNS",
    "PUBLIC_SUMMARY_COLUMNS",
    "SENSITIVE",
    "SENSITIVE_NOTICE",
    "SENSITIVE_PREFIX",
    "SUPPRESSED",
    "Masking",
    "Protected",
    "allow_columns",
    "displace",
    "export_filename",
    "keyed_fingerprint",
    "mask_points",
    "new_secret",
    "pinned",
    "public_inputs",
    "public_k_refusal",
    "public_settings",
    "sensitivity_label",
    "suppress",
]
