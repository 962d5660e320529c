"""Survival models behind one estimator surface: DeepSurv, a discrete-time logistic-hazard
network and the Cox proportional-hazards baseline.

Every model here, and the scikit-survival baselines of :mod:`medora.areas.survival.gpl`,
offers::

    fit(x, time, event, x_val=None, time_val=None, event_val=None)
    predict_risk(x)              # one score per patient, higher = earlier event expected
    predict_survival(x, times)   # S(t | x), shape (n, len(times)), non-increasing in t

``time`` is the follow-up (days in medora's tasks), ``event`` a boolean array (True = event
observed, False = censored), as in :mod:`medora.areas.survival.metrics`. Inputs are imputed and
standardised on the training data alone (:class:`~medora.models.preprocessing.
TabularPreprocessor`); the deep models then give each skewed input a Yeo-Johnson power.

The two deep models are ensembles of the platform's wide-and-deep network
(:class:`~medora.models.tabular.WideDeepEnsemble`) whose members are cross-fitted: each is
trained on all but one inner fold of the training patients and early-stopped on that fold,
and the weight decay is chosen by the same cross-validated likelihood. The MLP path's output
starts at zero, so every member starts as a linear model (a Cox model for DeepSurv) and the
network departs from it only as far as the held-out likelihood rewards: with 198 patients
and 80 inputs, that is the difference between a network that generalises and one that
memorises.

Why logistic hazard (Gensheimer and Narasimhan 2019; Kvamme and Borgan 2021) rather than
DeepHit (Lee et al. 2018) as the discrete-time network: its loss is the exact likelihood of
right-censored data on a time grid, so its survival curves are estimates of S(t | x) and can
be scored by the Brier score; DeepHit adds a ranking loss whose weight and scale are two more
hyper-parameters to tune on cohorts this small, trades calibration for concordance, and its
advantage is competing risks, which these tasks do not have.

References: Katzman JL, et al. DeepSurv: personalized treatment recommender system using a
Cox proportional hazards deep neural network. BMC Med Res Methodol 2018;18:24. Breslow NE.
Covariance analysis of censored survival data. Biometrics 1974;30:89-99. Gensheimer MF,
Narasimhan B. A scalable discrete-time survival model for neural networks. PeerJ 2019;7:e6257.
Kvamme H, Borgan O. Continuous and discrete-time survival prediction with neural networks.
Lifetime Data Anal 2021;27:710-736. Yeo IK, Johnson RA. A new family of power transformations
to improve normality or symmetry. Biometrika 2000;87:954-959. Sauerbrei W, Royston P. Building
multivariable prognostic and diagnostic models: transformation of the predictors by using
fractional polynomials. J R Stat Soc A 1999;162:71-94.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike
from scipy.stats import skew
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import PowerTransformer
from torch.utils.data import TensorDataset

from medora.areas.survival.metrics import check_survival
from medora.models.base import ModelKind
from medora.models.preprocessing import TabularPreprocessor
from medora.models.tabular import WideDeepEnsemble
from medora.train.trainer import LossFunction, Trainer, TrainerConfig, TrainingHistory

__all__ = [
    "CoxPHModel",
    "DeepSurv",
    "LogisticHazard",
    "SurvivalModel",
    "breslow_cumulative_hazard",
    "cox_partial_likelihood_loss",
    "logistic_hazard_loss",
]


# -- losses ------------------------------------------------------------------------------------


def cox_partial_likelihood_loss(log_risk: torch.Tensor, time: torch.Tensor,
                                event: torch.Tensor, weight: torch.Tensor | None = None
                                ) -> torch.Tensor:
    """Negative Cox partial log-likelihood per event, Breslow's handling of tied times.

    ``log_risk`` has shape (..., n): leading dimensions are ensemble members, each scored on
    its own and averaged. For each event i the risk set is every patient with T_j >= T_i,
    tied event times included (Breslow 1974): loss = -(1 / n_events) sum_i [h_i - log sum_{j:
    T_j >= T_i} exp(h_j)]. A batch without events carries no information about the ordering:
    the loss is 0 with a zero gradient (not nan), so an all-censored mini-batch leaves the
    weights alone.

    ``weight`` (broadcastable to ``log_risk``; 0/1 in medora) gives case weights: weighted
    events over weighted risk sets. A member with weight 0 on a patient behaves as if the
    patient were absent, so each member of a cross-fitted ensemble can be trained, and
    scored, on its own patients within one batch.
    """
    order = torch.argsort(time)
    sorted_time = time[order]
    scores = log_risk[..., order]
    events = event[order].to(log_risk.dtype)
    if weight is None:
        log_weight = torch.zeros_like(scores)
    else:
        weights = weight.to(log_risk.dtype).expand_as(log_risk)[..., order]
        events = events * weights
        # log 0 floored at the dtype's smallest normal (e^-87 in float32) rather than -inf:
        # a risk set whose every patient has weight 0 then yields a finite log-sum (its
        # events have weight 0 too) instead of a nan gradient.
        log_weight = weights.clamp_min(torch.finfo(weights.dtype).tiny).log()
    # log sum over positions k..n of the ascending order, then for tied times the sum from the
    # first of them, so every tied patient is in every tied event's risk set.
    tail = torch.logcumsumexp((scores + log_weight).flip(-1), dim=-1).flip(-1)
    first = torch.searchsorted(sorted_time, sorted_time, right=False)
    n_events = events.sum(dim=-1)
    if not bool((n_events > 0).any()):
        return (scores * 0.0).sum()
    log_likelihood = ((scores - tail[..., first]) * events).sum(dim=-1)
    return -(log_likelihood / n_events.clamp_min(1.0)).mean()


def logistic_hazard_loss(logits: torch.Tensor, interval: torch.Tensor,
                         event: torch.Tensor, weight: torch.Tensor | None = None
                         ) -> torch.Tensor:
    """Negative log-likelihood of the logistic-hazard model per patient.

    ``logits`` has shape (..., n, K): the logit of the hazard h_j = P(event in interval j |
    event-free at its start) for each of K intervals; leading dimensions are ensemble members.
    ``interval[i]`` is the interval holding patient i's time. A patient with an event in
    interval k survived intervals 0..k-1 and had the event in k: -sum_{j<k} log(1 - h_j) -
    log h_k. A patient censored in interval k is counted event-free through intervals 0..k-1
    only (censored at the start of its interval, as in Kvamme and Borgan 2021): -sum_{j<k}
    log(1 - h_j); censored in the first interval, the patient adds nothing. ``weight``
    (broadcastable to logits.shape[:-1]) makes it a weighted mean over patients, per member,
    as in :func:`cox_partial_likelihood_loss`.
    """
    n_intervals = logits.shape[-1]
    steps = torch.arange(n_intervals, device=logits.device)
    index = interval.long().unsqueeze(-1)
    happened = event.bool().unsqueeze(-1)
    target = ((steps == index) & happened).to(logits.dtype)
    mask = ((steps < index) | ((steps == index) & happened)).to(logits.dtype)
    terms = F.binary_cross_entropy_with_logits(logits, target.expand_as(logits),
                                               reduction="none")
    per_patient = (terms * mask).sum(dim=-1)
    if weight is None:
        return per_patient.mean()
    weights = weight.to(logits.dtype).expand_as(per_patient)
    return ((per_patient * weights).sum(dim=-1) / weights.sum(dim=-1).clamp_min(1.0)).mean()


def _cross_fitted_weights(targets: torch.Tensor, n_members: int) -> torch.Tensor:
    """(members, n) 0/1 weights of a cross-fitted ensemble. ``targets`` columns 2 and 3 hold
    each patient's inner fold and the batch's role (0 training, 1 validation): in training
    member m learns from the patients outside fold m, in validation it is scored on fold m."""
    own_fold = targets[:, 2].long() == torch.arange(n_members).unsqueeze(1)
    validating = targets[:, 3].bool()
    return torch.where(validating, own_fold, ~own_fold)


def _deepsurv_loss(log_risk: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return cox_partial_likelihood_loss(log_risk, targets[:, 0], targets[:, 1],
                                       _cross_fitted_weights(targets, log_risk.shape[0]))


def _logistic_hazard_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return logistic_hazard_loss(logits, targets[:, 0], targets[:, 1],
                                _cross_fitted_weights(targets, logits.shape[0]))


def _whole_batch(items: list[tuple[torch.Tensor, torch.Tensor]]
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Collate for a dataset whose one item is every patient (inputs, targets)."""
    (item,) = items
    return item


