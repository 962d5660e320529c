"""A tabular risk as the service predicts it: one patient's named inputs validated exactly as a
CSV row would be, the calibrated probability with its 95% interval, the flag at the task's
threshold and the inputs that moved it most."""

from __future__ import annotations

from typing import Any

import pandas as pd

from medora.areas.risk.task import RiskTask
from medora.data.tabular import validate_features
from medora.explain.attributions import top_contributions
from medora.models.calibrated import CalibratedModel
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
from medora.serve.web.charts import contribution_chart, risk_bar

TOP_CONTRIBUTIONS = 5  # inputs stored with each prediction, either way
# CalibratedModel.predict_risk's interval (alpha 0.05).
PROBABILITY = Outcome("tabular", "probability", 0.95, (0.0, 1.0))


def model_input(task: RiskTask, inputs: NamedInputs) -> pd.DataFrame:
    """One patient's inputs as the model's feature frame, validated by the same rules as a
    patient file; an input left out is a missing value, an unknown one is an error.

    Raises :class:`medora.core.errors.InputValidationError` listing every problem.
    """
    return validate_features(input_frame(task.feature_names, inputs), task.features,
                             source="inputs", file_lines=False)


class RiskServing(TaskServing):
    model_type = CalibratedModel
    page_template = "web/prediction.html"
    task: RiskTask

    @property
    def outcome(self) -> Outcome:
        return PROBABILITY

    def catalogue(self) -> Catalogue:
        return Catalogue(self.task.threshold.value, self.task.threshold.source,
                         [Feature(name=spec.name, description=spec.description, kind=spec.kind,
                                  unit=spec.unit, expected=spec.expected,
                                  required=spec.required) for spec in self.task.features])

    def prepare(self, model: Any, inputs: object) -> Prepared:
        x = model_input(self.task, inputs)  # type: ignore[arg-type]  # named inputs
        return Prepared(as_json(x), x)

    def score(self, model: CalibratedModel, prepared: Prepared) -> Score:
        """Calibrated risk with its 95% interval, the threshold flag and the top
        contributions."""
        x = prepared.model_input
        risk = model.predict_risk(x)
        contributions = top_contributions(model.explain(x).iloc[0], x.iloc[0],
                                          k=TOP_CONTRIBUTIONS)
        threshold = self.task.threshold
        return Score(risk=round(float(risk.risk[0]), RISK_DECIMALS),
                     lower=round(float(risk.lower[0]), RISK_DECIMALS),
                     upper=round(float(risk.upper[0]), RISK_DECIMALS),
                     threshold=threshold.value, threshold_source=threshold.source,
                     flagged=bool(risk.risk[0] >= threshold.value),
                     explanation=[{"feature": c.feature, "value": c.value,
                                   "contribution": round(c.contribution, RISK_DECIMALS)}
                                  for c in contributions])

    def page(self, prediction: Any, stored: Any) -> Page:
        features = self.features
        assert prediction.risk_lower is not None and prediction.risk_upper is not None
        return Page(self.page_template, {
            "features": features,
            "risk_bar": risk_bar(prediction.risk, prediction.risk_lower, prediction.risk_upper,
                                 prediction.threshold),
            "chart": contribution_chart(prediction.contributions,
                                        {name: spec.unit for name, spec in features.items()})})
