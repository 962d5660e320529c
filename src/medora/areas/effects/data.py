"""Treatment-effect datasets that ship inside installed packages: ACTG175, NHEFS, ACIC 2016.

A treatment-effect dataset is more than a table: it says which column is the treatment and what
its two values mean, which column is the outcome (with its unit and whether higher is better),
which covariates were measured before treatment (only those may adjust for confounding or
define a patient's subgroup: a post-treatment variable would absorb part of the effect), whether
treatment was randomised, and, for semi-synthetic data, the true potential outcomes.

Nothing downloads: each file is located through the installed package's metadata
(``importlib.metadata``), which also gives the package's version and licence at run time, so a
result records exactly which bytes it was computed on. The files are located rather than
imported through their packages because importing lifelines alone takes about two seconds.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from medora.data.bundled import DatasetProvenance
from medora.data.packaged import DatasetUnavailableError, categorical, read_package_files

__all__ = [
    "ACIC2016_INSTANCES",
    "ACTG175_ARMS",
    "NHEFS_BOOK_ATE",
    "DatasetUnavailableError",
    "EffectDataset",
    "ReferenceEffect",
    "load_acic2016",
    "load_actg175",
    "load_nhefs",
]


@dataclass(frozen=True)
class ReferenceEffect:
    """A published effect estimate that medora's own estimate on the same data is checked
    against; ``source`` cites it precisely enough to find the number (edition, section)."""

    value: float
    ci_low: float
    ci_high: float
    unit: str
    estimand: str
    method: str
    source: str


# Hernán and Robins report this in Section 12.2 and again, with stabilised weights, in 12.3;
# the 95% interval is from robust (sandwich) standard errors of the weighted regression.
NHEFS_BOOK_ATE = ReferenceEffect(
    value=3.4, ci_low=2.4, ci_high=4.5, unit="kg",
    estimand="average treatment effect of quitting smoking (qsmk) on weight change 1971-1982 "
    "(wt82_71) among the 1,566 participants with a 1982 weight",
    method="IP weighting; logistic propensity model of qsmk on sex, race, age, age^2, education "
    "(5 levels), smokeintensity, smokeintensity^2, smokeyrs, smokeyrs^2, exercise (3 levels), "
    "active (3 levels), wt71, wt71^2; robust 95% confidence interval",
    source="Hernán MA, Robins JM. Causal Inference: What If. Boca Raton: Chapman & Hall/CRC; "
    "2020 (1st edition), Chapter 12, Sections 12.2-12.3 (Programs 12.2 and 12.3)",
)

#: ACTG 175 arm codes as in the R package speff2trial's documentation of the same file (lifelines
#: ships the data without a description). The file agrees: ``treat`` (0 = zidovudine only) is 0
#: exactly in arm 0.
ACTG175_ARMS: Mapping[int, str] = {
    0: "zidovudine",
    1: "zidovudine + didanosine",
    2: "zidovudine + zalcitabine",
    3: "didanosine",
}

ACIC2016_INSTANCES: tuple[int, ...] = tuple(range(1, 11))


@dataclass(frozen=True)
class EffectDataset:
    """Covariates, a binary treatment and an outcome, with what they mean and where they came
    from.

    ``treatment`` is 1 for the arm named ``treated_label`` and 0 for ``control_label``. The
    effect is always treated minus control on the outcome's scale; ``higher_is_better`` says
    which sign is a benefit. ``y0``/``y1``, present only for semi-synthetic data, are each
    patient's true (noise-free) expected outcomes without and with treatment, so the true
    conditional effect is ``y1 - y0``. ``design_propensity`` is the probability of treatment
    fixed by a trial's randomisation, where it is known. ``excluded_columns`` names every column
    of the source file that is not a covariate and why.
    """

    name: str
    covariates: pd.DataFrame
    treatment: np.ndarray
    outcome: np.ndarray
    randomised: bool
    treated_label: str
    control_label: str
    outcome_name: str
    outcome_description: str
    outcome_unit: str
    higher_is_better: bool
    provenance: DatasetProvenance
    y0: np.ndarray | None = None
    y1: np.ndarray | None = None
    design_propensity: float | None = None
    reference: ReferenceEffect | None = None
    excluded_columns: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.covariates)
        arrays = {"treatment": self.treatment, "outcome": self.outcome, "y0": self.y0,
                  "y1": self.y1}
        for label, values in arrays.items():
            if values is not None and values.shape != (n,):
                raise ValueError(f"{self.name}: {label} has shape {values.shape}, expected "
                                 f"({n},), one value per row of the covariates")
        if (self.y0 is None) != (self.y1 is None):
            raise ValueError(f"{self.name}: give both true potential outcomes y0 and y1 or "
                             "neither")
        if not np.isin(self.treatment, (0, 1)).all():
            raise ValueError(f"{self.name}: treatment must be coded 0/1")

    @property
    def n(self) -> int:
        return len(self.covariates)

    @property
    def true_cate(self) -> np.ndarray | None:
        """Each patient's true conditional effect ``y1 - y0``; None for real data."""
        return None if self.y0 is None or self.y1 is None else self.y1 - self.y0


