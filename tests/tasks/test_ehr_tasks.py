"""EHR tasks: labels on hand-built event tables with known answers, exclusions, time leakage
and the patient-level split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medora.tasks import EventSequenceTask, get_task
from medora.tasks.ehr import EventSamples

FIXTURE = Path(__file__).parents[1] / "data" / "fixtures" / "ehr" / "events.parquet"
EHR_TASKS = ("ehr.readmission_30d", "ehr.mortality_1y", "ehr.diabetes_complication_2y")
END = "2025-01-01"  # every table below ends here (its last event)


def table(*events: tuple[int, str | None, str]) -> pd.DataFrame:
    """An event table from (subject, time, code); each subject is female, White, born
    1950-01-01, and the table ends at END."""
    subjects = sorted({subject for subject, _, _ in events})
    static = [(s, t, c) for s in subjects for t, c in ((None, "GENDER/female"),
                                                       (None, "RACE/2106-3"),
                                                       ("1950-01-01", "MEDS_BIRTH"))]
    rows = [*static, *events, (subjects[0], END, "LOINC/8302-2")]
    frame = pd.DataFrame(rows, columns=["subject_id", "time", "code"])
    frame["time"] = pd.to_datetime(frame["time"], format="ISO8601").astype("datetime64[us]")
    frame["text_value"] = None
    return frame


def task(name: str) -> EventSequenceTask:
    found = get_task(name)
    assert isinstance(found, EventSequenceTask)
    return found


def stay(subject: int, admitted: str, discharged: str) -> list[tuple[int, str, str]]:
    return [(subject, admitted, "ENCOUNTER/IMP"), (subject, discharged, "ENCOUNTER_END/IMP")]


def labels(samples: EventSamples) -> list[tuple[int, str, int]]:
    return [(int(s), str(t.date()), int(y)) for s, t, y in
            samples.samples[["subject_id", "index_time", "label"]].itertuples(index=False)]


def test_tasks_are_registered_as_event_sequence_tasks() -> None:
    for name in EHR_TASKS:
        assert task(name).modality == "event_sequence"
        assert {a.name for a in task(name).sensitive_attributes} == {
            "sex", "race", "ethnicity", "age_band"}


def test_readmission_labels_exclusions_and_censoring() -> None:
    events = table(
        *stay(1, "2020-01-01", "2020-01-05"),   # readmitted 29 days later: positive
        *stay(1, "2020-02-03", "2020-02-10"),   # next admission 40 days later: negative
        *stay(1, "2020-03-21", "2020-03-25"),   # no readmission: negative
        *stay(2, "2020-05-01", "2020-05-03"),   # died during the stay: excluded
        (2, "2020-05-03", "MEDS_DEATH"),
        *stay(3, "2024-12-20", "2024-12-22"),   # 10 days of follow-up left: censored
        *stay(4, "2021-06-01", "2021-06-02"),   # died after discharge, not readmitted: negative
        (4, "2021-06-20", "MEDS_DEATH"),
        (5, "2021-01-01", "ENCOUNTER/AMB"),     # not inpatient: no index
        (5, "2021-01-01", "ENCOUNTER_END/AMB"),
    )
    samples = task("ehr.readmission_30d").build(events)
    assert labels(samples) == [(1, "2020-01-05", 1), (1, "2020-02-10", 0),
                               (1, "2020-03-25", 0), (4, "2021-06-02", 0)]


def test_readmission_at_the_discharge_time_is_an_input_not_a_label() -> None:
    # A transfer: the next stay starts the moment the first ends. Its admission is known at
    # the index time, so it is an input, and the label looks only strictly after it.
    events = table(*stay(1, "2020-01-01", "2020-01-05"), *stay(1, "2020-01-05", "2020-01-09"))
    samples = task("ehr.readmission_30d").build(events)
    assert labels(samples) == [(1, "2020-01-05", 0), (1, "2020-01-09", 0)]
    assert "ENCOUNTER/IMP" in samples.inputs(0)["code"].tolist()[-2:]


def test_mortality_labels_yearly_indices_and_censoring() -> None:
    visits = [(1, f"{year}-03-01", "ENCOUNTER_END/AMB") for year in (2018, 2019, 2020)]
    events = table(
        *visits, (1, "2020-06-01", "MEDS_DEATH"),     # died 92 days after the 2020 visit
        (2, "2018-01-10", "ENCOUNTER_END/AMB"),
        (2, "2018-02-10", "ENCOUNTER_END/AMB"),       # same year as the first: no index
        (2, "2024-06-01", "ENCOUNTER_END/AMB"),       # under a year before the end: censored
        (3, "2019-01-01", "ENCOUNTER_END/AMB"),
        (3, "2020-06-01", "MEDS_DEATH"),              # 517 days later: negative
    )
    samples = task("ehr.mortality_1y").build(events)
    assert labels(samples) == [(1, "2018-03-01", 0), (1, "2019-03-01", 0),
                               (1, "2020-03-01", 1), (2, "2018-01-10", 0),
                               (3, "2019-01-01", 0)]


def test_diabetes_complication_labels_and_exclusions() -> None:
    events = table(
        (1, "2015-01-01", "SNOMED/44054006"),
        (1, "2015-02-01", "ENCOUNTER_END/AMB"),       # index year 0
        (1, "2016-03-01", "ENCOUNTER_END/AMB"),       # index year 1: neuropathy in 2 years
        (1, "2018-01-01", "SNOMED/368581000119106"),
        (1, "2018-02-01", "ENCOUNTER_END/AMB"),       # after the complication: no index
        (2, "2016-01-01", "SNOMED/127013003"),        # complication before diabetes
        (2, "2016-06-01", "SNOMED/44054006"),
        (2, "2017-01-01", "ENCOUNTER_END/AMB"),
        (3, "2017-01-01", "ENCOUNTER_END/AMB"),       # not diabetic
        (4, "2019-01-01", "SNOMED/44054006"),
        (4, "2019-02-01", "ENCOUNTER_END/AMB"),
        (4, "2020-01-01", "MEDS_DEATH"),              # died within 2 years: censored
    )
    samples = task("ehr.diabetes_complication_2y").build(events)
    assert labels(samples) == [(1, "2015-02-01", 0), (1, "2016-03-01", 1)]


def test_demographics_and_age_at_the_index_time() -> None:
    events = table(*stay(1, "2020-01-01", "2020-01-01"))
    row = task("ehr.readmission_30d").build(events).samples.iloc[0]
    assert (row["sex"], row["race"]) == ("female", "White")
    assert row["age"] == pytest.approx(70.0, abs=0.01)
    assert pd.isna(row["ethnicity"])


def test_an_event_one_second_after_the_index_time_is_not_an_input() -> None:
    after = pd.Timestamp("2020-01-05") + pd.Timedelta(seconds=1)
    events = table(*stay(1, "2020-01-01", "2020-01-05"),
                   (1, "2020-01-05", "LOINC/at-discharge"),
                   (1, str(after), "LOINC/one-second-later"))
    samples = task("ehr.readmission_30d").build(events)
    codes = samples.inputs(0)["code"].tolist()
    assert "LOINC/at-discharge" in codes
    assert "LOINC/one-second-later" not in codes


def assert_no_future_inputs(samples: EventSamples) -> None:
    """Every input event of every sample happened at or before its index time, and the
    inputs are the subject's own events."""
    for position in range(len(samples)):
        row = samples.samples.iloc[position]
        inputs = samples.inputs(position)
        assert (inputs["subject_id"] == row["subject_id"]).all()
        assert inputs["time"].max() <= row["index_time"]


