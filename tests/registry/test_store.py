"""The model store: versions, integrity, status changes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from medora.evaluate.calibration import PlattCalibrator
from medora.models import build_model
from medora.models.calibrated import CalibratedModel
from medora.registry import ArtifactIntegrityError, ModelStore


@pytest.fixture(scope="module")
def predictor(framingham_sample) -> CalibratedModel:
    x, y = framingham_sample
    model = build_model("logistic_regression").fit(x.iloc[:400], y[:400])
    calibrator = PlattCalibrator().fit(model.predict_proba(x.iloc[400:])[:, 1], y[400:])
    return CalibratedModel(model, calibrator)


def _register(store: ModelStore, predictor: CalibratedModel, task: str = "t.demo"):
    return store.register(
        task, predictor, model_name="logistic_regression", model_kind="baseline",
        run_id="run-1", data_fingerprint="abc", metrics={"auroc": {"value": 0.7, "ci": [0.6,
                                                                                        0.8]}},
        config={"seed": 0}, documents=lambda r: {"card.md": f"# card v{r.version}"})


def test_versions_increment_and_round_trip(tmp_path, predictor, framingham_sample) -> None:
    store = ModelStore(tmp_path)
    first, second = _register(store, predictor), _register(store, predictor)
    assert (first.version, second.version) == (1, 2)
    assert store.get("t.demo").version == 2
    assert store.card(first) == "# card v1"
    loaded = store.load(store.get("t.demo", 1))
    x, _ = framingham_sample
    np.testing.assert_allclose(loaded.predict_proba(x.iloc[:5]), predictor.predict_proba(
        x.iloc[:5]))
    assert not list((tmp_path / "t.demo").glob(".staging-*"))


def test_tampered_artifact_is_detected(tmp_path, predictor) -> None:
    store = ModelStore(tmp_path)
    record = _register(store, predictor)
    with (tmp_path / "t.demo" / "v1" / "model.joblib").open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ArtifactIntegrityError, match="does not match the SHA-256"):
        store.load(record)


class _Vanished:
    """A class that existed when an artifact was pickled and is gone when it is loaded."""


def test_artifact_from_an_incompatible_release_names_the_fix(tmp_path, monkeypatch) -> None:
    import json

    store = ModelStore(tmp_path)
    record = store.register(
        "t.demo", _Vanished(), model_name="m", model_kind="baseline", run_id="run-1",
        data_fingerprint="abc", metrics={}, config={"medora_version": "0.0.1"},
        documents=lambda r: {})
    monkeypatch.delattr(sys.modules[__name__], "_Vanished")
    with pytest.raises(ArtifactIntegrityError, match=r"registered by medora 0\.0\.1 and cannot "
                                                     r"be loaded.*retrain it"):
        store.load(record)
    assert json.loads((tmp_path / "t.demo" / "v1" / "version.json").read_text())["version"] == 1


def test_status_changes_are_recorded_and_retired_versions_skipped(tmp_path, predictor) -> None:
    store = ModelStore(tmp_path)
    first, second = _register(store, predictor), _register(store, predictor)
    store.set_status(first, "approved", by="alice")
    store.set_status(second, "retired", by="bob", reason="superseded")
    latest = store.get("t.demo")
    assert latest.version == 1
    assert latest.status == "approved" and latest.approved_by == "alice"
    assert store.get("t.demo", 2).history[-1]["reason"] == "superseded"


def test_missing_task_and_version_explain_the_fix(tmp_path, predictor) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(LookupError, match=r"medora train t\.demo"):
        store.get("t.demo")
    _register(store, predictor)
    with pytest.raises(LookupError, match=r"registered versions: \[1\]"):
        store.get("t.demo", 7)


def test_failed_registration_leaves_nothing_behind(tmp_path, predictor) -> None:
    store = ModelStore(tmp_path)

    def broken_documents(_):
        raise RuntimeError("card template failed")

    with pytest.raises(RuntimeError):
        store.register("t.demo", predictor, model_name="m", model_kind="baseline", run_id="r",
                       data_fingerprint="f", metrics={}, config={},
                       documents=broken_documents)
    assert store.versions("t.demo") == []
    assert list((tmp_path / "t.demo").iterdir()) == []
