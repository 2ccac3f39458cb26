"""CSV bytes → validated records.

Read (:mod:`~crisismap.records.read`: decode, lines and header, exact and fast CSV
parsing, HXL row, what is set aside), map columns (:mod:`~crisismap.records.presets`),
validate (:mod:`~crisismap.records.validation`: ids and text fields, dates,
coordinates, counts), combine several files (:mod:`~crisismap.records.combine`);
:func:`validate_bytes` chains read, map and validate.
"""

from crisismap.records.columns import MISSING_TOKENS
from crisismap.records.combine import Combined, combine_records
from crisismap.records.dates import EXCEL_SERIAL_RANGE
from crisismap.records.lines import DELIMITERS
from crisismap.records.presets import (
    ADMIN_FIELDS,
    AUTO,
    FIELDS,
    PRESETS,
    UCDP_VIOLENCE_TYPES,
    ColumnMapping,
    PrecisionScheme,
    detect_mapping,
)
from crisismap.records.ranges import RangeCounts, multi_day, pin_date_ranges, range_counts
from crisismap.records.read import (
    DEFAULT_MAX_BYTES,
    MAX_COLUMNS,
    MAX_FIELD_CHARS,
    RawTable,
    RejectedLine,
    read_csv_bytes,
    read_csv_file,
)
from crisismap.records.recipe import validate_bytes
from crisismap.records.rejections import Rejections
from crisismap.records.validation import ValidationResult, validate

__all__ = [
    "RangeCounts",
    "multi_day",
    "pin_date_ranges",
    "range_counts",
    "ADMIN_FIELDS",
    "AUTO",
    "DEFAULT_MAX_BYTES",
    "DELIMITERS",
    "EXCEL_SERIAL_RANGE",
    "FIELDS",
    "MAX_COLUMNS",
    "MAX_FIELD_CHARS",
    "MISSING_TOKENS",
    "PRESETS",
    "UCDP_VIOLENCE_TYPES",
    "ColumnMapping",
    "Combined",
    "PrecisionScheme",
    "RawTable",
    "RejectedLine",
    "Rejections",
    "ValidationResult",
    "combine_records",
    "detect_mapping",
    "read_csv_bytes",
    "read_csv_file",
    "validate",
    "validate_bytes",
]
