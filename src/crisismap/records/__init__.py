"""CSV bytes → validated records: read (decode, exact and fast CSV paths), map columns
(presets), validate (dates, coordinates, counts), combine several files."""

from crisismap.records.combine import Combined, combine_records
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
from crisismap.records.read import (
    DEFAULT_MAX_BYTES,
    MAX_RECORD_LINES,
    RawTable,
    RejectedLine,
    read_csv_bytes,
    read_csv_file,
)
from crisismap.records.recipe import validate_bytes
from crisismap.records.validation import ValidationResult, validate

__all__ = [
    "ADMIN_FIELDS",
    "AUTO",
    "DEFAULT_MAX_BYTES",
    "FIELDS",
    "MAX_RECORD_LINES",
    "PRESETS",
    "UCDP_VIOLENCE_TYPES",
    "ColumnMapping",
    "Combined",
    "PrecisionScheme",
    "RawTable",
    "RejectedLine",
    "ValidationResult",
    "combine_records",
    "detect_mapping",
    "read_csv_bytes",
    "read_csv_file",
    "validate",
    "validate_bytes",
]
