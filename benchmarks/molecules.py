"""Molecule benchmark: medora's D-MPNN ensemble against the fingerprint baselines and the
chemprop CLI (the peer tool), on the same splits and seeds, in one run.

For each task and seed the task is split once (its default split: Huuskonen's own test set for
solubility, random 80/10/10 otherwise); medora's models are trained and evaluated exactly as
`medora train` does, and chemprop (installed apart, see chemprop_peer.py) trains on the very
same train/validation/test molecules with its defaults (50 epochs). Recorded: test RMSE with
its bootstrap CI, the paired bootstrap difference against chemprop, conformal coverage, and
training time. Across seeds: mean RMSE with a 95% t-interval and the mean paired difference.
Then prediction throughput on 10,000 molecules (the NCI 5K set shipped with RDKit, cycled):
`medora predict` and `chemprop predict` as command-line calls, with and without start-up.

Results are saved after every (task, seed), so an interrupted run resumes with --resume.

    python benchmarks/molecules.py                           # 3 tasks x 5 seeds + throughput
    python benchmarks/molecules.py --tasks mol.freesolv --seeds 2 --skip-throughput
    python benchmarks/molecules.py --only-throughput         # re-measure speed on a quiet host
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rdkit import RDConfig
from rich.console import Console
from rich.table import Table
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from chemprop_peer import chemprop_versions, ensure_chemprop_env, predict_chemprop, train_chemprop
from medora.areas.molecules.run import train_molecule_task
from medora.core.registry import get_task
from medora.data.molecules import read_molecules
from medora.evaluate.regression import (
    evaluate_regression,
    paired_regression_difference,
    regression_bootstrap_indices,
)
from medora.train.run import RunConfig

RESULTS = Path(__file__).parent / "results"
TASKS = ("mol.solubility", "mol.freesolv", "mol.chembl2321810_pic50")
#: Published reference points the issue names.
REFERENCES = {
    "mol.freesolv": "chemprop (Yang et al. 2019) FreeSolv random split RMSE 1.075 kcal/mol",
    "mol.solubility": "Huuskonen (2000) ANN: s = 0.60 log units on his 257-molecule test set",
}
THROUGHPUT_MOLECULES = 10_000
console = Console()


def mean_interval(values: list[float]) -> dict[str, float | list[float]]:
    """Mean with a 95% t-interval across seeds (just the value for a single seed)."""
    array = np.asarray(values, dtype=float)
    if len(array) < 2:
        return {"mean": round(float(array.mean()), 4), "sd": None, "ci": [None, None]}
    half = stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / np.sqrt(len(array))
    return {"mean": round(float(array.mean()), 4), "sd": round(float(array.std(ddof=1)), 4),
            "ci": [round(float(array.mean() - half), 4), round(float(array.mean() + half), 4)]}


def run_seed(task_name: str, seed: int, resamples: int, scratch: Path, threads: int,
             quick: bool = False) -> dict[str, object]:
    """Every model on one split of one task: medora's run, then chemprop on the same rows."""
    task = get_task(task_name)
    home = scratch / "home"
    os.environ["MEDORA_HOME"] = str(home)
    run = train_molecule_task(task, RunConfig(seed=seed, out_dir=scratch / "run", quick=quick,
                                              progress=False, n_resamples=resamples))
    _, table, y = task.load_molecules()
    split = task.make_split(table.smiles, seed, run.split_kind)

    def frame(indices: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"smiles": [table.smiles[i] for i in indices], "y": y[indices]})

    peer = train_chemprop(frame(split.train), frame(split.validation), frame(split.test),
                          seed=seed, out_dir=scratch / "chemprop", threads=threads,
                          epochs=5 if quick else 50)
    y_test = y[split.test]
    indices = regression_bootstrap_indices(len(y_test), resamples, seed)
    rmse = {name: result.metrics["rmse"].to_dict() for name, result in run.results.items()}
    rmse["chemprop"] = evaluate_regression(y_test, peer.test_predictions, indices,
                                           ["rmse"])["rmse"].to_dict()
    primary = run.primary
    return {
        "seed": seed, "split": run.split_kind, "sizes": run.split_sizes, "rmse": rmse,
        "dmpnn_minus_chemprop": paired_regression_difference(
            "rmse", y_test, primary.test_prediction, peer.test_predictions, indices).to_dict(),
        "comparisons": {k: v.to_dict() for k, v in run.comparisons.items()},
        "coverage": {name: result.coverage for name, result in run.results.items()},
        "training_seconds": {**{name: round(result.training_seconds, 1)
                                for name, result in run.results.items()},
                             "chemprop": round(peer.training_seconds, 1)},
        "chemprop_model": str(peer.model_path),
    }


