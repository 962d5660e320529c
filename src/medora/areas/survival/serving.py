"""A survival task as the service predicts it: one patient's named inputs validated exactly as a
row of a patient file would be (dataset labels or the task's codes), and what is stored of the
prediction.

``risk`` is the probability of the event by the reference horizon (no interval), ``threshold``
the training patients' upper tertile of it, ``flagged`` "high-risk group", and ``details``
(:class:`~medora.areas.survival.schemas.SurvivalDetails`) the survival curve, the percentile
and the group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from medora.areas.survival.charts import format_time, survival_curve
from medora.areas.survival.predictor import SurvivalPredictor, survival_inputs
from medora.areas.survival.schemas import SurvivalDetails
from medora.areas.survival.tasks import SurvivalTask
from medora.serve.contract import (
    Catalogue,
    NamedInputs,
    Outcome,
    Page,
    Prepared,
    Score,
    TaskServing,
)
from medora.serve.inputs import RISK_DECIMALS, as_json, input_frame
from medora.serve.schemas import Feature

if TYPE_CHECKING:
    from medora.serve.db import Prediction
    from medora.serve.schemas import PredictionInfo

def rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), RISK_DECIMALS) for v in values]


#: The probability of the event by the reference horizon; no per-patient interval.
EVENT_PROBABILITY = Outcome("survival", "probability", None, (0.0, 1.0))
HIGH_RISK_SOURCE = ("flagged in the high-risk group: the top third of the training patients' "
                    "probability of the event by the training cohort's median event time, "
                    "which each prediction states")


class SurvivalServing(TaskServing):
    model_type = SurvivalPredictor
    flag_labels = ("high-risk group", "low or intermediate risk")
    page_template = "web/survival.html"
    task: SurvivalTask

    @property
    def outcome(self) -> Outcome:
        return EVENT_PROBABILITY

    def catalogue(self) -> Catalogue:
        """Every input is required (the survival models impute nothing); a categorical one
        takes the dataset's labels as well as the task's codes."""
        labels = {encoding.column: list(encoding.codes) for encoding in self.task.encodings}
        return Catalogue(None, HIGH_RISK_SOURCE, [
            Feature(name=spec.name, description=spec.description,
                    kind="categorical" if spec.name in labels else spec.kind, unit=spec.unit,
                    expected=(f"{spec.expected}, or one of {labels[spec.name]}"
                              if spec.name in labels else spec.expected),
                    required=True)
            for spec in self.task.features])

    def prepare(self, model: SurvivalPredictor, inputs: object) -> Prepared:
        named: NamedInputs = inputs  # type: ignore[assignment]  # the service's named inputs
        x = survival_inputs(self.task, input_frame(self.task.feature_names, named), "inputs",
                            file_lines=False)
        return Prepared(as_json(x), x)

    def score(self, model: SurvivalPredictor, prepared: Prepared) -> Score:
        """The probability of the event by the reference horizon, flagged in the training
        patients' top third, with the survival curve, the percentile and the group."""
        result = model.assess(prepared.model_input)
        return Score(
            risk=round(float(result.event_probability[0]), RISK_DECIMALS), lower=None,
            upper=None, threshold=round(model.high_risk_threshold, RISK_DECIMALS),
            threshold_source=model.describe_threshold(), flagged=result.group[0] == "high",
            explanation=[],
            details={"kind": "survival", "time_unit": model.time_unit,
                     "horizon": model.horizon,
                     "risk_score": round(float(result.risk_score[0]), RISK_DECIMALS),
                     "risk_percentile": round(float(result.percentile[0]), 1),
                     "risk_group": str(result.group[0]),
                     "reference_patients": int(model.reference.size),
                     "horizons": model.horizons.tolist(),
                     "survival_at_horizons": rounded(result.at_horizons[0]),
                     "curve_times": model.curve_times.tolist(),
                     "curve": rounded(result.curve[0])})

    def flag_label(self, prediction: PredictionInfo) -> str:
        """Outside the high-risk group, the patient's own tertile ("low risk", "intermediate
        risk")."""
        if prediction.flagged:
            return self.flag_labels[0]
        return f"{_details(prediction).risk_group} risk"

    def page(self, prediction: PredictionInfo, stored: Prediction) -> Page:
        """The risk by the reference horizon, the patient among the training patients, and
        the predicted survival curve."""
        details = _details(prediction)
        return Page(self.page_template, {
            "features": self.features,
            "horizon": format_time(details.horizon, details.time_unit),
            "curve": survival_curve(details.curve_times, details.curve, details.horizons,
                                    details.survival_at_horizons, details.time_unit)})


def _details(prediction: PredictionInfo) -> SurvivalDetails:
    details = prediction.details
    assert isinstance(details, SurvivalDetails)  # every survival prediction stores them
    return details
