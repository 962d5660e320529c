"""What every area's training run shares: its config, its record (identity, data, models,
verdict), metrics.json's envelope, the run folder and registration; and the pieces of a binary
risk run (calibrated evidence on the test split, paired comparisons) the areas that predict a
risk build their runs from."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd
from rich.console import Console

from medora.core.task import DecisionThreshold, SensitiveAttribute, Split, Task
from medora.data.bundled import DatasetProvenance
from medora.evaluate.bootstrap import (
    Estimate,
    evaluate_binary,
    paired_difference,
)
from medora.evaluate.calibration import PlattCalibrator, calibration_slope_intercept
from medora.evaluate.decision_analysis import decision_curve
from medora.evaluate.fairness import SubgroupReport, subgroup_table
from medora.evaluate.metrics import BINARY_METRICS, expected_calibration_error
from medora.explain.attributions import Contribution
from medora.models.calibrated import CalibratedModel
from medora.registry.store import CARD_NAME, METRICS_NAME, ModelStore, ModelVersion

_Task = TypeVar("_Task", bound=Task)
_Result = TypeVar("_Result")


@dataclass
class RunConfig:
    """What to train and how; recorded with the run and the registered version."""

    model: str | None = None
    seed: int = 0
    quick: bool = False
    out_dir: Path | None = None
    n_resamples: int | None = None
    register: bool = True
    progress: bool = True
    #: For tasks offering several splits (molecules: given, random, scaffold); None = default.
    split: str | None = None
    #: For tasks on data the user brings (ehr.*: the event table); None for bundled data.
    data: Path | None = None

    @property
    def resamples(self) -> int:
        return self.n_resamples or (200 if self.quick else 1000)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "out_dir": str(self.out_dir) if self.out_dir else None,
                "data": str(self.data) if self.data else None,
                "n_resamples": self.resamples, "medora_version": metadata.version("medora")}


@dataclass
class ComparedModel:
    """What every model compared in a run records, whatever its task: who it is, how it
    explains itself, its test metrics and its training time."""

    name: str
    display_name: str
    kind: str
    explanation_method: str
    metrics: dict[str, Estimate]
    training_seconds: float


@dataclass
class ModelResult(ComparedModel):
    """One compared binary risk model's fitted predictor and its test-set evidence."""

    predictor: CalibratedModel
    calibration: dict[str, float]
    test_probability: np.ndarray
    test_probability_uncalibrated: np.ndarray
    importance: pd.Series
    subgroups: dict[str, SubgroupReport] = field(default_factory=dict)


@dataclass
class PatientExplanation:
    """An example test patient's calibrated risk and the features behind it."""

    label: str
    risk: float
    lower: float
    upper: float
    outcome: int
    contributions: list[Contribution]


@dataclass(kw_only=True)
class RunRecord(Generic[_Task, _Result]):
    """What every kind of run records about itself, whatever its task, models and metrics
    (:func:`metrics_envelope` writes it into metrics.json): built by keyword."""

    run_id: str
    task: _Task
    config: RunConfig
    created_at: str
    provenance: DatasetProvenance
    data_fingerprint: str
    primary_model: str
    results: dict[str, _Result]  # each model's, with its training_seconds
    verdict: str  # the candidate against the baselines, in words
    out_dir: Path
    environment: dict[str, str]
    version: ModelVersion | None = None

    @property
    def primary(self) -> _Result:
        return self.results[self.primary_model]


class BinaryRiskTask(Task, Protocol):
    """What evaluating a binary risk model needs of its task, whatever its inputs."""

    @property
    def threshold(self) -> DecisionThreshold: ...
    @property
    def metrics(self) -> tuple[str, ...]: ...
    @property
    def sensitive_attributes(self) -> tuple[SensitiveAttribute, ...]: ...


