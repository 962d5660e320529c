"""What the service stores and returns with an effect prediction beyond the common columns: the
arms, the propensity and overlap, and the recommended arm or why there is none."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medora.serve.schema_base import Schema


class EffectDetails(Schema):
    kind: Literal["effect"]
    model: str = Field(examples=["DragonNet ensemble"])
    outcome: str = Field(examples=["cd4_change_20wk"])
    outcome_unit: str = Field(examples=["cells/mm3"])
    higher_is_better: bool
    treated_label: str = Field(examples=["zidovudine + didanosine"])
    control_label: str = Field(examples=["zidovudine"])
    interval: str = Field(description="What [risk_lower, risk_upper] is, or why there is none.")
    propensity: float = Field(description="Estimated probability of the treated arm given the "
                                          "covariates (a trial's design probability where "
                                          "known).")
    propensity_method: str
    overlap: tuple[float, float] = Field(description="Propensities inside overlap.")
    inside_overlap: bool
    recommendation: str | None = Field(description="The arm recommended; null: none, see "
                                                   "`reason`.")
    reason: str = Field(description="Why this arm, or why no recommendation.")