# A core dependency ships each file: a missing one means a broken installation.
_INSTALL = "pip install medora (lifelines and causallib are core dependencies)"


# -- ACTG 175 ----------------------------------------------------------------------------------

_ACTG175_RESOURCE = "lifelines/datasets/ACTG175.csv"

# Measured at or before randomisation; coded as in speff2trial's documentation.
_ACTG175_COVARIATES = (
    "age", "wtkg", "hemo", "homo", "drugs", "karnof", "oprior", "z30", "preanti", "race",
    "gender", "strat", "symptom", "cd40", "cd80",
)
_ACTG175_EXCLUDED = {
    "pidnum": "patient identifier",
    "treat": "the treatment (0 = zidovudine only, 1 = any other arm)",
    "arms": "the treatment (randomised arm)",
    "zprior": "zidovudine use before the study: 1 for every patient (an entry criterion), so it "
    "carries no information",
    "str2": "antiretroviral history, naive vs experienced: identical to strat > 1, so it would "
    "duplicate strat",
    "offtrt": "post-randomisation: went off treatment before 96 weeks",
    "cd420": "post-randomisation: CD4 count at 20 +/- 5 weeks (defines the outcome)",
    "cd820": "post-randomisation: CD8 count at 20 +/- 5 weeks",
    "cd496": "post-randomisation: CD4 count at 96 +/- 5 weeks (missing for 797 patients)",
    "r": "post-randomisation: whether the 96-week CD4 count was observed",
    "cens": "post-randomisation: event indicator of the time-to-event outcome",
    "days": "post-randomisation: days to CD4 decline >= 50%, AIDS or death, or censoring",
}