def breslow_cumulative_hazard(log_risk: np.ndarray, time: np.ndarray, event: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Breslow's baseline cumulative hazard H0 at each distinct event time: the jump at u is
    d(u) / sum_{j: T_j >= u} exp(h_j). Returns the event times and H0 there (a right-continuous
    step function, 0 before the first event). ``log_risk`` should be centred (e.g. on its
    training mean) to keep exp() in range; H0 is then the hazard of a patient at that centre.
    """
    times, deaths = np.unique(time[event], return_counts=True)
    order = np.argsort(time)
    sorted_time, weight = time[order], np.exp(log_risk[order])
    tail = np.cumsum(weight[::-1])[::-1]  # sum of exp(h) over everybody from position k on
    at_risk = tail[np.searchsorted(sorted_time, times, side="left")]
    return times, np.cumsum(deaths / at_risk)


# -- the estimator surface ---------------------------------------------------------------------


def _check_times(times: ArrayLike) -> np.ndarray:
    points = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if points.ndim != 1 or not np.isfinite(points).all() or (points < 0).any():
        raise ValueError(f"times must be a 1-D array of finite, non-negative times, got "
                         f"{points!r}")
    if (np.diff(points) <= 0).any():
        raise ValueError("times must be strictly increasing, one column of the survival "
                         "curves per time; sort them and drop duplicates")
    return points


class SurvivalModel(ABC):
    """A time-to-event model on a table of patient features (see the module notes).

    Subclasses implement ``_fit`` on the preprocessed array, ``_risk`` and ``_survival``. The
    base class owns validation and preprocessing, so missing values are always imputed from
    the training data alone.
    """

    name: ClassVar[str]
    kind: ClassVar[ModelKind]
    display_name: ClassVar[str]
    description: ClassVar[str]

    def fit(self, x: pd.DataFrame, time: ArrayLike, event: ArrayLike,
            x_val: pd.DataFrame | None = None, time_val: ArrayLike | None = None,
            event_val: ArrayLike | None = None) -> Self:
        """Fit on training patients. Validation patients, if given, join them: every model
        here either holds out its own patients (the deep models' inner folds) or needs none."""
        times, events = self._target(x, time, event, "")
        given = [part is not None for part in (x_val, time_val, event_val)]
        if any(given) and not all(given):
            raise ValueError("pass x_val, time_val and event_val together, or none of them")
        self.preprocessor_ = TabularPreprocessor().fit(x)
        self.feature_names_ = list(x.columns)
        validation = None
        if x_val is not None:
            validation = (self.preprocessor_.transform(x_val),
                          *self._target(x_val, time_val, event_val, "validation "))
        self._fit(self.preprocessor_.transform(x), times, events, validation)
        return self

    def predict_risk(self, x: pd.DataFrame) -> np.ndarray:
        """One risk score per patient; higher means an earlier event is expected."""
        return self._risk(self.preprocessor_.transform(x))

    def predict_survival(self, x: pd.DataFrame, times: ArrayLike) -> np.ndarray:
        """Survival probabilities S(t | x), shape (n patients, len(times)), non-increasing
        along each row and in [0, 1]."""
        return np.clip(self._survival(self.preprocessor_.transform(x), _check_times(times)),
                       0.0, 1.0)

    @staticmethod
    def _target(x: pd.DataFrame, time: ArrayLike, event: ArrayLike, prefix: str
                ) -> tuple[np.ndarray, np.ndarray]:
        times, events = check_survival(time, event, prefix=prefix)
        if times.size != len(x):
            raise ValueError(f"{prefix}x has {len(x)} rows but {prefix}time has {times.size} "
                             "entries; pass one time and event per patient")
        if not events.any() and not prefix:
            raise ValueError("the training data hold no event (everyone is censored), so "
                             "there is nothing to learn a risk from; use more patients")
        return times, events

    @abstractmethod
    def _fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None: ...

    @abstractmethod
    def _risk(self, x: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _survival(self, x: np.ndarray, times: np.ndarray) -> np.ndarray: ...


class _DeepEnsembleSurvival(SurvivalModel):
    """Shared training of the deep survival ensembles: cross-fitted members, the weight decay
    chosen by their cross-validated likelihood, deterministic by seed.

    The patients are split into ``n_members`` folds, stratified on the event; member m is
    trained on every fold but m and validated on fold m, all members at once in one
    :class:`WideDeepEnsemble` (0/1 weights per member in the loss). The number of epochs is
    the one with the best mean held-out likelihood over the members (early stopping on the
    K-fold cross-validated loss), and of the ``weight_decays`` the one with the best such
    loss is kept (the trainer's own ``weight_decay`` is not used). Every patient trains
    n_members - 1 members and validates one: in a training fold of GSE7390 (about 40 events)
    a single 20% early-stopping split would judge by 8 events and learn from the other 32.
    Hyper-parameters are chosen inside ``fit`` from the training patients alone, so an outer
    cross-validation scores the whole procedure, choice included; the fixed settings (width,
    dropout, learning rate, the grids, the input transform) were set on GBSG2 and on the
    first repeat of GSE7390's folds only, never on the 5 x 10 score they are reported by.
    """

    kind: ClassVar[ModelKind] = "deep"
    _loss: ClassVar[LossFunction]
    #: The model's defaults: AdamW's step size and epoch budget, and the (decoupled) weight
    #: decays it chooses from.
    learning_rate: ClassVar[float]
    max_epochs: ClassVar[int]
    weight_decay_grid: ClassVar[tuple[float, ...]]

    def __init__(self, hidden_sizes: tuple[int, ...] = (16,), dropout: float = 0.3,
                 n_members: int = 5, trainer: TrainerConfig | None = None, seed: int = 0,
                 weight_decays: Sequence[float] | None = None) -> None:
        weight_decays = self.weight_decay_grid if weight_decays is None else weight_decays
        if n_members < 2:
            raise ValueError(f"n_members must be at least 2 (one inner fold each), got "
                             f"{n_members}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if not weight_decays or min(weight_decays) < 0:
            raise ValueError(f"weight_decays must be one or more non-negative values, got "
                             f"{weight_decays}")
        self.hidden_sizes = tuple(hidden_sizes)
        self.dropout = dropout
        self.n_members = n_members
        self.trainer = trainer or self.default_trainer()
        self.seed = seed
        self.weight_decays = tuple(weight_decays)

    @classmethod
    def default_trainer(cls, **changes: object) -> TrainerConfig:
        """This model's training settings, with ``changes`` (e.g. a quick run's epochs)."""
        config = TrainerConfig(max_epochs=cls.max_epochs, patience=20,
                               learning_rate=cls.learning_rate)
        return replace(config, **changes)

    def _fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        if validation is not None:  # the members hold out their own patients
            x = np.concatenate([x, validation[0]])
            time = np.concatenate([time, validation[1]])
            event = np.concatenate([event, validation[2]])
        if event.sum() < self.n_members:
            raise ValueError(f"{self.n_members} inner folds need at least {self.n_members} "
                             f"events, got {int(event.sum())}; use fewer members")
        fold = np.empty(len(x), dtype=np.float32)
        splitter = StratifiedKFold(self.n_members, shuffle=True, random_state=self.seed)
        for index, (_, held_out) in enumerate(splitter.split(x, event)):
            fold[held_out] = index
        # A Yeo-Johnson power (Yeo and Johnson 2000) for every input whose training skewness
        # exceeds 1 in absolute value: GBSG2's node counts and receptor levels (progesterone
        # receptor: median 33 fmol/l, maximum 2,380) act on the log-hazard far from linearly
        # (Sauerbrei and Royston 1999 fit them with fractional polynomials). A near-log power
        # lets the linear path follow them and keeps a few extreme patients from dominating
        # the weights (for the ridge Cox model on GBSG2's first repeat: C 0.671 before, 0.689
        # after). Near-symmetric inputs stay as standardised: the power would barely move
        # them, and fitting it to all 80 of GSE7390's inputs took most of a fit's time.
        skewed = np.flatnonzero(np.abs(skew(x, axis=0)) > 1.0)
        self.power_ = ColumnTransformer([("yeo_johnson", PowerTransformer(), skewed)],
                                        remainder="passthrough").fit(x)
        targets = self._targets(time, event)
        self.search_: list[dict[str, float]] = []
        fitted = []
        for weight_decay in self.weight_decays:
            network, history = self._train(self._transformed(x), targets, fold,
                                           weight_decay)
            self.search_.append({"weight_decay": weight_decay,
                                 "validation_loss": round(history.best_validation_loss, 6),
                                 "best_epoch": history.best_epoch})
            fitted.append((history.best_validation_loss, weight_decay, history, network))
        _, self.weight_decay_, self.history_, self.network_ = min(fitted,
                                                                  key=lambda item: item[0])
        self._fit_baseline(x, time, event)

    def _train(self, x: np.ndarray, targets: np.ndarray, fold: np.ndarray,
               weight_decay: float) -> tuple[WideDeepEnsemble, TrainingHistory]:
        checkpoint_dir = self.trainer.checkpoint_dir
        config = replace(self.trainer, seed=self.seed, weight_decay=weight_decay,
                         description=f"{self.name} ensemble of {self.n_members}, weight "
                                     f"decay {weight_decay:g}",
                         checkpoint_dir=(Path(checkpoint_dir) / f"weight-decay-{weight_decay:g}"
                                         if checkpoint_dir else None))
        torch.manual_seed(config.seed)
        network = WideDeepEnsemble(x.shape[1], self.hidden_sizes, self.dropout, self.n_members,
                                   zero_init_output=True, n_outputs=self._n_outputs())
        rows = torch.from_numpy(x)

        def patients(role: float) -> TensorDataset:
            """Every patient as one item, so each epoch is one full batch: the Cox likelihood
            compares each event with its whole risk set, which mini-batches would cut into
            pieces, and one item spares the per-row indexing of a loader (a fifth of the
            training time in a profile on GSE7390)."""
            columns = np.column_stack([targets, fold, np.full(len(x), role)])
            return TensorDataset(rows[None], torch.from_numpy(columns.astype(np.float32))[None])

        # One intra-op thread: on batches of a few hundred patients thread hand-offs cost more
        # than they save (a 5-fold DeepSurv pass on GSE7390 took 10 s with two threads on a
        # busy 2-core machine, 1.5 s with one).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            history = Trainer(config, collate=_whole_batch).fit(
                network, type(self)._loss, patients(0.0), patients(1.0))
        finally:
            torch.set_num_threads(threads)
        return network.eval(), history

    def _transformed(self, x: np.ndarray) -> np.ndarray:
        return self.power_.transform(x).astype(np.float32)

    @torch.no_grad()
    def _outputs(self, x: np.ndarray) -> torch.Tensor:
        """Every member's output for preprocessed rows ``x``: (members, n) or (members, n,
        outputs)."""
        return self.network_(torch.from_numpy(self._transformed(x)))

    @abstractmethod
    def _targets(self, time: np.ndarray, event: np.ndarray) -> np.ndarray:
        """(n, 2) training targets of the loss: time or interval, and event."""

    @abstractmethod
    def _n_outputs(self) -> int: ...

    def _fit_baseline(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        """Anything estimated from the trained network and all training patients."""


class DeepSurv(_DeepEnsembleSurvival):
    """DeepSurv (Katzman et al. 2018): a network's output as the log-risk of a Cox model,
    trained on the negative partial log-likelihood (Breslow ties) with dropout and weight
    decay; an ensemble of cross-fitted members, whose log-risks are averaged.

    Survival curves: S(t | x) = exp(-H0(t) exp(h(x))), with Breslow's baseline cumulative
    hazard H0 estimated on all training patients with the ensemble's log-risk.
    """

    name: ClassVar[str] = "deepsurv"
    display_name: ClassVar[str] = "DeepSurv ensemble"
    description: ClassVar[str] = ("Cox partial-likelihood network (Katzman et al. 2018), "
                                  "wide-and-deep ensemble, Breslow baseline hazard")

    _loss = staticmethod(_deepsurv_loss)
    # Small steps and strong decay: Adam moves every weight at about the learning rate
    # whatever its gradient, so on 80 inputs and 40 events a step of 1e-2 fits noise probes
    # within 5 epochs, before early stopping can tell them apart from the signal. Fits on
    # GSE7390 choose 10 or 30, fits on GBSG2 (240 events each) 0.1 or 1.
    learning_rate: ClassVar[float] = 3e-3
    max_epochs: ClassVar[int] = 300
    weight_decay_grid: ClassVar[tuple[float, ...]] = (0.1, 1.0, 10.0, 30.0)

    def _targets(self, time: np.ndarray, event: np.ndarray) -> np.ndarray:
        return np.column_stack([time, event])

    def _n_outputs(self) -> int:
        return 1

    def _fit_baseline(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        log_risk = self._log_risk(x)
        self.risk_centre_ = float(log_risk.mean())
        self.baseline_times_, self.baseline_hazard_ = breslow_cumulative_hazard(
            log_risk - self.risk_centre_, time, event)

    def _log_risk(self, x: np.ndarray) -> np.ndarray:
        return self._outputs(x).mean(dim=0).numpy().astype(np.float64)

    def _risk(self, x: np.ndarray) -> np.ndarray:
        return self._log_risk(x)

    def _survival(self, x: np.ndarray, times: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.baseline_times_, times, side="right") - 1
        hazard = np.where(index >= 0, self.baseline_hazard_[np.maximum(index, 0)], 0.0)
        relative = np.exp(self._log_risk(x) - self.risk_centre_)
        return np.exp(-relative[:, None] * hazard[None, :])


class LogisticHazard(_DeepEnsembleSurvival):
    """Discrete-time logistic-hazard network (Nnet-survival, Gensheimer and Narasimhan 2019):
    one output per interval of a time grid, the logit of the hazard in that interval, trained
    on the censored-data likelihood (:func:`logistic_hazard_loss`).

    The grid's ``n_intervals`` intervals end at quantiles of the training event times (equal
    numbers of events per interval, as Kvamme and Borgan 2021 recommend), the last at the last
    training time. Between grid points the hazard is taken as constant (survival interpolated
    exponentially); after the grid, S stays at its last value. The ensemble's curve is the
    mean of its members' curves; the risk score is minus the restricted mean survival time
    over the grid (trapezoid), one number that ranks patients even where curves cross.
    """

    name: ClassVar[str] = "logistic_hazard"
    display_name: ClassVar[str] = "Logistic-hazard network ensemble"
    description: ClassVar[str] = ("discrete-time hazard network (Gensheimer and Narasimhan "
                                  "2019), wide-and-deep ensemble")

    _loss = staticmethod(_logistic_hazard_loss)
    # One decay, not a grid: on the development folds (the first repeat of both cohorts)
    # every fit chose 1 from (0.01, 0.1, 1, 3); larger values lose on the held-out likelihood
    # because the decay also pulls the interval biases (the baseline hazard) towards a hazard
    # of 1/2. A step of 3e-2 stops within about 100 epochs.
    learning_rate: ClassVar[float] = 3e-2
    max_epochs: ClassVar[int] = 200
    weight_decay_grid: ClassVar[tuple[float, ...]] = (1.0,)

    def __init__(self, hidden_sizes: tuple[int, ...] = (16,), dropout: float = 0.3,
                 n_members: int = 5, trainer: TrainerConfig | None = None, seed: int = 0,
                 weight_decays: Sequence[float] | None = None, n_intervals: int = 10
                 ) -> None:
        super().__init__(hidden_sizes, dropout, n_members, trainer, seed, weight_decays)
        if n_intervals < 2:
            raise ValueError(f"n_intervals must be at least 2, got {n_intervals}")
        self.n_intervals = n_intervals

    def _targets(self, time: np.ndarray, event: np.ndarray) -> np.ndarray:
        quantiles = np.arange(1, self.n_intervals) / self.n_intervals
        inner = np.quantile(time[event], quantiles)
        # Tied quantiles (few distinct event times) would give empty intervals: drop them.
        self.edges_ = np.unique(np.concatenate([[0.0], inner, [time.max()]]))
        if self.edges_.size < 3:
            raise ValueError("the training event times are too few or too tied to place a "
                             "time grid of two or more intervals; use more patients")
        return np.column_stack([self._interval(time), event])

    def _n_outputs(self) -> int:
        return self.edges_.size - 1

    def _interval(self, time: np.ndarray) -> np.ndarray:
        """Index of the interval (edges[k], edges[k+1]] holding each time; times after the
        grid go to the last interval."""
        index = np.searchsorted(self.edges_, time, side="left") - 1
        return np.clip(index, 0, self.edges_.size - 2)

    def _log_survival_at_edges(self, x: np.ndarray) -> np.ndarray:
        """log S at every grid edge, per member: shape (members, n, edges)."""
        logits = self._outputs(x).double()
        # log(1 - sigmoid(z)) = -softplus(z), exact where 1 - sigmoid(z) underflows.
        steps = -F.softplus(logits)
        return torch.cat([torch.zeros_like(steps[..., :1]), steps.cumsum(dim=-1)],
                         dim=-1).numpy()

    def _survival(self, x: np.ndarray, times: np.ndarray) -> np.ndarray:
        log_at_edges = self._log_survival_at_edges(x)
        edges = self.edges_
        right = np.clip(np.searchsorted(edges, times, side="left"), 1, edges.size - 1)
        fraction = np.clip((times - edges[right - 1]) / (edges[right] - edges[right - 1]),
                           0.0, 1.0)
        start, end = log_at_edges[..., right - 1], log_at_edges[..., right]
        return np.exp(start + fraction * (end - start)).mean(axis=0)

    def _risk(self, x: np.ndarray) -> np.ndarray:
        survival = np.exp(self._log_survival_at_edges(x)).mean(axis=0)
        return -np.trapezoid(survival, self.edges_, axis=-1)


class CoxPHModel(SurvivalModel):
    """Cox proportional hazards (lifelines ``CoxPHFitter``, MIT) on standardised inputs with a
    small ridge penalty: with 80 inputs and 51 events (GSE7390) the unpenalised partial
    likelihood has no finite maximum on many folds. Breslow baseline hazard; risk is the
    linear predictor. Validation patients, when given, join the training data."""

    name: ClassVar[str] = "cox_ph"
    kind: ClassVar[ModelKind] = "baseline"
    display_name: ClassVar[str] = "Cox PH (ridge)"
    description: ClassVar[str] = "lifelines CoxPHFitter, ridge penalty"

    def __init__(self, penalizer: float = 0.1, seed: int = 0) -> None:
        if penalizer < 0:
            raise ValueError(f"penalizer must be non-negative, got {penalizer}")
        self.penalizer = penalizer
        self.seed = seed  # deterministic fit; kept for the shared factory signature

    def _fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        from lifelines import CoxPHFitter  # 0.5 s to import; only when a Cox model is fitted

        if validation is not None:
            x = np.concatenate([x, validation[0]])
            time = np.concatenate([time, validation[1]])
            event = np.concatenate([event, validation[2]])
        frame = self._frame(x)
        frame["time"], frame["event"] = time, event
        with warnings.catch_warnings():
            # lifelines warns about near-collinear probes; the ridge penalty is the answer.
            warnings.simplefilter("ignore")
            self.fitter_ = CoxPHFitter(penalizer=self.penalizer).fit(
                frame, duration_col="time", event_col="event")

    @staticmethod
    def _frame(x: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])

    def _risk(self, x: np.ndarray) -> np.ndarray:
        return self.fitter_.predict_log_partial_hazard(self._frame(x)).to_numpy(np.float64)

    def _survival(self, x: np.ndarray, times: np.ndarray) -> np.ndarray:
        curves = self.fitter_.predict_survival_function(self._frame(x), times=times)
        return curves.to_numpy(np.float64).T
