"""One training run of an event-sequence task: the sequence models and the bag-of-codes
baselines fitted on the same patient-level split, calibrated, evaluated with bootstrap CIs,
audited by sex, race, ethnicity and age band, explained event by event, the candidate
registered and the record written to disk (the binary-risk run of :mod:`medora.train.run`,
with event samples as inputs)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from rich.console import Console

from medora.areas.ehr.factory import build_event_model
from medora.areas.ehr.tasks import EventSamples, EventSequenceTask
from medora.core.task import Split
from medora.data.bundled import DatasetProvenance, synthea_cohort, synthea_cohort_path
from medora.data.tabular import InputValidationError
from medora.evaluate.bootstrap import cluster_bootstrap_weights
from medora.evaluate.calibration import PlattCalibrator
from medora.explain.attributions import Contribution
from medora.registry.store import ModelStore
from medora.train.run import (
    ModelResult,
    PatientExplanation,
    Run,
    RunConfig,
    compared_models,
    compared_on_test,
    data_fingerprint,
    environment,
    finish_run,
    held_out_evidence,
    start_run,
)

#: Test samples whose explanations make the global importance: integrated gradients cost
#: 32 passes per sample, so the importance is averaged over a seeded draw of this many.
EXPLAINED_SAMPLES = 300
TOP_EVENTS = 5


@dataclass(kw_only=True)
class EhrRun(Run):
    """The record of one training of an event-sequence task."""

    task: EventSequenceTask  # type: ignore[assignment]  # an event task, not a tabular one
    cohort: dict[str, int] = field(default_factory=dict)
    #: The test patients' bootstrap resamples (as sample weights) behind every interval of
    #: the run, the same for every model, so that differences between models are paired.
    bootstrap_weights: np.ndarray | None = None
    split_kind: ClassVar[str] = ("patient-level random (every patient's samples in one part), "
                                 "stratified on whether a patient has a positive sample")

    def metrics_document(self) -> dict[str, Any]:
        document = super().metrics_document()
        document["split"]["kind"] = self.split_kind
        document["data"]["cohort"] = self.cohort
        document["definition"] = {"index": self.task.index_description,
                                  "outcome": self.task.target_description,
                                  "exclusions": list(self.task.exclusions),
                                  "inputs": "events with time <= index time; static sex, "
                                            "race, ethnicity; age at the index time"}
        return document


def event_table_provenance(path: Path) -> DatasetProvenance:
    """The bundled cohort's provenance for its own table; a user's table named by its path
    and digest."""
    if path.resolve() == synthea_cohort_path().resolve():
        return synthea_cohort().provenance
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return DatasetProvenance(
        name=path.stem, title="Event table", package="user data", package_version="",
        resource=str(path), licence="that of the source records", source_url=str(path),
        sha256=digest.hexdigest(), description="MEDS-style event table (medora data ingest)")


def event_importance(explanations: pd.DataFrame, n_samples: int) -> pd.Series:
    """Mean absolute contribution per feature (event code, or bag-of-codes column) over
    ``n_samples`` samples, a sample's events of one code summed first; largest first."""
    per_sample = explanations.groupby(["sample", "feature"])["contribution"].sum().abs()
    return (per_sample.groupby("feature").sum() / max(n_samples, 1)).sort_values(
        ascending=False)


def _fit_and_evaluate(task: EventSequenceTask, name: str, samples: EventSamples,
                      split: Split, groups: dict[str, pd.Series], indices: np.ndarray,
                      config: RunConfig, checkpoint_root: Path) -> ModelResult:
    started = time.perf_counter()
    y = samples.labels
    model = build_event_model(name, seed=config.seed, quick=config.quick,
                              progress=config.progress, checkpoint_dir=checkpoint_root / name)
    validation = samples.subset(split.validation)
    model.fit(samples.subset(split.train), y[split.train], validation, y[split.validation])
    calibrator = PlattCalibrator().fit(model.predict_proba(validation)[:, 1],
                                       y[split.validation], seed=config.seed)
    training_seconds = time.perf_counter() - started
    test = samples.subset(split.test)
    explained = np.sort(np.random.default_rng(config.seed).permutation(len(test))[
        :EXPLAINED_SAMPLES])
    importance = event_importance(model.explain(test.subset(explained)), len(explained))
    return held_out_evidence(
        task, name, model, calibrator, training_seconds, test, y[split.test],
        {attribute: series.iloc[split.test].reset_index(drop=True)
         for attribute, series in groups.items()},
        indices, importance)


