"""Event featurizers: the training-only vocabulary, sequence tensors and bag-of-codes counts."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from medora.areas.ehr.featurizers import (
    PAD,
    UNKNOWN,
    BagOfCodes,
    CodeVocabulary,
    event_sequences,
)
from medora.areas.ehr.tasks import EventSamples
from medora.core.registry import get_task


def samples_of(*events: tuple[int, str | None, str]) -> EventSamples:
    """Readmission samples of a table: every subject male, Black, born 2000-01-01."""
    subjects = sorted({subject for subject, _, _ in events})
    static = [(s, t, c) for s in subjects for t, c in ((None, "GENDER/male"),
                                                       (None, "RACE/2054-5"),
                                                       ("2000-01-01", "MEDS_BIRTH"))]
    frame = pd.DataFrame([*static, *events, (subjects[0], "2025-01-01", "LOINC/end")],
                         columns=["subject_id", "time", "code"])
    frame["time"] = pd.to_datetime(frame["time"]).astype("datetime64[us]")
    frame["text_value"] = None
    task = get_task("ehr.readmission_30d")
    return task.build(frame)  # type: ignore[attr-defined]


def stay(subject: int, admitted: str, discharged: str, *codes: str
         ) -> list[tuple[int, str, str]]:
    return [(subject, admitted, "ENCOUNTER/IMP"), *((subject, admitted, c) for c in codes),
            (subject, discharged, "ENCOUNTER_END/IMP")]


@pytest.fixture
def samples() -> EventSamples:
    return samples_of(*stay(1, "2020-01-01", "2020-01-11", "SNOMED/a", "SNOMED/b"),
                      *stay(2, "2020-01-01", "2020-01-11", "SNOMED/a"),
                      *stay(2, "2021-01-01", "2021-01-02", "SNOMED/a", "SNOMED/c"),
                      *stay(3, "2020-06-01", "2020-06-03", "SNOMED/b"))


def test_vocabulary_counts_patients_not_events_and_orders_by_frequency(
        samples: EventSamples) -> None:
    vocabulary = CodeVocabulary.fit(samples, min_count=2)
    # a: patients 1 and 2 (three events); b: patients 1 and 3; c: patient 2 only.
    # Ties broken by code; birth is not a code (its information is the age).
    assert vocabulary.codes == ["ENCOUNTER/IMP", "ENCOUNTER_END/IMP", "GENDER/male",
                                "RACE/2054-5", "SNOMED/a", "SNOMED/b"]
    assert len(vocabulary) == 8  # with padding and unknown
    ids = vocabulary.encode(pd.DataFrame({"code": ["SNOMED/a", "SNOMED/c", "never seen"]}))
    assert ids[0] >= 2 and ids[1] == UNKNOWN and ids[2] == UNKNOWN


def test_measurements_are_tokens_of_their_training_value_quantile() -> None:
    # Four patients' A1c at 5, 6, 7 and 9 %, and a 30 % after the last index time.
    samples = samples_of(*(event for subject in (1, 2, 3, 4)
                           for event in stay(subject, "2020-01-01", "2020-01-11", "LOINC/a1c")),
                         *stay(5, "2020-01-01", "2020-01-11"))
    events = samples.events.copy()
    values = {1: 5.0, 2: 6.0, 3: 7.0, 4: 9.0}
    a1c = events["code"] == "LOINC/a1c"
    events.loc[a1c, "numeric_value"] = events.loc[a1c, "subject_id"].map(values)
    events.loc[events["code"] == "LOINC/end", ["code", "numeric_value"]] = ["LOINC/a1c", 30.0]
    samples = EventSamples(events, samples.samples)
    vocabulary = CodeVocabulary.fit(samples, min_count=1, value_bins=2)
    # The training values' median, 6.5, splits them; the value after the index is unseen.
    np.testing.assert_array_equal(vocabulary.value_edges["LOINC/a1c"], [6.5])
    assert {"LOINC/a1c#q1", "LOINC/a1c#q2"} <= set(vocabulary.codes)
    assert "LOINC/a1c" not in vocabulary.codes
    query = pd.DataFrame({"code": ["LOINC/a1c", "LOINC/a1c", "LOINC/a1c", "SNOMED/x"],
                          "numeric_value": [4.0, 6.5, 12.0, 1.0]})
    names = vocabulary.decode(vocabulary.encode(query))
    # A value at an edge goes to the upper bin; a coded event without bins keeps its code.
    assert names == ["LOINC/a1c#q1", "LOINC/a1c#q2", "LOINC/a1c#q2", "<unknown>"]
    # Fewer than min_count patients measured: the code is not binned.
    assert "LOINC/a1c" not in CodeVocabulary.fit(samples, min_count=5).value_edges


def test_vocabulary_is_fitted_on_the_training_patients_only(samples: EventSamples) -> None:
    train = samples.subset(np.flatnonzero(samples.subjects != 3))
    vocabulary = CodeVocabulary.fit(train, min_count=1)
    assert "SNOMED/c" in vocabulary.codes  # patient 2's
    held_out = set(samples.events.loc[samples.events["subject_id"] == 3, "code"])
    only_held_out = held_out - set(train.events.iloc[np.concatenate([
        np.arange(a, b) for a, b in train.samples[["start", "stop"]].itertuples(index=False)])
    ]["code"])
    assert not only_held_out & set(vocabulary.codes)


def test_vocabulary_ignores_events_after_the_last_index_time(samples: EventSamples) -> None:
    # Patient 1's only sample is its first discharge; the table's last event (LOINC/end,
    # 2025) is after it and must not enter the vocabulary.
    assert "LOINC/end" not in CodeVocabulary.fit(samples, min_count=1).codes


def test_sequences_are_right_padded_recent_last_with_times_and_ages(
        samples: EventSamples) -> None:
    vocabulary = CodeVocabulary.fit(samples, min_count=1)
    sequences = event_sequences(samples, vocabulary, max_events=3)
    n = len(samples)
    assert sequences.codes.shape == sequences.days_before.shape == sequences.age.shape
    assert sequences.codes.shape[0] == n
    # Two static facts (sex, race) and the 3 most recent events; birth is given as the age.
    assert (sequences.lengths == 5).all()
    first = samples.inputs(0)
    names = vocabulary.decode(sequences.codes[0, :5])
    assert names[:2] == ["GENDER/male", "RACE/2054-5"]
    assert names[2:] == [c for c in first["code"] if c != "MEDS_BIRTH"][-3:]
    assert (sequences.days_before[:, 2:] >= 0).all()
    assert sequences.days_before[0, 4] == 0.0  # the discharge is the index time
    assert sequences.age[0, 4] == pytest.approx(20.03, abs=0.01)
    assert sequences.days_before[0, 0] == pytest.approx(samples.samples["age"][0] * 365.25,
                                                       rel=1e-5)
    wide = event_sequences(samples, vocabulary, max_events=100)
    assert (wide.codes[wide.rows < 0] == PAD).all()
    assert set(wide.rows[0][wide.rows[0] >= 0]) <= set(first.index)


def test_bag_of_codes_counts_inputs_and_one_hot_demographics(samples: EventSamples) -> None:
    features = BagOfCodes(min_count=1).fit(samples).transform(samples)
    assert len(features) == len(samples)
    assert "count:SNOMED/a" in features.columns
    # Patient 2's second discharge sees both of its stays: SNOMED/a twice.
    second = samples.samples.index[(samples.subjects == 2)][-1]
    assert features.loc[second, "count:SNOMED/a"] == 2
    assert features.loc[second, "count:ENCOUNTER/IMP"] == 2
    assert (features["sex=male"] == 1).all()
    assert (features["race=Black or African American"] == 1).all()
    assert features.filter(like="age_band=").sum(axis=1).eq(1).all()
    assert not any(column.startswith("count:GENDER") for column in features.columns)


def test_bag_of_codes_gives_the_same_columns_on_any_subset(samples: EventSamples) -> None:
    bag = BagOfCodes(min_count=1).fit(samples)
    assert list(bag.transform(samples.subset(np.array([0]))).columns) == list(
        bag.transform(samples).columns)


def test_bad_settings_are_refused(samples: EventSamples) -> None:
    with pytest.raises(ValueError, match="min_count"):
        CodeVocabulary.fit(samples, min_count=0)
    with pytest.raises(ValueError, match="max_events"):
        event_sequences(samples, CodeVocabulary([]), max_events=0)


def test_a_vocabulary_pickled_before_value_bins_reads_codes_alone() -> None:
    old = CodeVocabulary(["LOINC/a1c"])
    del old.value_edges  # as a vocabulary of a model trained before bins existed
    restored = pickle.loads(pickle.dumps(old))
    query = pd.DataFrame({"code": ["LOINC/a1c"], "numeric_value": [9.0]})
    assert restored.decode(restored.encode(query)) == ["LOINC/a1c"]
