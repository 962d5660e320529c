"""Clinical-risk benchmark: deep model against its baselines over several seeds, one run.

For each seed the task is re-split, every model is trained and evaluated on that split exactly
as `medora train` does, and the AUROC (with its bootstrap CI), the paired difference against
the deep model and the training time are recorded, with what the deep model chose on the
validation split. The summary gives each model's mean AUROC with a 95% t-interval over seeds.
On the first seed each model's in-process cost of one patient's `predict_proba` plus `explain`
is timed (one torch thread). Results go to benchmarks/results/clinical_risk.json and a figure
to benchmarks/results/clinical_risk.png.

    python benchmarks/clinical_risk.py                      # Framingham, 5 seeds
    python benchmarks/clinical_risk.py --tasks cardio.heart_failure_death --seeds 10
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from rich.console import Console
from rich.progress import track
from rich.table import Table
from scipy import stats

from medora.areas.risk.run import train_task
from medora.core.registry import get_task
from medora.models.base import Model
from medora.train.run import Run, RunConfig

RESULTS = Path(__file__).parent / "results"
# Published logistic-regression AUROC on the Framingham teaching extract is about 0.72-0.74.
console = Console()


def mean_interval(values: list[float]) -> dict[str, float | list[float]]:
    """Mean with a 95% t-interval across seeds."""
    array = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / np.sqrt(len(array))
    return {"mean": round(float(array.mean()), 4), "sd": round(float(array.std(ddof=1)), 4),
            "ci": [round(float(array.mean() - half), 4), round(float(array.mean() + half), 4)]}


def one_patient_latency(model: Model, patients: list, calls: int,
                        blocks: int = 5) -> dict[str, float]:
    """Milliseconds per call of ``predict_proba`` plus ``explain`` for one patient, in process
    with one torch thread: median and minimum over ``blocks`` blocks of ``calls`` calls, wall
    clock and this process's CPU time (the machine is shared, so the wall clock is noisier)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for patient in patients[:20]:  # warm-up
            model.predict_proba(patient), model.explain(patient)
        wall, cpu = [], []
        for _ in range(blocks):
            started, started_cpu = time.perf_counter(), time.process_time()
            for call in range(calls):
                patient = patients[call % len(patients)]
                model.predict_proba(patient), model.explain(patient)
            wall.append((time.perf_counter() - started) / calls * 1e3)
            cpu.append((time.process_time() - started_cpu) / calls * 1e3)
    finally:
        torch.set_num_threads(threads)
    return {"calls_per_block": calls, "blocks": blocks,
            "wall_ms_median": round(float(np.median(wall)), 3),
            "wall_ms_min": round(min(wall), 3),
            "cpu_ms_median": round(float(np.median(cpu)), 3)}


def deep_model_choices(run: Run, deep: str) -> dict[str, object]:
    """What the deep model chose on the validation split (see MLPClassifier.search_)."""
    model = run.results[deep].predictor.model
    return {"dropout": getattr(model, "dropout_", None),
            "search": getattr(model, "search_", None)}


