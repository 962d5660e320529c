"""One training run of a treatment-effect task: TARNet, DragonNet and the meta-learner and
causal-forest baselines fitted on the same training patients, evaluated on the same test
patients (PEHE and ATE error where the truth is known, the value of each model's personalised
policy against treat-all and treat-none everywhere, the ATE against reference estimates), with
overlap diagnostics, the candidate registered with its overlap rule, and the record written to
disk."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console
from sklearn.pipeline import Pipeline

from medora.areas.effects.baselines import TLearner, fit_propensity_model
from medora.areas.effects.data import EffectDataset
from medora.areas.effects.factory import EFFECT_MODEL_CLASSES, build_effect_model
from medora.areas.effects.metrics import (
    OverlapRule,
    PolicyValue,
    Recommendation,
    difference_in_means,
    ipw_ate,
    overlap_summary,
    policy_from_cate,
    policy_value,
)
from medora.areas.effects.models import EffectModel
from medora.areas.effects.predictor import EffectPredictor, covariate_schema, propensity_scores
from medora.areas.effects.tasks import EffectTask
from medora.core.task import Split
from medora.evaluate.bootstrap import Estimate
from medora.evaluate.plots import figure_to_base64_png
from medora.evaluate.regression import regression_bootstrap_indices
from medora.registry.store import ModelStore, ModelVersion
from medora.train.run import (
    ComparedModel,
    RunConfig,
    RunRecord,
    comparison_verdict,
    data_fingerprint,
    environment,
    finish_run,
    metrics_envelope,
    start_run,
    write_atomic,
)

#: The candidates: the best on the validation patients (factual error) is registered.
DEEP_EFFECT_MODELS = ("tarnet", "dragonnet", "offset_tarnet")
EFFECT_BASELINES = ("t_learner", "x_learner", "dr_learner", "causal_forest")
METRIC_LABELS = {
    "ate": "ATE estimate",
    "pehe": "PEHE",
    "ate_error": "ATE absolute error",
    "policy_value": "Policy value",
    "policy_gain_vs_treat_all": "Policy gain vs treat-all",
    "policy_gain_vs_treat_none": "Policy gain vs treat-none",
}


@dataclass
class EffectResult(ComparedModel):
    """One compared effect model's registered predictor and its test-set evidence."""

    predictor: EffectPredictor
    interval_method: str
    test_cate: np.ndarray
    test_lower: np.ndarray | None
    test_upper: np.ndarray | None
    policy: PolicyValue
    validation_rmse: float | None
    interval_coverage: float | None  # share of true effects inside the intervals (truth only)
    fitted_choices: dict[str, object]  # what the fit chose from the data (EffectModel's)


@dataclass
class EffectExample:
    """A test patient with the candidate's effect, propensity and recommendation."""

    label: str
    propensity: float
    recommendation: Recommendation
    true_effect: float | None


@dataclass(kw_only=True)
class EffectRun(RunRecord[EffectTask, EffectResult]):
    """The record of one training of an effect task (the effect counterpart of ``Run``)."""

    dataset: EffectDataset
    split_sizes: dict[str, int]
    comparisons: dict[str, Estimate]
    references: dict[str, dict[str, object]]
    propensity_method: str
    overlap: dict[str, object]
    policy_population: dict[str, object]
    train_propensity: np.ndarray
    train_treatment: np.ndarray
    test_true_cate: np.ndarray | None
    examples: list[EffectExample]

    def metrics_document(self) -> dict[str, Any]:
        data = self.dataset
        return metrics_envelope(self, {
            "design": {"randomised": data.randomised, "treated": data.treated_label,
                       "control": data.control_label, "outcome": data.outcome_description,
                       "unit": data.outcome_unit, "higher_is_better": data.higher_is_better,
                       "effect": "treated minus control"},
            "split": {"kind": "random, stratified on treatment", "seed": self.config.seed,
                      "sizes": self.split_sizes},
            "confidence_intervals": f"95% percentile bootstrap, {self.config.resamples} "
                                    "resamples of the test patients",
            "propensity": self.propensity_method,
            "overlap": self.overlap,
            "policy_evaluation": self.policy_population,
            "references": self.references,
            "models": {name: {metric: estimate.to_dict()
                              for metric, estimate in result.metrics.items()}
                       for name, result in self.results.items()},
            "intervals": {name: {"method": result.interval_method or "none",
                                 "true_effect_coverage": result.interval_coverage}
                          for name, result in self.results.items()},
            "fitted_choices": {name: result.fitted_choices
                               for name, result in self.results.items() if result.fitted_choices},
            "validation_factual_rmse": {name: result.validation_rmse
                                        for name, result in self.results.items()
                                        if result.validation_rmse is not None},
            "comparisons": {key: value.to_dict() for key, value in self.comparisons.items()},
            "verdict": self.verdict,
        })


