"""Readers for clinical formats and loaders of the datasets that ship inside installed packages."""

from medora.data.bundled import (
    Dataset,
    DatasetProvenance,
    load_framingham,
    load_heart_failure,
    load_wdbc,
)
from medora.data.tabular import InputValidationError, read_table, validate_features

__all__ = [
    "Dataset",
    "DatasetProvenance",
    "InputValidationError",
    "load_framingham",
    "load_heart_failure",
    "load_wdbc",
    "read_table",
    "validate_features",
]
