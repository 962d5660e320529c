"""One training run of a survival task: every survival model cross-validated on the same
repeated stratified folds, scored with censoring-aware metrics and repeated-CV intervals,
compared pairwise fold by fold, the integrative model measured against its parts, the
candidate fitted on every patient and registered, and the record written to disk.

Why cross-validation rather than one split: these cohorts are small (198 and 686 patients),
and one split swings the C-index by several hundredths; every number here is a mean over
K-fold cross-validation repeated R times (5 x 10 by default) with the corrected resampled t
interval of :func:`~medora.areas.survival.metrics.summarise_repeated_cv`.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console

from medora.areas.survival.factory import build_survival_model, survival_model_classes
from medora.areas.survival.gpl import GPL_INSTALL_HINT, sksurv_available
from medora.areas.survival.metrics import (
    KaplanMeier,
    LogRankResult,
    RepeatedCVEstimate,
    cumulative_dynamic_auc,
    harrell_c_index,
    integrated_brier_score,
    kaplan_meier,
    logrank_test,
    summarise_repeated_cv,
    uno_c_index,
)
from medora.areas.survival.models import SurvivalModel
from medora.areas.survival.predictor import RISK_GROUPS, SurvivalPredictor, risk_group, tertile_cuts
from medora.areas.survival.tasks import EvaluationTimes, SurvivalFold, SurvivalTask
from medora.core.progress import counting_progress
from medora.evaluate.plots import figure_to_base64_png
from medora.registry.store import ModelStore, ModelVersion
from medora.train.run import (
    RunConfig,
    RunRecord,
    compared_models,
    comparison_verdict,
    data_fingerprint,
    environment,
    finish_run,
    metrics_envelope,
    start_run,
    write_atomic,
)

#: Metric name -> (label, higher is better).
SURVIVAL_METRICS: dict[str, tuple[str, bool]] = {
    "harrell_c": ("Harrell's C", True),
    "uno_c": ("Uno's C", True),
    "mean_auc": ("Mean time-dependent AUC", True),
    "integrated_brier": ("Integrated Brier score", False),
}
#: The second deep model, always compared beside the task's deep model.
SECOND_DEEP_MODEL = "logistic_hazard"
#: Models that need scikit-survival (GPL-3.0, the optional `gpl-baselines` extra).
GPL_MODELS = ("coxnet", "random_survival_forest", "gradient_boosted_cox")
#: Models compared on every feature set of an integrative task.
INTEGRATIVE_MODELS = ("deepsurv", "cox_ph")
QUICK_REPEATS = 1


@dataclass(frozen=True)
class Reference:
    """A published number shown beside ours, with its source and setting."""

    model: str
    metric: str
    value: str
    setting: str
    source: str


REFERENCES: dict[str, tuple[Reference, ...]] = {
    "oncology.breast_recurrence_genes": (Reference(
        "gradient_boosted_cox", "harrell_c", "0.765",
        "one 25% test split of GSE7390 (not repeated cross-validation: one split of 198 "
        "patients varies by several hundredths)",
        "as stated in issue 5 (scikit-survival's gradient-boosting guide on this dataset)"),),
    "oncology.gbsg2_recurrence": (Reference(
        "random_survival_forest", "harrell_c", "about 0.68-0.69",
        "a held-out split of GBSG2",
        "as stated in issue 5 (scikit-survival's random survival forest guide on GBSG2)"),),
}


@dataclass
class CrossValidated:
    """One model's evidence over every fold: per-fold metrics, out-of-fold predictions."""

    name: str
    display_name: str
    kind: str
    per_fold: dict[str, np.ndarray]  # metric -> (n_repeats, n_splits)
    auc_per_fold: np.ndarray  # (n_repeats, n_splits, n_horizons)
    risk_percentile: np.ndarray  # (n_repeats, n): out-of-fold risk, as a training percentile
    survival_at_horizon: np.ndarray  # (n_repeats, n): out-of-fold S(middle horizon)
    training_seconds: float
    metrics: dict[str, RepeatedCVEstimate] = field(default_factory=dict)
    auc_by_horizon: list[RepeatedCVEstimate] = field(default_factory=list)
    predictor: SurvivalPredictor | None = None

    def __post_init__(self) -> None:
        self.metrics = {m: summarise_repeated_cv(v) for m, v in self.per_fold.items()}
        self.auc_by_horizon = [summarise_repeated_cv(self.auc_per_fold[..., k])
                               for k in range(self.auc_per_fold.shape[-1])]

    def summary(self) -> dict[str, Any]:
        return {metric: estimate.to_dict() for metric, estimate in self.metrics.items()}


