"""One training run of a molecule property task: the D-MPNN ensemble and the fingerprint
baselines fitted on the same split, given conformal intervals, evaluated with paired bootstrap
CIs, explained atom by atom, the candidate registered and the record written to disk."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem
from rich.console import Console

from medora.areas.molecules.chem.depict import draw_molecule, png_data_uri
from medora.areas.molecules.factory import build_molecule_model
from medora.areas.molecules.regression import ConformalRegressor, TrainingReference
from medora.areas.molecules.tasks import INTERVAL_COVERAGE, MoleculeTask
from medora.core.task import Split
from medora.evaluate.bootstrap import Estimate
from medora.evaluate.conformal import empirical_coverage
from medora.evaluate.regression import (
    evaluate_regression,
    higher_is_better,
    paired_regression_difference,
    regression_bootstrap_indices,
)
from medora.registry.store import ModelStore
from medora.train.run import (
    ComparedModel,
    RunConfig,
    RunRecord,
    compared_models,
    comparison_verdict,
    environment,
    finish_run,
    metrics_envelope,
    start_run,
)


@dataclass
class MoleculeResult(ComparedModel):
    """One compared molecule model's fitted predictor and its test-set evidence."""

    predictor: ConformalRegressor
    coverage: dict[str, float]
    test_prediction: np.ndarray
    test_lower: np.ndarray
    test_upper: np.ndarray


@dataclass
class MoleculeExample:
    """A test molecule with the candidate's prediction and its atom map."""

    label: str
    smiles: str
    measured: float
    predicted: float
    lower: float
    upper: float
    atom_weights: list[float]
    image: str  # PNG data URI: weight maps drawn as SVG run to megabytes


@dataclass(kw_only=True)
class MoleculeRun(RunRecord[MoleculeTask, MoleculeResult]):
    """The record of one training of a molecule task (the molecule counterpart of ``Run``)."""

    split_kind: str
    split_sizes: dict[str, int]
    comparisons: dict[str, Estimate]
    y_test: np.ndarray
    test_smiles: list[str]
    examples: list[MoleculeExample]

    def metrics_document(self) -> dict[str, Any]:
        return metrics_envelope(self, {
            "target": {"name": self.task.target, "units": self.task.units},
            "split": {"kind": self.split_kind, "seed": self.config.seed,
                      "sizes": self.split_sizes},
            "confidence_intervals": f"95% percentile bootstrap, {self.config.resamples} "
                                    "resamples of the test set",
            "models": {name: {metric: estimate.to_dict()
                              for metric, estimate in result.metrics.items()}
                       for name, result in self.results.items()},
            "comparisons": {key: value.to_dict() for key, value in self.comparisons.items()},
            "verdict": self.verdict,
            "intervals": {name: result.coverage for name, result in self.results.items()},
        })


