"""EHR model benchmark: every model of the three EHR tasks on one event table, AUROC and AUPRC
with patient-level bootstrap intervals, in one run (issue 6).

For each task (``ehr.readmission_30d``, ``ehr.mortality_1y``, ``ehr.diabetes_complication_2y``)
the run is exactly ``medora train <task> --data <events>``: the same patient-level split,
the event transformer (the candidate), the GRU, and logistic regression and gradient boosting
on bag-of-codes counts plus demographics, each trained on the training patients and
calibrated on the validation patients. Every number is on the test patients; intervals
resample test patients with all their samples (1,000 resamples), the same resamples for every
model, so differences are paired.

Target: the sequence model (the transformer, declared before the run) beats the best
bag-of-codes baseline (the one with the higher test AUROC, the hardest comparison) on at
least two of the three tasks. "Beats" is the paired AUROC difference above zero; whether its
95% interval excludes zero is reported beside it. Where it does not, the output says so.

    python benchmarks/ehr_models.py                       # the bundled 2,000-patient cohort
    python benchmarks/ehr_models.py --data events.parquet --tasks ehr.readmission_30d
    python benchmarks/ehr_models.py --data tests/data/fixtures/ehr/events.parquet --quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from medora.areas.ehr.run import EhrRun, event_table_provenance, train_event_task
from medora.areas.ehr.tasks import EventSequenceTask
from medora.core.registry import get_task
from medora.data.bundled import synthea_cohort
from medora.evaluate.bootstrap import paired_difference
from medora.train.run import RunConfig, environment

RESULTS = Path(__file__).parent / "results"
# The largest task (mortality: one sample per patient-year) last.
TASKS = ("ehr.readmission_30d", "ehr.diabetes_complication_2y", "ehr.mortality_1y")
CANDIDATE = "event_transformer"
SEQUENCE_MODELS = ("event_transformer", "event_gru")
METRICS = ("auroc", "auprc")
TASKS_TO_WIN = 2
TARGET = (f"the sequence model ({CANDIDATE}) beats the best bag-of-codes baseline (higher "
          f"test AUROC) on at least {TASKS_TO_WIN} of the {len(TASKS)} tasks")


def task_result(task: EventSequenceTask, run: EhrRun, seconds: float) -> dict[str, Any]:
    """The models' test metrics, and the candidate against the best baseline, paired on the
    run's own resamples of the test patients."""
    y_test, weights = run.y_test, run.bootstrap_weights
    models = {name: {"display_name": result.display_name, "kind": result.kind,
                     **{metric: result.metrics[metric].to_dict() for metric in METRICS},
                     "training_seconds": round(result.training_seconds, 1)}
              for name, result in run.results.items()}
    baselines = [name for name in run.results if name not in SEQUENCE_MODELS]
    best = max(baselines, key=lambda name: run.results[name].metrics["auroc"].value)
    differences = {
        sequence: {metric: paired_difference(
            metric, y_test, run.results[sequence].test_probability,
            run.results[best].test_probability, task.threshold.value, weights).to_dict()
            for metric in METRICS}
        for sequence in SEQUENCE_MODELS if sequence in run.results}
    auroc = differences[CANDIDATE]["auroc"]
    beats = auroc["value"] > 0
    shown = auroc["ci"][0] is not None and auroc["ci"][0] > 0
    worse = auroc["ci"][1] is not None and auroc["ci"][1] < 0
    verdict = (f"{task.name}: {CANDIDATE} AUROC {models[CANDIDATE]['auroc']['value']:.3f} "
               f"against {best} {models[best]['auroc']['value']:.3f}, difference "
               f"{auroc['value']:+.3f} ({auroc['ci'][0]:+.3f} to {auroc['ci'][1]:+.3f}): "
               + ("beats it, and the interval excludes zero" if shown else
                  "beats it, but the interval includes zero" if beats else
                  "LOSES, and the interval excludes zero" if worse else
                  "does not beat it (the interval includes zero)"))
    return {
        "task": task.name, "samples": run.cohort["samples"],
        "patients": run.cohort["sample_patients"], "positives": run.cohort["positives"],
        "split_sizes": run.split_sizes, "test_prevalence": run.prevalence["test"],
        "test_patients": run.cohort["test_patients"],
        "models": models, "best_baseline": best,
        "sequence_minus_best_baseline": differences, "beats_best_baseline": beats,
        "beats_with_interval_above_zero": shown, "verdict": verdict,
        "run_seconds": round(seconds, 1), "report": str(run.out_dir / "report.html"),
    }


def plot(results: list[dict[str, Any]]) -> Figure:
    figure = Figure(figsize=(11, 1.2 + 0.55 * 4 * len(results)), layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(results), len(METRICS), squeeze=False))
    for row, result in enumerate(results):
        names = list(result["models"])
        for column, metric in enumerate(METRICS):
            ax = axes[row, column]
            for position, name in enumerate(names):
                estimate = result["models"][name][metric]
                low, high = estimate["ci"]
                ax.errorbar(estimate["value"], position,
                            xerr=[[estimate["value"] - low], [high - estimate["value"]]],
                            fmt="o", capsize=3,
                            color="C0" if name in SEQUENCE_MODELS else "C1")
            if metric == "auprc":
                ax.axvline(result["test_prevalence"], color="0.6", linestyle=":",
                           label="prevalence (chance)")
                ax.legend(fontsize=7, loc="best")
            ax.set_yticks(range(len(names)), names if column == 0 else [""] * len(names))
            ax.invert_yaxis()
            ax.set_title(f"{result['task']}: test {metric.upper()} (95% CI, patients "
                         "resampled)", fontsize=9)
            ax.grid(axis="x", alpha=0.3)
    return figure


