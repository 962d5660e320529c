"""Deep models for tabular patient data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import TensorDataset

from medora.models.base import Model, ModelKind
from medora.train.trainer import Trainer, TrainerConfig

LAYER_NORM_EPS = 1e-5  # nn.LayerNorm's default
#: Rows explained per batch: 32 path points each, so a batch holds 8,192 network evaluations.
EXPLAIN_BATCH = 256


class TabularMLP(nn.Module):
    """Wide-and-deep network (Cheng et al. 2016): a linear path beside an MLP, summed logits.

    Clinical risk is largely additive in its risk factors, which a linear path captures with
    few parameters; the MLP blocks (Linear -> LayerNorm -> GELU -> Dropout) only have to learn
    what the linear path cannot. Inputs arrive standardised by the preprocessor; LayerNorm
    keeps hidden activations on a stable scale whatever the batch size (BatchNorm misbehaves
    on the small cohorts medicine has).

    One member of a :class:`WideDeepEnsemble`, which holds several and evaluates them at once.
    """

    def __init__(self, n_inputs: int, hidden_sizes: tuple[int, ...] = (64, 32),
                 dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_inputs
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.GELU(),
                       nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.network = nn.Sequential(*layers)
        self.linear = nn.Linear(n_inputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.network(x) + self.linear(x)).squeeze(-1)


class MeanLogit(nn.Module):
    """An ensemble of separate networks seen as one: the mean of its members' logits."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


