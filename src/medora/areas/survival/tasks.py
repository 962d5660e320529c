"""Survival tasks (oncology): time to recurrence or metastasis, with censoring kept as it is.

A :class:`SurvivalTask` differs from a binary :class:`~medora.core.task.Task` in its target
(a follow-up time and an event indicator, never collapsed into "event within k years", which
would throw away the censored patients' information), its metrics (concordance, time-dependent
AUC, integrated Brier score; :mod:`medora.areas.survival.metrics`) and its evaluation: these cohorts
are small (198 and 686 patients), so a single split swings the C-index by several hundredths;
every number comes from repeated stratified K-fold cross-validation instead.

Time is in days throughout, as in the source files: follow-up, evaluation horizons and any
model's predicted survival times. Divide by 365.25 for years when displaying.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from medora.areas.survival.data import (
    GBSG2_CLINICAL,
    GSE7390_CLINICAL,
    GSE7390_PROBES,
    SurvivalDataset,
    load_gbsg2,
    load_gse7390,
)
from medora.data.tabular import FeatureSpec

#: Quantiles of the observed event times used as evaluation horizons (see
#: :meth:`SurvivalTask.horizons`).
HORIZON_QUANTILES = (0.25, 0.5, 0.75)
#: Points of the time grid of the integrated Brier score.
GRID_POINTS = 50


@dataclass(frozen=True)
class CategoryCodes:
    """How one categorical column becomes one number, and why that way.

    ``binary`` maps two levels to 0/1; ``ordinal`` maps ordered levels to 1, 2, 3...: used
    for scales whose order is the information (tumour grade), where one-hot columns would cost
    degrees of freedom a 198-patient cohort cannot spare and would discard the order.
    """

    column: str
    kind: Literal["binary", "ordinal"]
    codes: dict[str, float]
    reason: str

    def encode(self, values: pd.Series, source: str) -> pd.Series:
        strings = values.astype(str)
        unknown = sorted(set(strings) - set(self.codes))
        if unknown:
            raise ValueError(f"{source}: column {self.column!r} holds {unknown}, which the "
                             f"task does not encode; expected one of {list(self.codes)}")
        return strings.map(self.codes).astype(np.float64)


@dataclass(frozen=True)
class SurvivalFold:
    """One test fold of repeated K-fold cross-validation: row indices into the cohort."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class EvaluationTimes:
    """When the time-dependent metrics are read, in the task's time unit.

    ``horizons``: AUC(t) and the Brier score are reported there, and the last one is the
    truncation time tau of Uno's C-index. ``grid``: the times over which the integrated
    Brier score is averaged (from the 10th percentile of the event times to the last
    horizon).
    """

    horizons: np.ndarray
    grid: np.ndarray
    quantiles: tuple[float, ...]
    unit: str

    @property
    def tau(self) -> float:
        return float(self.horizons[-1])


