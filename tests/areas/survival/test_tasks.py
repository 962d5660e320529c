"""Survival tasks: registration, encoding, feature sets, folds, horizons and the CLI."""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from medora.areas.survival.metrics import (
    cumulative_dynamic_auc,
    harrell_c_index,
    integrated_brier_score,
    kaplan_meier,
    uno_c_index,
)
from medora.areas.survival.tasks import SurvivalTask, repeated_stratified_folds
from medora.cli.app import app
from medora.core.registry import get_task, list_tasks

GENES = "oncology.breast_recurrence_genes"
GBSG2 = "oncology.gbsg2_recurrence"
EXPECTED = {
    # name: (patients, inputs, events)
    GENES: (198, 80, 51),
    GBSG2: (686, 8, 299),
}


def _installed(package: str) -> bool:
    try:
        metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return False
    return True


# GSE7390's file ships in scikit-survival, the optional `gpl-baselines` extra.
needs_gse7390 = pytest.mark.skipif(not _installed("scikit-survival"),
                                   reason="pip install 'medora[gpl-baselines]' for GSE7390")
BOTH = [pytest.param(GENES, marks=needs_gse7390), GBSG2]


def test_survival_tasks_are_registered() -> None:
    assert {task.name for task in list_tasks() if isinstance(task, SurvivalTask)} == set(EXPECTED)
    for name in EXPECTED:
        task = get_task(name)
        assert isinstance(task, SurvivalTask)
        assert task.modality == "survival" and task.time_unit == "days"
        assert task.summary()["primary_metric"] == "harrell_c"


@pytest.mark.parametrize("name", BOTH)
def test_loaded_inputs_are_encoded_floats(name: str) -> None:
    task = get_task(name)
    dataset, x, time, event = task.load_survival()
    patients, inputs, events = EXPECTED[name]
    assert x.shape == (patients, inputs)
    assert list(x.columns) == task.feature_names
    assert x.dtypes.eq(np.float64).all() and not x.isna().any().any()
    assert (time.shape, int(event.sum())) == ((patients,), events)
    assert dataset.time_unit == task.time_unit


@needs_gse7390
def test_gse7390_codes_grade_ordinally_and_unknown_grade_as_intermediate() -> None:
    _, x, _, _ = get_task(GENES).load_survival()
    # File: 30 well, 83 intermediate, 83 poorly differentiated, 2 "unkown" (coded 2).
    assert x["grade"].value_counts().to_dict() == {1.0: 30, 2.0: 85, 3.0: 83}
    assert x["er"].sum() == 134


@needs_gse7390
def test_gse7390_feature_sets_for_the_integrative_comparison() -> None:
    task = get_task(GENES)
    shapes = {name: task.load_survival(name)[1].shape[1] for name in task.feature_sets}
    assert shapes == {"integrative": 80, "clinical": 4, "genes": 76}
    assert task.feature_names_of("clinical") == ["age", "size", "grade", "er"]
    with pytest.raises(ValueError, match="no feature set 'proteins'; choose one of"):
        task.feature_names_of("proteins")


def test_gbsg2_codes_its_categories() -> None:
    _, x, _, _ = get_task(GBSG2).load_survival()
    assert x["tgrade"].value_counts().to_dict() == {2.0: 444, 3.0: 161, 1.0: 81}
    assert (x["horTh"].sum(), x["menostat"].sum()) == (246, 396)


def test_encoding_refuses_unknown_levels_and_missing_columns() -> None:
    task = get_task(GBSG2)
    frame = get_task(GBSG2).load().features.head(3).astype(object)
    frame.loc[0, "tgrade"] = "IV"
    with pytest.raises(ValueError, match=r"'tgrade' holds \['IV'\].*expected one of"):
        task.encode(frame)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['pnodes'\]"):
        task.encode(frame.drop(columns="pnodes"))
    frame.loc[0, "tgrade"] = "II"
    frame.loc[1, "age"] = np.nan
    with pytest.raises(ValueError, match=r"missing values in \['age'\]"):
        task.encode(frame)


@needs_gse7390
def test_horizons_are_event_time_quantiles_in_days() -> None:
    task = get_task(GENES)
    dataset = task.load()
    times = task.evaluation_times()
    np.testing.assert_allclose(times.horizons, np.quantile(dataset.time[dataset.event],
                                                           [0.25, 0.5, 0.75]))
    assert times.unit == "days" and times.tau == times.horizons[-1]
    assert times.grid[0] == pytest.approx(np.quantile(dataset.time[dataset.event], 0.1))
    assert times.grid[-1] == times.tau and (np.diff(times.grid) > 0).all()
    assert times.horizons[-1] < dataset.time.max()


