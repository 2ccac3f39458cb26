"""Responsible publication: small-cell suppression with complementary cells, stable
keyed masking of points, column allow-lists and the labels of public and internal files."""

from crisismap.publish.columns import (
    NEVER_PUBLIC,
    PUBLIC_POINT_COLUMNS,
    PUBLIC_SUMMARY_COLUMNS,
    allow_columns,
)
from crisismap.publish.labels import (
    PUBLIC,
    PUBLIC_NOTICE,
    SENSITIVE,
    SENSITIVE_NOTICE,
    SENSITIVE_PREFIX,
    export_filename,
    public_settings,
    sensitivity_label,
)
from crisismap.publish.masking import (
    Masking,
    displace,
    finer_columns,
    mask_points,
    new_secret,
    published_pairs,
    secret_fingerprint,
)
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
    "finer_columns",
    "mask_points",
    "new_secret",
    "pinned",
    "public_settings",
    "published_pairs",
    "secret_fingerprint",
    "sensitivity_label",
    "suppress",
]