@dataclass(frozen=True)
class SurvivalTask:
    """A named time-to-event problem on real data: inputs, their encoding, the event, the
    folds, the horizons and the metrics.

    ``features`` are the model inputs after encoding (``encodings`` says how each categorical
    column of the dataset becomes a number); ``feature_groups`` assigns every input to a group
    (clinical, genes, treatment) and ``feature_sets`` names the combinations of groups that
    models are compared on (e.g. clinical only, genes only, both).
    """

    name: str
    description: str
    load: Callable[[], SurvivalDataset]
    features: tuple[FeatureSpec, ...]
    encodings: tuple[CategoryCodes, ...]
    feature_groups: dict[str, tuple[str, ...]]
    feature_sets: dict[str, tuple[str, ...]]
    target: str
    target_description: str
    intended_use: str
    out_of_scope_use: str
    limitations: tuple[str, ...] = ()
    time_unit: str = "days"
    area: str = "oncology"
    n_splits: int = 5
    n_repeats: int = 10
    horizon_quantiles: tuple[float, ...] = HORIZON_QUANTILES
    modality: str = "survival"
    metrics: tuple[str, ...] = ("harrell_c", "uno_c", "mean_auc", "integrated_brier")
    primary_metric: str = "harrell_c"
    deep_model: str = "deepsurv"
    baselines: tuple[str, ...] = ("cox_ph", "coxnet", "random_survival_forest",
                                  "gradient_boosted_cox")

    def __post_init__(self) -> None:
        names = [spec.name for spec in self.features]
        grouped = [column for columns in self.feature_groups.values() for column in columns]
        if sorted(grouped) != sorted(names):
            raise ValueError(f"task {self.name}: feature_groups must assign every feature to "
                             "exactly one group")
        unknown = {s: [g for g in groups if g not in self.feature_groups]
                   for s, groups in self.feature_sets.items()}
        if any(unknown.values()):
            raise ValueError(f"task {self.name}: feature_sets name unknown groups {unknown}; "
                             f"groups are {list(self.feature_groups)}")

    @property
    def feature_names(self) -> list[str]:
        return [spec.name for spec in self.features]

    def feature_names_of(self, feature_set: str | None = None) -> list[str]:
        """The inputs of one named feature set (all inputs when None), in feature order."""
        if feature_set is None:
            return self.feature_names
        if feature_set not in self.feature_sets:
            raise ValueError(f"task {self.name} has no feature set {feature_set!r}; choose one "
                             f"of {', '.join(self.feature_sets)}")
        wanted = {c for group in self.feature_sets[feature_set]
                  for c in self.feature_groups[group]}
        return [name for name in self.feature_names if name in wanted]

    def encode(self, features: pd.DataFrame, source: str = "input") -> pd.DataFrame:
        """The model inputs as floats: categorical columns coded as ``encodings`` says,
        the others converted; a missing column or value is an error naming it."""
        missing = [name for name in self.feature_names if name not in features.columns]
        if missing:
            raise ValueError(f"{source}: missing column(s) {missing} needed by task "
                             f"{self.name}")
        codes = {encoding.column: encoding for encoding in self.encodings}
        encoded = pd.DataFrame({
            name: codes[name].encode(features[name], source) if name in codes
            else features[name].astype(np.float64) for name in self.feature_names},
            index=features.index)
        empty = encoded.columns[encoded.isna().any()].tolist()
        if empty:
            raise ValueError(f"{source}: missing values in {empty}; task {self.name} has no "
                             "imputation, fill or drop those rows first")
        return encoded

    def load_survival(self, feature_set: str | None = None
                      ) -> tuple[SurvivalDataset, pd.DataFrame, np.ndarray, np.ndarray]:
        """The dataset, its encoded inputs (one feature set, or all) and time and event."""
        dataset = self.load()
        if dataset.time_unit != self.time_unit:
            raise ValueError(f"task {self.name} works in {self.time_unit}, dataset "
                             f"{dataset.name} is in {dataset.time_unit}")
        x = self.encode(dataset.features, source=f"dataset {dataset.name}")
        return dataset, x[self.feature_names_of(feature_set)], dataset.time, dataset.event

    def evaluation_times(self, time: np.ndarray | None = None,
                         event: np.ndarray | None = None) -> EvaluationTimes:
        """Horizons at ``horizon_quantiles`` (25th, 50th, 75th percentiles by default) of the
        observed event times of the whole cohort (``time``/``event``, default: the task's
        dataset), and the integrated Brier grid.

        Event-time quantiles keep every horizon where events happen and where enough patients
        remain under follow-up for stable censoring weights; the 90th and later percentiles
        are left out because few patients are still followed there. Horizons are fixed per
        cohort, not per fold, so the folds' numbers are comparable; they are evaluation
        settings, never model inputs.
        """
        if (time is None) != (event is None):
            raise ValueError("pass both time and event, or neither (the task's own cohort)")
        if time is None or event is None:
            dataset = self.load()
            time, event = dataset.time, dataset.event
        event_times = np.asarray(time, dtype=np.float64)[np.asarray(event, dtype=bool)]
        if event_times.size < len(self.horizon_quantiles):
            raise ValueError(f"task {self.name}: {event_times.size} event(s) cannot place "
                             f"{len(self.horizon_quantiles)} horizons; need more events")
        horizons = np.quantile(event_times, self.horizon_quantiles)
        grid = np.linspace(np.quantile(event_times, 0.1), horizons[-1], GRID_POINTS)
        return EvaluationTimes(horizons=horizons, grid=grid,
                               quantiles=self.horizon_quantiles, unit=self.time_unit)

    def folds(self, seed: int, n_splits: int | None = None, n_repeats: int | None = None
              ) -> list[SurvivalFold]:
        """Repeated stratified K-fold of the task's cohort (defaults: the task's 5 x 10).

        See :func:`repeated_stratified_folds`; the first horizon is this task's.
        """
        dataset = self.load()
        first_horizon = float(self.evaluation_times(dataset.time, dataset.event).horizons[0])
        return repeated_stratified_folds(
            dataset.time, dataset.event, seed,
            self.n_splits if n_splits is None else n_splits,
            self.n_repeats if n_repeats is None else n_repeats, first_horizon)

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "area": self.area, "modality": self.modality,
                "target": self.target, "primary_metric": self.primary_metric,
                "description": self.description, "time_unit": self.time_unit}