def summarise(task_name: str, per_seed: list[dict[str, object]]) -> dict[str, object]:
    models = list(per_seed[0]["rmse"])
    summary = {name: {"rmse": mean_interval([s["rmse"][name]["value"] for s in per_seed]),
                      "training_seconds": mean_interval([s["training_seconds"][name]
                                                         for s in per_seed])}
               for name in models}
    difference = mean_interval([s["dmpnn_minus_chemprop"]["value"] for s in per_seed])
    high = difference["ci"][1] if difference["ci"][1] is not None else difference["mean"]
    verdict = (f"D-MPNN ensemble mean RMSE {summary['dmpnn']['rmse']['mean']:.3f} vs chemprop "
               f"{summary['chemprop']['rmse']['mean']:.3f}: difference {difference['mean']:+.3f}"
               + (f" (95% CI over seeds {difference['ci'][0]:+.3f} to {high:+.3f})"
                  if difference["ci"][0] is not None else " (one seed, no interval)")
               + ("; no worse than chemprop." if high <= 0 or difference["mean"] <= 0 else
                  "; WORSE than chemprop."))
    return {"task": task_name, "seeds": [s["seed"] for s in per_seed], "summary": summary,
            "dmpnn_minus_chemprop": difference, "verdict": verdict,
            "reference": REFERENCES.get(task_name, "")}


