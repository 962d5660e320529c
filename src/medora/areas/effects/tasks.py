"""Treatment-effect tasks: which treatment is better for which patient, on real and
semi-synthetic data.

An effect task differs from a prediction task in what it estimates: not an outcome but the
difference between two potential outcomes of the same patient, of which only one is ever
observed. It therefore carries the treatment as well as the outcome, says whether treatment was
randomised (if not, the covariates must also adjust for confounding), and is judged by the
error against a known truth (semi-synthetic data), the ATE against a published reference, or
the value of the treatment policy it implies on held-out patients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from medora.areas.effects.data import (
    ACIC2016_INSTANCES,
    EffectDataset,
    load_acic2016,
    load_actg175,
    load_nhefs,
)
from medora.core.task import Split, SplitSpec


@dataclass(frozen=True)
class EffectTask:
    """A named treatment-effect problem: data, encoding, split and how it is judged.

    ``instances`` lists the simulated instances a semi-synthetic dataset has (ACIC 2016);
    ``load()`` reads ``default_instance`` unless told otherwise. ``propensity_squared`` names
    the continuous covariates whose squares the task's reference propensity model adds (the
    NHEFS model of Hernán and Robins); the loader never adds them.
    """

    name: str
    description: str
    loader: Callable[..., EffectDataset]
    target: str
    intended_use: str
    out_of_scope_use: str
    limitations: tuple[str, ...] = ()
    area: str = "personalized medicine"
    modality: str = "effect"
    metrics: tuple[str, ...] = ("ate", "policy_value")
    primary_metric: str = "policy_value"
    instances: tuple[int, ...] = ()
    default_instance: int | None = None
    propensity_squared: tuple[str, ...] = ()
    split: SplitSpec = field(default_factory=SplitSpec)

    def __post_init__(self) -> None:
        if self.instances and self.default_instance not in self.instances:
            raise ValueError(f"task {self.name}: default_instance {self.default_instance!r} is "
                             f"not among its instances {list(self.instances)}")
        if not self.instances and self.default_instance is not None:
            raise ValueError(f"task {self.name} has no instances; leave default_instance None")

    def load(self, instance: int | None = None) -> EffectDataset:
        """The task's dataset; for a task with instances, ``instance`` (default: the task's
        default) picks the simulated one."""
        if not self.instances:
            if instance is not None:
                raise ValueError(f"task {self.name} has a single dataset; call load() without "
                                 "an instance")
            return self.loader()
        chosen = self.default_instance if instance is None else instance
        if chosen not in self.instances:
            raise ValueError(f"task {self.name} has instances {list(self.instances)}, not "
                             f"{chosen!r}")
        return self.loader(instance=chosen)

    def encode(self, covariates: pd.DataFrame) -> pd.DataFrame:
        """Numeric model inputs: numeric covariates as floats, each categorical covariate one
        column per level except its first (the reference level, absorbed by the intercept),
        named ``column=level``. The levels come from the categorical's declared categories, so
        any subset of patients encodes to the same columns."""
        missing_values = covariates.columns[covariates.isna().any()].tolist()
        if missing_values:
            raise ValueError(f"task {self.name}: covariate(s) {missing_values} have missing "
                             "values; impute or drop those patients before encoding")
        parts = []
        for column in covariates.columns:
            values = covariates[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                for level in values.cat.categories[1:]:
                    parts.append((values == level).astype(float).rename(f"{column}={level}"))
            elif pd.api.types.is_numeric_dtype(values):
                parts.append(values.astype(float))
            else:
                raise ValueError(f"task {self.name}: covariate {column!r} is {values.dtype}, "
                                 "neither numeric nor categorical; declare its levels with "
                                 "pd.Categorical(values, categories=[...])")
        return pd.concat(parts, axis=1)

    def propensity_design(self, covariates: pd.DataFrame) -> pd.DataFrame:
        """The inputs of the task's reference propensity model: :meth:`encode` plus the squares
        of ``propensity_squared``, named ``column^2``."""
        absent = [c for c in self.propensity_squared if c not in covariates.columns]
        if absent:
            raise ValueError(f"task {self.name}: the propensity model squares {absent}, which "
                             "the covariates lack")
        encoded = self.encode(covariates)
        squares = [covariates[c].astype(float).pow(2).rename(f"{c}^2")
                   for c in self.propensity_squared]
        return pd.concat([encoded, *squares], axis=1)

    def make_split(self, treatment: np.ndarray, seed: int) -> Split:
        """Train/validation/test indices (60/20/20 by default), stratified on treatment so each
        part keeps the arms' proportions; the same seed gives the same split."""
        from sklearn.model_selection import train_test_split  # only when splitting

        arms = np.asarray(treatment)
        if arms.ndim != 1 or not np.isin(arms, (0, 1)).all() or len(np.unique(arms)) < 2:
            raise ValueError(f"task {self.name}: split needs the 0/1 treatment of every "
                             "patient, with both arms present")
        indices = np.arange(len(arms))
        held_out = self.split.validation_fraction + self.split.test_fraction
        train, rest = train_test_split(indices, test_size=held_out, stratify=arms,
                                       random_state=seed)
        validation, test = train_test_split(
            rest, test_size=self.split.test_fraction / held_out, stratify=arms[rest],
            random_state=seed)
        return Split(train=np.sort(train), validation=np.sort(validation), test=np.sort(test))

    def replicates(self, seeds: Sequence[int]) -> list[tuple[int | None, int]]:
        """The (instance, seed) pairs a benchmark repeats the task over: every instance with
        every seed for semi-synthetic data, the seeds alone (instance None) otherwise."""
        if not seeds:
            raise ValueError("give at least one seed")
        instances: tuple[int | None, ...] = self.instances or (None,)
        return [(instance, seed) for instance in instances for seed in seeds]

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "area": self.area, "modality": self.modality,
                "target": self.target, "primary_metric": self.primary_metric,
                "description": self.description}