def repeated_stratified_folds(time: np.ndarray, event: np.ndarray, seed: int, n_splits: int,
                              n_repeats: int, first_horizon: float) -> list[SurvivalFold]:
    """Repeated stratified K-fold, deterministic by ``seed``.

    Strata: censored patients, events at or before ``first_horizon`` and later events. Each
    fold thus gets its share of events (the event indicator is stratified) and, beyond that,
    its share of early events: with event-only strata about 3% of GSE7390's test folds had no
    event before the first horizon, leaving AUC and Brier undefined there. Every patient is in
    exactly one test fold per repeat.
    """
    from sklearn.model_selection import RepeatedStratifiedKFold  # only when splitting

    event = np.asarray(event, dtype=bool)
    time = np.asarray(time, dtype=np.float64)
    strata = np.where(~event, 0, np.where(time <= first_horizon, 1, 2))
    smallest = min(int((strata == s).sum()) for s in np.unique(strata))
    if n_splits < 2 or n_repeats < 1:
        raise ValueError(f"need n_splits >= 2 and n_repeats >= 1, got {n_splits} and "
                         f"{n_repeats}")
    if smallest < n_splits:
        raise ValueError(f"{n_splits} folds need at least {n_splits} patients in each stratum "
                         f"(censored, early events, late events); the smallest has {smallest}."
                         " Use fewer folds")
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats,
                                       random_state=seed)
    return [SurvivalFold(repeat=k // n_splits, fold=k % n_splits, train=np.sort(train),
                         test=np.sort(test))
            for k, (train, test) in enumerate(splitter.split(time, strata))]


# -- the tasks ----------------------------------------------------------------------------------

_GRADE_REASON = ("histological grade is an ordered scale (well < intermediate < poorly "
                 "differentiated), coded 1-3 to keep the order in one column")


def _gse7390_features() -> tuple[FeatureSpec, ...]:
    clinical = (
        FeatureSpec("age", "age at diagnosis", unit="years", valid_range=(18.0, 100.0)),
        FeatureSpec("size", "tumour diameter", unit="cm", valid_range=(0.0, 20.0)),
        FeatureSpec("grade", "histological grade: 1 well, 2 intermediate (also unknown), 3 "
                    "poorly differentiated", kind="ordinal", valid_range=(1.0, 3.0)),
        FeatureSpec("er", "oestrogen receptor positive", kind="binary", valid_range=(0.0, 1.0)),
    )
    genes = tuple(FeatureSpec(gene, f"expression of Affymetrix HG-U133A probe set "
                              f"{gene.removeprefix('X')}", unit="log2 expression")
                  for gene in GSE7390_PROBES)
    return clinical + genes


