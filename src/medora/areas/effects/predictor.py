"""Per-patient treatment effects from a registered effect model: covariates in, the estimated
effect with its interval, the propensity and overlap check, and the recommended arm (or no
recommendation, with the reason) out.

The registered artifact is an :class:`EffectPredictor`: the effect model together with the
propensity model and the overlap rule fitted on the same training patients, so a new patient
is judged against exactly the population the model learned from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from medora.areas.effects.metrics import OverlapCheck, OverlapRule, Recommendation, recommend
from medora.areas.effects.models import EffectModel, EffectPrediction
from medora.areas.effects.tasks import EffectTask
from medora.data.tabular import NO_ROWS, InputValidationError
from medora.registry.store import ModelStore, ModelVersion

#: Fitted propensities are kept this far from 0 and 1, so inverse weights stay finite.
PROPENSITY_FLOOR = 1e-6
NO_RECOMMENDATION = "no recommendation"


@dataclass
class EffectPredictor:
    """A fitted effect model with what it takes to judge new patients: the covariate schema
    (each raw covariate's categorical levels, None for numeric), the encoded columns, the
    propensity (a model fitted on the training patients, else a trial's design probability), the
    overlap rule fitted on the training propensities, and the arms' labels."""

    model: EffectModel
    schema: Mapping[str, tuple[object, ...] | None]
    columns: list[str]
    overlap: OverlapRule
    propensity_method: str
    design_propensity: float | None
    propensity_model: Pipeline | None
    treated_label: str
    control_label: str
    higher_is_better: bool
    outcome_name: str
    outcome_unit: str
    threshold: float = 0.0

    def propensity(self, design: pd.DataFrame) -> np.ndarray:
        """P(treated | covariates) for rows of the task's propensity design."""
        return propensity_scores(self.propensity_model, self.design_propensity, design)

    def assess(self, encoded: pd.DataFrame, design: pd.DataFrame
               ) -> tuple[EffectPrediction, np.ndarray, OverlapCheck, list[Recommendation]]:
        """Effect, propensity, overlap and recommendation of every patient."""
        if list(encoded.columns) != self.columns:
            raise ValueError("the encoded covariates do not match the model's columns; encode "
                             "them with the task the model was trained on")
        prediction = self.model.predict_effect(encoded)
        propensity = self.propensity(design)
        check = self.overlap.check(propensity)
        recommendations = [self._recommend(prediction, i, check.reasons[i])
                           for i in range(len(encoded))]
        return prediction, propensity, check, recommendations

    def _recommend(self, prediction: EffectPrediction, i: int, overlap_reason: str
                   ) -> Recommendation:
        effect = float(prediction.cate[i])
        if prediction.lower is None or prediction.upper is None:
            reason = (f"outside overlap: {overlap_reason}" if overlap_reason else
                      f"{self.model.display_name} gives no per-patient interval, so the "
                      "estimate cannot be told apart from no effect")
            return Recommendation(effect, float("nan"), float("nan"), None, reason)
        return recommend(effect, float(prediction.lower[i]), float(prediction.upper[i]),
                         higher_is_better=self.higher_is_better,
                         treated_label=self.treated_label, control_label=self.control_label,
                         overlap_reason=overlap_reason, threshold=self.threshold)


def propensity_scores(model: Pipeline | None, design_propensity: float | None,
                      design: pd.DataFrame) -> np.ndarray:
    """P(treated | covariates): from the fitted ``model`` where there is one, else the trial's
    ``design_propensity`` for everybody."""
    if model is None:
        if design_propensity is None:
            raise ValueError("need a fitted propensity model or a design probability")
        return np.full(len(design), float(design_propensity))
    return np.clip(model.predict_proba(design)[:, 1], PROPENSITY_FLOOR, 1 - PROPENSITY_FLOOR)


def covariate_schema(covariates: pd.DataFrame) -> dict[str, tuple[object, ...] | None]:
    """Each covariate's declared categorical levels, or None for a numeric one."""
    return {column: (tuple(values.cat.categories)
                     if isinstance(values.dtype, pd.CategoricalDtype) else None)
            for column, values in covariates.items()}


def read_covariates(raw: pd.DataFrame, schema: Mapping[str, tuple[object, ...] | None],
                    source: str, file_lines: bool = True) -> pd.DataFrame:
    """Patients' covariates from a table of strings (a CSV as read), typed as in training:
    numbers as floats, categoricals with the training levels. Every problem is listed, with
    its fix and its file lines (unless ``file_lines`` is false: not a file), before anything
    is predicted; columns beyond the covariates are ignored."""
    def lines(rows: np.ndarray) -> str:
        return _lines(rows) if file_lines else ""

    if len(raw) == 0:
        raise InputValidationError(source, [NO_ROWS])
    problems = []
    missing = [column for column in schema if column not in raw.columns]
    if missing:
        problems.append(f"missing column(s) {missing}; the model needs every covariate "
                        f"{list(schema)} (see the model card)")
    typed = {}
    for column, levels in schema.items():
        if column in missing:
            continue
        text = raw[column].astype(str).str.strip()
        if levels is None:
            values = pd.to_numeric(text, errors="coerce")
            bad = values.isna().to_numpy()
            if bad.any():
                problems.append(f"column {column!r} must be a number{lines(bad)} (got "
                                f"{text[bad].head(3).tolist()}); fill in the measured value")
            typed[column] = values.astype(float)
        else:
            by_key = {_level_key(level): level for level in levels}
            keys = text.map(_level_key)
            bad = ~keys.isin(list(by_key)).to_numpy()
            if bad.any():
                problems.append(f"column {column!r} must be one of {list(by_key)}{lines(bad)}"
                                f" (got {text[bad].head(3).tolist()})")
            typed[column] = pd.Categorical(keys.map(by_key), categories=list(levels))
    if problems:
        raise InputValidationError(source, problems)
    return pd.DataFrame(typed, index=raw.index)


def _level_key(value: object) -> str:
    """A categorical level as text, numbers written alike ("2", "2.0" and 2 are one level)."""
    try:
        return f"{float(value):g}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def _lines(rows: np.ndarray) -> str:
    """" on line(s) 2, 5" of the file (the header is line 1)."""
    return " on line(s) " + ", ".join(str(int(i) + 2) for i in np.flatnonzero(rows)[:10])


@dataclass(frozen=True)
class EffectPredictions:
    """One row per patient, plus the version that produced them."""

    table: pd.DataFrame
    version: ModelVersion
    interval: str


def predict_effects(task: EffectTask, raw: pd.DataFrame, *, store: ModelStore | None = None,
                    version: int | None = None, source: str = "input") -> EffectPredictions:
    """Each patient's estimated effect with its interval, propensity, overlap and the
    recommended arm, or ``no recommendation`` with the reason (outside overlap, an interval
    that includes the threshold, or a model without intervals)."""
    from medora.registry.versions import usable_version

    store = store or ModelStore()
    record = usable_version(task, store, version)  # type: ignore[arg-type]
    predictor = store.load(record)
    if not isinstance(predictor, EffectPredictor):
        raise TypeError(f"{task.name} v{record.version} is not a treatment-effect model")
    covariates = read_covariates(raw, predictor.schema, source)
    prediction, propensity, check, recommendations = predictor.assess(
        task.encode(covariates), task.propensity_design(covariates))
    ids = (raw["patient_id"].astype(str).tolist() if "patient_id" in raw.columns
           else [str(i + 1) for i in range(len(raw))])
    table = pd.DataFrame({
        "patient_id": ids,
        "effect": np.round(prediction.cate, 4),
        "effect_lower": [round(r.ci_low, 4) for r in recommendations],
        "effect_upper": [round(r.ci_high, 4) for r in recommendations],
        "propensity": np.round(propensity, 4),
        "inside_overlap": check.inside,
        "recommendation": [r.recommended_arm or NO_RECOMMENDATION for r in recommendations],
        "reason": [r.reason for r in recommendations],
        "model_version": f"{task.name}:v{record.version}",
    })
    return EffectPredictions(table=table, version=record, interval=prediction.interval)
