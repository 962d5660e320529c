"""The progression task as the service predicts it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from medora.serve.contract import Catalogue, Outcome, Prepared, Score, TaskServing
from medora.serve.schemas import Feature
from medora_progression.run import FEATURES, features

THRESHOLD = 0.5


class ProgressionServing(TaskServing):
    page_template = "web/progression.html"
    flag_labels = ("likely progression", "unlikely progression")

    @property
    def outcome(self) -> Outcome:
        return Outcome("progression", "probability", None, (0.0, 1.0))

    def catalogue(self) -> Catalogue:
        return Catalogue(THRESHOLD, "flagged at a probability of one half",
                         [Feature(name=name, description="standardised baseline measurement",
                                  kind="continuous", unit="sd", expected="a number",
                                  required=True) for name in FEATURES])

    def check_model(self, model: object) -> None:
        """Any fitted classifier with ``predict_proba`` will do."""

    def prepare(self, model: Any, inputs: object) -> Prepared:
        values = dict(inputs)  # type: ignore[call-overload]  # named inputs
        x = features(pd.DataFrame({name: [values.get(name)] for name in FEATURES}), "inputs")
        return Prepared({name: float(x[name].iloc[0]) for name in FEATURES}, x)

    def score(self, model: Any, prepared: Prepared) -> Score:
        risk = float(model.predict_proba(prepared.model_input)[0, 1])
        return Score(risk=round(risk, 4), lower=None, upper=None, threshold=THRESHOLD,
                     threshold_source="flagged at a probability of one half",
                     flagged=risk >= THRESHOLD, explanation=[])