def load_actg175(treated_arms: tuple[int, ...] = (1,), control_arms: tuple[int, ...] = (0,)
                 ) -> EffectDataset:
    """AIDS Clinical Trials Group study 175: 2,139 HIV-infected adults with CD4 counts of
    200-500/mm^3, randomised to four regimens (Hammer et al., N Engl J Med 1996;335:1081-1090).

    Contrast: by default zidovudine + didanosine (arm 1, 522 patients) against zidovudine
    monotherapy (arm 0, 532), 1,054 patients in all. Two single arms rather than "any
    combination vs zidovudine" because a recommendation must name a regimen a clinician can
    prescribe (a pooled arm is a mixture of regimens), because zidovudine alone was the standard
    of care the trial tested against, and because two arms from a four-arm 1:1:1:1
    randomisation keep the known assignment probability of 0.5. Other contrasts: pass arm codes
    (:data:`ACTG175_ARMS`).

    Outcome: change in CD4 count from baseline to 20 +/- 5 weeks (``cd420 - cd40``, cells/mm^3,
    higher is better), observed for every patient; the censored time to an event (``days``,
    ``cens``) belongs to the survival tasks. Covariates: the 15 baseline measurements; every
    other column is listed with its reason in ``excluded_columns``.
    """
    for arm in (*treated_arms, *control_arms):
        if arm not in ACTG175_ARMS:
            raise ValueError(f"ACTG175 has arms {dict(ACTG175_ARMS)}, not {arm!r}")
    if not treated_arms or not control_arms or set(treated_arms) & set(control_arms):
        raise ValueError("treated_arms and control_arms must each name at least one arm and "
                         f"no arm twice, got {treated_arms} and {control_arms}")
    what = "ACTG175 (randomised HIV trial)"
    files = read_package_files("lifelines", [_ACTG175_RESOURCE], what=what, install=_INSTALL)
    (raw,), sha256, version, licence = files.contents, files.sha256, files.version, files.licence
    frame = pd.read_csv(io.BytesIO(raw), index_col=0)  # the first column is an R row number
    frame = frame[frame["arms"].isin((*treated_arms, *control_arms))].reset_index(drop=True)
    covariates = frame[list(_ACTG175_COVARIATES)].copy()
    # strat is an ordered 3-level history (naive, >1-52 weeks, >52 weeks of prior therapy):
    # categorical, not a number whose steps mean anything.
    covariates["strat"] = categorical(covariates["strat"], (1, 2, 3), where=what)
    treated = " or ".join(ACTG175_ARMS[a] for a in treated_arms)
    control = " or ".join(ACTG175_ARMS[a] for a in control_arms)
    provenance = DatasetProvenance(
        name="actg175",
        title="ACTG 175 randomised trial of nucleoside therapy in HIV (Hammer et al. 1996)",
        package="lifelines",
        package_version=version,
        resource=_ACTG175_RESOURCE,
        licence=f"data: no licence stated with the file; shipped in lifelines ({licence}, from "
        "the installed package metadata)",
        source_url="https://doi.org/10.1056/NEJM199610103351501",
        sha256=sha256,
        description="Hammer SM, Katzenstein DA, Hughes MD, et al. A trial comparing nucleoside "
        "monotherapy with combination therapy in HIV-infected adults with CD4 cell counts from "
        "200 to 500 per cubic millimeter. N Engl J Med 1996;335:1081-1090. Variable coding as "
        "in the R package speff2trial (data set ACTG175).",
    )
    return EffectDataset(
        name="actg175",
        covariates=covariates,
        treatment=frame["arms"].isin(treated_arms).to_numpy(dtype=int),
        outcome=(frame["cd420"] - frame["cd40"]).to_numpy(dtype=float),
        randomised=True,
        treated_label=treated,
        control_label=control,
        outcome_name="cd4_change_20wk",
        outcome_description="change in CD4 count from baseline to 20 +/- 5 weeks (cd420 - cd40)",
        outcome_unit="cells/mm^3",
        higher_is_better=True,
        provenance=provenance,
        # Equal allocation to the four arms: within any pair of arms each patient had the same
        # chance of either, so P(treated) is the share of the contrast's arms that are treated.
        design_propensity=len(treated_arms) / (len(treated_arms) + len(control_arms)),
        excluded_columns=dict(_ACTG175_EXCLUDED),
        notes=(f"contrast: {treated} (arms {list(treated_arms)}) vs {control} (arms "
               f"{list(control_arms)}); {len(frame)} of the trial's 2,139 patients",),
    )


# -- NHEFS -------------------------------------------------------------------------------------

_NHEFS_RESOURCE = "causallib/datasets/data/nhefs/NHEFS.csv"

# The confounders of the book's IP-weighting analysis (Hernán and Robins, Section 12.2); the
# squared terms of its propensity model are added by the model, not here.
_NHEFS_COVARIATES = ("sex", "race", "age", "education", "smokeintensity", "smokeyrs",
                     "exercise", "active", "wt71")