class EnsembleLinear(nn.Module):
    """``n_members`` independent linear layers, applied by one batched matrix product.

    Input (n_members, n, in_features), or (n, in_features) shared by every member; output
    (n_members, n, out_features). Each member is initialised like ``nn.Linear``.
    """

    def __init__(self, n_members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_features))
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(self.weight.shape[0], *x.shape)
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleLayerNorm(nn.Module):
    """``n_members`` independent LayerNorms over the last dimension of (n_members, n, width)."""

    def __init__(self, n_members: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n_members, 1, width))
        self.bias = nn.Parameter(torch.zeros(n_members, 1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normalised = F.layer_norm(x, x.shape[-1:], eps=LAYER_NORM_EPS)
        return torch.addcmul(self.bias, normalised, self.weight)


class WideDeepEnsemble(nn.Module):
    """``n_members`` wide-and-deep networks (:class:`TabularMLP`) stacked into one network.

    Every layer holds all members' weights along a leading member dimension, so one batched
    matrix product per layer replaces a Python loop over small networks: training, prediction
    and explanation pay torch's per-operation cost once instead of once per member.
    ``forward`` gives every member's logit, shape (n_members, n); ``mean_logit`` the
    ensemble's, the mean of the members'.

    ``zero_init_output`` starts the MLP path's output layer at zero, so every member begins as
    its linear path alone and the MLP path grows only as far as training rewards it.

    ``n_outputs`` > 1 gives every member that many outputs, shape (n_members, n, n_outputs)
    (e.g. one hazard per time interval in :mod:`medora.areas.survival.models`);
    ``integrated_gradients`` and ``members`` explain and split single-output networks only.
    """

    def __init__(self, n_inputs: int, hidden_sizes: tuple[int, ...] = (64, 32),
                 dropout: float = 0.2, n_members: int = 5,
                 zero_init_output: bool = False, n_outputs: int = 1) -> None:
        super().__init__()
        if not hidden_sizes:
            raise ValueError("hidden_sizes needs at least one hidden layer")
        self.n_members = n_members
        self.dropout = dropout
        widths = (n_inputs, *hidden_sizes)
        self.linears = nn.ModuleList(EnsembleLinear(n_members, a, b)
                                     for a, b in pairwise(widths))
        self.norms = nn.ModuleList(EnsembleLayerNorm(n_members, b) for b in hidden_sizes)
        self.output = EnsembleLinear(n_members, hidden_sizes[-1], n_outputs)
        self.linear = EnsembleLinear(n_members, n_inputs, n_outputs)
        if zero_init_output:
            nn.init.zeros_(self.output.weight)
            nn.init.zeros_(self.output.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Each member's logit for rows ``x`` (n, n_inputs): shape (n_members, n)."""
        inputs = x.expand(self.n_members, *x.shape)
        first = self.linears[0]
        return self._from_first_layer(torch.baddbmm(first.bias, inputs, first.weight), inputs)

    def mean_logit(self, x: torch.Tensor) -> torch.Tensor:
        """The ensemble's logit, shape (n,)."""
        return self(x).mean(dim=0)

    def _from_first_layer(self, pre_activation: torch.Tensor,
                          inputs: torch.Tensor | None) -> torch.Tensor:
        """Member logits from the first layer's pre-activation; the linear path is added
        when ``inputs`` is given."""
        hidden = pre_activation
        for index, norm in enumerate(self.norms):
            if index:
                layer = self.linears[index]
                hidden = torch.baddbmm(layer.bias, hidden, layer.weight)
            normalised = F.layer_norm(hidden, hidden.shape[-1:], eps=LAYER_NORM_EPS)
            hidden = F.gelu(torch.addcmul(norm.bias, normalised, norm.weight))
            if self.training and self.dropout:
                hidden = F.dropout(hidden, self.dropout, training=True)
        logits = torch.baddbmm(self.output.bias, hidden, self.output.weight)
        if inputs is not None:
            logits = torch.baddbmm(logits, inputs, self.linear.weight) + self.linear.bias
        # The width is read from the weights, not stored: networks pickled before n_outputs
        # existed load and run unchanged.
        return logits.squeeze(-1) if logits.shape[-1] == 1 else logits

    def integrated_gradients(self, x: torch.Tensor, n_steps: int = 32) -> torch.Tensor:
        """Integrated gradients (Sundararajan et al. 2017) of the ensemble's logit from the
        zero baseline (the average training patient), shape (n, n_inputs).

        The same Gauss-Legendre quadrature as captum's ``IntegratedGradients`` with
        ``n_steps`` points, computed directly: every path point of every row in one batch and
        one backward pass. On the path ``alpha * x`` the first layer's pre-activation is
        ``alpha * (x W) + b``, so the first matrix product is done once per row rather than
        once per point, and the gradient is carried back through it only after the
        quadrature sum. The linear path's gradient is constant: its mean weights. Meant for
        the network in eval mode (in training mode dropout would make it random).
        """
        alphas, weights = gauss_legendre(n_steps)
        first = self.linears[0]
        with torch.no_grad():
            projected = torch.matmul(x, first.weight)  # (members, n, width)
            points = (alphas.view(1, -1, 1, 1) * projected.unsqueeze(1)).flatten(1, 2)
        points.requires_grad_(True)
        with torch.enable_grad():
            logits = self._from_first_layer(points + first.bias, None)  # (members, k * n)
            weighted = logits.view(self.n_members, n_steps, -1) * weights.view(1, -1, 1)
            (gradients,) = torch.autograd.grad(weighted.sum() / self.n_members, points)
        with torch.no_grad():
            summed = gradients.view(self.n_members, n_steps, *projected.shape[1:]).sum(dim=1)
            deep = torch.bmm(summed, first.weight.transpose(1, 2)).sum(dim=0)
            wide = self.linear.weight.mean(dim=0).squeeze(-1) * weights.sum()
            return x * (deep + wide)

    def members(self) -> list[TabularMLP]:
        """The members as separate :class:`TabularMLP` networks with the same weights."""
        hidden_sizes = tuple(layer.weight.shape[2] for layer in self.linears)
        members = []
        with torch.no_grad():
            for index in range(self.n_members):
                member = TabularMLP(self.linear.weight.shape[1], hidden_sizes, self.dropout)
                blocks = list(member.network)
                for block, (layer, norm) in enumerate(zip(self.linears, self.norms,
                                                          strict=True)):
                    _copy_linear(blocks[4 * block], layer, index)
                    blocks[4 * block + 1].weight.copy_(norm.weight[index, 0])
                    blocks[4 * block + 1].bias.copy_(norm.bias[index, 0])
                _copy_linear(blocks[-1], self.output, index)
                _copy_linear(member.linear, self.linear, index)
                members.append(member.train(self.training))
        return members


def _copy_linear(target: nn.Linear, source: EnsembleLinear, index: int) -> None:
    target.weight.copy_(source.weight[index].T)
    target.bias.copy_(source.bias[index, 0])


def member_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The members' mean log-loss: each member's gradient comes from its own loss alone."""
    return F.binary_cross_entropy_with_logits(logits, targets.expand_as(logits))


@lru_cache(maxsize=8)
def gauss_legendre(n_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points in [0, 1] and weights of captum's ``gausslegendre`` quadrature."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be positive, got {n_steps}")
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    return (torch.tensor(0.5 * (1 + nodes), dtype=torch.float32),
            torch.tensor(0.5 * weights, dtype=torch.float32))


class MLPClassifier(Model):
    """A deep ensemble (Lakshminarayanan et al. 2017) of wide-and-deep tabular MLPs.

    The members start from their own random weights and are trained together, stacked into
    one network, by the shared Trainer with early stopping on the validation log-loss.
    Predictions average the members' logits. Explained by integrated gradients from the
    average training patient.

    The MLP path's output layer starts at zero, so training starts from the linear model, and
    how strongly the MLP path is regularised is chosen on the validation data: one ensemble
    is trained per value in ``dropout`` and the one with the lowest validation log-loss is
    kept (``search_`` records them all). Clinical risk factors act mostly additively, so on
    such data the choice tends to the stronger values and the model stays close to its linear
    path; where the data hold interactions, the weaker values win.
    """

    name: ClassVar[str] = "mlp"
    kind: ClassVar[ModelKind] = "deep"
    display_name: ClassVar[str] = "Wide-and-deep MLP ensemble"
    explanation_method: ClassVar[str] = ("integrated gradients from the average patient "
                                         "(32-point Gauss-Legendre)")

    def __init__(self, hidden_sizes: tuple[int, ...] = (64, 32),
                 dropout: float | Sequence[float] = (0.2, 0.5, 0.7), n_members: int = 5,
                 trainer: TrainerConfig | None = None, seed: int = 0,
                 zero_init_output: bool = True) -> None:
        if n_members < 1:
            raise ValueError(f"n_members must be at least 1, got {n_members}")
        dropouts = (dropout,) if isinstance(dropout, int | float) else tuple(dropout)
        if not dropouts or not all(0 <= d < 1 for d in dropouts):
            raise ValueError(f"dropout must be one or more values in [0, 1), got {dropout}")
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.n_members = n_members
        self.trainer = trainer or TrainerConfig(learning_rate=1e-2, weight_decay=1e-2)
        self.seed = seed
        self.zero_init_output = zero_init_output

    def _fit(self, x: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray] | None) -> None:
        if validation is None:
            x, x_val, y, y_val = train_test_split(x, y, test_size=0.15, stratify=y,
                                                  random_state=self.seed)
            validation = (x_val, y_val)
        train_data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y).float())
        x_val, y_val = torch.from_numpy(validation[0]), torch.from_numpy(validation[1]).float()
        validation_data = TensorDataset(x_val, y_val)
        dropouts = (self.dropout,) if isinstance(self.dropout, int | float) else self.dropout
        self.search_: list[dict[str, float]] = []
        fitted = []
        for dropout in dropouts:
            checkpoint_dir = self.trainer.checkpoint_dir
            config = replace(
                self.trainer, seed=self.seed * 1000,
                description=f"mlp ensemble of {self.n_members}, dropout {dropout}",
                checkpoint_dir=(Path(checkpoint_dir) / f"dropout-{dropout}"
                                if checkpoint_dir is not None else None))
            torch.manual_seed(config.seed)
            network = WideDeepEnsemble(x.shape[1], self.hidden_sizes, dropout, self.n_members,
                                       self.zero_init_output)
            history = Trainer(config).fit(network, member_loss, train_data, validation_data)
            with torch.no_grad():
                loss = float(F.binary_cross_entropy_with_logits(network.mean_logit(x_val),
                                                                y_val))
            self.search_.append({"dropout": dropout, "validation_log_loss": round(loss, 6),
                                 "best_epoch": history.best_epoch})
            fitted.append((loss if math.isfinite(loss) else math.inf, dropout, history, network))
        _, self.dropout_, self.history_, network = min(fitted, key=lambda item: item[0])
        self.network_ = network.eval()

    @torch.no_grad()
    def _decision_function(self, x: np.ndarray) -> np.ndarray:
        return self.network_.mean_logit(torch.from_numpy(x)).numpy().astype(float)

    @torch.no_grad()
    def member_probabilities(self, x: pd.DataFrame) -> np.ndarray:
        """Each member's probability, shape (n_members, n): the ensemble's disagreement."""
        inputs = torch.from_numpy(self.preprocessor_.transform(x))
        return torch.sigmoid(self.network_(inputs)).numpy()

    def _attributions(self, x: np.ndarray) -> np.ndarray:
        # Gauss-Legendre quadrature: on this smooth network 32 nodes agree with 256 to float
        # precision, at half the cost of 64 (explanations are per request).
        inputs = torch.from_numpy(x)
        if not len(inputs):
            return np.zeros(x.shape)
        return np.concatenate([
            self.network_.integrated_gradients(inputs[start:start + EXPLAIN_BATCH], n_steps=32)
            .numpy().astype(float)
            for start in range(0, len(inputs), EXPLAIN_BATCH)])
