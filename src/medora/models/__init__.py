"""Models more than one area builds on (the tabular MLP, the classical baselines, the calibrated
wrapper), behind one estimator surface; each area's own models live in its folder."""

from medora.core.lazy import lazy_exports

_EXPORTS = {
    "MODEL_CLASSES": "factory",
    "GradientBoostingModel": "baselines",
    "LogisticRegressionModel": "baselines",
    "MLPClassifier": "tabular",
    "Model": "base",
    "TabularMLP": "tabular",
    "build_model": "factory",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
