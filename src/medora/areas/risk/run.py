"""Training a tabular risk task: every compared model fitted, calibrated, evaluated, explained
and audited on the same stratified split, the candidate registered, and the record written."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from medora.areas.risk.task import RiskTask
from medora.core.task import Split
from medora.evaluate.bootstrap import bootstrap_indices
from medora.evaluate.calibration import PlattCalibrator
from medora.explain.attributions import global_importance, top_contributions
from medora.models import build_model
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


def _fit_and_evaluate(task: RiskTask, name: str, x: pd.DataFrame, y: np.ndarray, split: Split,
                      groups: dict[str, pd.Series], indices: np.ndarray, config: RunConfig,
                      checkpoint_root: Path) -> ModelResult:
    started = time.perf_counter()
    model = build_model(name, seed=config.seed, quick=config.quick, progress=config.progress,
                        checkpoint_dir=checkpoint_root / name)
    model.fit(x.iloc[split.train], y[split.train], x.iloc[split.validation], y[split.validation])
    calibrator = PlattCalibrator().fit(
        model.predict_proba(x.iloc[split.validation])[:, 1], y[split.validation],
        seed=config.seed)
    training_seconds = time.perf_counter() - started
    x_test = x.iloc[split.test]
    return held_out_evidence(
        task, name, model, calibrator, training_seconds, x_test, y[split.test],
        {attribute: series.iloc[split.test] for attribute, series in groups.items()},
        indices, global_importance(model.explain(x_test)))


def _examples(task: RiskTask, result: ModelResult, x_test: pd.DataFrame,
              y_test: np.ndarray) -> list[PatientExplanation]:
    """The highest-, median- and lowest-risk test patients, explained."""
    order = np.argsort(result.test_probability)
    picks = {"highest risk": order[-1], "median risk": order[len(order) // 2],
             "lowest risk": order[0]}
    rows = x_test.iloc[list(picks.values())]
    risk = result.predictor.predict_risk(rows)
    attributions = result.predictor.explain(rows)
    return [
        PatientExplanation(label=label, risk=float(risk.risk[i]), lower=float(risk.lower[i]),
                           upper=float(risk.upper[i]), outcome=int(y_test[position]),
                           contributions=top_contributions(attributions.iloc[i], rows.iloc[i]))
        for i, (label, position) in enumerate(picks.items())
    ]


def train_task(task: RiskTask, config: RunConfig | None = None,
               store: ModelStore | None = None) -> Run:
    """Train, compare, calibrate, evaluate, explain, audit and register models for ``task``.

    Writes ``report.html``, ``metrics.json`` and ``card.md`` into the run folder
    (``runs/<task>/<run-id>/`` unless ``config.out_dir`` is given).
    """
    from medora.evaluate.report import write_report
    from medora.registry.card import render_card

    config = config or RunConfig()
    console = Console(stderr=True, quiet=not config.progress)
    names = compared_models(config, task.deep_model, task.baselines)
    primary_name = names[0]
    created_at, run_id, out_dir = start_run(task.name, config)

    console.print(f"[bold]{task.name}[/bold]: loading data")
    dataset, x, y = task.load_xy()
    split = task.make_split(y, config.seed)
    groups = {a.name: a.groups(dataset.frame) for a in task.sensitive_attributes}
    y_test = y[split.test]
    indices = bootstrap_indices(y_test, config.resamples, seed=config.seed)
    console.print(f"split (stratified, seed {config.seed}): {split.sizes()}")

    results: dict[str, ModelResult] = {}
    for name in names:
        console.print(f"training and evaluating [bold]{name}[/bold]")
        results[name] = _fit_and_evaluate(task, name, x, y, split, groups, indices, config,
                                          out_dir / "checkpoints")
    run = Run(
        run_id=run_id, task=task, config=config, created_at=created_at.isoformat(
            timespec="seconds"), provenance=dataset.provenance,
        data_fingerprint=data_fingerprint(x, np.asarray(y, dtype=np.int64)),
        **compared_on_test(task, names, results, y, split, indices),
        examples=_examples(task, results[primary_name], x.iloc[split.test], y_test),
        out_dir=out_dir, environment=environment(),
    )

    finish_run(run, store, render_card, write_report, console)
    return run
