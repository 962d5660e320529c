"""The survival datasets load from the installed packages with their provenance, and say how
to install what is missing."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from medora.areas.survival import data as survival
from medora.areas.survival.data import (
    GSE7390_PROBES,
    DatasetUnavailableError,
    SurvivalDataset,
    load_gbsg2,
    load_gse7390,
)
from medora.data import packaged


def _installed(package: str) -> bool:
    try:
        metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return False
    return True


# GSE7390's file ships in scikit-survival, the optional `gpl-baselines` extra.
needs_gse7390 = pytest.mark.skipif(not _installed("scikit-survival"),
                                   reason="pip install 'medora[gpl-baselines]' for GSE7390")


@needs_gse7390
def test_gse7390_shapes_events_and_groups() -> None:
    dataset = load_gse7390()
    assert dataset.features.shape == (198, 80)
    assert dataset.feature_groups["clinical"] == ("age", "size", "grade", "er")
    assert dataset.feature_groups["genes"] == GSE7390_PROBES
    assert len(GSE7390_PROBES) == 76
    assert (dataset.n_events, int((~dataset.event).sum())) == (51, 147)
    assert dataset.time_unit == "days"
    assert (dataset.time.min(), dataset.time.max()) == (125.0, 9108.0)
    # Nominal attributes stay categorical with the file's levels; encoding is the task's.
    assert list(dataset.features["grade"].cat.categories) == [
        "well differentiated", "intermediate", "poorly differentiated", "unkown"]
    assert dataset.features["grade"].value_counts()["unkown"] == 2
    assert dataset.features["er"].value_counts().to_dict() == {"positive": 134, "negative": 64}
    genes = dataset.features[list(GSE7390_PROBES)]
    assert genes.dtypes.eq(np.float64).all() and not genes.isna().any().any()


def test_gbsg2_shapes_events_and_groups() -> None:
    dataset = load_gbsg2()
    assert dataset.features.shape == (686, 8)
    assert (dataset.n_events, len(dataset.time)) == (299, 686)
    assert dataset.feature_groups == {
        "clinical": ("age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec"),
        "treatment": ("horTh",)}
    assert (dataset.time.min(), dataset.time.max()) == (8.0, 2659.0)
    assert dataset.features["tgrade"].cat.ordered
    assert dataset.features["tgrade"].value_counts().to_dict() == {"II": 444, "III": 161,
                                                                  "I": 81}
    assert dataset.features["horTh"].value_counts()["yes"] == 246


@pytest.mark.parametrize(("loader", "package", "licence"), [
    pytest.param(load_gse7390, "scikit-survival", "GPL-3.0", marks=needs_gse7390),
    (load_gbsg2, "lifelines", "MIT"),
])
def test_provenance_names_the_package_file_hash_and_licence(loader, package: str,
                                                            licence: str) -> None:
    dataset = loader()
    provenance = dataset.provenance
    assert provenance.package == package
    assert provenance.package_version == metadata.version(package)
    assert dataset.file.is_file() and str(dataset.file).endswith(provenance.resource)
    assert provenance.sha256 == hashlib.sha256(dataset.file.read_bytes()).hexdigest()
    assert licence in provenance.licence  # read from the installed metadata
    assert {"package", "package_version", "resource", "licence", "sha256"} <= set(
        provenance.to_dict())


@needs_gse7390
def test_gse7390_is_read_without_importing_scikit_survival() -> None:
    # A fresh interpreter: this test session may have imported sksurv in other tests.
    code = ("import sys; from medora.areas.survival.data import load_gse7390; load_gse7390(); "
            "assert 'sksurv' not in sys.modules, 'sksurv was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_scikit_survival_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = metadata.distribution

    def without_sksurv(name: str) -> metadata.Distribution:
        if name == "scikit-survival":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(packaged.metadata, "distribution", without_sksurv)
    with pytest.raises(DatasetUnavailableError,
                       match=r"pip install 'medora\[gpl-baselines\]'"):
        load_gse7390()
    assert load_gbsg2().n_events == 299  # lifelines' file is unaffected


@needs_gse7390
def test_a_different_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "other.arff"
    other.write_text("@relation other\n@attribute age numeric\n@attribute t.tdm numeric\n"
                     "@attribute e.tdm {0,1}\n@data\n50,100,1\n")
    real = packaged.read_package_files("scikit-survival", [survival._GSE7390_FILE],
                                       what="GSE7390", install="-")
    monkeypatch.setattr(survival, "read_package_files", lambda *_, **__: replace(
        real, locations=(other,), contents=(other.read_bytes(),)))
    with pytest.raises(ValueError, match="not the one this loader was written for"):
        load_gse7390()


def test_dataset_checks_its_arrays() -> None:
    dataset = load_gbsg2()
    with pytest.raises(ValueError, match="event must be boolean"):
        SurvivalDataset(**{**vars(dataset), "event": dataset.event.astype(int)})
    with pytest.raises(ValueError, match="non-negative"):
        SurvivalDataset(**{**vars(dataset), "time": -dataset.time})
    with pytest.raises(ValueError, match="partition the feature columns"):
        SurvivalDataset(**{**vars(dataset), "feature_groups": {"clinical": ("age",)}})