def _document(settings: dict[str, Any], data: dict[str, Any],
              results: list[dict[str, Any]], load_before: tuple[float, ...]) -> dict[str, Any]:
    """The results file: settings, data, environment, every task's result and the verdict."""
    wins = sum(result["beats_best_baseline"] for result in results)
    not_run = len(set(TASKS) - {result["task"] for result in results})
    verdict = (f"{CANDIDATE} beats the best bag-of-codes baseline on {wins} of "
               f"{len(results)} task(s)" + (f" ({not_run} not run)" if not_run else "")
               + ": target " + ("MET" if wins >= TASKS_TO_WIN else
                                "MISSED" if wins + not_run < TASKS_TO_WIN else
                                "not judged yet (the tasks not run could still decide it)"))
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                         capture_output=True, text=True).stdout.strip()
    return {
        "benchmark": "ehr_models", "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {**settings, "tasks": [result["task"] for result in results]},
        "data": data, "target": TARGET, "host_cpus": os.cpu_count(), "commit": git or None,
        "load_average": {"before": [round(value, 2) for value in load_before],
                         "after": [round(value, 2) for value in os.getloadavg()]},
        "environment": environment(), "results": results, "wins": wins, "verdict": verdict,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=synthea_cohort().path,
                        help="the event table (Parquet) written by `medora data ingest` "
                             "(default: the bundled synthetic cohort of 2,000 patients)")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="small models and few epochs: a smoke run, not a result")
    parser.add_argument("--resume", action="store_true",
                        help="keep the tasks the results file already holds for the same data "
                             "and settings; run the others")
    parser.add_argument("--results", type=Path,
                        help="results file (default benchmarks/results/ehr_models.json, or "
                             "ehr_models-quick.json with --quick); the figure goes beside it")
    args = parser.parse_args()
    console = Console(width=150)
    if not args.data.is_file():
        parser.error(f"--data {args.data}: no such file; write one with `medora data ingest`")
    result_file = args.results or RESULTS / ("ehr_models-quick.json" if args.quick
                                             else "ehr_models.json")
    scratch = Path(tempfile.mkdtemp(prefix="medora-ehr-models-"))
    os.environ["MEDORA_HOME"] = str(scratch)  # the runs' registry, not the user's
    data = asdict(event_table_provenance(args.data))
    settings = {"seed": args.seed, "quick": args.quick,
                "resamples": RunConfig(quick=args.quick).resamples,
                "bootstrap": "test patients resampled with all their samples, stratified on "
                             "having a positive sample; paired across models"}
    # --resume: the tasks a previous run of the same data and settings completed are kept.
    previous = (json.loads(result_file.read_text(encoding="utf-8"))
                if args.resume and result_file.is_file() else {})
    same = (previous.get("data", {}).get("sha256") == data["sha256"]
            and {k: v for k, v in previous.get("settings", {}).items() if k != "tasks"}
            == settings)
    done = {result["task"]: result for result in previous.get("results", [])} if same else {}
    load_before = os.getloadavg()
    results = [done[name] for name in args.tasks if name in done]
    for name in args.tasks:
        if name in done:
            console.print(f"{name}: kept from {result_file} (--resume)")
            continue
        task = get_task(name)
        assert isinstance(task, EventSequenceTask)
        console.rule(name)
        started = time.perf_counter()
        run = train_event_task(task, RunConfig(seed=args.seed, quick=args.quick,
                                               data=args.data, register=False,
                                               out_dir=scratch / name))
        results.append(task_result(task, run,
                                   time.perf_counter() - started))
        console.print(results[-1]["verdict"], highlight=False)
        # Saved after every task, so a stopped run keeps what it finished (see --resume).
        document = _document(settings, data, results, load_before)
        result_file.parent.mkdir(parents=True, exist_ok=True)
        result_file.write_text(json.dumps(document, indent=2, default=str) + "\n",
                               encoding="utf-8")
    document = _document(settings, data, results, load_before)
    plot(results).savefig(result_file.with_suffix(".png"), dpi=120)

    table = Table(title="Test AUROC / AUPRC (95% CI, patients resampled)")
    for column in ("task", "model", "AUROC", "AUPRC", "training s"):
        table.add_column(column)
    for result in results:
        for name, model in result["models"].items():
            table.add_row(result["task"], name, *(
                f"{model[m]['value']:.3f} ({model[m]['ci'][0]:.3f}-{model[m]['ci'][1]:.3f})"
                for m in METRICS), f"{model['training_seconds']:.0f}")
    console.print(table)
    for result in results:
        console.print(result["verdict"], highlight=False)
    console.print(document["verdict"], highlight=False)
    if args.quick:
        console.print("[yellow]smoke run (--quick): small models; not a result[/yellow]")
    console.print(f"saved {result_file} and {result_file.with_suffix('.png')}")


if __name__ == "__main__":
    main()
