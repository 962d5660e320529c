"""Models by input kind, and the classical baselines, behind one estimator surface."""

from medora._lazy import lazy_exports

_EXPORTS = {
    "MODEL_CLASSES": "factory",
    "MOLECULE_MODEL_CLASSES": "factory",
    "ConformalRegressor": "regression",
    "DMPNNRegressor": "graph",
    "FingerprintGradientBoosting": "fingerprint",
    "FingerprintRandomForest": "fingerprint",
    "GradientBoostingModel": "baselines",
    "LogisticRegressionModel": "baselines",
    "MLPClassifier": "tabular",
    "Model": "base",
    "MoleculeRegressor": "regression",
    "TabularMLP": "tabular",
    "build_model": "factory",
    "build_molecule_model": "factory",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