def _examples(result: ModelResult, test: EventSamples, y_test: np.ndarray
              ) -> list[PatientExplanation]:
    """The highest-, median- and lowest-risk test samples with the past events (or, for a
    baseline, the features) that moved their risk the most."""
    order = np.argsort(result.test_probability)
    picks = {"highest risk": order[-1], "median risk": order[len(order) // 2],
             "lowest risk": order[0]}
    chosen = test.subset(np.array(list(picks.values())))
    risk = result.predictor.predict_risk(chosen)
    explanations = result.predictor.explain(chosen)
    examples = []
    for i, (label, position) in enumerate(picks.items()):
        own = explanations[explanations["sample"] == i]
        top = own.loc[own["contribution"].abs().sort_values(ascending=False).index[:TOP_EVENTS]]
        is_event = "time" in own.columns
        examples.append(PatientExplanation(
            label=label, risk=float(risk.risk[i]), lower=float(risk.lower[i]),
            upper=float(risk.upper[i]), outcome=int(y_test[position]),
            contributions=[Contribution(feature=str(row.feature),
                                        value=float(row.value) if is_event else None,
                                        contribution=float(row.contribution))
                           for row in top.itertuples()]))
    return examples


def event_table(data: Path | None) -> Path:
    """``data``, else the bundled synthetic cohort's event table."""
    return Path(data) if data is not None else synthea_cohort().path


def load_event_samples(task: EventSequenceTask, data: Path | None) -> EventSamples:
    """The task's samples of the event table ``data`` (default: the bundled cohort), or an
    error saying what to pass."""
    data = event_table(data)
    samples = task.load_samples(data)
    labels = samples.labels
    if len(samples) == 0 or labels.min() == labels.max():
        raise InputValidationError(str(data), [
            f"task {task.name} found {len(samples)} sample(s) with "
            f"{int(labels.sum()) if len(samples) else 0} positive(s); it needs both outcomes: "
            "use an event table with more patients (medora data synthea --patients N)"])
    return samples


def train_event_task(task: EventSequenceTask, config: RunConfig,
                     store: ModelStore | None = None) -> EhrRun:
    """Train, compare, calibrate, evaluate, explain, audit and register models for ``task``
    on the event table ``config.data`` (default: the bundled synthetic cohort); writes
    report.html, metrics.json and card.md."""
    from medora.evaluate.report import write_report
    from medora.registry.card import render_card

    console = Console(stderr=True, quiet=not config.progress)
    data = event_table(config.data)
    samples = load_event_samples(task, data)
    names = compared_models(config, task.deep_model, (*task.other_deep_models,
                                                      *task.baselines))
    primary_name = names[0]
    created_at, run_id, out_dir = start_run(task.name, config)
    split = task.make_split(samples, config.seed)
    y = samples.labels
    parts = {"train": split.train, "validation": split.validation, "test": split.test}
    lacking = [part for part, rows in parts.items()
               if y[rows].min() == y[rows].max()]
    if lacking:
        raise InputValidationError(str(data), [
            f"task {task.name}: the {', '.join(lacking)} part(s) of the patient split have "
            f"only one outcome ({int(y.sum())} positive samples of "
            f"{samples.samples.loc[y == 1, 'subject_id'].nunique()} patients); use an event "
            "table with more patients (medora data synthea --patients N)"])
    y_test = y[split.test]
    console.print(f"[bold]{task.name}[/bold]: {len(samples)} samples of "
                  f"{samples.samples['subject_id'].nunique()} patients; split by patient "
                  f"(seed {config.seed}): {split.sizes()}")
    groups = {a.name: a.groups(samples.samples) for a in task.sensitive_attributes}
    # Patients, not samples, are resampled: one patient's admissions are not independent.
    indices = cluster_bootstrap_weights(y_test, samples.subjects[split.test], config.resamples,
                                        seed=config.seed)

    results: dict[str, ModelResult] = {}
    for name in names:
        console.print(f"training and evaluating [bold]{name}[/bold]")
        results[name] = _fit_and_evaluate(task, name, samples, split, groups, indices, config,
                                          out_dir / "checkpoints")
    identity = samples.samples[["subject_id", "index_time", "start", "stop"]]
    run = EhrRun(
        run_id=run_id, task=task, config=config,
        created_at=created_at.isoformat(timespec="seconds"),
        provenance=event_table_provenance(data),
        data_fingerprint=data_fingerprint(identity, y),
        **compared_on_test(task, names, results, y, split, indices),
        examples=_examples(results[primary_name], samples.subset(split.test), y_test),
        out_dir=out_dir, environment=environment(),
        cohort={"events": len(samples.events),
                "patients": int(samples.events["subject_id"].nunique()),
                "samples": len(samples),
                "sample_patients": int(samples.samples["subject_id"].nunique()),
                "test_patients": int(np.unique(samples.subjects[split.test]).size),
                "positives": int(y.sum())},
        bootstrap_weights=indices,
    )
    finish_run(run, store, partial(render_card, template="card_ehr.md"),
               partial(write_report, template="report_ehr.html"), console)
    return run
