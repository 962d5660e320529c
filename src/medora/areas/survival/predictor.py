"""Per-patient survival predictions from a registered survival model: a patient file in, each
patient's risk score, probability of the event by the task's reference horizon, its percentile
among the training patients, its risk group and the predicted survival at the task's horizons
out, with the whole predicted survival curve for plotting.

Inputs are checked with the same machinery as every other patient file
(:func:`medora.data.tabular.validate_features`), against the task's feature specs. Categorical
inputs may be written as in the dataset ("yes", "Post", "II") or as the task's numeric codes
(1, 1, 2): the labels are translated to the codes first, so a clinician can paste rows from
the source file.

The registered artifact is a :class:`SurvivalPredictor`: the model fitted on every training
patient together with those patients' own predicted probabilities of the event from that same
fit. A new patient is ranked against them, so the percentile and the group compare scores of
one model on one scale (scores of different fits carry different offsets and cannot be mixed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from medora.areas.survival.tasks import SurvivalTask
from medora.data.tabular import InputValidationError, validate_features
from medora.registry.store import ModelStore, ModelVersion

if TYPE_CHECKING:
    from medora.areas.survival.models import SurvivalModel

#: Points of each patient's predicted survival curve (from 0 to the last horizon).
CURVE_POINTS = 60
#: Beyond this many patients the plot has no legend (it would hide the curves).
MAX_LEGEND = 12
DAYS_PER_YEAR = 365.25
#: Tertiles of risk, lowest first, as `medora stratify` and the training report group patients.
RISK_GROUPS = ("low", "intermediate", "high")


def tertile_cuts(values: np.ndarray) -> np.ndarray:
    """The two values that split ``values`` into thirds."""
    return np.quantile(values, [1 / 3, 2 / 3])


def risk_group(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Each value's tertile name; a value on a cut belongs to the higher group."""
    return np.asarray(RISK_GROUPS)[np.searchsorted(cuts, values, side="right")]


@dataclass(frozen=True)
class SurvivalAssessment:
    """What a survival model says of each patient (one entry or row per patient)."""

    risk_score: np.ndarray
    event_probability: np.ndarray  # of the event by the predictor's reference horizon
    percentile: np.ndarray  # of event_probability among the training patients, 0-100
    group: np.ndarray  # RISK_GROUPS, by the training patients' tertiles
    at_horizons: np.ndarray  # S(t) at the predictor's horizons, (n, len(horizons))
    curve: np.ndarray  # S(t) at the predictor's curve_times, (n, CURVE_POINTS)


@dataclass
class SurvivalPredictor:
    """A survival model fitted on every training patient, with what it takes to place a new
    patient among them: the task's evaluation horizons (event-time quantiles of the training
    cohort), the time unit, and the training patients' probabilities of the event by the
    reference horizon, the middle one, sorted.

    Ranking by the probability at one horizon, not by the model's risk score, keeps the
    percentile, the group and the flag in the unit a clinician reads; for proportional-hazards
    models (DeepSurv, Cox) both orders are the same.
    """

    model: SurvivalModel
    horizons: np.ndarray
    time_unit: str
    reference: np.ndarray

    @classmethod
    def fitted(cls, model: SurvivalModel, x: pd.DataFrame, horizons: np.ndarray,
               time_unit: str) -> SurvivalPredictor:
        """Wrap ``model``, already fitted on ``x``, with ``x``'s own predictions as the
        reference."""
        predictor = cls(model, np.asarray(horizons, dtype=np.float64), time_unit,
                        np.empty(0))
        predictor.reference = np.sort(predictor._event_probability(x))
        return predictor

    @property
    def horizon(self) -> float:
        """The reference horizon: the median event time of the training cohort."""
        return float(self.horizons[self.horizons.size // 2])

    @property
    def curve_times(self) -> np.ndarray:
        return np.linspace(0.0, float(self.horizons[-1]), CURVE_POINTS)

    @property
    def high_risk_threshold(self) -> float:
        """The probability of the event at or above which a patient is in the top third of
        the training patients."""
        return float(tertile_cuts(self.reference)[1])

    def _event_probability(self, x: pd.DataFrame) -> np.ndarray:
        return 1.0 - self.model.predict_survival(x, [self.horizon])[:, 0]

    def assess(self, x: pd.DataFrame) -> SurvivalAssessment:
        """Every patient's scores, ranked against the training patients."""
        x = x[self.model.feature_names_]  # the order the model was fitted on
        # One pass of the model for every time asked (each S(t) is computed on its own).
        times = np.union1d(self.horizons, self.curve_times)
        survival = self.model.predict_survival(x, times)
        at_horizons = survival[:, np.searchsorted(times, self.horizons)]
        probability = 1.0 - at_horizons[:, self.horizons.size // 2]  # at self.horizon
        below = np.searchsorted(self.reference, probability, side="right")
        return SurvivalAssessment(
            risk_score=self.model.predict_risk(x), event_probability=probability,
            percentile=100.0 * below / self.reference.size,
            group=risk_group(probability, tertile_cuts(self.reference)),
            at_horizons=at_horizons,
            curve=survival[:, np.searchsorted(times, self.curve_times)])

    def describe_threshold(self) -> str:
        """Where the high-risk flag comes from, for a stored prediction."""
        return (f"the high-risk group: the top third of the {self.reference.size} training "
                f"patients' probability of the event by {self.horizon:.0f} {self.time_unit} "
                "(the training cohort's median event time), as this model version predicts "
                "them")


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


def survival_inputs(task: SurvivalTask, raw: pd.DataFrame, source: str = "input",
                    file_lines: bool = True) -> pd.DataFrame:
    """The model inputs of every patient of ``raw`` (a table of strings, as read from a CSV),
    validated against the task's feature specs; raises :class:`InputValidationError` naming
    each problem's column, line (unless ``file_lines`` is false: not a file) and fix before
    anything is predicted."""
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
        return validate_features(frame, specs, source=source, file_lines=file_lines)
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
    """Each patient's risk score (higher: earlier event expected), probability of the event by
    the reference horizon with its percentile and group among the training patients, and
    predicted survival at the task's horizons (quantiles of the training cohort's event
    times), with the version that produced them. An optional ``patient_id`` column names the
    rows."""
    from medora.registry.versions import usable_version

    store = store or ModelStore()
    record = usable_version(task, store, version)  # type: ignore[arg-type]
    x = survival_inputs(task, frame, source)
    predictor = store.load(record)
    if not isinstance(predictor, SurvivalPredictor):
        raise TypeError(f"{task.name} v{record.version} holds a {type(predictor).__name__}, "
                        "not a survival predictor; retrain it with `medora train "
                        f"{task.name}`")
    assessment = predictor.assess(x)
    unit = task.time_unit
    table = pd.DataFrame({
        "patient_id": (x.index.astype(str) if x.index.name else
                       [str(i + 1) for i in range(len(x))]),
        "risk_score": np.round(assessment.risk_score, 4),
        f"event_by_{predictor.horizon:.0f}{unit[:1]}": np.round(
            assessment.event_probability, 4),
        "risk_percentile": np.round(assessment.percentile, 1),
        "risk_group": assessment.group,
    })
    for k, horizon in enumerate(predictor.horizons):
        table[horizon_column(horizon, unit)] = np.round(assessment.at_horizons[:, k], 4)
    table["model_version"] = f"{task.name}:v{record.version}"
    return SurvivalPredictions(table=table, version=record, horizons=predictor.horizons,
                               curve_times=predictor.curve_times, curves=assessment.curve,
                               time_unit=unit)


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
