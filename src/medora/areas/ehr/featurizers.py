"""Model inputs from event samples: a code vocabulary fitted on training patients, padded
event sequences for the sequence models, and bag-of-codes counts with demographics for the
classical baselines.

A measurement's value is part of its token: a code with numeric values (a laboratory
result, a vital sign) is split into the quantile bins of its training values, so
``LOINC/4548-4#q5`` is a haemoglobin A1c in the top fifth of the training patients' results.
Both the sequence models and the bag-of-codes baselines read the same tokens.

Only a sample's input rows (:attr:`EventSamples.samples` ``start``/``stop``) are read, so
nothing after a sample's index time reaches any feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd

from medora.areas.ehr.tasks import EHR_ATTRIBUTES, EventSamples
from medora.data.meds import BIRTH

PAD, UNKNOWN = 0, 1
UNKNOWN_CODE = "<unknown>"
DAYS_PER_YEAR = 365.25


def _sample_rows(samples: EventSamples) -> list[np.ndarray]:
    """Each sample's input rows of ``samples.events``, without the birth event (its
    information is the age, given separately)."""
    is_birth = (samples.events["code"] == BIRTH).to_numpy()
    rows = []
    for start, stop in samples.samples[["start", "stop"]].itertuples(index=False):
        span = np.arange(start, stop)
        rows.append(span[~is_birth[start:stop]])
    return rows


def _training_rows(samples: EventSamples) -> np.ndarray:
    """The event rows of every patient's inputs: a patient's inputs over all its samples are
    the rows up to its latest index time."""
    spans = samples.samples.groupby("subject_id").agg(start=("start", "min"),
                                                      stop=("stop", "max"))
    return np.concatenate([np.arange(a, b) for a, b in spans.itertuples(index=False)]
                          or [np.empty(0, dtype=np.int64)])


class CodeVocabulary:
    """The tokens seen in at least ``min_count`` training patients' inputs, most frequent
    first; every other token maps to :data:`UNKNOWN`, padding to :data:`PAD`.

    A token is an event's code, and for a code with numeric values in at least ``min_count``
    training patients, the quantile bin of the value too (``<code>#q<k>``, k = 1 for the
    lowest of ``value_bins`` bins; fewer bins where the training values tie). Counting
    patients rather than events keeps a token that one patient repeats a hundred times from
    entering a vocabulary it would only let a model memorise that patient by.
    """

    def __init__(self, codes: Sequence[str],
                 value_edges: dict[str, np.ndarray] | None = None) -> None:
        self.codes = list(codes)
        self.value_edges = dict(value_edges or {})
        self.index_ = {code: position + 2 for position, code in enumerate(self.codes)}

    @classmethod
    def fit(cls, samples: EventSamples, min_count: int = 5, value_bins: int = 5) -> Self:
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1 patient, got {min_count}")
        if value_bins < 1:
            raise ValueError(f"value_bins must be at least 1, got {value_bins}")
        inputs = samples.events.iloc[_training_rows(samples)]
        inputs = inputs[inputs["code"] != BIRTH]
        measured = (inputs[inputs["numeric_value"].notna()] if "numeric_value" in inputs
                    else inputs.iloc[:0].assign(numeric_value=np.nan))
        patients = measured.groupby("code")["subject_id"].nunique()
        quantiles = np.linspace(0, 1, value_bins + 1)[1:-1]
        value_edges = {
            code: edges for code, values in measured.groupby("code")["numeric_value"]
            if patients[code] >= min_count
            and len(edges := np.unique(np.quantile(values.to_numpy(np.float64), quantiles)))}
        seen = pd.DataFrame({"subject_id": inputs["subject_id"].to_numpy(),
                             "token": tokens(inputs, value_edges)}).drop_duplicates()
        counts = seen["token"].value_counts()
        counts = counts[counts >= min_count]
        # Ties broken by token, so the same data always gives the same ids.
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls([token for token, _ in ordered], value_edges)

    def __setstate__(self, state: dict[str, object]) -> None:
        # A vocabulary pickled before measurements had bins read every event as its code
        # alone, as the model it belongs to was trained.
        self.__dict__.update({"value_edges": {}, **state})

    def __len__(self) -> int:
        """Ids in use, padding and unknown included (the embedding table's size)."""
        return len(self.codes) + 2

    def encode(self, events: pd.DataFrame) -> np.ndarray:
        """The vocabulary id of every event (row) of ``events``."""
        return (pd.Series(tokens(events, self.value_edges)).map(self.index_).fillna(UNKNOWN)
                .to_numpy(dtype=np.int64))

    def decode(self, ids: np.ndarray) -> list[str]:
        names = ["<pad>", UNKNOWN_CODE, *self.codes]
        return [names[i] for i in ids]


def tokens(events: pd.DataFrame, value_edges: dict[str, np.ndarray]) -> np.ndarray:
    """Each event's token: its code, with ``#q<k>`` (the value's 1-based bin between
    ``value_edges[code]``) when the event has a value and its code has bins."""
    codes = events["code"].to_numpy(dtype=object)
    values = (events["numeric_value"].to_numpy(dtype=np.float64) if "numeric_value" in events
              else np.full(len(events), np.nan))
    out = codes.copy()
    binned = np.flatnonzero(~np.isnan(values)
                            & pd.Series(codes).isin(value_edges.keys()).to_numpy())
    # Grouped by code once (comparing object arrays code by code is quadratic in effect),
    # and each distinct (code, bin) token is formatted once.
    code_ids, binned_codes = pd.factorize(codes[binned])
    order = np.argsort(code_ids, kind="stable")
    starts = np.searchsorted(code_ids[order], np.arange(len(binned_codes) + 1))
    bins = np.empty(len(binned), np.int64)
    for position, code in enumerate(binned_codes):
        rows = order[starts[position]:starts[position + 1]]
        bins[rows] = np.searchsorted(value_edges[code], values[binned[rows]], side="right") + 1
    width = int(bins.max(initial=0)) + 1
    pairs, inverse = np.unique(code_ids * width + bins, return_inverse=True)
    names = np.array([f"{binned_codes[pair // width]}#q{pair % width}" for pair in pairs],
                     dtype=object)
    out[binned] = names[inverse]
    return out


@dataclass(frozen=True)
class EventSequences:
    """Right-padded event sequences, oldest event first, the most recent ``max_events`` of
    each sample. Static facts (sex, race, ethnicity) come first, placed at birth.

    ``codes`` (n, length) vocabulary ids, :data:`PAD` after the last event; ``days_before``
    days from each event to the index time (>= 0); ``age`` the patient's age in years at the
    event; ``lengths`` the events per sample; ``rows`` each event's row in the event table
    (-1 for padding), so an explanation can name the real event.
    """

    codes: np.ndarray
    days_before: np.ndarray
    age: np.ndarray
    lengths: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)


