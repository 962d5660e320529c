"""Deep treatment-effect models: TARNet and DragonNet, as ensembles with per-patient intervals.

An effect model estimates, for each patient, the conditional average treatment effect (CATE):
the expected outcome with treatment minus without, given the patient's covariates. Every
effect model in medora, deep or baseline, shares one surface like a scikit-learn estimator:
``fit(x, treatment, y, x_val, t_val, y_val)``, ``predict_effect(x)`` (CATE with an interval
where the method gives one), ``predict_outcomes(x)`` (the two potential outcomes) and
``propensity(x)`` where the model estimates one.

TARNet (Shalit, Johansson and Sontag, ICML 2017) learns one representation of the covariates
shared by two outcome heads, one per arm; each head is trained only on the patients of its
arm, the representation on everyone. DragonNet (Shi, Blei and Veitch, NeurIPS 2019) adds a
propensity head on the same representation, so the representation keeps what predicts
treatment (what confounds), and a targeted regularisation term with a learned perturbation
epsilon that pushes the fitted outcomes towards satisfying the efficient-estimating equation
of the ATE.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import TensorDataset

from medora.models.base import ModelKind
from medora.models.preprocessing import PiecewiseLinearEncoder
from medora.train.trainer import LossFunction, Trainer, TrainerConfig, TrainingHistory

#: DragonNet's inverse propensity weights use the propensity bounded to this interval, so a
#: near-certain prediction early in training cannot make the targeted term explode.
PROPENSITY_BOUNDS = (0.01, 0.99)


@dataclass(frozen=True)
class EffectPrediction:
    """Each patient's estimated effect (treated minus control, in the outcome's unit) with
    ``lower``/``upper`` bounds where the model gives an interval (None where it gives none);
    ``interval`` says what the bounds are, or why there are none."""

    cate: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    interval: str


class EffectModel(ABC):
    """The surface every effect model shares; subclasses implement ``_fit`` and
    ``_predict_effect`` on validated float arrays."""

    name: ClassVar[str]
    kind: ClassVar[ModelKind]
    display_name: ClassVar[str]
    #: What ``predict_effect``'s interval is; empty when the model gives none.
    interval_method: ClassVar[str]
    provides_outcomes: ClassVar[bool] = False
    provides_propensity: ClassVar[bool] = False

    def fit(self, x: pd.DataFrame | ArrayLike, treatment: ArrayLike, y: ArrayLike,
            x_val: pd.DataFrame | ArrayLike | None = None, t_val: ArrayLike | None = None,
            y_val: ArrayLike | None = None) -> Self:
        """Fit on numeric covariates (categoricals already encoded), a 0/1 treatment and the
        observed outcome; validation data, if given, is used for early stopping only."""
        self.feature_names_ = list(x.columns) if isinstance(x, pd.DataFrame) else None
        arrays = _check_training(x, treatment, y, "training")
        given = [v is not None for v in (x_val, t_val, y_val)]
        if any(given) and not all(given):
            raise ValueError("give all of x_val, t_val and y_val, or none of them")
        validation = (_check_training(x_val, t_val, y_val, "validation")
                      if all(given) else None)
        if validation is not None and validation[0].shape[1] != arrays[0].shape[1]:
            raise ValueError(f"validation covariates have {validation[0].shape[1]} columns, "
                             f"training covariates {arrays[0].shape[1]}; encode both the same "
                             "way")
        self.n_features_ = arrays[0].shape[1]
        self._fit(*arrays, validation)
        return self

    def predict_effect(self, x: pd.DataFrame | ArrayLike) -> EffectPrediction:
        return self._predict_effect(self._inputs(x))

    def predict_outcomes(self, x: pd.DataFrame | ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Expected outcome without (mu0) and with (mu1) treatment, in the outcome's unit."""
        raise NotImplementedError(f"{self.display_name} models the effect directly, not the "
                                  "two potential outcomes; use predict_effect")

    def fitted_choices(self) -> dict[str, object]:
        """The settings the fit chose from the data, with the evidence it chose on; empty for
        a model that chooses none."""
        return {}

    def propensity(self, x: pd.DataFrame | ArrayLike) -> np.ndarray:
        """P(treated | x) as estimated by the model."""
        raise NotImplementedError(f"{self.display_name} does not estimate the propensity; fit "
                                  "a propensity model beside it (the effect run does)")

    def _inputs(self, x: pd.DataFrame | ArrayLike) -> np.ndarray:
        if self.feature_names_ is not None and isinstance(x, pd.DataFrame) and (
                list(x.columns) != self.feature_names_):
            raise ValueError(f"expected the columns the model was fitted on, in order "
                             f"({self.feature_names_[:5]}...), got {list(x.columns)[:5]}...; "
                             "encode the covariates with the task's encode()")
        matrix = _matrix(x, "covariates")
        if matrix.shape[1] != self.n_features_:
            raise ValueError(f"covariates have {matrix.shape[1]} columns, the model was fitted "
                             f"on {self.n_features_}; encode them the same way")
        return matrix

    @abstractmethod
    def _fit(self, x: np.ndarray, treatment: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None: ...

    @abstractmethod
    def _predict_effect(self, x: np.ndarray) -> EffectPrediction: ...


def _matrix(x: pd.DataFrame | ArrayLike, what: str) -> np.ndarray:
    try:
        matrix = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numeric; encode categorical covariates first (the "
                         "task's encode())") from None
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"{what} must be a non-empty 2-D table (patients x covariates), got "
                         f"shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{what} hold missing or infinite values; impute or drop those "
                         "patients first")
    return matrix