@pytest.mark.parametrize("name", EHR_TASKS)
def test_no_future_event_reaches_the_inputs_of_the_fixture_cohort(name: str) -> None:
    samples = task(name).load_samples(FIXTURE)
    assert len(samples) > 0
    assert_no_future_inputs(samples)
    # The inputs stop at the index time, not earlier: the next event of the subject, if
    # any, is later than the index time.
    events = samples.events
    for position in range(len(samples)):
        stop = int(samples.samples.iloc[position]["stop"])
        row = samples.samples.iloc[position]
        if stop < len(events) and events.iloc[stop]["subject_id"] == row["subject_id"]:
            assert events.iloc[stop]["time"] > row["index_time"]


def test_the_leakage_check_catches_a_leaking_builder() -> None:
    samples = task("ehr.readmission_30d").load_samples(FIXTURE)
    leaking = samples.samples.copy()
    leaking.loc[0, "stop"] += 1  # one event past the index time
    with pytest.raises(AssertionError):
        assert_no_future_inputs(EventSamples(samples.events, leaking))


@pytest.mark.parametrize("name", ("ehr.readmission_30d", "ehr.mortality_1y"))
def test_fixture_has_both_outcomes(name: str) -> None:
    y = task(name).load_samples(FIXTURE).labels
    assert 0 < y.sum() < len(y)


@pytest.mark.parametrize("name", ("ehr.readmission_30d", "ehr.mortality_1y"))
def test_split_is_by_patient_seeded_and_complete(name: str) -> None:
    definition = task(name)
    samples = definition.load_samples(FIXTURE)
    split = definition.make_split(samples, seed=3)
    parts = [set(samples.subjects[rows]) for rows in (split.train, split.validation,
                                                      split.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert sorted(np.concatenate([split.train, split.validation, split.test])) == list(
        range(len(samples)))
    again = definition.make_split(samples, seed=3)
    assert np.array_equal(split.test, again.test)
    other = definition.make_split(samples, seed=4)
    assert not np.array_equal(split.test, other.test)


def test_a_split_needs_enough_patients() -> None:
    samples = task("ehr.readmission_30d").build(table(*stay(1, "2020-01-01", "2020-01-05")))
    with pytest.raises(ValueError, match="cannot be split"):
        task("ehr.readmission_30d").make_split(samples, seed=0)