def throughput(model_task: str, scratch: Path, threads: int,
               chemprop_model: Path, medora_home: Path, repeats: int) -> dict[str, object]:
    """10,000 molecules through both command lines, start-up included and excluded."""
    nci = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    # Both tools get the molecules medora's reader accepts, as its canonical SMILES.
    valid = list(read_molecules(nci, skip_invalid=True).smiles)
    smiles = [valid[i % len(valid)] for i in range(THROUGHPUT_MOLECULES)]
    library = scratch / "library.smi"
    library.write_text("".join(f"{s} m{i}\n" for i, s in enumerate(smiles)))
    single = scratch / "single.smi"
    single.write_text(f"{smiles[0]} m0\n")
    environment = {**os.environ, "MEDORA_HOME": str(medora_home),
                   "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    medora = Path(sys.executable).parent / "medora"

    def medora_call(path: Path) -> float:
        started = time.perf_counter()
        subprocess.run([str(medora), "predict", model_task, str(path), "--out",
                        str(scratch / "medora-predictions.csv")], env=environment, check=True,
                       capture_output=True)
        return time.perf_counter() - started

    # Each tool's calls alternate with the other's, and the median of the repeats is kept:
    # on a shared machine one call can be slowed by a neighbour.
    medora_runs, peer_runs = [], []
    for _ in range(repeats):
        medora_runs.append((medora_call(single), medora_call(library)))
        peer = predict_chemprop(chemprop_model, smiles, scratch / "chemprop-predict",
                                threads=threads)
        peer_runs.append((peer.startup_seconds or 0.0, peer.seconds))
    medora_single, medora_full = (float(np.median([run[k] for run in medora_runs]))
                                  for k in range(2))
    peer_single, peer_full = (float(np.median([run[k] for run in peer_runs])) for k in range(2))
    return {
        "molecules": THROUGHPUT_MOLECULES, "source": "RDKit Data/NCI/first_5K.smi, valid "
                                                     f"SMILES cycled ({len(valid)} distinct)",
        "task": model_task, "threads": threads, "repeats": repeats,
        "statistic": f"median of {repeats} alternating calls of each tool",
        "medora": _speed(medora_single, medora_full, medora_runs) | {
            "includes": "conformal interval, applicability domain, nearest training molecule, "
                        "CSV written"},
        "chemprop": _speed(peer_single, peer_full, peer_runs) | {
            "options": "chemprop's defaults (--num-workers 0: sequential data loading)"},
        "ratio": round(peer_full / medora_full, 2),
        "ratio_excluding_startup": round((peer_full - peer_single)
                                         / (medora_full - medora_single), 2),
    }


def _speed(startup: float, whole: float, runs: list[tuple[float, float]]) -> dict[str, object]:
    return {"seconds": round(whole, 2), "startup_seconds": round(startup, 2),
            "molecules_per_second": round(THROUGHPUT_MOLECULES / whole, 1),
            "molecules_per_second_excluding_startup": round(
                THROUGHPUT_MOLECULES / (whole - startup), 1),
            "runs_seconds": [round(full, 2) for _, full in runs],
            "runs_startup_seconds": [round(start, 2) for start, _ in runs]}


def plot(results: list[dict[str, object]], speed: dict[str, object] | None) -> Figure:
    panels = len(results) + (1 if speed else 0)
    figure = Figure(figsize=(7.0, 1.6 + 1.9 * panels), layout="constrained")
    axes = np.atleast_1d(figure.subplots(panels, 1))
    for ax, result in zip(axes, results, strict=False):
        names = list(result["summary"])
        for row, name in enumerate(names):
            values = [s["rmse"][name]["value"] for s in result["per_seed"]]
            ax.scatter(values, [row] * len(values), color="0.6", s=12, zorder=2)
            rmse = result["summary"][name]["rmse"]
            low, high = rmse["ci"] if rmse["ci"][0] is not None else (rmse["mean"],) * 2
            ax.errorbar(rmse["mean"], row, xerr=[[rmse["mean"] - low], [high - rmse["mean"]]],
                        fmt="o", color="C3" if name == "chemprop" else "C0", capsize=3)
        ax.set_yticks(range(len(names)), names)
        ax.set_title(f"{result['task']}: test RMSE over {len(result['seeds'])} seeds "
                     "(mean, 95% CI; grey = each seed)")
        ax.set_xlabel("RMSE (lower is better)")
        ax.grid(axis="x", alpha=0.3)
    if speed:
        ax = axes[-1]
        labels = ["medora", "chemprop"]
        whole = [speed[k]["molecules_per_second"] for k in labels]
        warm = [speed[k]["molecules_per_second_excluding_startup"] or 0 for k in labels]
        ax.barh([0.2, 1.2], whole, height=0.4, color="C0", label="whole call")
        ax.barh([-0.2, 0.8], warm, height=0.4, color="C2", label="excluding start-up")
        ax.set_yticks([0, 1], labels)
        ax.set_xlabel(f"molecules per second ({speed['molecules']:,} molecules, "
                      f"{speed['threads']} threads)")
        ax.set_title(f"prediction throughput: medora / chemprop = {speed['ratio']}x")
        ax.legend(loc="lower right")
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--results", type=Path, default=RESULTS / "molecules.json",
                        help="results file (the figure goes beside it as .png)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of the script itself: few epochs, not for results")
    parser.add_argument("--resume", action="store_true",
                        help="keep (task, seed) results already in the results file")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed calls of each tool for throughput (the median is kept)")
    parser.add_argument("--only-throughput", action="store_true",
                        help="re-measure throughput with a freshly trained first seed")
    args = parser.parse_args()
    result_file, figure_file = args.results, args.results.with_suffix(".png")
    result_file.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(result_file.read_text()) if result_file.exists() else {}
    done = {(r["task"], s["seed"]): s for r in previous.get("results", [])
            for s in r["per_seed"]} if args.resume or args.only_throughput else {}
    ensure_chemprop_env()
    document: dict[str, object] = {
        "benchmark": "molecules", "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "chemprop": chemprop_versions(), "threads": args.threads,
        "host_cpus": os.cpu_count(), "results": previous.get("results", []),
        "throughput": previous.get("throughput"),
    }
    speed_model: tuple[str, Path, Path] | None = None
    with tempfile.TemporaryDirectory() as scratch_root:
        scratch = Path(scratch_root)
        if not args.only_throughput:
            # Seeds outer, tasks inner: an interrupted run still covers every task.
            per_task: dict[str, list[dict[str, object]]] = {t: [] for t in args.tasks}
            for seed in range(args.seeds):
                for task_name in args.tasks:
                    if (task_name, seed) in done:
                        per_task[task_name].append(done[(task_name, seed)])
                        continue
                    console.print(f"[bold]{task_name}[/bold] seed {seed}")
                    folder = scratch / f"{task_name}-{seed}"
                    per_task[task_name].append(run_seed(task_name, seed, args.resamples,
                                                        folder, args.threads, args.quick))
                    if speed_model is None:
                        speed_model = (task_name, Path(per_task[task_name][-1]
                                                       ["chemprop_model"]), folder / "home")
                    document["results"] = [
                        {**summarise(name, runs), "per_seed": runs}
                        for name, runs in per_task.items() if runs]
                    result_file.write_text(json.dumps(document, indent=2))
        if not args.skip_throughput:
            if speed_model is None:
                task_name = args.tasks[0]
                folder = scratch / "speed"
                seed_result = run_seed(task_name, 0, 200, folder, args.threads, args.quick)
                speed_model = (task_name, Path(seed_result["chemprop_model"]), folder / "home")
            task_name, chemprop_model, home = speed_model
            console.print(f"throughput on {THROUGHPUT_MOLECULES:,} molecules ({task_name})")
            document["throughput"] = throughput(task_name, scratch, args.threads,
                                                chemprop_model, home, args.repeats)
        result_file.write_text(json.dumps(document, indent=2))
    results = document["results"]
    plot(results, document["throughput"]).savefig(figure_file, dpi=120)
    for result in results:
        table = Table(title=f"{result['task']} over seeds {result['seeds']}")
        for column in ("model", "RMSE mean (95% CI)", "training s"):
            table.add_column(column)
        for name, summary in result["summary"].items():
            rmse = summary["rmse"]
            interval = (f" ({rmse['ci'][0]:.3f} to {rmse['ci'][1]:.3f})"
                        if rmse["ci"][0] is not None else "")
            table.add_row(name, f"{rmse['mean']:.3f}{interval}",
                          f"{summary['training_seconds']['mean']:.1f}")
        console.print(table)
        console.print(result["verdict"])
        if result["reference"]:
            console.print(f"published: {result['reference']}")
    if document["throughput"]:
        speed = document["throughput"]
        console.print(f"throughput: medora {speed['medora']['molecules_per_second']}/s, chemprop "
                      f"{speed['chemprop']['molecules_per_second']}/s (ratio {speed['ratio']}x; "
                      f"excluding start-up {speed['ratio_excluding_startup']}x)")
    console.print(f"saved {result_file} and {figure_file}")


if __name__ == "__main__":
    main()