def benchmark_task(task_name: str, seeds: list[int], resamples: int,
                   latency_calls: int) -> dict[str, object]:
    task = get_task(task_name)
    _, x, y = task.load_xy()
    latency: dict[str, dict[str, float]] = {}
    per_seed: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for seed in track(seeds, description=f"{task_name}: seeds", console=console):
            run = train_task(task, RunConfig(seed=seed, out_dir=Path(scratch) / str(seed),
                                             register=False, progress=False,
                                             n_resamples=resamples))
            per_seed.append({
                "seed": seed,
                "auroc": {n: r.metrics["auroc"].to_dict() for n, r in run.results.items()},
                "brier": {n: r.metrics["brier"].to_dict() for n, r in run.results.items()},
                "training_seconds": {n: round(r.training_seconds, 2)
                                     for n, r in run.results.items()},
                "differences": {k: v.to_dict() for k, v in run.comparisons.items()},
                "deep_model_choices": deep_model_choices(run, task.deep_model),
                "verdict": run.verdict,
            })
            if not latency and latency_calls:
                patients = [x.iloc[[i]] for i in task.make_split(y, seed).test[:50]]
                latency = {name: one_patient_latency(result.predictor.model, patients,
                                                     latency_calls)
                           for name, result in run.results.items()}
    models = list(per_seed[0]["auroc"])
    summary = {
        model: {
            "auroc": mean_interval([s["auroc"][model]["value"] for s in per_seed]),
            "brier": mean_interval([s["brier"][model]["value"] for s in per_seed]),
            "training_seconds": mean_interval([s["training_seconds"][model] for s in per_seed]),
        }
        for model in models
    }
    deep = task.deep_model
    best_baseline = max((m for m in models if m != deep),
                        key=lambda m: summary[m]["auroc"]["mean"])
    difference = mean_interval([s["auroc"][deep]["value"] - s["auroc"][best_baseline]["value"]
                                for s in per_seed])
    meets_target = difference["ci"][1] >= 0
    verdict = (
        f"{deep} mean AUROC {summary[deep]['auroc']['mean']:.3f} vs best baseline "
        f"{best_baseline} {summary[best_baseline]['auroc']['mean']:.3f}: difference "
        f"{difference['mean']:+.3f} (95% CI over seeds {difference['ci'][0]:+.3f} to "
        f"{difference['ci'][1]:+.3f}); "
        + ("at least as good within the CI." if meets_target else
           "WORSE than the best baseline beyond the CI.")
    )
    return {"task": task_name, "seeds": seeds, "per_seed": per_seed, "summary": summary,
            "best_baseline": best_baseline, "deep_minus_best_baseline": difference,
            "deep_meets_target": meets_target, "verdict": verdict,
            "one_patient_predict_and_explain_ms": latency}


def plot(results: list[dict[str, object]]) -> Figure:
    figure = Figure(figsize=(6.5, 1.4 + 1.8 * len(results)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(results), 1))
    for ax, result in zip(axes, results, strict=True):
        summary = result["summary"]
        names = list(summary)
        for row, name in enumerate(names):
            seeds = [s["auroc"][name]["value"] for s in result["per_seed"]]
            ax.scatter(seeds, [row] * len(seeds), color="0.6", s=12, zorder=2)
            low, high = summary[name]["auroc"]["ci"]
            ax.errorbar(summary[name]["auroc"]["mean"], row, xerr=[[summary[name]["auroc"]
                        ["mean"] - low], [high - summary[name]["auroc"]["mean"]]], fmt="o",
                        color="C0", capsize=3, zorder=3)
        ax.set_yticks(range(len(names)), names)
        ax.set_title(f"{result['task']}: AUROC over {len(result['seeds'])} seeds\n"
                     "(mean, 95% CI; grey = each seed)", fontsize=10)
        ax.set_xlabel("AUROC on the test split")
        ax.grid(axis="x", alpha=0.3)
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["cardio.framingham_chd"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--latency-calls", type=int, default=500,
                        help="calls per timing block for the one-patient latency (0: skip)")
    args = parser.parse_args()
    results = [benchmark_task(task, list(range(args.seeds)), args.resamples, args.latency_calls)
               for task in args.tasks]
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {"benchmark": "clinical_risk",
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "reference": "published logistic-regression AUROC on the Framingham teaching "
                             "extract: about 0.72-0.74",
                "results": results}
    (RESULTS / "clinical_risk.json").write_text(json.dumps(document, indent=2))
    plot(results).savefig(RESULTS / "clinical_risk.png", dpi=120)
    for result in results:
        table = Table(title=f"{result['task']} over seeds {result['seeds']}")
        for column in ("model", "AUROC mean (95% CI)", "Brier mean", "training s",
                       "1 patient predict+explain ms (wall median / CPU median)"):
            table.add_column(column)
        latency = result["one_patient_predict_and_explain_ms"]
        for name, summary in result["summary"].items():
            auroc = summary["auroc"]
            timing = (f"{latency[name]['wall_ms_median']:.2f} / "
                      f"{latency[name]['cpu_ms_median']:.2f}" if name in latency else "-")
            table.add_row(name, f"{auroc['mean']:.3f} ({auroc['ci'][0]:.3f} to "
                                f"{auroc['ci'][1]:.3f})", f"{summary['brier']['mean']:.4f}",
                          f"{summary['training_seconds']['mean']:.1f}", timing)
        console.print(table)
        choices = [s["deep_model_choices"]["dropout"] for s in result["per_seed"]]
        console.print(f"deep model's dropout chosen on validation, per seed: {choices}")
        console.print(result["verdict"])
    console.print(f"saved {RESULTS / 'clinical_risk.json'} and {RESULTS / 'clinical_risk.png'}")


if __name__ == "__main__":
    main()
