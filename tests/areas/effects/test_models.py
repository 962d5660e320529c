"""Effect models on simulated data with a known heterogeneous effect tau(x) = 1 + 2 x0: TARNet
recovers it, DragonNet's loss matches a hand computation, the baselines work behind the same
surface, and fits are reproducible by seed."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from medora.areas.effects.baselines import CausalForest, DRLearner, TLearner, XLearner
from medora.areas.effects.models import (
    DragonNet,
    EffectModel,
    OffsetModule,
    OffsetTARNet,
    TARNet,
    dragonnet_loss,
    factual_loss,
)
from medora.train.trainer import TrainerConfig

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def simulate(n: int, seed: int, steps: bool = False) -> Data:
    """Confounded treatment (x1 raises both treatment and outcome) and effect 1 + 2 x0; with
    ``steps``, thresholds instead of slopes: effect 1 + 2 [x0 > 0], outcome steps in x2, x3."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    treatment = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x[:, 1]))).astype(float)
    if steps:
        tau = 1 + 2 * (x[:, 0] > 0)
        baseline = 3 * (x[:, 2] > 0.5) + 2 * (x[:, 3] > -0.5)
    else:
        tau = 1 + 2 * x[:, 0]
        baseline = x[:, 1] + x[:, 2]
    y = baseline + treatment * tau + rng.normal(scale=0.5, size=n)
    return x, treatment, y, tau


@pytest.fixture(scope="module")
def data() -> dict[str, Data]:
    return {"train": simulate(800, 0), "validation": simulate(200, 1), "test": simulate(400, 2)}


def small_network(cls: type[TARNet], seed: int = 0,
                  piecewise_bins: tuple[int, ...] = (0, 8, 16)) -> TARNet:
    trainer = TrainerConfig(max_epochs=40, patience=8, batch_size=64, progress=False)
    return cls(representation_sizes=(64, 64), head_sizes=(32,), n_members=2, trainer=trainer,
               seed=seed, piecewise_bins=piecewise_bins)


def fit(model: EffectModel, data: dict[str, Data]) -> EffectModel:
    x, t, y, _ = data["train"]
    x_val, t_val, y_val, _ = data["validation"]
    return model.fit(x, t, y, x_val, t_val, y_val)


def pehe(model: EffectModel, data: dict[str, Data]) -> float:
    x, _, _, tau = data["test"]
    return float(np.sqrt(np.mean((model.predict_effect(x).cate - tau) ** 2)))


def ate_only_pehe(data: dict[str, Data]) -> float:
    """PEHE of the best constant predictor (the true ATE): the spread of the true effects."""
    tau = data["test"][3]
    return float(np.sqrt(np.mean((tau - tau.mean()) ** 2)))


@pytest.fixture(scope="module")
def tarnet(data: dict[str, Data]) -> EffectModel:
    return fit(small_network(TARNet), data)


@pytest.fixture(scope="module")
def dragonnet(data: dict[str, Data]) -> EffectModel:
    return fit(small_network(DragonNet), data)


def test_tarnet_recovers_heterogeneous_effect(tarnet: EffectModel,
                                              data: dict[str, Data]) -> None:
    assert pehe(tarnet, data) < 0.3 * ate_only_pehe(data)  # about 0.25 against 2.0
    prediction = tarnet.predict_effect(data["test"][0])
    assert prediction.lower is not None and prediction.upper is not None
    assert (prediction.lower <= prediction.cate).all()
    assert (prediction.cate <= prediction.upper).all()
    assert "not a 95% confidence interval" in prediction.interval
    mu0, mu1 = tarnet.predict_outcomes(data["test"][0])
    np.testing.assert_allclose(mu1 - mu0, prediction.cate, rtol=1e-6, atol=1e-6)


def test_offset_tarnet_recovers_heterogeneous_effect_from_its_effect_head(
        data: dict[str, Data]) -> None:
    model = fit(small_network(OffsetTARNet), data)
    assert pehe(model, data) < 0.3 * ate_only_pehe(data)
    mu0, mu1 = model.predict_outcomes(data["test"][0])
    np.testing.assert_allclose(mu1 - mu0, model.predict_effect(data["test"][0]).cate,
                               rtol=1e-6, atol=1e-6)


def test_offset_module_adds_the_effect_head_to_the_control_head() -> None:
    torch.manual_seed(0)
    module = OffsetModule(5, (8,), (4,), (3,))
    x = torch.randn(6, 5)
    shared = module.representation(x)
    outputs = module(x)
    torch.testing.assert_close(outputs[:, 0:1], module.heads[0](shared))
    torch.testing.assert_close(outputs[:, 1:2] - outputs[:, 0:1], module.heads[1](shared))
    assert module.heads[1][-1].in_features == 3  # the effect head is its own, smaller stack


def test_dragonnet_recovers_effect_and_propensity(dragonnet: EffectModel,
                                                  data: dict[str, Data]) -> None:
    assert pehe(dragonnet, data) < 0.3 * ate_only_pehe(data)
    x = data["test"][0]
    propensity = dragonnet.propensity(x)
    assert propensity.shape == (len(x),)
    assert ((propensity > 0) & (propensity < 1)).all()
    # Treatment rises with x1 in the simulation; the propensity head must have learned it.
    assert np.corrcoef(propensity, x[:, 1])[0, 1] > 0.5


