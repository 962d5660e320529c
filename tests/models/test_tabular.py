"""The wide-and-deep ensemble: its stacked fast path equals the members evaluated one by one,
its integrated gradients equal captum's, and the validation search keeps the best candidate."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients

from medora.models import build_model
from medora.models.tabular import (
    EnsembleLinear,
    MeanLogit,
    MLPClassifier,
    WideDeepEnsemble,
    member_loss,
)
from medora.train.trainer import TrainerConfig


def _random_ensemble(n_inputs: int = 9, seed: int = 0) -> WideDeepEnsemble:
    """An ensemble with every parameter perturbed, so no member or layer is trivial."""
    torch.manual_seed(seed)
    network = WideDeepEnsemble(n_inputs, (16, 8), dropout=0.5, n_members=4)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    return network.eval()


def _captum(reference: torch.nn.Module, x: torch.Tensor, n_steps: int = 32) -> torch.Tensor:
    inputs = x.clone().requires_grad_(True)
    return IntegratedGradients(reference).attribute(
        inputs, baselines=torch.zeros_like(inputs), n_steps=n_steps).detach()


@pytest.fixture(scope="module")
def mlp(framingham_sample) -> MLPClassifier:
    x, y = framingham_sample
    return build_model("mlp", seed=0, quick=True, progress=False).fit(
        x.iloc[:450], y[:450], x.iloc[450:], y[450:])


def test_stacked_members_equal_separate_members() -> None:
    network = _random_ensemble()
    x = 2 * torch.randn(11, 9)
    members = network.members()
    with torch.no_grad():
        torch.testing.assert_close(network(x), torch.stack([m(x) for m in members]),
                                   rtol=0, atol=1e-5)
        torch.testing.assert_close(network.mean_logit(x), MeanLogit(members)(x),
                                   rtol=0, atol=1e-5)


@pytest.mark.parametrize("n_steps", [1, 32])
def test_integrated_gradients_equal_captum(n_steps: int) -> None:
    network = _random_ensemble()
    x = 2 * torch.randn(6, 9)
    expected = _captum(MeanLogit(network.members()).eval(), x, n_steps)
    torch.testing.assert_close(network.integrated_gradients(x, n_steps), expected,
                               rtol=0, atol=1e-5)


def test_fitted_model_fast_path_equals_reference(mlp: MLPClassifier, framingham_sample) -> None:
    """Prediction and explanation of the fitted model, through the public surface, against
    the per-member mean logit and captum's integrated gradients."""
    x, _ = framingham_sample
    rows = x.iloc[440:460]
    inputs = torch.from_numpy(mlp.preprocessor_.transform(rows))
    reference = MeanLogit(mlp.network_.members()).eval()
    with torch.no_grad():
        expected_logit = reference(inputs).numpy()
    np.testing.assert_allclose(mlp.decision_function(rows), expected_logit, rtol=0, atol=1e-5)
    expected = mlp.preprocessor_.group_attributions(_captum(reference, inputs).numpy())
    np.testing.assert_allclose(mlp.explain(rows).to_numpy(), expected, rtol=0, atol=1e-5)


def test_explanations_are_batched_without_changing_them(mlp: MLPClassifier,
                                                        framingham_sample,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    x, _ = framingham_sample
    rows = x.iloc[:7]
    whole = mlp.explain(rows)
    monkeypatch.setattr("medora.models.tabular.EXPLAIN_BATCH", 3)
    np.testing.assert_allclose(mlp.explain(rows).to_numpy(), whole.to_numpy(), atol=1e-6)
    assert mlp._attributions(np.zeros((0, whole.shape[1]), dtype=np.float32)).shape[0] == 0


def test_member_probabilities_are_the_members(mlp: MLPClassifier, framingham_sample) -> None:
    x, _ = framingham_sample
    rows = x.iloc[:5]
    members = mlp.member_probabilities(rows)
    assert members.shape == (mlp.n_members, 5)
    logits = np.log(members / (1 - members)).mean(axis=0)
    np.testing.assert_allclose(logits, mlp.decision_function(rows), atol=1e-4)


def test_validation_search_keeps_the_lowest_validation_loss(mlp: MLPClassifier) -> None:
    assert [entry["dropout"] for entry in mlp.search_] == [0.2, 0.5, 0.7]
    best = min(mlp.search_, key=lambda entry: entry["validation_log_loss"])
    assert mlp.dropout_ == best["dropout"]
    assert mlp.network_.dropout == mlp.dropout_
    assert not mlp.network_.training


def test_members_learn_independently() -> None:
    """The members' mean loss gives each member the gradient of its own loss alone."""
    network = _random_ensemble().train()
    x, y = torch.randn(20, 9), torch.randint(0, 2, (20,)).float()
    torch.manual_seed(1)
    member_loss(network(x), y).backward()
    first = network.linears[0].weight.grad.clone()
    with torch.no_grad():
        network.output.weight[1:].mul_(-3.0)  # change every member but the first
    network.zero_grad()
    torch.manual_seed(1)  # the same dropout masks
    member_loss(network(x), y).backward()
    torch.testing.assert_close(network.linears[0].weight.grad[0], first[0])
    assert not torch.allclose(network.linears[0].weight.grad[1], first[1])


def test_zero_initialised_output_starts_from_the_linear_path() -> None:
    torch.manual_seed(0)
    network = WideDeepEnsemble(5, (8,), n_members=3, zero_init_output=True).eval()
    x = torch.randn(4, 5)
    with torch.no_grad():
        linear = torch.baddbmm(network.linear.bias, x.expand(3, 4, 5), network.linear.weight)
        torch.testing.assert_close(network(x), linear.squeeze(-1))


def test_ensemble_linear_members_are_initialised_like_nn_linear() -> None:
    torch.manual_seed(0)
    layer = EnsembleLinear(3, 25, 4)
    assert layer.weight.abs().max() <= 1 / 5 and layer.bias.abs().max() <= 1 / 5
    assert not torch.equal(layer.weight[0], layer.weight[1])


def test_pickled_model_predicts_and_explains_the_same(mlp: MLPClassifier,
                                                      framingham_sample) -> None:
    x, _ = framingham_sample
    rows = x.iloc[:3]
    restored = pickle.loads(pickle.dumps(mlp))
    np.testing.assert_array_equal(restored.predict_proba(rows), mlp.predict_proba(rows))
    np.testing.assert_array_equal(restored.explain(rows).to_numpy(),
                                  mlp.explain(rows).to_numpy())


def test_rerun_in_the_same_checkpoint_folder_resumes_to_the_same_model(
        tmp_path: Path, framingham_sample) -> None:
    x, y = framingham_sample

    def fit() -> MLPClassifier:
        trainer = TrainerConfig(max_epochs=4, patience=2, learning_rate=1e-2,
                                weight_decay=1e-2, progress=False, checkpoint_dir=tmp_path)
        return MLPClassifier(dropout=(0.2, 0.5), n_members=2, trainer=trainer).fit(
            x.iloc[:300], y[:300], x.iloc[300:400], y[300:400])

    first = fit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dropout-0.2", "dropout-0.5"]
    second = fit()
    np.testing.assert_array_equal(second.decision_function(x.iloc[400:]),
                                  first.decision_function(x.iloc[400:]))


@pytest.mark.parametrize("dropout", [(), 1.0, (0.2, -0.1)])
def test_bad_dropout_is_refused(dropout) -> None:
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(dropout=dropout)
