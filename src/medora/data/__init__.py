"""Readers for clinical formats and loaders of the datasets that ship inside installed packages."""

from medora.data.bundled import (
    Dataset,
    DatasetProvenance,
    load_approved_drugs,
    load_chembl2321810,
    load_framingham,
    load_freesolv,
    load_heart_failure,
    load_huuskonen,
    load_wdbc,
)
from medora.data.molecules import (
    InvalidMolecule,
    MoleculeTable,
    MoleculeValidationError,
    parse_smiles,
    read_molecule_bytes,
    read_molecules,
)
from medora.data.tabular import InputValidationError, read_table, validate_features

__all__ = [
    "Dataset",
    "DatasetProvenance",
    "InputValidationError",
    "InvalidMolecule",
    "MoleculeTable",
    "MoleculeValidationError",
    "load_approved_drugs",
    "load_chembl2321810",
    "load_framingham",
    "load_freesolv",
    "load_heart_failure",
    "load_huuskonen",
    "load_wdbc",
    "parse_smiles",
    "read_molecule_bytes",
    "read_molecules",
    "read_table",
    "validate_features",
]