def test_piecewise_bins_are_chosen_on_validation_where_the_surface_has_steps() -> None:
    steps = {"train": simulate(800, 0, steps=True), "validation": simulate(200, 1, steps=True),
             "test": simulate(400, 2, steps=True)}
    binned = fit(small_network(TARNet), steps)
    plain = fit(small_network(TARNet, piecewise_bins=(0,)), steps)
    losses = binned.encoding_validation_loss_
    assert set(losses) == {0, 8, 16}
    assert binned.piecewise_bins_ == min(losses, key=losses.__getitem__) > 0
    assert losses[binned.piecewise_bins_] < 0.8 * losses[0]  # about 0.084 against 0.131
    assert pehe(binned, steps) < 0.8 * pehe(plain, steps)
    assert len(binned.members_) == len(binned.histories_) == 2
    # Each of 5 covariates, plus its bins: up to 16 each, fewer where quantiles tie.
    assert 5 * 2 < binned.input_encoding_.n_outputs <= 5 * 17
    assert plain.piecewise_bins_ == 0 and plain.input_encoding_.n_outputs == 5


def test_a_model_pickled_before_input_encodings_still_predicts(
        data: dict[str, Data]) -> None:
    plain = fit(small_network(TARNet, piecewise_bins=(0,)), data)
    earlier = TARNet.__new__(TARNet)  # the attributes a model had before 2026-11-23
    earlier.__dict__.update({name: value for name, value in plain.__dict__.items() if name not in {
        "input_encoding_", "piecewise_bins", "piecewise_bins_", "encoding_validation_loss_"}},
        x_mean_=plain.input_encoding_.mean, x_scale_=plain.input_encoding_.scale)
    restored = pickle.loads(pickle.dumps(earlier))
    x = data["test"][0]
    np.testing.assert_array_equal(restored.predict_effect(x).cate, plain.predict_effect(x).cate)
    assert restored.fitted_choices()["piecewise_bins"] == 0


def test_losses_match_hand_computed_values() -> None:
    # Two patients: treated with outcome 2, control with outcome 0; propensities 0.5, 0.75.
    outputs = torch.tensor([[0.5, 1.0, 0.0], [0.2, -0.3, math.log(3.0)]])
    targets = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    epsilon = torch.tensor([0.1])
    squared = ((1.0 - 2.0) ** 2 + (0.2 - 0.0) ** 2) / 2  # factual heads: 1.0 and 0.2
    cross_entropy = (-math.log(0.5) - math.log(1 - 0.75)) / 2
    # Perturbed: 1.0 + 0.1 / 0.5 = 1.2 (treated), 0.2 - 0.1 / (1 - 0.75) = -0.2 (control).
    targeted = ((2.0 - 1.2) ** 2 + (0.0 + 0.2) ** 2) / 2
    assert float(factual_loss(outputs, targets)) == pytest.approx(squared)
    assert float(dragonnet_loss(outputs, targets, epsilon)) == pytest.approx(
        squared + cross_entropy + targeted, rel=1e-6)
    assert float(dragonnet_loss(outputs, targets, epsilon, alpha=0.0, beta=2.0)) == (
        pytest.approx(squared + 2 * targeted, rel=1e-6))


def test_same_seed_same_model_other_seed_other_model(data: dict[str, Data]) -> None:
    x, t, y, _ = simulate(200, 3)
    trainer = TrainerConfig(max_epochs=3, batch_size=64, progress=False)

    def effects(seed: int) -> np.ndarray:
        model = TARNet(representation_sizes=(16,), head_sizes=(8,), n_members=2,
                       trainer=trainer, seed=seed)
        return model.fit(x, t, y).predict_effect(x).cate

    np.testing.assert_array_equal(effects(0), effects(0))
    assert not np.allclose(effects(0), effects(1))


@pytest.mark.parametrize("cls", [TLearner, XLearner, DRLearner])
def test_meta_learners_find_the_heterogeneity(cls: type[EffectModel],
                                              data: dict[str, Data]) -> None:
    model = fit(cls(seed=0, max_iter=100), data)
    assert pehe(model, data) < 0.5 * ate_only_pehe(data)
    prediction = model.predict_effect(data["test"][0])
    assert prediction.lower is None and prediction.upper is None
    assert prediction.interval.startswith("none")


def test_causal_forest_gives_intervals(data: dict[str, Data]) -> None:
    model = fit(CausalForest(seed=0, n_estimators=100, max_iter=100), data)
    assert pehe(model, data) < 0.5 * ate_only_pehe(data)
    prediction = model.predict_effect(data["test"][0])
    assert prediction.lower is not None and prediction.upper is not None
    assert (prediction.lower <= prediction.cate).all()
    assert (prediction.cate <= prediction.upper).all()
    with pytest.raises(NotImplementedError, match="predict_effect"):
        model.predict_outcomes(data["test"][0])


def test_bad_inputs_name_the_problem(data: dict[str, Data]) -> None:
    x, t, y, _ = data["train"]
    with pytest.raises(ValueError, match="0/1"):
        TLearner().fit(x, t * 2, y)
    with pytest.raises(ValueError, match="one treatment and one outcome per patient"):
        TLearner().fit(x, t[:-1], y)
    with pytest.raises(ValueError, match="x_val, t_val and y_val"):
        TLearner().fit(x, t, y, x_val=x)
    with pytest.raises(ValueError, match="at least 2"):
        TARNet(n_members=1)
    with pytest.raises(ValueError, match="piecewise_bins"):
        TARNet(piecewise_bins=(0, 1))
    with pytest.raises(ValueError, match="piecewise_bins"):
        TARNet(piecewise_bins=())
    with pytest.raises(ValueError, match="missing or infinite"):
        TLearner().fit(np.where(np.eye(len(x), 5) == 1, np.nan, x), t, y)