@dataclass(kw_only=True)
class Run(RunRecord[BinaryRiskTask, ModelResult]):
    """The record of one training of a binary risk task: config, data, split, every model's
    evidence, the verdict."""

    split_sizes: dict[str, int]
    prevalence: dict[str, float]
    comparisons: dict[str, Estimate]
    y_test: np.ndarray
    decision_curve: pd.DataFrame
    examples: list[PatientExplanation]

    def metrics_document(self) -> dict[str, Any]:
        """The content of metrics.json: every model's metrics with 95% CIs, and their
        provenance."""
        return metrics_envelope(self, {
            "split": {"kind": "stratified random", "seed": self.config.seed,
                      "sizes": self.split_sizes, "prevalence": self.prevalence},
            "threshold": {"value": self.task.threshold.value,
                          "source": self.task.threshold.source},
            "confidence_intervals": f"95% percentile bootstrap, {self.config.resamples} "
                                    "stratified resamples of the test set",
            "models": {name: {metric: estimate.to_dict()
                              for metric, estimate in result.metrics.items()}
                       for name, result in self.results.items()},
            "comparisons": {key: value.to_dict() for key, value in self.comparisons.items()},
            "verdict": self.verdict,
            "calibration": {name: result.calibration for name, result in self.results.items()},
            "subgroups": {
                attribute.name: {name: result.subgroups[attribute.name].to_dict()
                                 for name, result in self.results.items()}
                for attribute in self.task.sensitive_attributes
            },
            "importance": {name: result.importance.round(4).to_dict()
                           for name, result in self.results.items()},
        })


def data_fingerprint(x: pd.DataFrame, *arrays: np.ndarray) -> str:
    """SHA-256 of the exact inputs and outcomes a run trained and tested on: the frame's
    values and index, then each array's bytes as given (callers fix each array's dtype, so
    the same data always hashes the same)."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(x, index=True).to_numpy().tobytes())
    for values in arrays:
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def metrics_envelope(run: RunRecord[Any, Any], details: dict[str, Any], **data: object
                     ) -> dict[str, Any]:
    """metrics.json of any run: what identifies the run and its data, then the run's own
    ``details``, then training times, config and software versions. ``data`` adds facts
    about the dataset (e.g. patients and events) beside its provenance."""
    return {
        "task": run.task.name,
        "run_id": run.run_id,
        "created_at": run.created_at,
        "primary_model": run.primary_model,
        "registered_version": run.version.version if run.version else None,
        "data": {**run.provenance.to_dict(), "fingerprint": run.data_fingerprint, **data},
        **details,
        "training_seconds": {name: round(result.training_seconds, 2)
                             for name, result in run.results.items()},
        "config": run.config.to_dict(),
        "environment": run.environment,
    }


def environment() -> dict[str, str]:
    """Versions of the software a run's numbers depend on."""
    packages = ("medora", "torch", "scikit-learn", "numpy", "pandas", "captum", "fairlearn",
                "rdkit")
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"python": platform.python_version(), **versions}


