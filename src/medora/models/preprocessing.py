"""Tabular preprocessing shared by every model, fitted on training data only."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


class TabularPreprocessor:
    """Median imputation with missing-value indicators; features standardised, indicators
    kept as 0/1.

    Standardising an indicator would be dangerous: a value missing for 1 training patient in
    3,000 becomes a z-score near 55 when a new patient lacks it, and the model extrapolates
    wildly. As 0/1 its effect stays on the scale the training data supported.

    ``output_groups`` maps every output column back to the input feature it came from (a
    feature and its missing indicator share a group), so attributions computed on the
    transformed inputs can be reported per original feature.
    """

    def fit(self, x: pd.DataFrame) -> TabularPreprocessor:
        self.feature_names_ = list(x.columns)
        values = self._values(x)
        missing = np.isnan(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: median 0
            self.medians_ = np.nan_to_num(np.nanmedian(values, axis=0))
        filled = np.where(missing, self.medians_, values)
        self.means_ = filled.mean(axis=0)
        spread = filled.std(axis=0)
        self.scales_ = np.where(spread > 0, spread, 1.0)
        # Indicators only for features missing somewhere in training, as scikit-learn's
        # MissingIndicator does by default: a feature never missing has nothing to indicate.
        self.indicator_features_ = np.flatnonzero(missing.any(axis=0))
        self.output_groups_ = np.array(
            [*range(len(self.feature_names_)), *self.indicator_features_], dtype=int)
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        values = self._values(x)
        missing = np.isnan(values)
        scaled = (np.where(missing, self.medians_, values) - self.means_) / self.scales_
        return np.hstack([scaled, missing[:, self.indicator_features_]]).astype(np.float32)

    def _values(self, x: pd.DataFrame) -> np.ndarray:
        """The feature columns in training order as floats (plain NumPy: this runs once per
        served request, where pandas' column selection would cost more than the model)."""
        names = getattr(self, "feature_names_", list(x.columns))
        if list(x.columns) != names:
            missing = [name for name in names if name not in x.columns]
            if missing:
                raise ValueError(f"input lacks feature column(s) {missing}; expected {names}")
            x = x[names]
        values = x.to_numpy(dtype=float)
        if np.isinf(values).any():
            raise ValueError("input contains infinite values; give finite numbers (leave a "
                             "value empty if it is missing)")
        return values

    def group_attributions(self, attributions: np.ndarray) -> np.ndarray:
        """Sum attributions of the transformed columns into one per original feature."""
        grouped = np.zeros((attributions.shape[0], len(self.feature_names_)))
        np.add.at(grouped.T, self.output_groups_, attributions.T)
        return grouped


class PiecewiseLinearEncoder:
    """Piecewise-linear encoding of numeric features (Gorishniy, Rubachev and Babenko,
    NeurIPS 2022, "On embeddings for numerical features in tabular deep learning").

    Each feature with more than two distinct training values is cut at its training
    quantiles into at most ``n_bins`` bins (fewer where quantiles coincide). Bin t of a value
    is 0 below the bin, 1 above it, and inside it the fraction of the bin below the value;
    the first bin extends to the left and the last to the right, so a value outside the
    training range extrapolates linearly instead of saturating. A network then fits a
    threshold or a step as one weight on one bin, where from smooth inputs it must compose
    it from many units: this is where gradient-boosted trees beat plain networks on tabular
    data. The feature itself is kept before its bins, so a linear effect stays one weight.
    Features with at most two distinct values (indicators, one-hot levels) pass through.
    """

    def __init__(self, n_bins: int = 16) -> None:
        if n_bins < 2:
            raise ValueError(f"n_bins must be at least 2, got {n_bins}")
        self.n_bins = n_bins

    def fit(self, x: np.ndarray) -> PiecewiseLinearEncoder:
        values = np.asarray(x, dtype=np.float64)
        if values.ndim != 2 or len(values) == 0:
            raise ValueError(f"expected a non-empty 2-D array (rows x features), got shape "
                             f"{values.shape}")
        self.n_features_in_ = values.shape[1]
        quantiles = np.linspace(0.0, 1.0, self.n_bins + 1)
        #: Each feature's bin edges, or None for a feature that passes through.
        self.edges_: list[np.ndarray | None] = []
        for column in values.T:
            edges = np.unique(np.quantile(column, quantiles))
            binned = len(np.unique(column)) > 2 and len(edges) > 2
            self.edges_.append(edges if binned else None)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if not hasattr(self, "edges_"):
            raise RuntimeError("fit the encoder on the training features before transform")
        values = np.asarray(x, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features (as fitted), got shape "
                             f"{values.shape}")
        parts = []
        for column, edges in zip(values.T, self.edges_, strict=True):
            parts.append(column[:, None])
            if edges is not None:
                position = (column[:, None] - edges[:-1]) / np.diff(edges)
                position[:, 1:] = np.maximum(position[:, 1:], 0.0)
                position[:, :-1] = np.minimum(position[:, :-1], 1.0)
                parts.append(position)
        return np.hstack(parts)
