"""EHR tasks: labels on hand-built event tables with known answers, exclusions, time leakage,
the patient-level split, and the index rule that training and serving share (where a task may
predict, and why it may not)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medora.areas.ehr.tasks import EventSamples, EventSequenceTask, NoEligibleIndexError
from medora.core.registry import get_task

FIXTURE = Path(__file__).parents[2] / "data" / "fixtures" / "ehr" / "events.parquet"
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


# -- The index rule: shared by training (with labels) and serving (without) ---------------------


def one_patient(*events: tuple[int, str | None, str]) -> pd.DataFrame:
    """Subject 1's events (see :func:`table`) without the table's end marker."""
    frame = table(*events)
    return frame[frame["code"] != "LOINC/8302-2"].reset_index(drop=True)


def chosen(name: str, events: pd.DataFrame, at: str | None = None) -> tuple[str, str]:
    choice = task(name).choose_index(events, None if at is None else pd.Timestamp(at))
    return str(choice.time.date()), choice.source


@pytest.mark.parametrize("name", EHR_TASKS)
def test_every_training_sample_is_at_an_index_the_rule_allows(name: str) -> None:
    definition = task(name)
    samples = definition.load_samples(FIXTURE)
    eligible = definition.index.eligible(samples.events)
    allowed = set(zip(eligible["subject_id"], eligible["index_time"], strict=True))
    drawn = set(zip(samples.samples["subject_id"], samples.samples["index_time"], strict=True))
    assert drawn <= allowed
    # Labels need follow-up, the rule does not: it allows indices training must leave out.
    assert len(allowed) > len(drawn)


def test_readmission_predicts_at_the_latest_discharge_of_a_living_patient() -> None:
    events = one_patient(*stay(1, "2020-01-01", "2020-01-05"),
                         *stay(1, "2024-12-20", "2024-12-28"))  # censored for training
    assert chosen("ehr.readmission_30d", events) == (
        "2024-12-28", "the latest inpatient discharge (ENCOUNTER_END/IMP) in the record")
    died = one_patient(*stay(1, "2020-01-01", "2020-01-05"),
                       *stay(1, "2021-03-01", "2021-03-04"), (1, "2021-03-04", "MEDS_DEATH"))
    assert chosen("ehr.readmission_30d", died)[0] == "2020-01-05"  # not the stay ending in death


def test_mortality_predicts_at_the_latest_visit_even_without_follow_up() -> None:
    events = one_patient((1, "2019-03-01", "ENCOUNTER_END/AMB"),
                         (1, "2024-11-30", "ENCOUNTER_END/EMER"))
    assert chosen("ehr.mortality_1y", events)[0] == "2024-11-30"
    assert task("ehr.mortality_1y").build(table((1, "2024-11-30", "ENCOUNTER_END/EMER"))
                                          ).samples.empty  # training: censored


def test_diabetes_predicts_at_the_latest_visit_before_a_complication() -> None:
    events = one_patient((1, "2014-06-01", "ENCOUNTER_END/AMB"),   # before the diagnosis
                         (1, "2015-01-01", "SNOMED/44054006"),
                         (1, "2016-03-01", "ENCOUNTER_END/AMB"),
                         (1, "2017-05-01", "ENCOUNTER_END/AMB"),
                         (1, "2018-01-01", "SNOMED/368581000119106"),
                         (1, "2018-02-01", "ENCOUNTER_END/AMB"))   # after the neuropathy
    assert chosen("ehr.diabetes_complication_2y", events)[0] == "2017-05-01"


@pytest.mark.parametrize(("name", "events", "expected"), [
    ("ehr.readmission_30d", [(1, "2021-01-01", "ENCOUNTER_END/AMB")],
     "ehr.readmission_30d predicts at each inpatient discharge (ENCOUNTER_END/IMP), and the "
     "record has none"),
    ("ehr.readmission_30d", [*stay(1, "2021-03-01", "2021-03-04"),
                             (1, "2021-03-04", "MEDS_DEATH")],
     "the record has 1, none eligible: at the latest (2021-03-04 00:00:00), the patient died "
     "on 2021-03-04, at or before it"),
    ("ehr.diabetes_complication_2y", [(1, "2021-01-01", "ENCOUNTER_END/AMB")],
     "none eligible: at the latest (2021-01-01 00:00:00), no type 2 diabetes diagnosis "
     "(SNOMED/44054006, Diabetes mellitus type 2 (disorder)) at or before it"),
    ("ehr.diabetes_complication_2y", [(1, "2015-01-01", "SNOMED/44054006"),
                                      (1, "2016-01-01", "SNOMED/127013003"),
                                      (1, "2016-02-01", "ENCOUNTER_END/AMB")],
     "a diabetic complication (SNOMED/127013003, Disorder of kidney due to diabetes mellitus "
     "(disorder)) was recorded on 2016-01-01, at or before it"),
])
def test_without_an_eligible_index_the_error_says_why(
        name: str, events: list[tuple[int, str, str]], expected: str) -> None:
    with pytest.raises(NoEligibleIndexError) as raised:
        task(name).choose_index(one_patient(*events))
    assert expected in str(raised.value)


def test_a_given_index_time_is_checked_on_the_events_up_to_it_only() -> None:
    events = one_patient((1, "2015-01-01", "SNOMED/44054006"),
                         (1, "2016-02-01", "ENCOUNTER_END/AMB"),
                         (1, "2018-01-01", "SNOMED/368581000119106"),
                         (1, "2020-06-01", "MEDS_DEATH"))
    diabetes = "ehr.diabetes_complication_2y"
    # Later complications and a later death do not make an earlier time ineligible.
    assert chosen(diabetes, events, "2017-06-30") == ("2017-06-30", "given")
    assert chosen("ehr.mortality_1y", events, "2019-01-01") == ("2019-01-01", "given")
    for at, reason in (("2014-12-31", "no type 2 diabetes diagnosis"),
                       ("2018-01-01", "a diabetic complication"),
                       ("2020-06-01", "the patient died on 2020-06-01"),
                       ("1949-12-31", "it is before the patient's birth on 1950-01-01")):
        with pytest.raises(NoEligibleIndexError, match=reason):
            task(diabetes).choose_index(events, pd.Timestamp(at))


@pytest.mark.parametrize("name", EHR_TASKS)
def test_a_serving_sample_is_the_training_sample_at_the_same_index(name: str) -> None:
    definition = task(name)
    samples = definition.load_samples(FIXTURE)
    for position in np.random.default_rng(0).choice(len(samples), 5, replace=False):
        row = samples.samples.iloc[position]
        subject = samples.events[samples.events["subject_id"] == row["subject_id"]]
        served = definition.samples_at(subject, row["index_time"])
        assert_no_future_inputs(served)
        expected = samples.inputs(position).reset_index(drop=True)
        assert served.inputs(0).reset_index(drop=True).equals(expected)
        for column in ("sex", "race", "ethnicity", "age", "index_time"):
            assert served.samples[column].iloc[0] == row[column] or (
                pd.isna(served.samples[column].iloc[0]) and pd.isna(row[column]))
        assert "label" not in served.samples.columns


def test_serving_takes_one_patient_at_a_time() -> None:
    events = table(*stay(1, "2020-01-01", "2020-01-05"), *stay(2, "2020-01-01", "2020-01-05"))
    with pytest.raises(ValueError, match="one patient's events expected, got 2"):
        task("ehr.readmission_30d").choose_index(events)
