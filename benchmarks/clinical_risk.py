"""Clinical-risk benchmark: deep model against its baselines over several seeds, one run.

For each seed the task is re-split, every model is trained and evaluated on that split exactly
as `medora train` does, and the AUROC (with its bootstrap CI), the paired difference against
the deep model and the training time are recorded. The summary gives each model's mean AUROC
with a 95% t-interval over seeds. Results go to benchmarks/results/clinical_risk.json and a
figure to benchmarks/results/clinical_risk.png.

    python benchmarks/clinical_risk.py                      # Framingham, 5 seeds
    python benchmarks/clinical_risk.py --tasks cardio.heart_failure_death --seeds 10
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from rich.console import Console
from rich.progress import track
from rich.table import Table
from scipy import stats

from medora.tasks import get_task
from medora.train.run import RunConfig, train_task

RESULTS = Path(__file__).parent / "results"
# Published logistic-regression AUROC on the Framingham teaching extract is about 0.72-0.74.
console = Console()


def mean_interval(values: list[float]) -> dict[str, float | list[float]]:
    """Mean with a 95% t-interval across seeds."""
    array = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / np.sqrt(len(array))
    return {"mean": round(float(array.mean()), 4), "sd": round(float(array.std(ddof=1)), 4),
            "ci": [round(float(array.mean() - half), 4), round(float(array.mean() + half), 4)]}


def benchmark_task(task_name: str, seeds: list[int], resamples: int) -> dict[str, object]:
    task = get_task(task_name)
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
                "verdict": run.verdict,
            })
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
            "deep_meets_target": meets_target, "verdict": verdict}


def plot(results: list[dict[str, object]]) -> Figure:
    figure = Figure(figsize=(6.5, 1.2 + 1.6 * len(results)), layout="constrained")
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
        ax.set_title(f"{result['task']}: AUROC over {len(result['seeds'])} seeds "
                     "(mean, 95% CI; grey = each seed)")
        ax.set_xlabel("AUROC on the test split")
        ax.grid(axis="x", alpha=0.3)
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["cardio.framingham_chd"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    results = [benchmark_task(task, list(range(args.seeds)), args.resamples)
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
        for column in ("model", "AUROC mean (95% CI)", "Brier mean", "training s"):
            table.add_column(column)
        for name, summary in result["summary"].items():
            auroc = summary["auroc"]
            table.add_row(name, f"{auroc['mean']:.3f} ({auroc['ci'][0]:.3f} to "
                                f"{auroc['ci'][1]:.3f})", f"{summary['brier']['mean']:.4f}",
                          f"{summary['training_seconds']['mean']:.1f}")
        console.print(table)
        console.print(result["verdict"])
    console.print(f"saved {RESULTS / 'clinical_risk.json'} and {RESULTS / 'clinical_risk.png'}")


if __name__ == "__main__":
    main()
