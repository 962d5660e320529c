"""The survival area as the core sees it: the row of `medora tasks`, the refusals before a run,
the training table, what a stored prediction is flagged as, the curve the page draws, and
artifacts pickled before the survival modules moved into the area."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from medora.areas.survival import SurvivalArea
from medora.areas.survival.charts import survival_curve
from medora.areas.survival.models import CoxPHModel
from medora.areas.survival.predictor import SurvivalPredictor
from medora.areas.survival.schemas import SurvivalDetails
from medora.areas.survival.serving import SurvivalServing
from medora.areas.survival.tasks import GBSG2_RECURRENCE
from medora.core.area import AreaUsageError
from medora.core.registry import area_named
from medora.train.run import RunConfig

from ...conftest import load_as_pickled_before_the_move

AREA = SurvivalArea()


def test_the_area_is_installed_and_owns_its_tasks() -> None:
    installed = area_named("survival")
    assert isinstance(installed, SurvivalArea)
    assert all(installed.owns(task) for task in AREA.tasks())
    assert not installed.owns(SimpleNamespace(name="cardio.framingham_chd"))


def test_describe_gives_patients_events_and_follow_up() -> None:
    row = AREA.describe(GBSG2_RECURRENCE)
    assert row.data.startswith("German Breast Cancer Study Group 2 (GBSG2)")
    assert (row.n, row.summary) == ("686", "299 events (43.6%), follow-up up to 2659 days")


def test_train_refuses_a_split_and_a_data_file_before_running() -> None:
    with pytest.raises(AreaUsageError, match="repeated stratified cross-validation, not a "
                                             "split; drop --split random"):
        AREA.train(GBSG2_RECURRENCE, RunConfig(split="random"))
    with pytest.raises(AreaUsageError, match="takes no --data"):
        AREA.train(GBSG2_RECURRENCE, RunConfig(data=Path("events.parquet")))
    with pytest.raises(AreaUsageError, match="unknown survival model 'nope'"):
        AREA.train(GBSG2_RECURRENCE, RunConfig(model="nope"))


def _details(group: str) -> SurvivalDetails:
    return SurvivalDetails(kind="survival", time_unit="days", horizon=730.0, risk_score=0.3,
                           risk_percentile=50.0, risk_group=group, reference_patients=100,
                           horizons=[365.0, 730.0], survival_at_horizons=[0.9, 0.5],
                           curve_times=[0.0, 365.0, 730.0], curve=[1.0, 0.9, 0.5])


@pytest.mark.parametrize(("flagged", "group", "label"), [
    (True, "high", "high-risk group"), (False, "intermediate", "intermediate risk"),
    (False, "low", "low risk")])
def test_a_prediction_is_flagged_by_its_risk_group(flagged: bool, group: str,
                                                   label: str) -> None:
    prediction = SimpleNamespace(flagged=flagged, details=_details(group))
    assert SurvivalServing(GBSG2_RECURRENCE).flag_label(prediction) == label  # type: ignore[arg-type]


def test_the_curve_is_drawn_in_years_with_the_horizons_marked() -> None:
    d = _details("low")
    chart = survival_curve(d.curve_times, d.curve, d.horizons, d.survival_at_horizons,
                           d.time_unit)
    assert chart.x_label == "years" and len(chart.points.split()) == 3
    assert [(mark.time, mark.survival) for mark in chart.horizons] == [
        ("1.0 years", "90%"), ("2.0 years", "50%")]
    start, end = (tuple(map(float, p.split(","))) for p in chart.points.split()[::2])
    assert (start[0], start[1]) == (chart.left, chart.top)  # S(0) = 100% at the top left
    assert end[0] == chart.right and chart.top < end[1] < chart.bottom


def test_a_predictor_pickled_before_the_move_loads_and_predicts(tmp_path: Path) -> None:
    _, x, time, event = GBSG2_RECURRENCE.load_survival()
    predictor = SurvivalPredictor.fitted(CoxPHModel().fit(x[:200], time[:200], event[:200]),
                                         x[:200], np.array([400.0, 800.0, 1200.0]), "days")
    old_names = {new: old for old, new in AREA.moved_modules.items()}
    loaded = load_as_pickled_before_the_move(predictor, old_names, tmp_path / "model.joblib")
    # The very classes of the area, not copies executed under the old names.
    assert type(loaded) is SurvivalPredictor and type(loaded.model) is CoxPHModel
    assert np.allclose(loaded.assess(x[200:210]).curve, predictor.assess(x[200:210]).curve)