def event_sequences(samples: EventSamples, vocabulary: CodeVocabulary, max_events: int
                    ) -> EventSequences:
    """The sequences of ``samples`` (see :class:`EventSequences`)."""
    if max_events < 1:
        raise ValueError(f"max_events must be at least 1, got {max_events}")
    events = samples.events
    ids = vocabulary.encode(events)
    times = events["time"].to_numpy(dtype="datetime64[us]")
    static = np.isnat(times)
    kept = []
    for rows in _sample_rows(samples):
        dynamic = rows[~static[rows]]
        kept.append(np.concatenate([rows[static[rows]], dynamic[-max_events:]]))
    length = max((len(rows) for rows in kept), default=0) or 1
    n = len(kept)
    shape = (n, length)
    codes, rows_out = np.zeros(shape, np.int64), np.full(shape, -1, np.int64)
    days, age = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    index_times = samples.samples["index_time"].to_numpy(dtype="datetime64[us]")
    age_at_index = samples.samples["age"].fillna(0.0).to_numpy(dtype=np.float64)
    one_day = np.timedelta64(1, "D")
    for i, rows in enumerate(kept):
        count = len(rows)
        codes[i, :count], rows_out[i, :count] = ids[rows], rows
        before = np.where(static[rows], age_at_index[i] * DAYS_PER_YEAR,
                          (index_times[i] - times[rows]) / one_day)
        days[i, :count] = before
        age[i, :count] = np.maximum(age_at_index[i] - before / DAYS_PER_YEAR, 0.0)
    return EventSequences(codes, days, age, np.array([len(r) for r in kept], np.int64),
                          rows_out)


class BagOfCodes:
    """Per sample: how often each vocabulary code occurs in its inputs (``count:<code>``,
    unknown codes pooled in ``count:<unknown>``), and one-hot sex, race, ethnicity and age
    band (the fairness groups), fitted on training patients only."""

    def __init__(self, min_count: int = 5) -> None:
        self.min_count = min_count

    def fit(self, samples: EventSamples) -> Self:
        self.vocabulary_ = CodeVocabulary.fit(samples, self.min_count)
        # Static facts are the one-hot demographics, not counts.
        static = set(samples.events.loc[samples.events["time"].isna(), "code"])
        names = self.vocabulary_.decode(np.arange(1, len(self.vocabulary_)))
        self.counted_ = np.array([name not in static for name in names])
        self.count_columns_ = [f"count:{name}" for name in np.array(names)[self.counted_]]
        return self

    def transform(self, samples: EventSamples) -> pd.DataFrame:
        ids = self.vocabulary_.encode(samples.events)
        static = samples.events["time"].isna().to_numpy()
        counts = np.zeros((len(samples), len(self.vocabulary_)), dtype=np.float64)
        for i, rows in enumerate(_sample_rows(samples)):
            counts[i] = np.bincount(ids[rows[~static[rows]]], minlength=len(self.vocabulary_))
        frame = pd.DataFrame(counts[:, 1:][:, self.counted_], columns=self.count_columns_)
        demographics = [pd.get_dummies(attribute.groups(samples.samples), prefix=attribute.name,
                                       prefix_sep="=", dtype=np.float64)
                        for attribute in EHR_ATTRIBUTES]
        return pd.concat([frame, *demographics], axis=1)
