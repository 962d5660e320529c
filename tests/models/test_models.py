"""Every model shares one surface; explanations add up to what the model predicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from medora.models import MODEL_CLASSES, build_model
from medora.models.preprocessing import TabularPreprocessor


@pytest.fixture(scope="module")
def fitted(framingham_sample) -> dict[str, object]:
    x, y = framingham_sample
    models = {}
    for name in MODEL_CLASSES:
        model = build_model(name, seed=0, quick=True, progress=False)
        models[name] = model.fit(x.iloc[:450], y[:450], x.iloc[450:], y[450:])
    return models


@pytest.mark.parametrize("name", sorted(MODEL_CLASSES))
def test_estimator_surface(name: str, fitted, framingham_sample) -> None:
    x, y = framingham_sample
    model = fitted[name]
    proba = model.predict_proba(x.iloc[450:])
    assert proba.shape == (150, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(model.predict(x.iloc[450:]))) <= {0, 1}
    assert roc_auc_score(y[450:], proba[:, 1]) > 0.55  # better than chance on 150 patients


@pytest.mark.parametrize("name", sorted(MODEL_CLASSES))
def test_explanations_are_per_original_feature(name: str, fitted, framingham_sample) -> None:
    x, _ = framingham_sample
    attributions = fitted[name].explain(x.iloc[:5])
    assert list(attributions.columns) == list(x.columns)
    assert attributions.shape == (5, x.shape[1])
    assert np.isfinite(attributions.to_numpy()).all()


def test_logistic_and_integrated_gradient_attributions_are_complete(
        fitted, framingham_sample) -> None:
    """Attributions sum to the log-odds minus the log-odds of the average patient."""
    x, _ = framingham_sample
    rows = x.iloc[:4]
    for name in ("logistic_regression", "mlp"):
        model = fitted[name]
        reference = model._decision_function(
            np.zeros((1, model.preprocessor_.output_groups_.size), dtype=np.float32))
        total = model.explain(rows).sum(axis=1).to_numpy()
        np.testing.assert_allclose(total, model.decision_function(rows) - reference, atol=2e-3)


def test_gradient_boosting_shap_values_add_up(fitted, framingham_sample) -> None:
    x, _ = framingham_sample
    model = fitted["gradient_boosting"]
    import shap

    base = shap.TreeExplainer(model.estimator_).expected_value
    total = model.explain(x.iloc[:4]).sum(axis=1).to_numpy() + np.ravel(base)[0]
    np.testing.assert_allclose(total, model.decision_function(x.iloc[:4]), atol=1e-6)


def test_preprocessor_imputes_from_training_data_only() -> None:
    train = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [10.0, 10.0, 10.0, 30.0]})
    test = pd.DataFrame({"a": [np.nan, 1000.0], "b": [np.nan, 10.0]})
    preprocessor = TabularPreprocessor().fit(train)
    out = preprocessor.transform(test)
    # one indicator for "a", the only column with missing training values
    assert out.shape == (2, 3)
    assert preprocessor.output_groups_.tolist() == [0, 1, 0]
    assert preprocessor.medians_.tolist() == [2.0, 10.0]
    # the missing "a" takes the training median, the missing "b" too (no indicator for "b")
    filled = out[:, :2] * preprocessor.scales_ + preprocessor.means_
    assert filled[0].tolist() == pytest.approx([2.0, 10.0])
    assert out[:, 2].tolist() == [1.0, 0.0]


def test_preprocessor_matches_scikit_learn() -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd"))
    train.iloc[rng.choice(200, 30, replace=False), 1] = np.nan
    test = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd"))
    test.iloc[:10, [0, 1]] = np.nan
    imputer = SimpleImputer(strategy="median", add_indicator=True).fit(train)
    imputed = imputer.transform(test)
    scaler = StandardScaler().fit(imputer.transform(train)[:, :4])
    expected = np.hstack([scaler.transform(imputed[:, :4]), imputed[:, 4:]])
    assert np.allclose(TabularPreprocessor().fit(train).transform(test), expected, atol=1e-5)


def test_preprocessor_rejects_infinite_values() -> None:
    preprocessor = TabularPreprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="infinite"):
        preprocessor.transform(pd.DataFrame({"a": [np.inf]}))


def test_binary_target_is_required(framingham_sample) -> None:
    x, y = framingham_sample
    with pytest.raises(ValueError, match="binary target with both classes"):
        build_model("logistic_regression").fit(x, np.zeros_like(y))
    with pytest.raises(ValueError, match="binary target"):
        build_model("logistic_regression").fit(x, y * 2)


def test_unknown_model_name_lists_available() -> None:
    with pytest.raises(KeyError, match="logistic_regression"):
        build_model("svm")


def test_missing_indicators_stay_binary_so_rare_missingness_cannot_explode() -> None:
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 250, "b": [5.0] * 999 + [np.nan]})
    preprocessor = TabularPreprocessor().fit(train)
    out = preprocessor.transform(pd.DataFrame({"a": [2.5], "b": [np.nan]}))
    assert out[0, 2] == 1.0  # the indicator of b, missing once in 1,000
    assert abs(out[0, 0]) < 0.5