def molecule_fingerprint(smiles: list[str], y: np.ndarray) -> str:
    """SHA-256 of the exact molecules and targets a model was trained and tested on."""
    digest = hashlib.sha256("\n".join(smiles).encode())
    digest.update(np.asarray(y, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _fit_and_evaluate(name: str, mols: list[Chem.Mol], y: np.ndarray, split: Split,
                      indices: np.ndarray, reference: TrainingReference, task: MoleculeTask,
                      config: RunConfig, checkpoint_root: Path) -> MoleculeResult:
    def part(idx: np.ndarray) -> list[Chem.Mol]:
        return [mols[i] for i in idx]

    started = time.perf_counter()
    model = build_molecule_model(name, seed=config.seed, quick=config.quick,
                                 progress=config.progress, checkpoint_dir=checkpoint_root / name)
    model.fit(part(split.train), y[split.train], part(split.validation), y[split.validation])
    predictor = ConformalRegressor.calibrate(model, part(split.validation), y[split.validation],
                                             reference, coverage=INTERVAL_COVERAGE)
    training_seconds = time.perf_counter() - started
    y_test = y[split.test]
    interval = predictor.predict_interval(part(split.test))
    return MoleculeResult(
        name=name, display_name=model.display_name, kind=model.kind,
        explanation_method=model.explanation_method, predictor=predictor,
        metrics=evaluate_regression(y_test, interval.value, indices, task.metrics),
        coverage={"nominal": INTERVAL_COVERAGE,
                  "empirical": round(empirical_coverage(y_test, interval.lower,
                                                        interval.upper), 4),
                  "mean_width": round(float(np.mean(interval.upper - interval.lower)), 4),
                  "calibration_molecules": len(split.validation)},
        training_seconds=training_seconds, test_prediction=interval.value,
        test_lower=interval.lower, test_upper=interval.upper)


def _examples(result: MoleculeResult, mols: list[Chem.Mol], smiles: list[str],
              y_test: np.ndarray) -> list[MoleculeExample]:
    """The best-, median- and worst-predicted test molecules, with their atom maps."""
    error = np.abs(result.test_prediction - y_test)
    order = np.argsort(error)
    picks = {"best predicted": order[0], "median error": order[len(order) // 2],
             "worst predicted": order[-1]}
    chosen = [mols[i] for i in picks.values()]
    weights = result.predictor.explain(chosen)
    return [
        MoleculeExample(label=label, smiles=smiles[i], measured=float(y_test[i]),
                        predicted=float(result.test_prediction[i]),
                        lower=float(result.test_lower[i]), upper=float(result.test_upper[i]),
                        atom_weights=[round(float(w), 4) for w in atom_weights],
                        image=png_data_uri(draw_molecule(mol, atom_weights=list(atom_weights),
                                                         size=(360, 260), format="png")))
        for (label, i), mol, atom_weights in zip(picks.items(), chosen, weights, strict=True)
    ]


def train_molecule_task(task: MoleculeTask, config: RunConfig | None = None,
                        store: ModelStore | None = None) -> MoleculeRun:
    """Train, compare, give intervals, evaluate, explain and register models for ``task``."""
    from medora.areas.molecules.report import write_molecule_report
    from medora.registry.card import render_card

    config = config or RunConfig()
    console = Console(stderr=True, quiet=not config.progress)
    names = compared_models(config, task.deep_model, task.baselines)
    primary_name = names[0]
    created_at, run_id, out_dir = start_run(task.name, config)

    console.print(f"[bold]{task.name}[/bold]: loading molecules")
    dataset, table, y = task.load_molecules()
    split_kind = config.split or task.split_kind
    split = task.make_split(table.smiles, config.seed, split_kind)
    console.print(f"split ({split_kind}, seed {config.seed}): {split.sizes()}")
    y_test = y[split.test]
    indices = regression_bootstrap_indices(len(y_test), config.resamples, config.seed)

    mols = list(table.mols)
    reference = TrainingReference.from_molecules([mols[i] for i in split.train], y[split.train])
    results: dict[str, MoleculeResult] = {}
    for name in names:
        console.print(f"training and evaluating [bold]{name}[/bold]")
        results[name] = _fit_and_evaluate(name, mols, y, split, indices, reference, task,
                                          config, out_dir / "checkpoints")
    primary = results[primary_name]
    comparisons = {
        f"{primary_name}_vs_{other}": paired_regression_difference(
            task.primary_metric, y_test, primary.test_prediction,
            results[other].test_prediction, indices)
        for other in names[1:]
    }
    test_mols = [mols[i] for i in split.test]
    test_smiles = [table.smiles[i] for i in split.test]
    run = MoleculeRun(
        run_id=run_id, task=task, config=config,
        created_at=created_at.isoformat(timespec="seconds"), provenance=dataset.provenance,
        data_fingerprint=molecule_fingerprint(list(table.smiles), y), split_kind=split_kind,
        split_sizes=split.sizes(), primary_model=primary_name, results=results,
        comparisons=comparisons,
        verdict=comparison_verdict(primary_name, results, comparisons, task.primary_metric,
                                   higher_is_better(task.primary_metric), task.units),
        y_test=y_test, test_smiles=test_smiles,
        examples=_examples(primary, test_mols, test_smiles, y_test), out_dir=out_dir,
        environment=environment(),
    )

    finish_run(run, store, partial(render_card, template="card_molecule.md"),
               write_molecule_report, console)
    console.print(f"intervals: {primary.coverage['empirical']:.1%} of test molecules inside "
                  f"the {INTERVAL_COVERAGE:.0%} conformal intervals")
    return run
