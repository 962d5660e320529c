"""Tabular patient files: the expected schema, reading, and validation at the boundary.

Validation collects every problem in the file before raising, so a user fixes the file once
rather than once per error, and names rows as they appear in the file (header = line 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

FeatureKind = Literal["continuous", "binary", "ordinal"]
ID_COLUMN = "patient_id"
MAX_LISTED = 8  # rows listed per problem; the rest are counted


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: its meaning, unit and the values a real patient can have."""

    name: str
    description: str
    kind: FeatureKind = "continuous"
    unit: str = ""
    valid_range: tuple[float, float] = (-math.inf, math.inf)
    required: bool = False

    @property
    def expected(self) -> str:
        if self.kind == "binary":
            return "0 or 1"
        low, high = self.valid_range
        unit = f" {self.unit}" if self.unit else ""
        if math.isinf(high):
            return f">= {low:g}{unit}"
        return f"{low:g} to {high:g}{unit}"


class InputValidationError(ValueError):
    """A patient file that cannot be used as it is; ``problems`` lists each one with its fix."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) found, nothing was written:\n"
                         f"{listed}")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV/TSV patient file as strings, so validation sees exactly what the file holds."""
    path = Path(path)
    if not path.is_file():
        raise InputValidationError(str(path), ["file not found; pass the path of a CSV file"])
    if path.stat().st_size == 0:
        raise InputValidationError(str(path), ["the file is empty; expected a header row and at "
                                               "least one patient row"])
    separator = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputValidationError(str(path), [f"not a readable CSV file ({error})"]) from error
    except pd.errors.EmptyDataError as error:
        raise InputValidationError(str(path), ["the file has no header row"]) from error
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


def _where(mask: pd.Series, file_lines: bool) -> str:
    """" on line(s) 2, 5" for a file (header is line 1, abbreviated past MAX_LISTED), nothing
    for a single record such as a JSON request."""
    if not file_lines:
        return ""
    lines = [str(int(index) + 2) for index in np.flatnonzero(mask.to_numpy())]
    shown = ", ".join(lines[:MAX_LISTED])
    extra = f" and {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else ""
    return f" on line(s) {shown}{extra}"


_MISSING_TOKENS = {"", "na", "nan", "null", "none", "?"}


def validate_features(
    frame: pd.DataFrame, features: Sequence[FeatureSpec], source: str = "input",
    file_lines: bool = True,
) -> pd.DataFrame:
    """Check a raw table against the feature specs and return the numeric model input.

    Returns a float frame with exactly the feature columns in spec order (NaN where missing) and,
    if present, the ``patient_id`` column as the index. Raises :class:`InputValidationError`
    listing every missing or unexpected column, non-numeric or non-finite cell, value outside
    its valid range, missing required value, or an empty table. ``file_lines`` names the file
    lines of the problems; turn it off for a record that did not come from a file.
    """
    expected = [spec.name for spec in features]
    problems: list[str] = []
    if len(frame) == 0:
        raise InputValidationError(source, ["the file has a header but no patient rows"])
    missing = [name for name in expected if name not in frame.columns]
    extra = [name for name in frame.columns if name not in expected and name != ID_COLUMN]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}. Expected columns: "
                        f"{', '.join(expected)} (plus an optional {ID_COLUMN})")
    if extra:
        problems.append(f"unexpected column(s): {', '.join(extra)}. Remove them or rename them "
                        f"to one of: {', '.join(expected)}")
    if problems:
        raise InputValidationError(source, problems)

    values = pd.DataFrame(index=frame.index)
    for spec in features:
        raw = frame[spec.name]
        text = raw.astype(str).str.strip() if raw.dtype == object else raw
        is_missing = text.isna() | text.astype(str).str.lower().isin(_MISSING_TOKENS)
        numeric = pd.to_numeric(text.where(~is_missing), errors="coerce")
        # "inf" parses as a number but is no measurement: treat it as non-numeric.
        non_numeric = (numeric.isna() | np.isinf(numeric)) & ~is_missing
        numeric = numeric.where(~non_numeric)
        if non_numeric.any():
            examples = ", ".join(repr(v) for v in raw[non_numeric].unique()[:3])
            problems.append(f"column {spec.name}: non-numeric value(s) {examples}"
                            f"{_where(non_numeric, file_lines)}; expected a number "
                            f"({spec.expected})")
        if spec.required and is_missing.any():
            problems.append(f"column {spec.name}: missing value{_where(is_missing, file_lines)};"
                            f" {spec.description} is required ({spec.expected})")
        low, high = spec.valid_range
        if spec.kind == "binary":
            invalid = numeric.notna() & ~numeric.isin([0, 1])
        else:
            invalid = numeric.notna() & ((numeric < low) | (numeric > high))
        if invalid.any():
            examples = ", ".join(f"{v:g}" for v in numeric[invalid].unique()[:3])
            problems.append(f"column {spec.name}: value(s) {examples}"
                            f"{_where(invalid, file_lines)} outside the valid range; expected "
                            f"{spec.expected}")
        values[spec.name] = numeric.astype(float)
    if problems:
        raise InputValidationError(source, problems)
    if ID_COLUMN in frame.columns:
        values.index = pd.Index(frame[ID_COLUMN].astype(str), name=ID_COLUMN)
    return values