@dataclass
class RiskGroups:
    """Patients split by tertiles of their mean out-of-fold risk percentile."""

    labels: np.ndarray
    curves: dict[str, KaplanMeier]
    logrank: LogRankResult


@dataclass
class ExamplePatient:
    label: str
    index: int
    risk_percentile: float
    time: float
    event: bool
    survival: np.ndarray


@dataclass(kw_only=True)
class SurvivalRun(RunRecord[SurvivalTask, CrossValidated]):
    """The record of one training of a survival task (the survival counterpart of ``Run``)."""

    n_patients: int
    n_events: int
    folds: tuple[int, int]  # (n_repeats, n_splits)
    times: EvaluationTimes
    unavailable: dict[str, str]
    comparisons: dict[str, RepeatedCVEstimate]
    integrative: dict[str, dict[str, CrossValidated]]
    integrative_comparisons: dict[str, RepeatedCVEstimate]
    risk_groups: RiskGroups
    calibration: pd.DataFrame
    curve_times: np.ndarray
    examples: list[ExamplePatient]
    references: tuple[Reference, ...]

    @property
    def interval(self) -> str:
        repeats, splits = self.folds
        return (f"95% corrected resampled t interval over {splits}-fold cross-validation "
                f"repeated {repeats} times (Nadeau-Bengio)")

    def metrics_document(self) -> dict[str, Any]:
        return metrics_envelope(self, {
            "folds": {"kind": "repeated stratified K-fold (censored / early / late events)",
                      "seed": self.config.seed, "n_repeats": self.folds[0],
                      "n_splits": self.folds[1]},
            "horizons": {"days": [round(float(h), 1) for h in self.times.horizons],
                         "quantiles_of_event_times": list(self.times.quantiles)},
            "confidence_intervals": self.interval,
            "models": {name: r.summary() for name, r in self.results.items()},
            "auc_by_horizon": {name: [e.to_dict() for e in r.auc_by_horizon]
                               for name, r in self.results.items()},
            "not_installed": self.unavailable,
            "comparisons": {k: v.to_dict() for k, v in self.comparisons.items()},
            "integrative": {feature_set: {name: r.summary() for name, r in models.items()}
                            for feature_set, models in self.integrative.items()},
            "integrative_comparisons": {k: v.to_dict()
                                        for k, v in self.integrative_comparisons.items()},
            "verdict": self.verdict,
            "references": [vars(reference) for reference in self.references],
            "risk_groups": {"method": "tertiles of the candidate's mean out-of-fold risk "
                                      "percentile", "logrank_p": self.risk_groups.logrank.p_value,
                            "sizes": {g: int((self.risk_groups.labels == g).sum())
                                      for g in RISK_GROUPS}},
            # Per patient, in the dataset's row order: what `medora stratify` groups by.
            "cross_validated_risk": [round(float(v), 4)
                                     for v in self.primary.risk_percentile.mean(axis=0)],
        }, patients=self.n_patients, events=self.n_events)


def fold_metrics(model: SurvivalModel, x: pd.DataFrame, time: np.ndarray, event: np.ndarray,
                 fold: SurvivalFold, times: EvaluationTimes
                 ) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """One fitted model's metrics on its test fold, its AUC at each horizon and its test
    risks. Time-dependent AUC scores 1 - S(horizon | x) at each horizon, so models whose
    ranking changes over time (forests, discrete-time networks) are judged at each."""
    train, test = fold.train, fold.test
    weights = {"train_time": time[train], "train_event": event[train]}
    x_test, t_test, e_test = x.iloc[test], time[test], event[test]
    risk = model.predict_risk(x_test)
    at_horizons = model.predict_survival(x_test, times.horizons)
    auc = cumulative_dynamic_auc(t_test, e_test, 1.0 - at_horizons, times.horizons, **weights)
    values = {
        "harrell_c": harrell_c_index(t_test, e_test, risk),
        "uno_c": uno_c_index(t_test, e_test, risk, tau=times.tau, **weights),
        "mean_auc": auc.mean_auc,
        "integrated_brier": integrated_brier_score(
            t_test, e_test, model.predict_survival(x_test, times.grid), times.grid,
            **weights),
    }
    return values, auc.auc, risk


