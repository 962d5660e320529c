"""Training and file predictions of the progression area, on medora's store and run helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from medora.core.area import FilePredictions
from medora.core.errors import InputValidationError
from medora.data.tabular import read_table
from medora.evaluate.bootstrap import Estimate
from medora.registry.card import render_card
from medora.registry.store import CARD_NAME, ModelStore, ModelVersion
from medora.registry.versions import usable_version
from medora.train.run import start_run, write_atomic

FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def load() -> tuple[pd.DataFrame, np.ndarray]:
    data = load_diabetes(as_frame=True)
    target = data.target.to_numpy()
    return data.data[list(FEATURES)], (target > np.median(target)).astype(int)


@dataclass
class ProgressionRun:
    """What the core reads of a run (task, version, out_dir) and what the card shows."""

    task: Any
    model_name: str
    auroc: Estimate
    n_test: int
    out_dir: Path
    version: ModelVersion | None = None


def train(task: Any, config: Any, store: ModelStore | None) -> ProgressionRun:
    x, y = load()
    train_rows, test_rows = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y,
                                             random_state=config.seed)
    model = LogisticRegression(max_iter=1000).fit(x.iloc[train_rows], y[train_rows])
    scores = model.predict_proba(x.iloc[test_rows])[:, 1]
    rng = np.random.default_rng(config.seed)
    resamples = [rng.integers(0, len(test_rows), len(test_rows)) for _ in range(200)]
    spread = [roc_auc_score(y[test_rows][r], scores[r]) for r in resamples]
    auroc = Estimate(float(roc_auc_score(y[test_rows], scores)),
                     *np.percentile(spread, [2.5, 97.5]).tolist())
    _, run_id, out_dir = start_run(task.name, config)
    run = ProgressionRun(task, "logistic_regression", auroc, len(test_rows), out_dir)

    def documents(record: ModelVersion | None) -> dict[str, str]:
        run.version = record
        return {CARD_NAME: render_card(run, record, "card_progression.md")}

    if config.register:
        (store or ModelStore()).register(
            task.name, model, model_name=run.model_name, model_kind="sklearn", run_id=run_id,
            data_fingerprint="diabetes", metrics={"auroc": auroc.to_dict()},
            config=config.to_dict(), documents=documents)
    for name, text in documents(run.version).items():
        write_atomic(out_dir / name, text)
    write_atomic(out_dir / "metrics.json", json.dumps({"auroc": auroc.to_dict()}))
    write_atomic(out_dir / "report.html", f"<p>AUROC {auroc.value:.3f}</p>")
    return run


def features(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The ten measurements as numbers; every problem named."""
    problems = [f"column {name}: missing; the model takes {list(FEATURES)}"
                for name in FEATURES if name not in frame.columns]
    if problems:
        raise InputValidationError(source, problems)
    values = frame[list(FEATURES)].apply(pd.to_numeric, errors="coerce")
    problems = [f"column {name}: {frame[name].iloc[row]!r} is not a number"
                for name in FEATURES for row in np.flatnonzero(values[name].isna())]
    if problems:
        raise InputValidationError(source, problems)
    return values


def predict_file(task: Any, path: Path, version: int | None) -> FilePredictions:
    frame = read_table(path)
    store = ModelStore()
    record = usable_version(task, store, version)
    model = store.load(record)
    risk = model.predict_proba(features(frame, str(path)))[:, 1]
    table = pd.DataFrame({"row": np.arange(1, len(risk) + 1), "risk": risk.round(4)})
    return FilePredictions(table, record, f"{task.name} v{record.version}: probability")