_NHEFS_LEVELS: Mapping[str, tuple[int, ...]] = {
    "education": (1, 2, 3, 4, 5),  # 8th grade or less, HS dropout, HS, college dropout, college
    "exercise": (0, 1, 2),  # much, moderate, little or no exercise (1971)
    "active": (0, 1, 2),  # very active, moderately active, inactive (1971)
}
# Measured after 1971 (after or during the period in which participants quit): never covariates.
_NHEFS_POST_BASELINE = {
    "wt82": "1982 weight (defines the outcome)",
    "wt82_71": "the outcome",
    "death": "death by 1992",
    "yrdth": "year of death", "modth": "month of death", "dadth": "day of death",
    "sbp": "systolic blood pressure in 1982", "dbp": "diastolic blood pressure in 1982",
    "smkintensity82_71": "change in cigarettes/day 1971-1982",
    "hightax82": "state tax in 1982", "price82": "tobacco price in 1982",
    "tax82": "tobacco tax in 1982", "price71_82": "price change 1971-1982",
    "tax71_82": "tax change 1971-1982",
}


def load_nhefs() -> EffectDataset:
    """NHANES I Epidemiologic Follow-up Study extract of Hernán and Robins' book: did quitting
    smoking between 1971 and 1982 (``qsmk``) change weight (``wt82_71``, kg)?

    1,629 cigarette smokers in 1971; as the book does (Section 12.2), the 63 without a 1982
    weight are dropped, leaving 1,566 (403 quitters). Covariates are the book's nine
    confounders, with education, exercise and active as categoricals of stated levels.
    Observational: quitting was not randomised. Lower weight gain is counted as better
    (``higher_is_better=False``); the dataset serves to estimate an average effect against the
    book's :data:`NHEFS_BOOK_ATE`, not to recommend smoking.
    """
    what = "NHEFS (Hernán and Robins, Causal Inference: What If)"
    files = read_package_files("causallib", [_NHEFS_RESOURCE], what=what, install=_INSTALL)
    (raw,), sha256, version, licence = files.contents, files.sha256, files.version, files.licence
    frame = pd.read_csv(io.BytesIO(raw))
    missing_weight = frame["wt82"].isna()
    frame = frame.loc[~missing_weight].reset_index(drop=True)
    covariates = frame[list(_NHEFS_COVARIATES)].copy()
    for column, levels in _NHEFS_LEVELS.items():
        covariates[column] = categorical(covariates[column], levels, where=what)
    excluded = {"seqn": "participant identifier", "qsmk": "the treatment",
                **{c: f"post-baseline: {why}" for c, why in _NHEFS_POST_BASELINE.items()}}
    excluded.update({c: "baseline, but not a confounder of the book's analysis" for c in
                     frame.columns if c not in excluded and c not in _NHEFS_COVARIATES})
    provenance = DatasetProvenance(
        name="nhefs",
        title="NHEFS smoking cessation and weight gain (Hernán and Robins, What If)",
        package="causallib",
        package_version=version,
        resource=_NHEFS_RESOURCE,
        licence="data: distributed by the book's authors for teaching, no licence stated; "
        f"shipped in causallib ({licence}, from the installed package metadata)",
        source_url="https://miguelhernan.org/whatifbook",
        sha256=sha256,
        description="National Health and Nutrition Examination Survey I Epidemiologic Follow-up "
        "Study (NHEFS), subset prepared for Hernán MA, Robins JM. Causal Inference: What If. "
        "Chapman & Hall/CRC, 2020.",
    )
    return EffectDataset(
        name="nhefs",
        covariates=covariates,
        treatment=frame["qsmk"].to_numpy(dtype=int),
        outcome=frame["wt82_71"].to_numpy(dtype=float),
        randomised=False,
        treated_label="quit smoking",
        control_label="kept smoking",
        outcome_name="wt82_71",
        outcome_description="weight change from 1971 to 1982 (wt82 - wt71)",
        outcome_unit="kg",
        higher_is_better=False,
        provenance=provenance,
        reference=NHEFS_BOOK_ATE,
        excluded_columns=excluded,
        notes=(f"{int(missing_weight.sum())} of {len(missing_weight)} participants without a "
               "1982 weight dropped, as in the book (Section 12.2)",),
    )


# -- ACIC 2016 ---------------------------------------------------------------------------------