# -- Pieces of the run -------------------------------------------------------------------------

def _propensity(data: EffectDataset, design: pd.DataFrame, train: np.ndarray
                ) -> tuple[Pipeline | None, str]:
    """A trial's known design probability, else a logistic model fitted on training rows."""
    if data.randomised and data.design_propensity is not None:
        return None, (f"design probability {data.design_propensity:g} fixed by the trial's "
                      "randomisation")
    model = fit_propensity_model(design.iloc[train], data.treatment[train])
    return model, ("L2-penalised logistic regression (C = 1) on the standardised task "
                   f"propensity design ({design.shape[1]} columns), fitted on the training "
                   "patients")


def _estimate(values: np.ndarray, indices: np.ndarray, statistic: Any) -> Estimate:
    """``statistic`` (a function of row positions, vectorised over resamples) with its
    percentile interval over the shared bootstrap resamples."""
    return Estimate.from_replicates(float(statistic(values, np.arange(len(values))[None])[0]),
                                    statistic(values, indices))


def _pehe_difference(error_a: np.ndarray, error_b: np.ndarray, indices: np.ndarray
                     ) -> Estimate:
    """PEHE of model a minus that of model b on the same resamples (negative favours a)."""
    full = np.arange(len(error_a))[None]
    return Estimate.from_replicates(float(_rms(error_a, full)[0] - _rms(error_b, full)[0]),
                                    _rms(error_a, indices) - _rms(error_b, indices))


