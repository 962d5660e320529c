"""Tabular preprocessing shared by every model, fitted on training data only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler


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
        self.imputer_ = SimpleImputer(strategy="median", add_indicator=True,
                                      keep_empty_features=True)
        imputed = self.imputer_.fit_transform(x.to_numpy(dtype=float))
        self.scaler_ = StandardScaler().fit(imputed[:, :len(self.feature_names_)])
        indicator_features = (self.imputer_.indicator_.features_
                              if self.imputer_.indicator_ is not None else [])
        self.output_groups_ = np.array(
            [*range(len(self.feature_names_)), *indicator_features], dtype=int)
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        missing = [name for name in self.feature_names_ if name not in x.columns]
        if missing:
            raise ValueError(f"input lacks feature column(s) {missing}; expected "
                             f"{self.feature_names_}")
        imputed = self.imputer_.transform(x[self.feature_names_].to_numpy(dtype=float))
        n_features = len(self.feature_names_)
        scaled = self.scaler_.transform(imputed[:, :n_features])
        return np.hstack([scaled, imputed[:, n_features:]]).astype(np.float32)

    def group_attributions(self, attributions: np.ndarray) -> np.ndarray:
        """Sum attributions of the transformed columns into one per original feature."""
        grouped = np.zeros((attributions.shape[0], len(self.feature_names_)))
        np.add.at(grouped.T, self.output_groups_, attributions.T)
        return grouped
