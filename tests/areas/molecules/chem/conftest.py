"""Real drug molecules shared by the chemistry tests (SMILES as in PubChem)."""

from __future__ import annotations

import pytest

_DRUGS = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "atorvastatin": (
        "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O"
    ),
    "cyclosporin": (
        "CC[C@H]1C(=O)N(CC(=O)N([C@H](C(=O)N[C@H](C(=O)N([C@H](C(=O)N[C@H](C(=O)N[C@@H](C(=O)"
        "N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N1)[C@@H]([C@H](C)C/C=C/C)O)C)"
        "C(C)C)C)CC(C)C)C)CC(C)C)C)C)C)CC(C)C)C)C(C)C)CC(C)C)C)C"
    ),
    "tamoxifen": "CC/C(=C(\\c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1",
}


@pytest.fixture(scope="session")
def drugs() -> dict[str, str]:
    """Name to SMILES of a few approved drugs with well-known physicochemical profiles."""
    return dict(_DRUGS)
