"""Validation of user patient files: every bad-input case names the problem and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medora.core.registry import get_task
from medora.data.tabular import ID_COLUMN, InputValidationError, read_table, validate_features

FEATURES = get_task("cardio.framingham_chd").features


def _valid_rows(n: int = 3) -> pd.DataFrame:
    _, x, _ = get_task("cardio.framingham_chd").load_xy()
    return x.dropna().head(n).astype(str)


def _problems(frame: pd.DataFrame) -> str:
    with pytest.raises(InputValidationError) as caught:
        validate_features(frame, FEATURES, source="patients.csv")
    return str(caught.value)


def test_valid_rows_become_floats_in_feature_order() -> None:
    frame = _valid_rows()
    reordered = frame[list(reversed(frame.columns))]
    values = validate_features(reordered, FEATURES)
    assert list(values.columns) == [f.name for f in FEATURES]
    assert values.dtypes.eq(np.float64).all()


def test_patient_id_column_becomes_the_index() -> None:
    frame = _valid_rows().assign(patient_id=["a", "b", "c"])
    assert list(validate_features(frame, FEATURES).index) == ["a", "b", "c"]


def test_missing_and_extra_columns_are_named() -> None:
    frame = _valid_rows().drop(columns=["sysBP", "glucose"]).assign(shoe_size="42")
    message = _problems(frame)
    assert "missing column(s): sysBP, glucose" in message
    assert "unexpected column(s): shoe_size" in message
    assert "Expected columns: male, age" in message


def test_non_numeric_values_name_column_and_file_line() -> None:
    frame = _valid_rows()
    frame.loc[1, "totChol"] = "high"
    message = _problems(frame)
    assert "column totChol: non-numeric value(s) 'high' on line(s) 3" in message


def test_out_of_range_values_name_the_valid_range() -> None:
    frame = _valid_rows()
    frame.loc[0, "age"] = "-5"
    frame.loc[2, "sysBP"] = "900"
    message = _problems(frame)
    assert "column age: value(s) -5 on line(s) 2 outside the valid range; expected 18 to 110 " \
           "years" in message
    assert "column sysBP: value(s) 900 on line(s) 4" in message
    assert "2 problem(s)" in message


def test_binary_columns_accept_only_zero_or_one() -> None:
    frame = _valid_rows()
    frame.loc[0, "male"] = "2"
    assert "expected 0 or 1" in _problems(frame)


def test_missing_required_value_is_reported_but_optional_is_allowed() -> None:
    frame = _valid_rows()
    frame.loc[0, "glucose"] = ""
    assert np.isnan(validate_features(frame, FEATURES).iloc[0]["glucose"])
    frame.loc[0, "age"] = "NA"
    assert "column age: missing value on line(s) 2" in _problems(frame)


def test_header_only_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(f.name for f in FEATURES) + "\n")
    with pytest.raises(InputValidationError, match="no patient rows"):
        validate_features(read_table(path), FEATURES)


def test_empty_and_absent_files_are_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputValidationError, match="the file is empty"):
        read_table(empty)
    with pytest.raises(InputValidationError, match="file not found"):
        read_table(tmp_path / "absent.csv")


def test_long_lists_of_rows_are_abbreviated() -> None:
    frame = pd.concat([_valid_rows(20)], ignore_index=True)
    frame["sysBP"] = "900"
    assert "and 12 more" in _problems(frame)


def test_infinite_values_are_not_numbers() -> None:
    frame = _valid_rows()
    frame.loc[0, "glucose"] = "inf"
    assert "column glucose: non-numeric value(s) 'inf' on line(s) 2" in _problems(frame)


def test_a_single_record_is_described_without_file_lines() -> None:
    frame = _valid_rows(1)
    frame.loc[0, "age"] = "-5"
    with pytest.raises(InputValidationError) as caught:
        validate_features(frame, FEATURES, source="inputs", file_lines=False)
    assert "column age: value(s) -5 outside the valid range; expected 18 to 110 years" in str(
        caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("age,sysBP\n61,140,\n55,130,\n", "line(s) 2, 3 have 3 fields but the header has 2; look "
                                      "for a trailing comma"),
    (",age,sysBP\np1,61,140\n", f"header column(s) 1 have no name; name an identifier column "
                                f"{ID_COLUMN}"),
    ("age;sysBP\n61;140\n", "the file seems to separate its fields with semicolons"),
    ("patient_id,age\np1,61\np2,55\np1,70\n", "column patient_id: 'p1' given to more than one "
                                              "row (line(s) 2, 4)"),
])
def test_a_misshapen_file_is_refused_naming_its_lines(tmp_path: Path, text: str,
                                                       expected: str) -> None:
    path = tmp_path / "patients.csv"
    path.write_text(text)
    with pytest.raises(InputValidationError) as raised:
        read_table(path)
    assert expected in " ".join(raised.value.problems)


def test_a_well_formed_file_reads_as_text(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text('patient_id,age,note\np1,61,"a, quoted"\n\np2,055,\n')
    frame = read_table(path)
    assert frame.to_dict("list") == {"patient_id": ["p1", "p2"], "age": ["61", "055"],
                                     "note": ["a, quoted", ""]}