_ACIC_DIR = "causallib/datasets/data/acic_challenge_2016"
# The three text covariates, with every level the 4,802 rows hold.
_ACIC_LEVELS: Mapping[str, tuple[str, ...]] = {
    "x_2": tuple("ABCDEF"),
    "x_21": tuple("ABCDEFGHIJKLMNOP"),
    "x_24": tuple("ABCDE"),
}


def load_acic2016(instance: int = 1) -> EffectDataset:
    """One of the 10 simulated instances of the 2016 Atlantic Causal Inference Conference data
    challenge that causallib ships (Dorie et al., Statistical Science 2019;34:43-68).

    4,802 rows of 58 real covariates (from the Collaborative Perinatal Project) with simulated
    treatment and outcomes. ``outcome`` is the observed noisy outcome (``y1`` of the file where
    treated, ``y0`` where not); the dataset's ``y0``/``y1`` are the true noise-free expected
    outcomes (the file's ``mu0``/``mu1``), whose difference is the true effect that PEHE is
    measured against. ``x_2``, ``x_21`` and ``x_24`` are categoricals with their levels stated.
    causallib does not record which of the challenge's 77 simulation settings each instance
    comes from.
    """
    if isinstance(instance, bool) or not isinstance(instance, int | np.integer) or (
            instance not in ACIC2016_INSTANCES):
        raise ValueError(f"ACIC 2016 instance must be an integer from 1 to 10 (causallib ships "
                         f"10), got {instance!r}")
    what = f"ACIC 2016 instance {instance}"
    resources_ = (f"{_ACIC_DIR}/x.csv", f"{_ACIC_DIR}/zymu_{instance}.csv")
    files = read_package_files("causallib", resources_, what=what, install=_INSTALL)
    (x_raw, zymu_raw), sha256, version, licence = (files.contents, files.sha256, files.version,
                                                   files.licence)
    covariates = pd.read_csv(io.BytesIO(x_raw))
    simulated = pd.read_csv(io.BytesIO(zymu_raw))
    if len(covariates) != len(simulated):
        raise ValueError(f"{what}: {resources_[0]} has {len(covariates)} rows but "
                         f"{resources_[1]} has {len(simulated)}; the installed files are not "
                         "the ones medora was checked against")
    for column, levels in _ACIC_LEVELS.items():
        covariates[column] = categorical(covariates[column], levels, where=what)
    treatment = simulated["z"].to_numpy(dtype=int)
    provenance = DatasetProvenance(
        name=f"acic2016_{instance}",
        title=f"ACIC 2016 data challenge, instance {instance} of causallib's 10",
        package="causallib",
        package_version=version,
        resource=" + ".join(resources_),
        licence="data: ACIC 2016 challenge data, no licence stated in causallib; shipped in "
        f"causallib ({licence}, from the installed package metadata)",
        source_url="https://github.com/vdorie/aciccomp/tree/master/2016",
        sha256=sha256,
        description="Dorie V, Hill J, Shalit U, Scott M, Cervone D. Automated versus "
        "do-it-yourself methods for causal inference: lessons learned from a data analysis "
        "competition. Statistical Science 2019;34(1):43-68.",
    )
    return EffectDataset(
        name=f"acic2016_{instance}",
        covariates=covariates,
        treatment=treatment,
        outcome=np.where(treatment == 1, simulated["y1"], simulated["y0"]).astype(float),
        randomised=False,
        treated_label="treated (simulated)",
        control_label="control (simulated)",
        outcome_name="y",
        outcome_description="simulated continuous outcome",
        outcome_unit="none (simulated)",
        # The simulation gives the outcome no meaning; larger is taken as better by convention.
        higher_is_better=True,
        provenance=provenance,
        y0=simulated["mu0"].to_numpy(dtype=float),
        y1=simulated["mu1"].to_numpy(dtype=float),
        excluded_columns={"z": "the treatment", "y0": "noisy potential outcome (observed only "
                          "where untreated)", "y1": "noisy potential outcome (observed only "
                          "where treated)", "mu0": "true expected outcome untreated",
                          "mu1": "true expected outcome treated"},
    )