def cross_validate(name: str, x: pd.DataFrame, time: np.ndarray, event: np.ndarray,
                   folds: list[SurvivalFold], times: EvaluationTimes, config: RunConfig,
                   advance: Any) -> CrossValidated:
    """Fit ``name`` on every training fold and score it on its test fold."""
    n_repeats = max(f.repeat for f in folds) + 1
    n_splits = max(f.fold for f in folds) + 1
    per_fold = {metric: np.full((n_repeats, n_splits), np.nan) for metric in SURVIVAL_METRICS}
    auc = np.full((n_repeats, n_splits, times.horizons.size), np.nan)
    percentile = np.full((n_repeats, len(x)), np.nan)
    at_horizon = np.full((n_repeats, len(x)), np.nan)
    middle = np.array([times.horizons[times.horizons.size // 2]])
    seconds = 0.0
    model: SurvivalModel | None = None
    for fold in folds:
        started = clock.perf_counter()
        model = build_survival_model(name, seed=config.seed, quick=config.quick, progress=False)
        model.fit(x.iloc[fold.train], time[fold.train], event[fold.train])
        seconds += clock.perf_counter() - started
        try:
            values, auc_values, risk = fold_metrics(model, x, time, event, fold, times)
        except ValueError as error:
            raise ValueError(f"{name}, repeat {fold.repeat} fold {fold.fold}: {error}") from None
        for metric, value in values.items():
            per_fold[metric][fold.repeat, fold.fold] = value
        auc[fold.repeat, fold.fold] = auc_values
        # Out-of-fold risk on a scale shared by every fold: the share of this fold's training
        # patients with a lower risk score (raw Cox scores carry a per-fit offset).
        train_risk = np.sort(model.predict_risk(x.iloc[fold.train]))
        percentile[fold.repeat, fold.test] = (np.searchsorted(train_risk, risk, side="left")
                                              / train_risk.size)
        at_horizon[fold.repeat, fold.test] = model.predict_survival(x.iloc[fold.test],
                                                                    middle)[:, 0]
        advance()
    assert model is not None  # folds is never empty (repeated_stratified_folds checks)
    return CrossValidated(name=name, display_name=model.display_name, kind=model.kind,
                          per_fold=per_fold, auc_per_fold=auc, risk_percentile=percentile,
                          survival_at_horizon=at_horizon, training_seconds=seconds)


def paired_difference(a: CrossValidated, b: CrossValidated,
                      metric: str = "harrell_c") -> RepeatedCVEstimate:
    """a minus b in ``metric``, fold by fold (both scored on the same folds), summarised with
    the same corrected interval: the folds' shared noise cancels in the difference."""
    return summarise_repeated_cv(a.per_fold[metric] - b.per_fold[metric])


def grouped_curves(labels: np.ndarray, time: np.ndarray, event: np.ndarray) -> RiskGroups:
    """Kaplan-Meier curves of each group of patients and the log-rank test between them."""
    order = [g for g in RISK_GROUPS if (labels == g).any()] or sorted(set(labels.tolist()))
    curves = {g: kaplan_meier(time[labels == g], event[labels == g]) for g in order}
    return RiskGroups(labels=labels, curves=curves, logrank=logrank_test(time, event, labels))


def risk_groups(risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> RiskGroups:
    """Tertiles of ``risk`` as low / intermediate / high risk (see :func:`grouped_curves`)."""
    return grouped_curves(risk_group(risk, tertile_cuts(risk)), time, event)


def calibration_table(predicted: np.ndarray, time: np.ndarray, event: np.ndarray,
                      horizon: float, n_groups: int = 5) -> pd.DataFrame:
    """Mean predicted against Kaplan-Meier observed survival at ``horizon`` in groups of
    patients by quantiles of their (out-of-fold) predicted survival."""
    order = np.argsort(predicted)
    rows = []
    for group, members in enumerate(np.array_split(order, n_groups)):
        curve = kaplan_meier(time[members], event[members])
        observed = (float(curve.survival_at([horizon])[0]) if horizon <= curve.time[-1]
                    or curve.survival[-1] == 0 else float("nan"))
        rows.append({"group": group + 1, "patients": members.size,
                     "predicted": float(predicted[members].mean()), "observed": observed})
    return pd.DataFrame(rows)


def plot_risk_groups(groups: RiskGroups, unit: str, title: str) -> Figure:
    figure = Figure(figsize=(6.4, 4.2))
    axes = figure.subplots()
    for name, curve in groups.curves.items():
        axes.step(np.concatenate([[0.0], curve.time]) / 365.25 if unit == "days"
                  else np.concatenate([[0.0], curve.time]),
                  np.concatenate([[1.0], curve.survival]), where="post",
                  label=f"{name} risk (n={int(curve.n_at_risk[0])})")
    axes.set(title=f"{title}: log-rank p = {groups.logrank.p_value:.2g}",
             xlabel="years" if unit == "days" else unit, ylabel="event-free survival",
             ylim=(0, 1.02))
    axes.legend(loc="lower left")
    figure.tight_layout()
    return figure


def plot_patient_curves(examples: list[ExamplePatient], times: np.ndarray, unit: str
                        ) -> Figure:
    figure = Figure(figsize=(6.4, 4.2))
    axes = figure.subplots()
    scale = 365.25 if unit == "days" else 1.0
    for example in examples:
        axes.plot(times / scale, example.survival, label=example.label)
    axes.set(title="Predicted survival of example patients", ylim=(0, 1.02),
             xlabel="years" if unit == "days" else unit, ylabel="predicted S(t)")
    axes.legend(loc="lower left")
    figure.tight_layout()
    return figure


def plot_calibration(table: pd.DataFrame, horizon: float, unit: str) -> Figure:
    figure = Figure(figsize=(4.6, 4.2))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="ideal")
    axes.plot(table["predicted"], table["observed"], marker="o", label="model")
    when = f"{horizon / 365.25:.1f} years" if unit == "days" else f"{horizon:g} {unit}"
    axes.set(title=f"Calibration at {when}", xlabel="mean predicted survival",
             ylabel="observed (Kaplan-Meier)", xlim=(0, 1), ylim=(0, 1))
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure


def train_survival_task(task: SurvivalTask, config: RunConfig | None = None,
                        store: ModelStore | None = None) -> SurvivalRun:
    """Cross-validate, compare and register the survival models of ``task``.

    Writes ``report.html``, ``metrics.json`` and ``card.md`` into the run folder
    (``runs/<task>/<run-id>/`` unless ``config.out_dir`` is given). ``config.quick`` runs
    one repeat of the folds with short training: a smoke run, not for use.
    """
    config = config or RunConfig()
    console = Console(stderr=True, quiet=not config.progress)
    known = survival_model_classes()
    if config.model is not None and config.model not in known:
        raise ValueError(f"unknown survival model {config.model!r}; choose one of "
                         f"{', '.join(sorted(known))}")
    names = compared_models(config, task.deep_model, (SECOND_DEEP_MODEL, *task.baselines))
    unavailable = {} if sksurv_available() else {
        name: f"not installed (scikit-survival, GPL-3.0: {GPL_INSTALL_HINT})"
        for name in names if name in GPL_MODELS}
    if names[0] in unavailable:
        raise ValueError(f"{names[0]} needs scikit-survival, which is not installed; "
                         f"{GPL_INSTALL_HINT}, or choose another --model")
    names = [name for name in names if name not in unavailable]
    primary_name = names[0]
    created_at, run_id, out_dir = start_run(task.name, config)

    console.print(f"[bold]{task.name}[/bold]: loading data")
    dataset, x, time, event = task.load_survival()
    times = task.evaluation_times(time, event)
    folds = task.folds(config.seed, n_repeats=QUICK_REPEATS if config.quick else None)
    n_repeats, n_splits = max(f.repeat for f in folds) + 1, max(f.fold for f in folds) + 1
    console.print(f"{n_splits}-fold cross-validation repeated {n_repeats} time(s), seed "
                  f"{config.seed}: {len(x)} patients, {int(event.sum())} events")
    for name, reason in unavailable.items():
        console.print(f"[yellow]{name}[/yellow]: {reason}")

    integrative_sets = ([s for s in task.feature_sets if s != "integrative"]
                        if "integrative" in task.feature_sets else [])
    integrative_models = [m for m in INTEGRATIVE_MODELS if m in names]
    results: dict[str, CrossValidated] = {}
    integrative: dict[str, dict[str, CrossValidated]] = {}
    with counting_progress("folds", enabled=config.progress) as progress:
        for name in names:
            bar = progress.add_task(name, total=len(folds))
            results[name] = cross_validate(name, x, time, event, folds, times, config,
                                           lambda bar=bar: progress.advance(bar))
        for feature_set in integrative_sets:
            columns = task.feature_names_of(feature_set)
            integrative[feature_set] = {}
            for name in integrative_models:
                bar = progress.add_task(f"{name} on {feature_set}", total=len(folds))
                integrative[feature_set][name] = cross_validate(
                    name, x[columns], time, event, folds, times, config,
                    lambda bar=bar: progress.advance(bar))
    if integrative:
        integrative = {"integrative": {n: results[n] for n in integrative_models},
                       **integrative}

    primary = results[primary_name]
    comparisons = {f"{primary_name}_vs_{other}": paired_difference(primary, results[other])
                   for other in names[1:]}
    integrative_comparisons = {
        f"{name}: integrative_vs_{feature_set}": paired_difference(
            integrative["integrative"][name], models[name])
        for feature_set, models in integrative.items() if feature_set != "integrative"
        for name in models}
    # The verdict weighs the candidate against the baselines, not against the other network.
    comparators = {n: r for n, r in results.items() if n == primary_name or r.kind == "baseline"}
    label, higher = SURVIVAL_METRICS[task.primary_metric]
    verdict = comparison_verdict(primary_name, comparators, comparisons, task.primary_metric,
                                 higher, label=label,
                                 interval=f"paired over the same {len(folds)} folds, "
                                          "corrected resampled t")

    console.print(f"fitting [bold]{primary_name}[/bold] on all {len(x)} patients")
    final = build_survival_model(primary_name, seed=config.seed, quick=config.quick,
                                 progress=config.progress,
                                 checkpoint_dir=out_dir / "checkpoints" / primary_name)
    primary.predictor = SurvivalPredictor.fitted(final.fit(x, time, event), x, times.horizons,
                                                 task.time_unit)

    mean_percentile = primary.risk_percentile.mean(axis=0)
    groups = risk_groups(mean_percentile, time, event)
    middle = float(times.horizons[times.horizons.size // 2])
    calibration = calibration_table(primary.survival_at_horizon.mean(axis=0), time, event,
                                    middle)
    curve_times = np.linspace(0.0, float(times.grid[-1]), 60)
    order = np.argsort(mean_percentile)
    picks = {"lowest risk": order[0], "median risk": order[len(order) // 2],
             "highest risk": order[-1]}
    curves = final.predict_survival(x.iloc[list(picks.values())], curve_times)
    examples = [ExamplePatient(label=label, index=int(i),
                               risk_percentile=float(mean_percentile[i]),
                               time=float(time[i]), event=bool(event[i]), survival=curves[k])
                for k, (label, i) in enumerate(picks.items())]

    run = SurvivalRun(
        run_id=run_id, task=task, config=config,
        created_at=created_at.isoformat(timespec="seconds"), provenance=dataset.provenance,
        data_fingerprint=data_fingerprint(
            x, np.asarray(time, dtype=np.float64), np.asarray(event, dtype=bool)),
        n_patients=len(x),
        n_events=int(event.sum()), folds=(n_repeats, n_splits), times=times,
        primary_model=primary_name, results=results, unavailable=unavailable,
        comparisons=comparisons, integrative=integrative,
        integrative_comparisons=integrative_comparisons, verdict=verdict,
        risk_groups=groups, calibration=calibration, curve_times=curve_times,
        examples=examples, references=REFERENCES.get(task.name, ()), out_dir=out_dir,
        environment={**environment(), **_survival_versions()},
    )
    finish_run(run, store, render_survival_card, write_survival_report, console)
    return run


def _survival_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for name in ("lifelines", "scikit-survival"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _template(name: str, autoescape: bool):
    from medora.registry.card import template_environment

    environment = template_environment(autoescape=autoescape)
    environment.globals["survival_label"] = lambda metric: SURVIVAL_METRICS[metric][0]
    return environment.get_template(name)


def render_survival_report(run: SurvivalRun) -> str:
    unit = run.task.time_unit
    figures = {
        "risk_groups": figure_to_base64_png(plot_risk_groups(
            run.risk_groups, unit, f"{run.primary.display_name} risk tertiles")),
        "patients": figure_to_base64_png(plot_patient_curves(run.examples, run.curve_times,
                                                             unit)),
        "calibration": figure_to_base64_png(plot_calibration(
            run.calibration, float(run.times.horizons[run.times.horizons.size // 2]), unit)),
    }
    return _template("report_survival.html", autoescape=True).render(
        run=run, task=run.task, primary=run.primary, figures=figures,
        metrics=list(SURVIVAL_METRICS))


def write_survival_report(run: SurvivalRun, path: Path) -> Path:
    write_atomic(path, render_survival_report(run))
    return path


def render_survival_card(run: SurvivalRun, version: ModelVersion | None) -> str:
    return _template("card_survival.md", autoescape=False).render(
        run=run, task=run.task, version=version, primary=run.primary,
        metrics=list(SURVIVAL_METRICS))