def write_atomic(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def compared_on_test(task: BinaryRiskTask, names: list[str], results: dict[str, ModelResult],
                     y: np.ndarray, split: Split, indices: np.ndarray) -> dict[str, Any]:
    """The fields of a :class:`Run` that compare its models on the test split: the parts'
    sizes and prevalence, the candidate's (``names[0]``) paired differences against every
    other model on the bootstrap ``indices``, the verdict and the decision curve."""
    primary_name, y_test = names[0], y[split.test]
    primary = results[primary_name]
    comparisons = {
        f"{primary_name}_vs_{other}": paired_difference(
            task.primary_metric, y_test, primary.test_probability,
            results[other].test_probability, task.threshold.value, indices)
        for other in names[1:]
    }
    return {
        "split_sizes": split.sizes(),
        "prevalence": {part: round(float(y[rows].mean()), 4)
                       for part, rows in (("train", split.train),
                                          ("validation", split.validation),
                                          ("test", split.test))},
        "primary_model": primary_name, "results": results, "comparisons": comparisons,
        "verdict": comparison_verdict(
            primary_name, results, comparisons, task.primary_metric,
            higher_is_better=bool(BINARY_METRICS[task.primary_metric].higher_is_better)),
        "y_test": y_test,
        "decision_curve": decision_curve(y_test, {n: r.test_probability
                                                  for n, r in results.items()}),
    }


def held_out_evidence(task: BinaryRiskTask, name: str, model: Any,
                      calibrator: PlattCalibrator, training_seconds: float, x_test: Any,
                      y_test: np.ndarray, groups_test: dict[str, pd.Series],
                      indices: np.ndarray, importance: pd.Series) -> ModelResult:
    """A fitted binary model's test-split evidence: metrics with bootstrap CIs at the task's
    threshold, calibration before and after ``calibrator``, and the fairness table of every
    sensitive attribute (``groups_test``: each test patient's group). ``model`` is any
    fitted model with ``predict_proba`` and medora's descriptive attributes, and ``x_test``
    whatever inputs it takes."""
    uncalibrated = model.predict_proba(x_test)[:, 1]
    calibrated = calibrator.transform(uncalibrated)
    threshold = task.threshold.value
    metrics = evaluate_binary(y_test, calibrated, threshold, indices, metrics=list(task.metrics))
    slope, intercept = calibration_slope_intercept(y_test, calibrated)
    calibration = {
        "method": "Platt scaling fitted on the validation split",
        "ece_before": round(expected_calibration_error(y_test, uncalibrated), 4),
        "ece_after": round(expected_calibration_error(y_test, calibrated), 4),
        "slope": round(slope, 4), "intercept": round(intercept, 4),
    }
    subgroups = {attribute: subgroup_table(y_test, calibrated, series, threshold, indices,
                                           attribute=attribute)
                 for attribute, series in groups_test.items()}
    return ModelResult(
        name=name, display_name=model.display_name, kind=model.kind,
        explanation_method=model.explanation_method,
        predictor=CalibratedModel(model, calibrator), metrics=metrics,
        calibration=calibration, training_seconds=training_seconds,
        test_probability=calibrated, test_probability_uncalibrated=uncalibrated,
        importance=importance, subgroups=subgroups,
    )


def comparison_verdict(primary_name: str, results: dict[str, Any],
                       comparisons: dict[str, Any], metric: str, higher_is_better: bool,
                       units: str = "", label: str | None = None,
                       interval: str = "paired bootstrap") -> str:
    """One honest sentence: is the candidate as good as the strongest comparator?

    ``results`` map model names to results with ``display_name`` and ``metrics``;
    ``comparisons`` hold ``<primary>_vs_<other>`` paired differences in ``metric`` (anything
    with ``value``, ``ci_low`` and ``ci_high``); ``label`` names the metric (default: its
    name in capitals) and ``interval`` says how the differences' intervals were obtained.
    """
    primary = results[primary_name]
    sign = 1.0 if higher_is_better else -1.0
    others = [r for name, r in results.items() if name != primary_name]
    best = max(others, key=lambda r: sign * r.metrics[metric].value)
    difference = comparisons[f"{primary_name}_vs_{best.name}"]
    better = difference.ci_low > 0 if higher_is_better else difference.ci_high < 0
    worse = difference.ci_high < 0 if higher_is_better else difference.ci_low > 0
    outcome = "better than" if better else "worse than" if worse else "not distinguishable from"
    suffix = f" {units}" if units else ""
    return (f"{primary.display_name} {label or metric.upper()} "
            f"{primary.metrics[metric].value:.3f}"
            f"{suffix} is {outcome} the strongest comparator, {best.display_name} "
            f"({best.metrics[metric].value:.3f}): difference {difference.value:+.3f}, 95% CI "
            f"{difference.ci_low:+.3f} to {difference.ci_high:+.3f} ({interval}).")


def compared_models(config: RunConfig, deep_model: str, baselines: tuple[str, ...]) -> list[str]:
    """The candidate first (the deep model unless ``config.model`` names another), then the
    other models it is compared with."""
    primary = config.model or deep_model
    return [primary, *(n for n in (deep_model, *baselines) if n != primary)]


def start_run(task_name: str, config: RunConfig) -> tuple[datetime, str, Path]:
    """The run's creation time, its id and its (created) output folder."""
    created_at = datetime.now(UTC)
    run_id = f"{created_at:%Y%m%dT%H%M%SZ}-s{config.seed}-{uuid.uuid4().hex[:6]}"
    out_dir = Path(config.out_dir) if config.out_dir else Path("runs") / task_name / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    return created_at, run_id, out_dir


def finish_run(run: Any, store: ModelStore | None,
               render_card: Callable[[Any, ModelVersion | None], str],
               write_report: Callable[[Any, Path], Path], console: Console) -> None:
    """Register the candidate (unless the config says not to), then write the card,
    metrics.json and the report into the run folder."""

    def documents(record: ModelVersion | None) -> dict[str, str]:
        run.version = record
        return {CARD_NAME: render_card(run, record),
                METRICS_NAME: json.dumps(run.metrics_document(), indent=2)}

    primary = run.primary
    if run.config.register:
        (store or ModelStore()).register(
            run.task.name, primary.predictor, model_name=run.primary_model,
            model_kind=primary.kind, run_id=run.run_id, data_fingerprint=run.data_fingerprint,
            metrics={m: e.to_dict() for m, e in primary.metrics.items()},
            config=run.config.to_dict(), documents=documents,
        )
    for name, text in documents(run.version).items():
        write_atomic(run.out_dir / name, text)
    write_report(run, run.out_dir / "report.html")
    console.print(run.verdict)
    console.print(f"report: {run.out_dir / 'report.html'}")