BREAST_RECURRENCE_GENES = SurvivalTask(
    name="oncology.breast_recurrence_genes",
    description="Time to distant metastasis of node-negative breast cancer from 4 clinical "
    "variables and the 76 probe sets of the Wang et al. signature (GSE7390, TRANSBIG, 198 "
    "patients, 51 metastases).",
    load=load_gse7390,
    features=_gse7390_features(),
    encodings=(
        CategoryCodes("grade", "ordinal",
                      {"well differentiated": 1.0, "intermediate": 2.0,
                       "poorly differentiated": 3.0, "unkown": 2.0},
                      _GRADE_REASON + "; the 2 patients of unknown grade (the file's "
                      "'unkown') get the middle of the scale, 2, fixed before seeing outcomes: "
                      "a missing-grade indicator would be a near-constant column (2 of 198) "
                      "that is all zero in most training folds"),
        CategoryCodes("er", "binary", {"negative": 0.0, "positive": 1.0},
                      "two levels: 1 = oestrogen receptor positive"),
    ),
    feature_groups={"clinical": GSE7390_CLINICAL, "genes": GSE7390_PROBES},
    feature_sets={"integrative": ("clinical", "genes"), "clinical": ("clinical",),
                  "genes": ("genes",)},
    target="distant metastasis-free survival",
    target_description="days from diagnosis to distant metastasis (event) or last follow-up "
    "without it (censored)",
    intended_use="Research and teaching on prognostic models that combine clinical variables "
    "with gene expression; an oncologist reviews every estimate.",
    out_of_scope_use="Treatment decisions; node-positive or treated patients (the cohort "
    "received no adjuvant systemic therapy); expression measured on other platforms or "
    "normalised differently.",
    limitations=(
        "198 patients and 51 events: single splits swing the C-index by about 0.08, so results "
        "are means over 5-fold cross-validation repeated 10 times.",
        "Patients aged 24 to 60, all node-negative and without adjuvant therapy, from the "
        "TRANSBIG centres; the 76 probe sets were chosen on another cohort (Wang et al. "
        "2005).",
        "2 patients have unknown grade, coded as intermediate (2).",
        "Most metastases happen in the first 5 years: the signature's discrimination is known "
        "to fade with time (Desmedt et al. 2007), so time-dependent AUC matters here.",
    ),
)

GBSG2_RECURRENCE = SurvivalTask(
    name="oncology.gbsg2_recurrence",
    description="Recurrence-free survival of node-positive breast cancer from 8 clinical "
    "variables (GBSG2 trial, 686 patients, 299 recurrences or deaths).",
    load=load_gbsg2,
    features=(
        FeatureSpec("horTh", "received hormonal therapy (tamoxifen)", kind="binary",
                    valid_range=(0.0, 1.0)),
        FeatureSpec("age", "age", unit="years", valid_range=(18.0, 100.0)),
        FeatureSpec("menostat", "postmenopausal", kind="binary", valid_range=(0.0, 1.0)),
        FeatureSpec("tsize", "tumour size", unit="mm", valid_range=(0.0, 200.0)),
        FeatureSpec("tgrade", "tumour grade I-III", kind="ordinal", valid_range=(1.0, 3.0)),
        FeatureSpec("pnodes", "number of positive lymph nodes", unit="nodes",
                    valid_range=(0.0, 100.0)),
        FeatureSpec("progrec", "progesterone receptor", unit="fmol/l",
                    valid_range=(0.0, float("inf"))),
        FeatureSpec("estrec", "oestrogen receptor", unit="fmol/l",
                    valid_range=(0.0, float("inf"))),
    ),
    encodings=(
        CategoryCodes("horTh", "binary", {"no": 0.0, "yes": 1.0},
                      "two levels: 1 = hormonal therapy"),
        CategoryCodes("menostat", "binary", {"Pre": 0.0, "Post": 1.0},
                      "two levels: 1 = postmenopausal"),
        CategoryCodes("tgrade", "ordinal", {"I": 1.0, "II": 2.0, "III": 3.0},
                      _GRADE_REASON),
    ),
    feature_groups={"clinical": GBSG2_CLINICAL, "treatment": ("horTh",)},
    feature_sets={"all": ("clinical", "treatment"), "clinical": ("clinical",)},
    target="recurrence-free survival",
    target_description="days from surgery to recurrence or death (event) or last follow-up "
    "(censored)",
    intended_use="Research and teaching on prognostic models for node-positive breast cancer; "
    "an oncologist reviews every estimate.",
    out_of_scope_use="Treatment decisions (a model's weight on hormonal therapy is an "
    "association in these 686 patients, not a treatment effect for a patient); node-negative "
    "patients; current therapies, which differ from the 1984-1989 trial's.",
    limitations=(
        "686 patients with complete data from one German trial (1984-1989).",
        "Follow-up ends at about 7 years (2,659 days); nothing is known about later "
        "recurrences.",
    ),
)
