"""Models by input kind, and the classical baselines, behind one estimator surface."""

from medora._lazy import lazy_exports

_EXPORTS = {
    "BagOfCodesClassifier": "event_baselines",
    "MODEL_CLASSES": "factory",
    "MOLECULE_MODEL_CLASSES": "factory",
    "CausalForest": "effect_baselines",
    "ConformalRegressor": "regression",
    "DMPNNRegressor": "graph",
    "DRLearner": "effect_baselines",
    "DragonNet": "effects",
    "EFFECT_MODEL_CLASSES": "factory",
    "EVENT_MODEL_NAMES": "factory",
    "EffectModel": "effects",
    "EffectPrediction": "effects",
    "EventGRU": "sequence",
    "EventTransformer": "sequence",
    "FingerprintGradientBoosting": "fingerprint",
    "FingerprintRandomForest": "fingerprint",
    "GradientBoostingModel": "baselines",
    "LogisticRegressionModel": "baselines",
    "MLPClassifier": "tabular",
    "Model": "base",
    "MoleculeRegressor": "regression",
    "OffsetTARNet": "effects",
    "TARNet": "effects",
    "TLearner": "effect_baselines",
    "TabularMLP": "tabular",
    "XLearner": "effect_baselines",
    "build_effect_model": "factory",
    "build_event_model": "factory",
    "build_model": "factory",
    "build_molecule_model": "factory",
    "build_survival_model": "factory",
    "survival_model_classes": "factory",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
