"""Risk predictions for a file of patients from a registered model: validated inputs in,
calibrated risk with an interval, the flag at the task's threshold and, on request, the reasons
out."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from medora.areas.risk.task import RiskTask
from medora.data.tabular import validate_features
from medora.explain.attributions import top_contributions
from medora.registry.store import ModelStore, ModelVersion
from medora.registry.versions import usable_version


@dataclass(frozen=True)
class PatientPredictions:
    """One row per patient, plus the version that produced them."""

    table: pd.DataFrame
    version: ModelVersion
    attributions: pd.DataFrame | None = None


def predict_patients(task: RiskTask, raw: pd.DataFrame, *, store: ModelStore | None = None,
                     version: int | None = None, explain: bool = False, top_k: int = 3,
                     source: str = "input") -> PatientPredictions:
    """Validate ``raw`` against the task's inputs and predict every patient.

    Raises :class:`medora.data.tabular.InputValidationError` before predicting anything if any
    row is unusable.
    """
    store = store or ModelStore()
    record = usable_version(task, store, version)
    x = validate_features(raw, task.features, source=source)
    predictor = store.load(record)
    risk = predictor.predict_risk(x)
    table = pd.DataFrame({
        "risk": risk.risk.round(4), "risk_lower": risk.lower.round(4),
        "risk_upper": risk.upper.round(4),
        "flagged": risk.risk >= task.threshold.value,
    }, index=x.index)
    attributions = None
    if explain:
        attributions = predictor.explain(x)
        table["top_features"] = [
            "; ".join(f"{c.feature}={'missing' if c.value is None else f'{c.value:g}'} "
                      f"({c.contribution:+.2f})"
                      for c in top_contributions(attributions.iloc[i], x.iloc[i], k=top_k))
            for i in range(len(x))
        ]
    table.insert(0, "patient_id", x.index.astype(str) if x.index.name else
                 [str(i + 1) for i in range(len(x))])
    table["model_version"] = f"{task.name}:v{record.version}"
    return PatientPredictions(table=table.reset_index(drop=True), version=record,
                              attributions=attributions)


