"""A survival task's run end to end, in the quick setting: every model on the same folds,
repeated-CV intervals, paired differences, the integrative comparison, report, card and
metrics written and the candidate registered; and the run without scikit-survival."""

from __future__ import annotations

import json
from importlib.util import find_spec

import numpy as np
import pytest

from medora.areas.survival import run as survival_run
from medora.areas.survival.predictor import SurvivalPredictor
from medora.areas.survival.run import train_survival_task
from medora.core.registry import get_task
from medora.registry.store import ModelStore
from medora.train.run import RunConfig

GSE7390 = "oncology.breast_recurrence_genes"


@pytest.mark.skipif(find_spec("sksurv") is None, reason="GSE7390 ships in scikit-survival")
def test_quick_gse7390_run_writes_compares_and_registers(tmp_path) -> None:
    run = train_survival_task(get_task(GSE7390), RunConfig(quick=True, out_dir=tmp_path,
                                                           progress=False))
    assert list(run.results) == ["deepsurv", "logistic_hazard", "cox_ph", "coxnet",
                                 "random_survival_forest", "gradient_boosted_cox"]
    assert run.folds == (1, 5) and not run.unavailable
    for result in run.results.values():
        assert result.per_fold["harrell_c"].shape == (1, 5)
        c = result.metrics["harrell_c"]
        assert c.ci_low < c.value < c.ci_high and 0.4 < c.value < 0.9
        assert len(result.auc_by_horizon) == 3
    assert set(run.comparisons) == {f"deepsurv_vs_{n}" for n in list(run.results)[1:]}
    assert set(run.integrative) == {"integrative", "clinical", "genes"}
    assert "deepsurv: integrative_vs_genes" in run.integrative_comparisons
    assert "Harrell's C" in run.verdict and "corrected resampled t" in run.verdict
    document = json.loads((tmp_path / "metrics.json").read_text())
    assert len(document["cross_validated_risk"]) == 198
    assert document["references"][0]["value"] == "0.765"
    assert "as stated in issue 5" in document["references"][0]["source"]
    report = (tmp_path / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 3 and "Log-rank test" in report
    assert "Integrative model" in report
    card = (tmp_path / "card.md").read_text()
    assert "DeepSurv ensemble (this model)" in card
    record = ModelStore().get(GSE7390)
    assert record.model_name == "deepsurv" and record.status == "draft"
    predictor = ModelStore().load(record)
    assert isinstance(predictor, SurvivalPredictor)
    _, x, _, _ = get_task(GSE7390).load_survival()
    # Ranked against all 198 training patients, by the middle of the run's three horizons.
    assert predictor.reference.size == 198 and np.all(np.diff(predictor.reference) >= 0)
    assert predictor.horizon == run.times.horizons[1]
    rows = [example.index for example in run.examples]
    np.testing.assert_allclose(predictor.model.predict_survival(x.iloc[rows], run.curve_times),
                               [example.survival for example in run.examples])


def test_run_without_scikit_survival_lists_the_gpl_baselines(small_gbsg2, tmp_path,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(survival_run, "sksurv_available", lambda: False)
    run = train_survival_task(small_gbsg2, RunConfig(quick=True, out_dir=tmp_path,
                                                     progress=False, register=False))
    assert list(run.results) == ["deepsurv", "logistic_hazard", "cox_ph"]
    assert set(run.unavailable) == {"coxnet", "random_survival_forest",
                                    "gradient_boosted_cox"}
    assert not run.integrative and run.version is None
    report = (tmp_path / "report.html").read_text()
    assert "not installed" in report and "gpl-baselines" in report
    assert "Cox PH (ridge)" in run.verdict
    with pytest.raises(ValueError, match="not installed"):
        train_survival_task(small_gbsg2, RunConfig(model="coxnet", quick=True,
                                                   out_dir=tmp_path, progress=False))
