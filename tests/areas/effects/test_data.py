"""Treatment-effect datasets load from the installed packages with baseline-only covariates,
their documented shapes and their provenance."""

from __future__ import annotations

import hashlib
import io
from importlib import metadata

import numpy as np
import pandas as pd
import pytest

from medora.areas.effects.data import (
    ACTG175_ARMS,
    NHEFS_BOOK_ATE,
    DatasetUnavailableError,
    load_acic2016,
    load_actg175,
    load_nhefs,
)
from medora.data import packaged

# Measured after randomisation (ACTG175) or after 1971 (NHEFS): must never be covariates.
ACTG175_POST_TREATMENT = {"cd420", "cd820", "cd496", "r", "offtrt", "cens", "days"}
NHEFS_POST_BASELINE = {"wt82", "wt82_71", "death", "yrdth", "modth", "dadth", "sbp", "dbp",
                       "smkintensity82_71", "hightax82", "price82", "tax82", "price71_82",
                       "tax71_82"}


def _raw(package: str, resource: str) -> bytes:
    return metadata.distribution(package).locate_file(resource).read_bytes()


def test_actg175_default_contrast_is_zidovudine_didanosine_vs_zidovudine() -> None:
    data = load_actg175()
    assert data.covariates.shape == (1054, 15)
    assert (int(data.treatment.sum()), int((data.treatment == 0).sum())) == (522, 532)
    assert data.treated_label == ACTG175_ARMS[1] == "zidovudine + didanosine"
    assert data.control_label == ACTG175_ARMS[0] == "zidovudine"
    assert data.randomised and data.design_propensity == 0.5 and data.higher_is_better
    assert data.outcome_unit == "cells/mm^3" and data.true_cate is None


def test_actg175_outcome_is_the_20_week_cd4_change_and_covariates_are_baseline() -> None:
    data = load_actg175()
    frame = pd.read_csv(io.BytesIO(_raw("lifelines", "lifelines/datasets/ACTG175.csv")),
                        index_col=0)
    assert len(frame) == 2139
    # The file's own treat flag (0 = zidovudine only) confirms arm 0 is the monotherapy.
    assert set(frame.loc[frame["treat"] == 0, "arms"]) == {0}
    kept = frame[frame["arms"].isin((0, 1))].reset_index(drop=True)
    np.testing.assert_array_equal(data.outcome, kept["cd420"] - kept["cd40"])
    columns = set(data.covariates.columns)
    assert not columns & ACTG175_POST_TREATMENT
    assert not columns & {"arms", "treat", "pidnum"}
    assert set(data.excluded_columns) >= ACTG175_POST_TREATMENT
    # Every column of the file is either a covariate or excluded with a reason.
    assert columns | set(data.excluded_columns) == set(frame.columns)
    assert list(data.covariates["strat"].cat.categories) == [1, 2, 3]


def test_actg175_other_contrasts_and_invalid_arms() -> None:
    data = load_actg175(treated_arms=(1, 2), control_arms=(0,))
    assert data.n == 1578 and data.design_propensity == pytest.approx(2 / 3)
    assert "zalcitabine" in data.treated_label
    with pytest.raises(ValueError, match="not 7"):
        load_actg175(treated_arms=(7,))
    with pytest.raises(ValueError, match="no arm twice"):
        load_actg175(treated_arms=(0,), control_arms=(0,))


def test_actg175_provenance_is_read_from_the_installed_package() -> None:
    provenance = load_actg175().provenance
    assert provenance.package == "lifelines"
    assert provenance.package_version == metadata.version("lifelines")
    assert "MIT" in provenance.licence
    raw = _raw("lifelines", provenance.resource)
    assert provenance.sha256 == hashlib.sha256(raw).hexdigest()


def test_nhefs_drops_missing_1982_weights_as_the_book_does() -> None:
    data = load_nhefs()
    assert data.covariates.shape == (1566, 9)
    assert (int(data.treatment.sum()), int((data.treatment == 0).sum())) == (403, 1163)
    assert list(data.covariates.columns) == ["sex", "race", "age", "education",
                                             "smokeintensity", "smokeyrs", "exercise",
                                             "active", "wt71"]
    assert not set(data.covariates.columns) & NHEFS_POST_BASELINE
    assert set(data.excluded_columns) >= NHEFS_POST_BASELINE
    assert "63 of 1629" in data.notes[0]
    assert np.isfinite(data.outcome).all() and not data.randomised
    assert list(data.covariates["education"].cat.categories) == [1, 2, 3, 4, 5]
    # No squared terms: those belong to the propensity model.
    assert not any("^2" in c for c in data.covariates.columns)
    assert "Apache" in data.provenance.licence


def test_nhefs_reference_carries_its_source_and_edition() -> None:
    reference = load_nhefs().reference
    assert reference is NHEFS_BOOK_ATE
    assert (reference.value, reference.ci_low, reference.ci_high) == (3.4, 2.4, 4.5)
    assert "What If" in reference.source and "2020" in reference.source
    assert "12.2" in reference.source


def test_acic2016_gives_observed_outcomes_and_true_potential_outcomes() -> None:
    data = load_acic2016(1)
    assert data.covariates.shape == (4802, 58)
    assert data.y0 is not None and data.y1 is not None and data.true_cate is not None
    simulated = pd.read_csv(io.BytesIO(_raw(
        "causallib", "causallib/datasets/data/acic_challenge_2016/zymu_1.csv")))
    np.testing.assert_array_equal(data.treatment, simulated["z"])
    observed = np.where(simulated["z"] == 1, simulated["y1"], simulated["y0"])
    np.testing.assert_allclose(data.outcome, observed)
    np.testing.assert_allclose(data.true_cate, simulated["mu1"] - simulated["mu0"])
    for column, n_levels in (("x_2", 6), ("x_21", 16), ("x_24", 5)):
        assert len(data.covariates[column].cat.categories) == n_levels
    assert data.provenance.resource.endswith("zymu_1.csv")


def test_acic2016_instances_differ_and_are_validated() -> None:
    assert load_acic2016(2).provenance.sha256 != load_acic2016(1).provenance.sha256
    for bad in (0, 11, True, "1"):
        with pytest.raises(ValueError, match="integer from 1 to 10"):
            load_acic2016(bad)  # type: ignore[arg-type]


def test_a_missing_package_names_it_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(packaged.metadata, "distribution", not_installed)
    with pytest.raises(DatasetUnavailableError, match="'lifelines', which is not installed"):
        load_actg175()
    with pytest.raises(DatasetUnavailableError, match=r"'causallib'.*pip install medora"):
        load_nhefs()

