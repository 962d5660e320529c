"""Treatment-effect tasks: registration, loading, explicit encoding, treatment-stratified splits
and the CLI's refusal to train them before their models exist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from medora.areas.effects import EffectArea
from medora.areas.effects.tasks import EffectTask
from medora.cli.app import app
from medora.core.registry import area_of, get_task, list_tasks

EFFECT_TASKS = {"effect.actg175": 1054, "effect.nhefs": 1566, "effect.acic2016": 4802}


def test_effect_tasks_are_registered_with_their_modality() -> None:
    assert {t.name for t in list_tasks() if area_of(t).name == "effects"} == set(EFFECT_TASKS)
    for name in EFFECT_TASKS:
        task = get_task(name)
        assert isinstance(task, EffectTask) and task.modality == "effect"
        assert task.summary()["primary_metric"] == task.primary_metric


@pytest.mark.parametrize("name", sorted(EFFECT_TASKS))
def test_load_and_split_stratified_on_treatment(name: str) -> None:
    task = get_task(name)
    assert isinstance(task, EffectTask)
    data = task.load()
    assert data.n == EFFECT_TASKS[name]
    split = task.make_split(data.treatment, seed=3)
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == data.n
    assert len(np.unique(np.concatenate(parts))) == data.n
    for part in parts:
        assert abs(data.treatment[part].mean() - data.treatment.mean()) < 0.01
    assert split.sizes()["test"] == pytest.approx(0.2 * data.n, abs=1)
    assert np.array_equal(task.make_split(data.treatment, seed=3).test, split.test)
    assert not np.array_equal(task.make_split(data.treatment, seed=4).test, split.test)


def test_encoding_is_explicit_and_stable_on_subsets() -> None:
    task = get_task("effect.nhefs")
    assert isinstance(task, EffectTask)
    covariates = task.load().covariates
    encoded = task.encode(covariates)
    assert list(encoded.columns) == [
        "sex", "race", "age", "education=2", "education=3", "education=4", "education=5",
        "smokeintensity", "smokeyrs", "exercise=1", "exercise=2", "active=1", "active=2",
        "wt71"]
    assert encoded.dtypes.eq(float).all() and encoded.notna().all().all()
    # Patients with one education level still get every education column.
    subset = covariates[covariates["education"] == 1]
    assert list(task.encode(subset).columns) == list(encoded.columns)
    assert task.encode(subset).filter(like="education=").eq(0).all().all()
    design = task.propensity_design(covariates)
    assert [c for c in design.columns if c.endswith("^2")] == [
        "age^2", "smokeintensity^2", "smokeyrs^2", "wt71^2"]
    np.testing.assert_allclose(design["wt71^2"], covariates["wt71"] ** 2)


def test_encoding_refuses_text_and_missing_values() -> None:
    task = get_task("effect.actg175")
    assert isinstance(task, EffectTask)
    with pytest.raises(ValueError, match="neither numeric nor categorical"):
        task.encode(pd.DataFrame({"site": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"\['age'\] have missing values"):
        task.encode(pd.DataFrame({"age": [30.0, None]}))


def test_acic2016_instances_and_benchmark_replicates() -> None:
    task = get_task("effect.acic2016")
    assert isinstance(task, EffectTask)
    assert task.default_instance == 1 and task.instances == tuple(range(1, 11))
    assert task.load().name == "acic2016_1" and task.load(4).name == "acic2016_4"
    with pytest.raises(ValueError, match="not 11"):
        task.load(11)
    encoded = task.encode(task.load().covariates)
    # 55 numeric columns + (6 - 1) + (16 - 1) + (5 - 1) one-hot columns.
    assert encoded.shape == (4802, 55 + 5 + 15 + 4)
    pairs = task.replicates([0, 1])
    assert len(pairs) == 20 and pairs[0] == (1, 0) and pairs[-1] == (10, 1)
    single = get_task("effect.actg175")
    assert isinstance(single, EffectTask)
    assert single.replicates([0, 1]) == [(None, 0), (None, 1)]
    with pytest.raises(ValueError, match="single dataset"):
        single.load(1)


def test_split_rejects_a_single_arm() -> None:
    task = get_task("effect.actg175")
    assert isinstance(task, EffectTask)
    with pytest.raises(ValueError, match="both arms"):
        task.make_split(np.zeros(20, dtype=int), seed=0)


def test_cli_lists_effect_tasks_and_checks_the_model_to_train() -> None:
    row = EffectArea().describe(get_task("effect.actg175"))
    assert row.n == "1054" and "randomised" in row.summary
    result = CliRunner().invoke(app, ["train", "effect.nhefs", "--model", "mlp"])
    assert result.exit_code == 2
    assert "unknown model 'mlp' for effect.nhefs" in result.output and "tarnet" in result.output