def _check_training(x: pd.DataFrame | ArrayLike, treatment: ArrayLike, y: ArrayLike,
                    part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = _matrix(x, f"{part} covariates")
    t = np.asarray(treatment, dtype=np.float64)
    outcome = np.asarray(y, dtype=np.float64)
    n = matrix.shape[0]
    if t.shape != (n,) or outcome.shape != (n,):
        raise ValueError(f"{part}: {n} patients but treatment has shape {t.shape} and y "
                         f"{outcome.shape}; pass one treatment and one outcome per patient")
    if not np.isin(t, (0.0, 1.0)).all() or len(np.unique(t)) < 2:
        raise ValueError(f"{part} treatment must be coded 0/1 with both arms present, got "
                         f"values {np.unique(t)[:5].tolist()}")
    if not np.isfinite(outcome).all():
        raise ValueError(f"{part} outcome holds missing or infinite values; drop those "
                         "patients")
    return matrix, t, outcome


# -- Networks ----------------------------------------------------------------------------------

def _elu_stack(n_inputs: int, sizes: tuple[int, ...]) -> nn.Sequential:
    """Linear -> ELU layers, the architecture both papers use."""
    layers: list[nn.Module] = []
    width = n_inputs
    for size in sizes:
        layers += [nn.Linear(width, size), nn.ELU()]
        width = size
    return nn.Sequential(*layers)


def _head(n_inputs: int, sizes: tuple[int, ...]) -> nn.Sequential:
    """ELU layers of ``sizes`` and one linear output."""
    return nn.Sequential(_elu_stack(n_inputs, sizes),
                         nn.Linear(sizes[-1] if sizes else n_inputs, 1))


class TARNetModule(nn.Module):
    """Shared representation and two outcome heads; output (n, 2): mu0, mu1 (standardised).
    The second head has ``second_head_sizes`` where given, else the first head's sizes."""

    def __init__(self, n_inputs: int, representation_sizes: tuple[int, ...],
                 head_sizes: tuple[int, ...],
                 second_head_sizes: tuple[int, ...] | None = None) -> None:
        super().__init__()
        if not representation_sizes:
            raise ValueError("representation_sizes needs at least one layer")
        self.representation = _elu_stack(n_inputs, representation_sizes)
        width = representation_sizes[-1]
        self.heads = nn.ModuleList([
            _head(width, head_sizes),
            _head(width, head_sizes if second_head_sizes is None else second_head_sizes)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shared = self.representation(x)
        return torch.cat([head(shared) for head in self.heads], dim=1)


class OffsetModule(TARNetModule):
    """TARNet's representation with a control-outcome head and an effect head on it:
    mu0 = h0(phi), mu1 = mu0 + tau(phi); output (n, 2) as TARNet's. The effect head (the
    second of ``heads``) is smaller than an outcome head, so the effect is fitted as the
    simpler function it usually is, instead of as the difference of two separately fitted
    outcome surfaces, whose errors add."""

    def __init__(self, n_inputs: int, representation_sizes: tuple[int, ...],
                 head_sizes: tuple[int, ...], effect_sizes: tuple[int, ...]) -> None:
        super().__init__(n_inputs, representation_sizes, head_sizes, effect_sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shared = self.representation(x)
        control = self.heads[0](shared)
        return torch.cat([control, control + self.heads[1](shared)], dim=1)


class DragonNetModule(TARNetModule):
    """TARNet plus a propensity head on the shared representation and the targeted
    regularisation's epsilon; output (n, 3): mu0, mu1 (standardised), propensity logit."""

    def __init__(self, n_inputs: int, representation_sizes: tuple[int, ...],
                 head_sizes: tuple[int, ...]) -> None:
        super().__init__(n_inputs, representation_sizes, head_sizes)
        self.propensity_head = nn.Linear(representation_sizes[-1], 1)
        self.epsilon = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shared = self.representation(x)
        return torch.cat([*(head(shared) for head in self.heads), self.propensity_head(shared)],
                         dim=1)


def factual_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """TARNet's loss: mean squared error of the head of each patient's own arm.

    ``targets`` is (n, 2): treatment, standardised outcome. The other head gets no gradient
    from the patient, since its outcome was never observed."""
    t, y = targets[:, 0], targets[:, 1]
    factual = torch.where(t == 1, outputs[:, 1], outputs[:, 0])
    return F.mse_loss(factual, y)


def dragonnet_loss(outputs: torch.Tensor, targets: torch.Tensor, epsilon: torch.Tensor,
                   alpha: float = 1.0, beta: float = 1.0) -> torch.Tensor:
    """DragonNet's objective (Shi et al. 2019, Sections 3 and 4):

    mean[(Q(t, x) - y)^2 + alpha * CE(g(x), t)] + beta * mean[(y - Q~(t, x))^2], where
    Q~(t, x) = Q(t, x) + epsilon * (t / g(x) - (1 - t) / (1 - g(x))) is the targeted
    perturbation with a learned epsilon; alpha = beta = 1 as in the paper. g is bounded to
    :data:`PROPENSITY_BOUNDS` in the perturbation only.
    """
    t, y = targets[:, 0], targets[:, 1]
    factual = torch.where(t == 1, outputs[:, 1], outputs[:, 0])
    logits = outputs[:, 2]
    g = torch.sigmoid(logits).clamp(*PROPENSITY_BOUNDS)
    perturbed = factual + epsilon * (t / g - (1 - t) / (1 - g))
    return (F.mse_loss(factual, y)
            + alpha * F.binary_cross_entropy_with_logits(logits, t)
            + beta * F.mse_loss(perturbed, y))


# -- Ensembles ---------------------------------------------------------------------------------

@contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch at one intra-op thread, restored afterwards. These networks are a few hundred
    units wide on batches of 64 patients, where thread hand-offs cost more than they save:
    a quick TARNet fit took 1.6 s with one thread and 20 s with two on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass(frozen=True)
class InputEncoding:
    """A network's inputs: the covariates with ``bins`` piecewise-linear bins per numeric
    covariate (none when 0), each column standardised on the training patients."""

    bins: int
    encoder: PiecewiseLinearEncoder | None
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, bins: int) -> InputEncoding:
        encoder = PiecewiseLinearEncoder(bins).fit(x) if bins else None
        encoded = encoder.transform(x) if encoder is not None else x
        spread = encoded.std(axis=0)
        # A constant column stays at 0.
        return cls(bins, encoder, encoded.mean(axis=0), np.where(spread > 0, spread, 1.0))

    @property
    def n_outputs(self) -> int:
        return len(self.mean)

    def transform(self, x: np.ndarray) -> np.ndarray:
        encoded = self.encoder.transform(x) if self.encoder is not None else x
        return ((encoded - self.mean) / self.scale).astype(np.float32)


class _RepresentationEnsemble(EffectModel):
    """An ensemble of representation networks trained by the shared Trainer from different
    random initialisations (Lakshminarayanan et al. 2017), on encoded, standardised covariates
    and standardised outcomes. The estimate is the members' mean; the interval is their
    spread.

    ``piecewise_bins`` lists the candidate input encodings: 0 is the covariates alone, n > 0
    adds n piecewise-linear bins per numeric covariate (:class:`PiecewiseLinearEncoder`).
    Bins let a network fit the thresholds and steps tree ensembles fit easily, and cost it on
    smooth surfaces, so with several candidates the first member is trained once with each
    and the encoding with its lowest validation loss is kept for the whole ensemble
    (``piecewise_bins_``; every candidate's loss in ``encoding_validation_loss_``).
    """

    kind: ClassVar[ModelKind] = "deep"
    provides_outcomes: ClassVar[bool] = True
    interval_method: ClassVar[str] = (
        "ensemble spread: mean +/- t(0.975, M-1) * sd * sqrt(1 + 1/M) over the M members' "
        "estimates, the range in which a further network trained the same way would fall. It "
        "reflects disagreement between initialisations only: it is not a 95% confidence "
        "interval for the true effect and misses bias and sampling variability shared by all "
        "members, so it is narrower than one.")

    def __init__(self, representation_sizes: tuple[int, ...] = (200, 200, 200),
                 head_sizes: tuple[int, ...] = (100, 100), n_members: int = 5,
                 trainer: TrainerConfig | None = None, seed: int = 0,
                 piecewise_bins: tuple[int, ...] = (0, 8, 16)) -> None:
        if n_members < 2:
            raise ValueError(f"n_members must be at least 2 (the interval is the members' "
                             f"spread), got {n_members}")
        if not piecewise_bins or any(bins == 1 or bins < 0 for bins in piecewise_bins):
            raise ValueError(f"piecewise_bins must list at least one candidate, each 0 (no "
                             f"bins) or at least 2, got {piecewise_bins}")
        self.representation_sizes = tuple(representation_sizes)
        self.head_sizes = tuple(head_sizes)
        self.n_members = n_members
        self.trainer = trainer or TrainerConfig(max_epochs=300, patience=20, batch_size=64,
                                                learning_rate=1e-3, weight_decay=1e-4)
        self.seed = seed
        self.piecewise_bins = tuple(piecewise_bins)

    @abstractmethod
    def _network(self, n_inputs: int) -> TARNetModule: ...

    @abstractmethod
    def _loss(self, network: TARNetModule) -> LossFunction: ...

    def _fit(self, x: np.ndarray, treatment: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        if validation is None:
            # Early stopping needs held-out patients; keep both arms' proportions.
            x, x_v, treatment, t_v, y, y_v = train_test_split(
                x, treatment, y, test_size=0.2, stratify=treatment, random_state=self.seed)
            validation = (x_v, t_v, y_v)
        self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std() or 1.0)
        training = (x, treatment, y)
        with one_torch_thread():
            trials = {}
            for bins in self.piecewise_bins:
                encoding = InputEncoding.fit(x, bins)
                trials[bins] = (encoding, *self._train_member(0, encoding, training, validation))
            self.encoding_validation_loss_ = {bins: history.best_validation_loss
                                              for bins, (_, _, history) in trials.items()}
            self.piecewise_bins_ = min(self.encoding_validation_loss_,
                                       key=self.encoding_validation_loss_.__getitem__)
            self.input_encoding_, first, first_history = trials[self.piecewise_bins_]
            rest = [self._train_member(index, self.input_encoding_, training, validation)
                    for index in range(1, self.n_members)]
        self.members_ = nn.ModuleList([first, *(network for network, _ in rest)]).eval()
        self.histories_: list[TrainingHistory] = [first_history,
                                                  *(history for _, history in rest)]

    def _train_member(self, index: int, encoding: InputEncoding,
                      training: tuple[np.ndarray, np.ndarray, np.ndarray],
                      validation: tuple[np.ndarray, np.ndarray, np.ndarray]
                      ) -> tuple[TARNetModule, TrainingHistory]:
        """Member ``index`` on ``encoding``'s inputs, from its own seeded initialisation,
        trained by the Trainer."""
        checkpoint_dir = self.trainer.checkpoint_dir
        config = replace(
            self.trainer, seed=self.seed * 1000 + index,
            description=f"{self.name} member {index + 1}/{self.n_members}, "
                        f"{encoding.bins} bins",
            checkpoint_dir=(Path(checkpoint_dir) / f"member-{index}-bins-{encoding.bins}"
                            if checkpoint_dir is not None else None))
        torch.manual_seed(config.seed)  # each member's own initialisation
        network = self._network(encoding.n_outputs)
        train, held_out = (self._dataset(encoding, *part) for part in (training, validation))
        history = Trainer(config).fit(network, self._loss(network), train, held_out)
        return network.eval(), history

    def _dataset(self, encoding: InputEncoding, x: np.ndarray, treatment: np.ndarray,
                 y: np.ndarray) -> TensorDataset:
        targets = np.column_stack([treatment, (y - self.y_mean_) / self.y_scale_])
        return TensorDataset(torch.from_numpy(encoding.transform(x)),
                             torch.from_numpy(targets.astype(np.float32)))

    def __setstate__(self, state: dict[str, object]) -> None:
        if "x_mean_" in state:
            # Registered before the inputs were encoded (2026-11-23): the standardised
            # covariates alone, which is the encoding with no bins.
            mean, scale = state.pop("x_mean_"), state.pop("x_scale_")
            assert isinstance(mean, np.ndarray) and isinstance(scale, np.ndarray)
            state.update(input_encoding_=InputEncoding(0, None, mean, scale),
                         piecewise_bins=(0,), piecewise_bins_=0, encoding_validation_loss_={})
        self.__dict__.update(state)

    def fitted_choices(self) -> dict[str, object]:
        return {"piecewise_bins": self.piecewise_bins_,
                "first_member_validation_loss_by_piecewise_bins": {
                    str(bins): round(loss, 5)
                    for bins, loss in self.encoding_validation_loss_.items()}}

    @torch.no_grad()
    def member_outputs(self, x: pd.DataFrame | ArrayLike) -> np.ndarray:
        """Every member's raw outputs, shape (n_members, n, outputs): standardised mu0, mu1
        (and DragonNet's propensity logit)."""
        inputs = torch.from_numpy(self.input_encoding_.transform(self._inputs(x)))
        with one_torch_thread():
            outputs = torch.stack([member(inputs) for member in self.members_])
        return outputs.numpy().astype(np.float64)

    def member_effects(self, x: pd.DataFrame | ArrayLike) -> np.ndarray:
        """Each member's CATE in the outcome's unit, shape (n_members, n)."""
        outputs = self.member_outputs(x)
        return (outputs[..., 1] - outputs[..., 0]) * self.y_scale_

    def predict_outcomes(self, x: pd.DataFrame | ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        outputs = self.member_outputs(x).mean(axis=0)
        return (outputs[:, 0] * self.y_scale_ + self.y_mean_,
                outputs[:, 1] * self.y_scale_ + self.y_mean_)

    def _predict_effect(self, x: np.ndarray) -> EffectPrediction:
        effects = self.member_effects(x)
        m = effects.shape[0]
        half = (stats.t.ppf(0.975, m - 1) * effects.std(axis=0, ddof=1)
                * math.sqrt(1 + 1 / m))
        cate = effects.mean(axis=0)
        return EffectPrediction(cate=cate, lower=cate - half, upper=cate + half,
                                interval=self.interval_method)


class TARNet(_RepresentationEnsemble):
    """TARNet (Shalit et al. 2017): shared ELU representation, one outcome head per arm,
    trained on the factual squared error; no balancing penalty (the CFR variants add one)."""

    name: ClassVar[str] = "tarnet"
    display_name: ClassVar[str] = "TARNet ensemble"

    def _network(self, n_inputs: int) -> TARNetModule:
        return TARNetModule(n_inputs, self.representation_sizes, self.head_sizes)

    def _loss(self, network: TARNetModule) -> LossFunction:
        return factual_loss


class OffsetTARNet(TARNet):
    """TARNet with an effect head: the treated outcome is the control outcome plus an effect
    head's output (:class:`OffsetModule`), the offset parametrisation Curth and van der Schaar
    discuss (NeurIPS 2021, "On inductive biases for heterogeneous treatment effect
    estimation"); trained on TARNet's factual loss."""

    name: ClassVar[str] = "offset_tarnet"
    display_name: ClassVar[str] = "TARNet with an effect head (mu1 = mu0 + tau), ensemble"

    def __init__(self, representation_sizes: tuple[int, ...] = (200, 200, 200),
                 head_sizes: tuple[int, ...] = (100, 100), effect_sizes: tuple[int, ...] = (50,),
                 n_members: int = 5, trainer: TrainerConfig | None = None, seed: int = 0,
                 piecewise_bins: tuple[int, ...] = (0, 8, 16)) -> None:
        super().__init__(representation_sizes, head_sizes, n_members, trainer, seed,
                         piecewise_bins)
        self.effect_sizes = tuple(effect_sizes)

    def _network(self, n_inputs: int) -> TARNetModule:
        return OffsetModule(n_inputs, self.representation_sizes, self.head_sizes,
                            self.effect_sizes)


class DragonNet(_RepresentationEnsemble):
    """DragonNet (Shi et al. 2019) with targeted regularisation (:func:`dragonnet_loss`).

    The CATE is the difference of the untargeted outcome heads: the epsilon perturbation
    targets the ATE's estimating equation, and adding it per patient would add the ATE
    correction ``epsilon * (1/g + 1/(1-g))`` to each patient's effect."""

    name: ClassVar[str] = "dragonnet"
    display_name: ClassVar[str] = "DragonNet ensemble (targeted regularisation)"
    provides_propensity: ClassVar[bool] = True

    def _network(self, n_inputs: int) -> TARNetModule:
        return DragonNetModule(n_inputs, self.representation_sizes, self.head_sizes)

    def _loss(self, network: TARNetModule) -> LossFunction:
        assert isinstance(network, DragonNetModule)  # built by _network above
        return partial(dragonnet_loss, epsilon=network.epsilon)

    def propensity(self, x: pd.DataFrame | ArrayLike) -> np.ndarray:
        """The members' mean propensity head, strictly inside (0, 1)."""
        logits = self.member_outputs(x)[..., 2]
        return (1.0 / (1.0 + np.exp(-logits))).mean(axis=0)