ACTG175 = EffectTask(
    name="effect.actg175",
    description="Which HIV regimen for which patient: zidovudine + didanosine vs zidovudine "
    "alone on the CD4 change at 20 weeks (ACTG 175 randomised trial, 1,054 patients).",
    loader=load_actg175,
    target="cd4_change_20wk",
    intended_use="Research and teaching on heterogeneous treatment effects in a randomised "
    "trial: which baseline characteristics modify the CD4 response to adding didanosine.",
    out_of_scope_use="Choosing antiretroviral therapy today: the regimens are from 1991-1995 "
    "and superseded; CD4 change is a surrogate, not a clinical outcome.",
    limitations=(
        "Two of the trial's four arms (1,054 of 2,139 patients); other contrasts need "
        "load_actg175 with other arms.",
        "CD4 change at 20 +/- 5 weeks is a surrogate endpoint measured once; the trial's primary "
        "endpoint (CD4 decline >= 50%, AIDS or death) is censored time-to-event data.",
    ),
)

NHEFS = EffectTask(
    name="effect.nhefs",
    description="Effect of quitting smoking on weight change 1971-1982 (NHEFS, 1,566 smokers, "
    "observational), checked against Hernán and Robins' IP-weighted 3.4 kg.",
    loader=load_nhefs,
    target="wt82_71",
    intended_use="Research and teaching on confounding adjustment and effect estimation from "
    "observational data, against a published reference analysis.",
    out_of_scope_use="Advice on whether to quit smoking: quitting is recommended whatever the "
    "weight change; the dataset supports estimating an effect, not a treatment decision.",
    limitations=(
        "Observational: the estimate is causal only if the nine covariates remove all "
        "confounding (no unmeasured confounders) and every patient could have quit or not.",
        "63 participants without a 1982 weight are dropped, as in the book; this assumes their "
        "weights are missing at random given treatment (the book corrects with censoring "
        "weights in Chapter 12.6).",
    ),
    metrics=("ate",),
    primary_metric="ate",
    propensity_squared=("age", "smokeintensity", "smokeyrs", "wt71"),
)

ACIC2016 = EffectTask(
    name="effect.acic2016",
    description="Semi-synthetic effects with known truth: 4,802 patients, 58 real covariates, "
    "simulated treatment and outcomes (ACIC 2016, instance 1 by default of causallib's 10).",
    loader=load_acic2016,
    target="y",
    intended_use="Benchmarking effect estimators against the true conditional effects (PEHE, "
    "ATE error), repeated over the 10 instances.",
    out_of_scope_use="Any clinical conclusion: treatment and outcomes are simulated.",
    limitations=(
        "10 instances of the challenge's 7,700 (77 settings x 100); causallib does not record "
        "which settings they are, so results compare estimators, not settings.",
    ),
    metrics=("pehe", "ate_error", "policy_value"),
    primary_metric="pehe",
    instances=ACIC2016_INSTANCES,
    default_instance=1,
)