@pytest.mark.parametrize("name", BOTH)
def test_folds_cover_every_patient_once_per_repeat_and_are_stratified(name: str) -> None:
    task = get_task(name)
    dataset = task.load()
    folds = task.folds(seed=0)
    assert len(folds) == task.n_splits * task.n_repeats == 50
    n = len(dataset.time)
    first_horizon = task.evaluation_times().horizons[0]
    events_per_fold = dataset.n_events / task.n_splits
    for repeat in range(task.n_repeats):
        of_repeat = [fold for fold in folds if fold.repeat == repeat]
        tested = np.concatenate([fold.test for fold in of_repeat])
        np.testing.assert_array_equal(np.sort(tested), np.arange(n))  # each patient once
        for fold in of_repeat:
            assert np.intersect1d(fold.train, fold.test).size == 0
            assert fold.train.size + fold.test.size == n
            events = int(dataset.event[fold.test].sum())
            # Three strata (censored, early, late events), each split to within one patient.
            assert abs(events - events_per_fold) <= 2
            early = dataset.event[fold.test] & (dataset.time[fold.test] <= first_horizon)
            assert early.any()


def test_folds_are_deterministic_by_seed() -> None:
    task = get_task(GBSG2)
    first, again, other = task.folds(seed=7), task.folds(seed=7), task.folds(seed=8)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a.test, b.test) for a, b in zip(first, other, strict=True))
    assert len(task.folds(seed=0, n_splits=3, n_repeats=2)) == 6


def test_folds_refuse_more_splits_than_a_stratum_has() -> None:
    time = np.arange(1.0, 21.0)
    event = np.zeros(20, dtype=bool)
    event[[2, 10, 15]] = True
    with pytest.raises(ValueError, match="at least 5 patients in each stratum"):
        repeated_stratified_folds(time, event, seed=0, n_splits=5, n_repeats=1,
                                  first_horizon=5.0)


@pytest.mark.parametrize(("name", "risk_column"), [
    pytest.param(GENES, "size", marks=needs_gse7390), (GBSG2, "pnodes")])
def test_every_metric_is_defined_on_every_fold(name: str, risk_column: str) -> None:
    """The horizons and folds fit together: no fold leaves a metric undefined."""
    task = get_task(name)
    _, x, time, event = task.load_survival()
    times = task.evaluation_times()
    risk = x[risk_column].to_numpy()
    c_indices = []
    for fold in task.folds(seed=0):
        train, test = fold.train, fold.test
        both = {"train_time": time[train], "train_event": event[train]}
        c_indices.append(harrell_c_index(time[test], event[test], risk[test]))
        uno_c_index(time[test], event[test], risk[test], tau=times.tau, **both)
        cumulative_dynamic_auc(time[test], event[test], risk[test], times.horizons, **both)
        # A model-free prediction: everybody gets the training Kaplan-Meier curve.
        curve = kaplan_meier(time[train], event[train]).survival_at(times.grid)
        survival = np.tile(curve, (test.size, 1))
        assert 0 < integrated_brier_score(time[test], event[test], survival, times.grid,
                                          **both) < 0.25
    assert 0.5 < np.mean(c_indices) < 0.8  # a single prognostic variable: better than chance


runner = CliRunner()


def test_cli_lists_the_survival_tasks() -> None:
    result = runner.invoke(app, ["tasks"])
    assert result.exit_code == 0, result.output
    assert GENES in result.output and GBSG2 in result.output
    assert "299 events" in result.output
    if _installed("scikit-survival"):
        assert "51 events" in result.output
    else:
        assert "gpl-baselines" in result.output


def test_cli_lists_gse7390_as_unavailable_without_scikit_survival(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from medora.data import packaged

    real = metadata.distribution

    def without_sksurv(name: str) -> metadata.Distribution:
        if name == "scikit-survival":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(packaged.metadata, "distribution", without_sksurv)
    result = runner.invoke(app, ["tasks"])
    assert result.exit_code == 0, result.output
    assert "unavailable" in result.output and "gpl-baselines" in result.output


def test_task_definitions_are_checked() -> None:
    task = get_task(GBSG2)
    assert isinstance(task, SurvivalTask)
    with pytest.raises(ValueError, match="every feature to exactly one group"):
        SurvivalTask(**{**vars(task), "name": "x.bad", "feature_groups": {"clinical": ("age",)}})
    with pytest.raises(ValueError, match="unknown groups"):
        SurvivalTask(**{**vars(task), "name": "x.bad", "feature_sets": {"all": ("genes",)}})


def test_encode_keeps_the_row_index() -> None:
    task = get_task(GBSG2)
    frame = task.load().features.iloc[[5, 2]]
    assert list(task.encode(frame).index) == [5, 2]
    assert isinstance(task.encode(frame), pd.DataFrame)
