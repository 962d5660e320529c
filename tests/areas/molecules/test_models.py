"""Molecule models on real FreeSolv molecules: the estimator surface, learning, invariances,
explanations and conformal intervals."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from medora.areas.molecules.factory import build_molecule_model
from medora.areas.molecules.fingerprint import FingerprintGradientBoosting, FingerprintRandomForest
from medora.areas.molecules.graph import DMPNNRegressor
from medora.areas.molecules.regression import ConformalRegressor, TrainingReference
from medora.train.trainer import TrainerConfig


@pytest.fixture(scope="module")
def dmpnn(freesolv_sample) -> DMPNNRegressor:
    mols, y = freesolv_sample
    trainer = TrainerConfig(max_epochs=30, patience=10, batch_size=32, learning_rate=1e-3,
                            weight_decay=0.0, progress=False)
    return DMPNNRegressor(hidden_size=64, ffn_hidden_size=64, n_members=2, trainer=trainer,
                          seed=0).fit(mols[:120], y[:120], mols[120:140], y[120:140])


def test_dmpnn_learns_better_than_the_mean(dmpnn, freesolv_sample) -> None:
    mols, y = freesolv_sample
    prediction, spread = dmpnn.predict_spread(mols[140:])
    assert prediction.shape == spread.shape == (20,)
    assert (spread >= 0).all() and spread.max() > 0  # two members disagree somewhere
    rmse = np.sqrt(np.mean((prediction - y[140:]) ** 2))
    assert rmse < 0.8 * np.std(y[140:])
    assert len(dmpnn.histories_) == 2


def test_dmpnn_ignores_atom_order(dmpnn) -> None:
    mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    order = list(range(mol.GetNumAtoms()))[::-1]
    shuffled = Chem.RenumberAtoms(mol, order)
    assert dmpnn.predict([mol])[0] == pytest.approx(dmpnn.predict([shuffled])[0], abs=1e-4)


def test_dmpnn_atom_weights_add_up_to_the_prediction_difference(dmpnn) -> None:
    """Integrated gradients are complete: atom weights sum to f(molecule) - f(baseline)."""
    import torch

    from medora.areas.molecules.dmpnn import GraphTensors
    from medora.areas.molecules.featurizers import batch_graphs, featurize

    mol = Chem.MolFromSmiles("OCc1ccccc1")
    (weights,) = dmpnn.explain([mol])
    assert weights.shape == (mol.GetNumAtoms(),)
    graph = featurize(mol)
    batch = GraphTensors.of(batch_graphs([graph], dmpnn._descriptors([mol])))
    with torch.no_grad():
        baseline = torch.stack([m(batch, torch.zeros_like(batch.atoms),
                                  torch.zeros_like(batch.edges))
                                for m in dmpnn.member_networks()]
                               ).mean().item() * dmpnn.target_scale_ + dmpnn.target_mean_
    assert weights.sum() == pytest.approx(dmpnn.predict([mol])[0] - baseline, abs=0.05)


def test_prediction_equals_the_trained_networks(dmpnn, freesolv_sample) -> None:
    """Prediction runs its own evaluation of the members (on arrays, split weights, sparse
    sums): it must give what the trained modules give, in any grouping of the molecules."""
    import torch

    from medora.areas.molecules.dmpnn import GraphTensors
    from medora.areas.molecules.featurizers import batch_graphs, featurize

    mols, _ = freesolv_sample
    mols = [*mols, Chem.MolFromSmiles("C"), Chem.MolFromSmiles("[Xe]")]  # molecules without bonds
    batch = GraphTensors.of(batch_graphs([featurize(mol) for mol in mols],
                                         dmpnn._descriptors(mols)))
    with torch.no_grad():
        expected = torch.stack([member(batch) for member in dmpnn.member_networks()]).numpy()
    expected = expected.astype(np.float64) * dmpnn.target_scale_ + dmpnn.target_mean_
    predicted = dmpnn.member_predictions(mols)
    assert predicted.shape == (2, len(mols))
    assert np.allclose(predicted, expected, atol=1e-4)
    parts = [dmpnn.member_predictions(mols[:7]), dmpnn.member_predictions(mols[7:])]
    assert np.allclose(np.concatenate(parts, axis=1), predicted, atol=1e-5)
    assert dmpnn.member_predictions([]).shape == (2, 0)


def test_dmpnn_is_reproducible_by_seed(freesolv_sample) -> None:
    mols, y = freesolv_sample
    trainer = TrainerConfig(max_epochs=3, patience=3, batch_size=32, progress=False)

    def fit() -> np.ndarray:
        return DMPNNRegressor(hidden_size=16, ffn_hidden_size=16, n_members=2, trainer=trainer,
                              seed=3).fit(mols[:60], y[:60], mols[60:80], y[60:80]
                                          ).member_predictions(mols[80:])

    assert np.array_equal(fit(), fit())


@pytest.mark.parametrize("model_class", [FingerprintRandomForest, FingerprintGradientBoosting])
def test_fingerprint_baselines(model_class, freesolv_sample) -> None:
    mols, y = freesolv_sample
    model = model_class(seed=0).fit(mols[:140], y[:140])
    prediction, spread = model.predict_spread(mols[140:])
    assert np.sqrt(np.mean((prediction - y[140:]) ** 2)) < np.std(y[140:])
    assert (spread >= 0).all()
    (weights,) = model.explain(mols[140:141])
    assert weights.shape == (mols[140].GetNumAtoms(),)


def test_conformal_regressor_intervals_and_reference(freesolv_sample) -> None:
    mols, y = freesolv_sample
    model = FingerprintRandomForest(seed=0).fit(mols[:100], y[:100])
    reference = TrainingReference.from_molecules(mols[:100], y[:100])
    predictor = ConformalRegressor.calibrate(model, mols[100:130], y[100:130], reference,
                                             coverage=0.8)
    interval = predictor.predict_interval(mols[130:])
    assert (interval.lower <= interval.value).all() and (interval.value <= interval.upper).all()
    assert interval.coverage == 0.8
    indices, similarities = reference.nearest(mols[:2], k=3)
    assert indices[:, 0].tolist() == [0, 1] and np.allclose(similarities[:, 0], 1.0)


def test_targets_are_validated(freesolv_sample) -> None:
    mols, y = freesolv_sample
    with pytest.raises(ValueError, match="one target value per molecule"):
        FingerprintRandomForest().fit(mols[:10], y[:9])
    with pytest.raises(ValueError, match="finite"):
        FingerprintRandomForest().fit(mols[:3], np.array([1.0, np.nan, 2.0]))
    with pytest.raises(KeyError, match="unknown molecule model"):
        build_molecule_model("transformer")
