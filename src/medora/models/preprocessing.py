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
