"""Per-patient survival predictions from a registered survival model: a patient file in, each
patient's risk score and predicted survival probability at the task's horizons out, with the
whole predicted survival curve for plotting.

Inputs are checked with the same machinery as every other patient file
(:func:`medora.data.tabular.validate_features`), against the task's feature specs. Categorical
inputs may be written as in the dataset ("yes", "Post", "II") or as the task's numeric codes
(1, 1, 2): the labels are translated to the codes first, so a clinician can paste rows from
the source file.

No percentile of the risk score among the training patients is given: the registered artifact
is the fitted model alone, and the cross-validated risks of the training run are kept only as
per-fold percentiles in the run's ``metrics.json``. Raw scores from different fits carry
different offsets, so those percentiles cannot place a new patient's score from the final fit.
A risk score is therefore comparable only with other scores of the same model version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from medora.data.tabular import InputValidationError, validate_features
from medora.registry.store import ModelStore, ModelVersion
from medora.tasks.survival import SurvivalTask

#: Points of each patient's predicted survival curve (from 0 to the last horizon).
CURVE_POINTS = 60
#: Beyond this many patients the plot has no legend (it would hide the curves).
MAX_LEGEND = 12
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class SurvivalPredictions:
    """One row per patient (``table``), the version that produced them, the horizons of the
    ``survival_at_*`` columns and every patient's curve S(t) at ``curve_times``."""

    table: pd.DataFrame
    version: ModelVersion
    horizons: np.ndarray
    curve_times: np.ndarray
    curves: np.ndarray  # (n patients, len(curve_times))
    time_unit: str


def horizon_column(horizon: float, unit: str) -> str:
    """``survival_at_726d`` for 726 days; the unit's first letter keeps the name short."""
    return f"survival_at_{horizon:.0f}{unit[:1]}"


def survival_inputs(task: SurvivalTask, raw: pd.DataFrame, source: str = "input"
                    ) -> pd.DataFrame:
    """The model inputs of every patient of ``raw`` (a table of strings, as read from a CSV),
    validated against the task's feature specs; raises :class:`InputValidationError` naming
    each problem's column, line and fix before anything is predicted."""
    frame = raw.copy()
    for encoding in task.encodings:
        if encoding.column in frame.columns:
            # Dataset labels become the task's codes; anything else is left for the validator
            # to report, so a typo gets the same message as in every other patient file.
            text = frame[encoding.column].astype(str).str.strip()
            frame[encoding.column] = [f"{encoding.codes[v]:g}" if v in encoding.codes else v
                                      for v in text]
    # The survival tasks train without imputation (task.encode refuses missing values), so a
    # blank cell is an error here, not a value to impute.
    specs = [replace(spec, required=True) for spec in task.features]
    try:
        return validate_features(frame, specs, source=source)
    except InputValidationError as error:
        raise InputValidationError(source, [_with_labels(task, p) for p in error.problems]
                                   ) from None


def _with_labels(task: SurvivalTask, problem: str) -> str:
    """Add the accepted labels to a problem about a categorical column."""
    for encoding in task.encodings:
        if problem.startswith(f"column {encoding.column}:"):
            return f"{problem}, or one of {list(encoding.codes)}"
    return problem


def predict_survival_patients(task: SurvivalTask, frame: pd.DataFrame,
                              version: int | None = None, store: ModelStore | None = None,
                              source: str = "input") -> SurvivalPredictions:
    """Each patient's risk score (higher: earlier event expected) and predicted survival at
    the task's horizons (quantiles of the cohort's event times, as in training), with the
    version that produced them. An optional ``patient_id`` column names the rows."""
    from medora.models.survival import SurvivalModel
    from medora.predict import usable_version  # loads the molecule stack: only when predicting

    store = store or ModelStore()
    record = usable_version(task, store, version)  # type: ignore[arg-type]
    x = survival_inputs(task, frame, source)
    model = store.load(record)
    if not isinstance(model, SurvivalModel):
        raise TypeError(f"{task.name} v{record.version} is not a survival model")
    x = x[model.feature_names_]  # the order the model was fitted on
    horizons = task.evaluation_times().horizons
    curve_times = np.linspace(0.0, float(horizons[-1]), CURVE_POINTS)
    risk = model.predict_risk(x)
    at_horizons = model.predict_survival(x, horizons)
    table = pd.DataFrame({
        "patient_id": (x.index.astype(str) if x.index.name else
                       [str(i + 1) for i in range(len(x))]),
        "risk_score": np.round(risk, 4),
    })
    for k, horizon in enumerate(horizons):
        table[horizon_column(horizon, task.time_unit)] = np.round(at_horizons[:, k], 4)
    table["model_version"] = f"{task.name}:v{record.version}"
    return SurvivalPredictions(table=table, version=record, horizons=horizons,
                               curve_times=curve_times,
                               curves=model.predict_survival(x, curve_times),
                               time_unit=task.time_unit)


def plot_survival_curves(predictions: SurvivalPredictions, path: Path, title: str = ""
                         ) -> Path:
    """Write a PNG with every patient's predicted survival curve, the horizons marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure with the Agg canvas: no pyplot state, no display needed on a server.
    figure = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    days = predictions.time_unit == "days"
    scale = DAYS_PER_YEAR if days else 1.0
    ids = predictions.table["patient_id"].tolist()
    for ident, curve in zip(ids, predictions.curves, strict=True):
        axes.plot(predictions.curve_times / scale, curve, label=f"patient {ident}")
    for horizon in predictions.horizons:
        axes.axvline(horizon / scale, color="grey", linestyle=":", linewidth=0.8)
    axes.set(title=title or "Predicted survival per patient", ylim=(0, 1.02),
             xlabel="years" if days else predictions.time_unit, ylabel="predicted S(t)")
    if len(ids) <= MAX_LEGEND:
        axes.legend(loc="lower left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=120)
    return path
