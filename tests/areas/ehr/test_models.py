"""Sequence models and bag-of-codes baselines on the EHR fixture: shapes, fitting, seeds and
explanations that point at real past events."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from medora.areas.ehr.baselines import BagOfCodesClassifier
from medora.areas.ehr.factory import EVENT_MODEL_NAMES, build_event_model
from medora.areas.ehr.featurizers import CodeVocabulary, event_sequences
from medora.areas.ehr.models import (
    EventGRU,
    EventSequenceClassifier,
    EventTransformer,
    GRUNetwork,
    SequenceModelConfig,
    TransformerNetwork,
    as_dataset,
    collate,
)
from medora.areas.ehr.tasks import EventSamples
from medora.core.registry import get_task
from medora.train.trainer import TrainerConfig

FIXTURE = Path(__file__).parents[2] / "data" / "fixtures" / "ehr" / "events.parquet"
TINY = SequenceModelConfig(width=8, layers=1, heads=2, max_events=32, min_count=2)


@pytest.fixture(scope="module")
def data() -> tuple[EventSamples, EventSamples]:
    """Readmission samples of the fixture, split by patient: (train, test)."""
    task = get_task("ehr.readmission_30d")
    samples = task.load_samples(FIXTURE)  # type: ignore[attr-defined]
    split = task.make_split(samples, seed=0)  # type: ignore[attr-defined]
    return samples.subset(np.concatenate([split.train, split.validation])), samples.subset(
        split.test)


def tiny(cls: type[EventSequenceClassifier], seed: int = 0) -> EventSequenceClassifier:
    return cls(TINY, TrainerConfig(max_epochs=2, patience=2, batch_size=32, progress=False),
               seed=seed)


@pytest.mark.parametrize("network", [TransformerNetwork(20, 8, 0.0, 1, 2),
                                     GRUNetwork(20, 8, 0.0, 1)])
def test_networks_give_one_logit_per_sequence_ignoring_padding(network: torch.nn.Module
                                                                ) -> None:
    torch.manual_seed(0)
    codes = torch.randint(2, 20, (3, 6))
    codes[0, 4:] = 0
    items = [(codes[i], torch.rand(6), torch.rand(6) * 80, torch.tensor(4 if i == 0 else 6),
              torch.tensor(0.0)) for i in range(3)]
    batch, _ = collate(items)
    network.eval()
    logits = network(batch)
    assert logits.shape == (3,)
    # Whatever sits in the padding of the first sequence does not change its logit.
    changed = batch._replace(days_before=batch.days_before.clone())
    changed.days_before[0, 4:] = 999.0
    assert torch.allclose(network(changed)[0], logits[0], atol=1e-6)


def test_transformer_drops_out_everywhere_but_the_attention_weights() -> None:
    layer = TransformerNetwork(20, 8, 0.1, 1, 2).encoder.layers[0]
    assert layer.self_attn.dropout == 0.0
    assert layer.dropout1.p == layer.dropout2.p == layer.dropout.p == 0.1


@pytest.mark.parametrize("cls", [EventTransformer, EventGRU])
def test_training_starts_from_the_training_prevalence(
        cls: type[EventSequenceClassifier], data: tuple[EventSamples, EventSamples]) -> None:
    train, validation = data
    model = cls(TINY, TrainerConfig(max_epochs=1, learning_rate=1e-12, progress=False))
    model.fit(train, train.labels, validation, validation.labels)
    # With a vanishing learning rate the bias stays where it started: the log-odds of the
    # training prevalence (half a count each way), not 0 (a 50% risk).
    prevalence = (train.labels.sum() + 0.5) / (len(train) + 1)
    assert prevalence < 0.3
    assert model.network_.head.bias.item() == pytest.approx(
        math.log(prevalence / (1 - prevalence)), abs=1e-6)


@pytest.mark.parametrize("cls", [EventTransformer, EventGRU])
def test_fit_predict_proba_and_seeded_determinism(
        cls: type[EventSequenceClassifier], data: tuple[EventSamples, EventSamples]) -> None:
    train, test = data
    model = tiny(cls).fit(train, train.labels)
    probability = model.predict_proba(test)
    assert probability.shape == (len(test), 2)
    assert np.allclose(probability.sum(axis=1), 1.0)
    assert set(np.unique(model.predict(test))) <= {0, 1}
    again = tiny(cls).fit(train, train.labels).predict_proba(test)
    assert np.array_equal(probability, again)
    other = tiny(cls, seed=1).fit(train, train.labels).predict_proba(test)
    assert not np.allclose(probability, other)


def test_explanations_point_at_real_past_events_and_sum_to_the_logit_change(
        data: tuple[EventSamples, EventSamples]) -> None:
    train, test = data
    model = tiny(EventTransformer).fit(train, train.labels)
    few = test.subset(np.arange(3))
    explanations = model.explain(few)
    assert set(explanations.columns) >= {"sample", "feature", "value", "time", "row",
                                         "contribution"}
    for position in range(len(few)):
        own = explanations[explanations["sample"] == position]
        inputs = few.inputs(position)
        # Every explained event is one of the sample's own input events, none after the
        # index time, and it carries that event's code.
        assert set(own["row"]) <= set(inputs.index)
        assert (few.events.loc[own["row"], "code"].to_numpy() == own["feature"]).all()
        assert (own["time"].dropna() <= few.samples["index_time"][position]).all()
        assert (own["value"] >= 0).all()
    # Completeness of integrated gradients: the contributions add up to the change in
    # log-odds from the all-padding-codes baseline.
    sequences = event_sequences(few, model.vocabulary_, model.config.max_events)
    batch, _ = collate([as_dataset(sequences, np.zeros(3))[i] for i in range(3)])
    with torch.no_grad():
        full = model.network_(batch)
        baseline = model.network_.logit_from_codes(
            torch.zeros(*batch.codes.shape, TINY.width), batch)
    totals = explanations.groupby("sample")["contribution"].sum().to_numpy()
    assert np.allclose(totals, (full - baseline).numpy(), atol=2e-3)


def test_an_event_that_drives_risk_gets_the_largest_contribution() -> None:
    # Synthetic sequences: the label is whether code 5 occurs. Trained, the model must
    # credit code 5, not the others.
    rng = np.random.default_rng(0)
    n, length = 400, 6
    codes = rng.integers(6, 12, (n, length))
    positive = rng.random(n) < 0.5
    codes[positive, rng.integers(0, length, positive.sum())] = 5
    model = tiny(EventGRU)
    network = model._network(12)
    from medora.areas.ehr.featurizers import EventSequences
    from medora.train.trainer import Trainer

    sequences = EventSequences(codes, np.ones((n, length), np.float32),
                               np.full((n, length), 50.0, np.float32),
                               np.full(n, length), np.zeros((n, length), np.int64))
    torch.manual_seed(0)
    data = as_dataset(sequences, positive.astype(float))
    Trainer(TrainerConfig(max_epochs=30, patience=30, batch_size=64, learning_rate=1e-2,
                          progress=False), collate=collate).fit(
        network, torch.nn.functional.binary_cross_entropy_with_logits, data, data)
    model.network_ = network.eval()
    batch, _ = collate([data[i] for i in np.flatnonzero(positive)[:20]])
    attributions = model._integrated_gradients(batch)
    top = attributions.argmax(axis=1)
    assert (batch.codes.numpy()[np.arange(20), top] == 5).mean() >= 0.9


@pytest.mark.parametrize("name", ["bag_logistic_regression", "bag_gradient_boosting"])
def test_bag_of_codes_baselines(name: str, data: tuple[EventSamples, EventSamples]) -> None:
    train, test = data
    model = build_event_model(name, quick=True, progress=False)
    assert isinstance(model, BagOfCodesClassifier)
    assert model.name == name and model.kind == "baseline"
    model.fit(train, train.labels)
    assert model.predict_proba(test).shape == (len(test), 2)
    explanations = model.explain(test.subset(np.arange(2)))
    assert set(explanations["sample"]) <= {0, 1}
    assert set(explanations["feature"]) <= set(model.features_.transform(test).columns)


def test_vocabulary_comes_from_the_training_samples(data: tuple[EventSamples, EventSamples]
                                                    ) -> None:
    train, test = data
    model = tiny(EventTransformer).fit(train, train.labels, test, test.labels)
    assert model.vocabulary_.codes == CodeVocabulary.fit(train, TINY.min_count).codes


def test_factory_builds_every_event_model() -> None:
    for name in EVENT_MODEL_NAMES:
        assert build_event_model(name, quick=True, progress=False).name == name
    with pytest.raises(KeyError, match="event_transformer"):
        build_event_model("mlp")


def test_bad_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of heads"):
        SequenceModelConfig(width=10, heads=4)
    with pytest.raises(ValueError, match="max_steps_per_epoch"):
        SequenceModelConfig(max_steps_per_epoch=0)
