"""What a survival prediction stores in its ``details``: the patient's place among the training
patients and the predicted survival curve (a part of PredictionInfo's OpenAPI schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medora.serve.schema_base import Schema


class SurvivalDetails(Schema):
    kind: Literal["survival"]
    time_unit: str = Field(examples=["days"])
    horizon: float = Field(description="The reference horizon, the training cohort's median "
                                       "event time: `risk` is the probability of the event by "
                                       "then.", examples=[1814.0])
    risk_score: float = Field(description="The model's risk score (higher: earlier event); "
                                          "comparable only within one model version.")
    risk_percentile: float = Field(description="Percent of the training patients whose "
                                               "probability of the event by `horizon` is at "
                                               "most this patient's.", examples=[71.2])
    risk_group: Literal["low", "intermediate", "high"] = Field(
        description="The training patients' tertile this patient falls in.")
    reference_patients: int = Field(description="Training patients ranked against.")
    horizons: list[float] = Field(description="Event-time quartiles of the training cohort.")
    survival_at_horizons: list[float] = Field(description="Predicted S(t) at each horizon.")
    curve_times: list[float]
    curve: list[float] = Field(description="Predicted S(t) at each of `curve_times`.")
