"""Tabular patient files: the expected schema, reading, and validation at the boundary.

Validation collects every problem in the file before raising, so a user fixes the file once
rather than once per error, and names rows as they appear in the file (header = line 1).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from medora.core.errors import InputValidationError

NO_ROWS = "the file has a header but no patient rows"

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


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV/TSV patient file as strings, so validation sees exactly what the file holds.

    The file's shape is checked first, every problem named with its lines: a row whose field
    count differs from the header's (a trailing or unquoted comma, which would otherwise shift
    every column), a header column without a name, a file that separates fields with ``;``,
    and a ``patient_id`` given to more than one row.
    """
    path = Path(path)
    if not path.is_file():
        raise InputValidationError(str(path), ["file not found; pass the path of a CSV file"])
    if path.stat().st_size == 0:
        raise InputValidationError(str(path), ["the file is empty; expected a header row and at "
                                               "least one patient row"])
    separator = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        _check_shape(path, separator)
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False,
                            index_col=False)
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as error:
        raise InputValidationError(str(path), [f"not a readable CSV file ({error})"]) from error
    except pd.errors.EmptyDataError as error:
        raise InputValidationError(str(path), ["the file has no header row"]) from error
    frame.columns = [str(column).strip() for column in frame.columns]
    _check_ids(frame, str(path))
    return frame


def _lines_listed(lines: Sequence[int]) -> str:
    shown = ", ".join(str(line) for line in lines[:MAX_LISTED])
    return shown + (f" and {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else "")


def _check_shape(path: Path, separator: str) -> None:
    """Every row has the header's number of fields, and every header field a name."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=separator)
        header = next(reader, None)
        if header is None:
            return  # read_csv names an empty header
        problems = []
        unnamed = [str(number) for number, name in enumerate(header, start=1)
                   if not name.strip()]
        if unnamed:
            problems.append(f"header column(s) {', '.join(unnamed)} have no name; name an "
                            f"identifier column {ID_COLUMN}, or remove the column")
        if len(header) == 1 and ";" in header[0]:
            problems.append("the header is one column holding ';': the file seems to separate "
                            "its fields with semicolons; save it with commas (CSV) or tabs "
                            "(.tsv)")
        mismatched: dict[int, list[int]] = {}
        for row in reader:
            if row and len(row) != len(header):
                mismatched.setdefault(len(row), []).append(reader.line_num)
    for fields, lines in sorted(mismatched.items()):
        problems.append(f"line(s) {_lines_listed(lines)} have {fields} fields but the header "
                        f"has {len(header)}; look for a trailing comma or a comma inside an "
                        "unquoted value")
    if problems:
        raise InputValidationError(str(path), problems)


def _check_ids(frame: pd.DataFrame, source: str) -> None:
    """Each patient once: a repeated ``patient_id`` would make two predictions one name."""
    if ID_COLUMN not in frame.columns:
        return
    ids = frame[ID_COLUMN].str.strip()
    repeated = ids.duplicated(keep=False).to_numpy()
    if repeated.any():
        examples = ", ".join(repr(value) for value in pd.unique(ids[repeated])[:3])
        raise InputValidationError(source, [
            f"column {ID_COLUMN}: {examples} given to more than one row (line(s) "
            f"{_lines_listed([int(i) + 2 for i in np.flatnonzero(repeated)])}); give each "
            "patient one row and one identifier"])


def _where(rows: np.ndarray, file_lines: bool) -> str:
    """" on line(s) 2, 5" for a file (header is line 1, abbreviated past MAX_LISTED), nothing
    for a single record such as a JSON request."""
    if not file_lines:
        return ""
    lines = [str(int(index) + 2) for index in np.flatnonzero(rows)]
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
        raise InputValidationError(source, [NO_ROWS])
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

    # Every check runs on whole (rows x features) arrays at once: a service validates one
    # patient per request, where per-column pandas calls would cost more than the model.
    raw = frame[expected].to_numpy(dtype=object)
    text = np.char.strip(raw.astype(str))
    is_missing = pd.isna(raw) | np.isin(np.char.lower(text), list(_MISSING_TOKENS))
    parsed = pd.to_numeric(pd.Series(np.where(is_missing, "nan", text).ravel()),
                           errors="coerce").to_numpy(dtype=float).reshape(raw.shape)
    # "inf" parses as a number but is no measurement: treat it as non-numeric.
    non_numeric = ~np.isfinite(parsed) & ~is_missing
    numeric = np.where(non_numeric, np.nan, parsed)
    low = np.array([spec.valid_range[0] for spec in features])
    high = np.array([spec.valid_range[1] for spec in features])
    binary = np.array([spec.kind == "binary" for spec in features])
    with np.errstate(invalid="ignore"):
        invalid = np.where(binary, ~np.isin(numeric, [0.0, 1.0]),
                           (numeric < low) | (numeric > high)) & ~np.isnan(numeric)
    required_missing = is_missing & np.array([spec.required for spec in features])
    for column, spec in enumerate(features):
        if non_numeric[:, column].any():
            rows = non_numeric[:, column]
            examples = ", ".join(repr(v) for v in pd.unique(raw[rows, column])[:3])
            problems.append(f"column {spec.name}: non-numeric value(s) {examples}"
                            f"{_where(rows, file_lines)}; expected a number ({spec.expected})")
        if required_missing[:, column].any():
            problems.append(f"column {spec.name}: missing value"
                            f"{_where(required_missing[:, column], file_lines)}; "
                            f"{spec.description} is required ({spec.expected})")
        if invalid[:, column].any():
            rows = invalid[:, column]
            examples = ", ".join(f"{v:g}" for v in pd.unique(numeric[rows, column])[:3])
            problems.append(f"column {spec.name}: value(s) {examples}"
                            f"{_where(rows, file_lines)} outside the valid range; expected "
                            f"{spec.expected}")
    if problems:
        raise InputValidationError(source, problems)
    index = (pd.Index(frame[ID_COLUMN].astype(str), name=ID_COLUMN)
             if ID_COLUMN in frame.columns else frame.index)
    return pd.DataFrame(numeric, index=index, columns=expected)