def _mean(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return values[rows].mean(axis=1)


def _rms(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.sqrt((values[rows] ** 2).mean(axis=1))


def _abs_mean(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.abs(values[rows].mean(axis=1))


@dataclass(frozen=True)
class _Evaluation:
    """What every model is judged with: the test rows, the shared bootstrap resamples, the
    patients inside overlap and the fixed nuisances of the policy evaluation."""

    y: np.ndarray
    treatment: np.ndarray
    true_cate: np.ndarray | None
    indices: np.ndarray
    inside: np.ndarray
    propensity: np.ndarray
    mu0: np.ndarray | None
    mu1: np.ndarray | None
    higher_is_better: bool
    resamples: int
    seed: int

    def metrics(self, cate: np.ndarray) -> tuple[dict[str, Estimate], PolicyValue]:
        metrics = {"ate": _estimate(cate, self.indices, _mean)}
        if self.true_cate is not None:
            error = cate - self.true_cate
            metrics["pehe"] = _estimate(error, self.indices, _rms)
            metrics["ate_error"] = _estimate(error, self.indices, _abs_mean)
        inside = self.inside
        policy = policy_value(
            self.y[inside], self.treatment[inside],
            policy_from_cate(cate[inside], self.higher_is_better), self.propensity[inside],
            self.higher_is_better,
            mu0=None if self.mu0 is None else self.mu0[inside],
            mu1=None if self.mu1 is None else self.mu1[inside],
            n_resamples=self.resamples, seed=self.seed)
        metrics.update(policy_value=policy.policy,
                       policy_gain_vs_treat_all=policy.gain_vs_treat_all,
                       policy_gain_vs_treat_none=policy.gain_vs_treat_none)
        return metrics, policy


def _fit_and_evaluate(name: str, x: pd.DataFrame, data: EffectDataset, split: Split,
                      evaluation: _Evaluation,
                      make_predictor: Callable[[EffectModel], EffectPredictor], config: RunConfig,
                      checkpoint_root: Path) -> EffectResult:
    t, y = data.treatment, data.outcome
    started = time.perf_counter()
    model = build_effect_model(name, seed=config.seed, quick=config.quick,
                               progress=config.progress, checkpoint_dir=checkpoint_root / name)
    model.fit(x.iloc[split.train], t[split.train], y[split.train], x.iloc[split.validation],
              t[split.validation], y[split.validation])
    training_seconds = time.perf_counter() - started
    validation_rmse = None
    if model.provides_outcomes:
        # Only the factual outcome is observed, so candidates are compared on its error.
        mu0, mu1 = model.predict_outcomes(x.iloc[split.validation])
        factual = np.where(t[split.validation] == 1, mu1, mu0)
        validation_rmse = round(float(np.sqrt(np.mean((factual - y[split.validation]) ** 2))),
                                4)
    prediction = model.predict_effect(x.iloc[split.test])
    metrics, policy = evaluation.metrics(prediction.cate)
    coverage = None
    if evaluation.true_cate is not None and prediction.lower is not None:
        inside = (prediction.lower <= evaluation.true_cate) & (
            evaluation.true_cate <= prediction.upper)
        coverage = round(float(inside.mean()), 4)
    return EffectResult(
        name=name, display_name=model.display_name, kind=model.kind,
        explanation_method="none: effect models are not explained per feature yet",
        metrics=metrics, training_seconds=training_seconds, predictor=make_predictor(model),
        interval_method=prediction.interval if prediction.lower is not None else "",
        test_cate=prediction.cate, test_lower=prediction.lower, test_upper=prediction.upper,
        policy=policy, validation_rmse=validation_rmse, interval_coverage=coverage,
        fitted_choices=model.fitted_choices())


def _choose_primary(config: RunConfig, results: dict[str, EffectResult]) -> str:
    """The named model, else the deep model with the lower factual error on validation."""
    if config.model is not None:
        return config.model
    def error(name: str) -> float:
        rmse = results[name].validation_rmse
        return math.inf if rmse is None else rmse

    return min(DEEP_EFFECT_MODELS, key=error)


def _references(task: EffectTask, data: EffectDataset, design: pd.DataFrame,
                test: np.ndarray, true_cate: np.ndarray | None) -> dict[str, dict[str, object]]:
    """The ATE by methods that need no effect model, for comparison with every model's."""
    references: dict[str, dict[str, object]] = {
        "difference_in_means_test": {
            **difference_in_means(data.outcome[test], data.treatment[test]).to_dict(),
            "population": "test patients"},
        "difference_in_means_all": {
            **difference_in_means(data.outcome, data.treatment).to_dict(),
            "population": f"all {data.n} patients"},
    }
    if not data.randomised:
        try:
            ipw = ipw_ate(data.outcome, data.treatment, covariates=design.to_numpy())
            references["ipw_all"] = {**ipw.estimate.to_dict(),
                                     "population": f"all {data.n} patients"}
        except ValueError as error:  # separation: no IPW estimate exists on these data
            references["ipw_all"] = {"unavailable": str(error),
                                     "population": f"all {data.n} patients"}
    if data.reference is not None:
        ref = data.reference
        references["published"] = {"value": ref.value, "ci": [ref.ci_low, ref.ci_high],
                                   "unit": ref.unit, "method": ref.method,
                                   "source": ref.source}
    if true_cate is not None:
        references["truth_test"] = {"value": round(float(true_cate.mean()), 4),
                                    "population": "test patients",
                                    "method": "mean of the true (simulated) effects"}
    return references


def _policy_sentence(run_primary: EffectResult, population: dict[str, object]) -> str:
    policy = run_primary.policy

    def describe(estimate: Estimate) -> str:
        return f"{estimate.value:+.3g} (95% CI {estimate.ci_low:+.3g} to {estimate.ci_high:+.3g})"

    return (f"Personalised policy of the {run_primary.display_name} on the "
            f"{population['n']} test patients inside overlap: treats "
            f"{policy.treated_fraction:.0%}; gain over treat-all "
            f"{describe(policy.gain_vs_treat_all)}, over treat-none "
            f"{describe(policy.gain_vs_treat_none)} ({policy.method}; positive = better).")


def _ate_sentence(result: EffectResult, data: EffectDataset) -> str:
    ate = result.metrics["ate"]
    own = (f"ATE estimate of the {result.display_name}: {ate.value:.3g} {data.outcome_unit} "
           f"(95% CI {ate.ci_low:.3g} to {ate.ci_high:.3g}, test patients)")
    if data.reference is not None:
        ref = data.reference
        inside = ref.ci_low <= ate.value <= ref.ci_high
        return (f"{own}; published {ref.value:g} {ref.unit} ({ref.ci_low:g} to "
                f"{ref.ci_high:g}; {ref.source}): {'inside' if inside else 'outside'} the "
                "published interval.")
    dim = difference_in_means(data.outcome, data.treatment)
    return (f"{own}; difference in means over all {data.n} patients: {dim.value:.3g} "
            f"(95% CI {dim.ci_low:.3g} to {dim.ci_high:.3g}, Welch"
            f"{'' if data.randomised else '; confounded on observational data'}).")


def _examples(primary: EffectResult, x_test: pd.DataFrame, design_test: pd.DataFrame,
              true_cate: np.ndarray | None, higher_is_better: bool) -> list[EffectExample]:
    """The test patients with the largest, median and smallest estimated benefit, and the
    first one outside overlap if any, assessed exactly as ``medora predict`` would."""
    benefit = primary.test_cate if higher_is_better else -primary.test_cate
    order = np.argsort(benefit)
    picks = {"largest estimated benefit": order[-1], "median": order[len(order) // 2],
             "smallest estimated benefit": order[0]}
    predictor = primary.predictor
    outside = np.flatnonzero(~predictor.overlap.check(predictor.propensity(design_test)).inside)
    if outside.size:
        picks["outside overlap"] = outside[0]
    rows = list(picks.values())
    _, chosen_propensity, _, recommendations = predictor.assess(
        x_test.iloc[rows], design_test.iloc[rows])
    return [EffectExample(label=label, propensity=float(chosen_propensity[i]),
                          recommendation=recommendations[i],
                          true_effect=None if true_cate is None else float(true_cate[row]))
            for i, (label, row) in enumerate(picks.items())]


# -- The run -----------------------------------------------------------------------------------

def train_effect_task(task: EffectTask, config: RunConfig | None = None,
                      store: ModelStore | None = None, instance: int | None = None
                      ) -> EffectRun:
    """Train and compare every effect model on one split of ``task``, register the candidate
    with its overlap rule, and write ``report.html``, ``metrics.json`` and ``card.md`` into
    the run folder (``runs/<task>/<run-id>/`` unless ``config.out_dir`` is given).
    ``instance`` picks the simulated instance of a semi-synthetic task (default: the task's
    default; see :meth:`EffectTask.load`), so a benchmark can repeat the run over all of them."""
    config = config or RunConfig()
    if config.model is not None and config.model not in EFFECT_MODEL_CLASSES:
        raise ValueError(f"unknown effect model {config.model!r}; choose one of "
                         f"{', '.join(sorted(EFFECT_MODEL_CLASSES))}")
    if config.split is not None:
        raise ValueError(f"{task.name} has one split (random, stratified on treatment); leave "
                         "split unset")
    console = Console(stderr=True, quiet=not config.progress)
    created_at, run_id, out_dir = start_run(task.name, config)

    console.print(f"[bold]{task.name}[/bold]: loading data")
    data = task.load(instance)
    x = task.encode(data.covariates)
    design = task.propensity_design(data.covariates)
    t, y = data.treatment, data.outcome
    split = task.make_split(t, config.seed)
    console.print(f"split (stratified on treatment, seed {config.seed}): {split.sizes()}")

    propensity_model, propensity_method = _propensity(data, design, split.train)

    e_all = propensity_scores(propensity_model, data.design_propensity, design)
    overlap_rule = OverlapRule.fit(e_all[split.train], t[split.train])

    def make_predictor(model: EffectModel) -> EffectPredictor:
        return EffectPredictor(
            model=model, schema=covariate_schema(data.covariates), columns=list(x.columns),
            overlap=overlap_rule, propensity_method=propensity_method,
            design_propensity=data.design_propensity, propensity_model=propensity_model,
            treated_label=data.treated_label, control_label=data.control_label,
            higher_is_better=data.higher_is_better, outcome_name=data.outcome_name,
            outcome_unit=data.outcome_unit)

    test = split.test
    inside = overlap_rule.check(e_all[test]).inside
    mu0 = mu1 = None
    if propensity_model is not None:
        # Observational: doubly robust policy values, with outcome models fitted on the
        # training patients and held fixed for every model compared.
        nuisance = build_effect_model(TLearner.name, seed=config.seed, quick=config.quick)
        mu0, mu1 = nuisance.fit(x.iloc[split.train], t[split.train],
                                y[split.train]).predict_outcomes(x.iloc[test])
    true_cate = None if data.true_cate is None else data.true_cate[test]
    evaluation = _Evaluation(
        y=y[test], treatment=t[test], true_cate=true_cate,
        indices=regression_bootstrap_indices(len(test), config.resamples, config.seed),
        inside=inside, propensity=e_all[test],
        mu0=mu0, mu1=mu1, higher_is_better=data.higher_is_better,
        resamples=config.resamples, seed=config.seed)

    results: dict[str, EffectResult] = {}
    for name in (*DEEP_EFFECT_MODELS, *EFFECT_BASELINES):
        console.print(f"training and evaluating [bold]{name}[/bold]")
        results[name] = _fit_and_evaluate(name, x, data, split, evaluation, make_predictor,
                                          config, out_dir / "checkpoints")
    primary_name = _choose_primary(config, results)
    results = {primary_name: results[primary_name],
               **{n: r for n, r in results.items() if n != primary_name}}
    primary = results[primary_name]

    comparisons: dict[str, Estimate] = {}
    sentences = []
    if true_cate is not None:
        comparisons = {f"{primary_name}_vs_{other}": _pehe_difference(
            primary.test_cate - true_cate, result.test_cate - true_cate, evaluation.indices)
            for other, result in results.items() if other != primary_name}
        sentences.append(comparison_verdict(primary_name, results, comparisons, "pehe",
                                            higher_is_better=False))
    policy_population = {
        "n": int(inside.sum()), "n_test": len(test),
        "excluded_outside_overlap": int((~inside).sum()),
        "method": primary.policy.method,
        "propensity": propensity_method,
        "outcome_models": ("none (IPW with the known design probability)" if mu0 is None else
                           "a T-learner (gradient boosting per arm) fitted on the training "
                           "patients, the same for every model"),
        "policy": "treat where the estimated benefit exceeds 0",
    }
    sentences.append(_policy_sentence(primary, policy_population))
    references = _references(task, data, design, test, true_cate)
    sentences.append(_ate_sentence(primary, data))

    train_overlap = overlap_summary(e_all[split.train], t[split.train])
    run = EffectRun(
        run_id=run_id, task=task, config=config,
        created_at=created_at.isoformat(timespec="seconds"), dataset=data,
        provenance=data.provenance,
        data_fingerprint=data_fingerprint(
            x, np.asarray(t, dtype=np.int64), np.asarray(y, dtype=np.float64)),
        split_sizes=split.sizes(),
        primary_model=primary_name, results=results, comparisons=comparisons,
        verdict=" ".join(sentences), references=references,
        propensity_method=propensity_method,
        overlap={"training": train_overlap,
                 "test_fraction_outside": round(float((~inside).mean()), 4)},
        policy_population=policy_population, train_propensity=e_all[split.train],
        train_treatment=t[split.train], test_true_cate=true_cate,
        examples=_examples(primary, x.iloc[test], design.iloc[test], true_cate,
                           data.higher_is_better),
        out_dir=out_dir, environment={**environment(), **_econml_version()},
    )
    finish_run(run, store, render_effect_card, write_effect_report, console)
    return run


def _econml_version() -> dict[str, str]:
    from importlib import metadata

    try:
        return {"econml": metadata.version("econml")}
    except metadata.PackageNotFoundError:
        return {"econml": "not installed"}


# -- Report and card ---------------------------------------------------------------------------

def plot_propensity(propensity: np.ndarray, treatment: np.ndarray, rule: OverlapRule,
                    treated_label: str, control_label: str) -> Figure:
    """Histograms of the training propensities by arm, with the overlap interval shaded: the
    arms must share the shaded range for effects there to rest on data from both."""
    figure = Figure(figsize=(6.5, 4.0), layout="constrained")
    axes = figure.subplots()
    low, high = rule.interval
    axes.axvspan(low, high, color="0.9", label=f"inside overlap [{low:.2f}, {high:.2f}]")
    edges = np.linspace(0.0, 1.0, 41)
    for arm, label, colour in ((1, treated_label, "tab:red"), (0, control_label, "tab:blue")):
        axes.hist(propensity[treatment == arm], bins=edges, histtype="step", linewidth=1.5,
                  color=colour, label=f"{label} (n={int((treatment == arm).sum())})")
    axes.set(title="Propensity by arm (training patients)", xlabel="P(treated | covariates)",
             ylabel="patients", xlim=(0, 1))
    axes.legend(fontsize="small")
    return figure


def plot_effects(result: EffectResult, true_cate: np.ndarray | None, unit: str) -> Figure:
    """The candidate's estimated effect of every test patient, sorted, with its interval and,
    where known, the true effect."""
    figure = Figure(figsize=(6.5, 4.0), layout="constrained")
    axes = figure.subplots()
    order = np.argsort(result.test_cate)
    position = np.arange(order.size)
    if result.test_lower is not None and result.test_upper is not None:
        axes.fill_between(position, result.test_lower[order], result.test_upper[order],
                          color="tab:blue", alpha=0.25, label="interval")
    axes.plot(position, result.test_cate[order], color="tab:blue", label="estimate")
    if true_cate is not None:
        axes.scatter(position, true_cate[order], s=4, color="black", label="true effect")
    axes.axhline(0.0, color="0.5", linestyle="--", linewidth=1.0)
    axes.set(title=f"{result.display_name}: effect per test patient",
             xlabel="test patients, sorted by estimated effect",
             ylabel=f"treated minus control ({unit})")
    axes.legend(fontsize="small")
    return figure


def render_effect_report(run: EffectRun) -> str:
    from medora.registry.card import template_environment

    data = run.dataset
    figures = {
        "propensity": figure_to_base64_png(plot_propensity(
            run.train_propensity, run.train_treatment, run.primary.predictor.overlap,
            data.treated_label, data.control_label)),
        "effects": figure_to_base64_png(plot_effects(run.primary, run.test_true_cate,
                                                     data.outcome_unit)),
    }
    return template_environment(autoescape=True).get_template("report_effect.html").render(
        run=run, task=run.task, data=data, primary=run.primary, figures=figures,
        labels=METRIC_LABELS, metric_names=_shown_metrics(run))


def write_effect_report(run: EffectRun, path: Path) -> Path:
    write_atomic(path, render_effect_report(run))
    return path


def render_effect_card(run: EffectRun, version: ModelVersion | None) -> str:
    """The model card of an effect task's candidate model as Markdown."""
    from medora.registry.card import template_environment

    return template_environment(autoescape=False).get_template("card_effect.md").render(
        run=run, task=run.task, data=run.dataset, version=version, primary=run.primary,
        labels=METRIC_LABELS, metric_names=_shown_metrics(run))


def _shown_metrics(run: EffectRun) -> list[str]:
    """The metrics every model of the run has, in the order of :data:`METRIC_LABELS`."""
    return [name for name in METRIC_LABELS if name in run.primary.metrics]
