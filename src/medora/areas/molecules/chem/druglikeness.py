"""Drug-likeness: rule-of-thumb filters and scores for oral drugs, computed without a model.

These estimate whether a molecule *could* become an oral drug (absorption, permeability,
ease of synthesis), which is a different question from whether a model predicts it active.
Each result names the publication that defines it, and the RDKit version that computed the
underlying descriptors, because descriptor implementations (notably logP) differ between
tools and releases.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from rdkit import Chem, RDConfig
from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors

from medora.areas.molecules.chem._mol import RDKIT_VERSION, as_mol

__all__ = [
    "LIPINSKI_SOURCE",
    "QED_SOURCE",
    "SA_SOURCE",
    "VEBER_SOURCE",
    "DrugLikeness",
    "RuleResult",
    "Score",
    "drug_likeness",
    "lipinski",
    "qed",
    "synthetic_accessibility",
    "veber",
]

LIPINSKI_SOURCE = (
    "Lipinski CA, Lombardo F, Dominy BW, Feeney PJ. Experimental and computational approaches "
    "to estimate solubility and permeability in drug discovery and development settings. "
    "Adv Drug Deliv Rev 23 (1997) 3-25; reprinted Adv Drug Deliv Rev 46 (2001) 3-26. "
    "doi:10.1016/S0169-409X(00)00129-0. logP estimated by Wildman SA, Crippen GM. "
    "J Chem Inf Comput Sci 39 (1999) 868-873. doi:10.1021/ci990307l"
)
VEBER_SOURCE = (
    "Veber DF, Johnson SR, Cheng HY, et al. Molecular properties that influence the oral "
    "bioavailability of drug candidates. J Med Chem 45 (2002) 2615-2623. doi:10.1021/jm020017n. "
    "TPSA by Ertl P, Rohde B, Selzer P. J Med Chem 43 (2000) 3714-3717. doi:10.1021/jm000942e"
)
QED_SOURCE = (
    "Bickerton GR, Paolini GV, Besnard J, Muresan S, Hopkins AL. Quantifying the chemical "
    "beauty of drugs. Nat Chem 4 (2012) 90-98. doi:10.1038/nchem.1243 "
    "(weighted QED, RDKit rdkit.Chem.QED)"
)
SA_SOURCE = (
    "Ertl P, Schuffenhauer A. Estimation of synthetic accessibility score of drug-like "
    "molecules based on molecular complexity and fragment contributions. J Cheminform 1 (2009) "
    "8. doi:10.1186/1758-2946-1-8 (RDKit Contrib SA_Score v1.1, with its fpscores.pkl.gz)"
)

#: Lipinski's limits (Adv Drug Deliv Rev 1997): poor absorption or permeation is more likely
#: when two or more are exceeded. HBD counts NH and OH, HBA counts N and O atoms, as defined
#: in the paper; rdMolDescriptors' "Lipinski" counts implement exactly that.
_LIPINSKI_LIMITS = {"MolWt": 500.0, "MolLogP": 5.0, "NumHDonors": 5.0, "NumHAcceptors": 10.0}
_LIPINSKI_MAX_VIOLATIONS = 1
#: Veber's limits (J Med Chem 2002): both must hold for good rat oral bioavailability.
_VEBER_LIMITS = {"NumRotatableBonds": 10.0, "TPSA": 140.0}


@dataclass(frozen=True)
class RuleResult:
    """A threshold rule applied to one molecule: the properties it read and what broke it."""

    rule: str
    passed: bool
    properties: dict[str, float]
    violations: tuple[str, ...]
    source: str
    rdkit_version: str = RDKIT_VERSION


@dataclass(frozen=True)
class Score:
    """A continuous score with its range and direction, so it is read the right way round."""

    name: str
    value: float
    interpretation: str
    source: str
    rdkit_version: str = RDKIT_VERSION


@dataclass(frozen=True)
class DrugLikeness:
    """All drug-likeness rules and scores of one molecule."""

    lipinski: RuleResult
    veber: RuleResult
    qed: Score
    synthetic_accessibility: Score


def _violations(properties: dict[str, float], limits: dict[str, float]) -> tuple[str, ...]:
    """Readable ``"MolLogP 5.6 > 5"`` lines, one per property above its upper limit."""
    return tuple(
        f"{name} {round(properties[name], 2):g} > {limit:g}"
        for name, limit in limits.items()
        if properties[name] > limit
    )


def lipinski(mol: Chem.Mol | str) -> RuleResult:
    """Lipinski's rule of five; passes with at most one violation, as the rule states.

    MW is the average molecular weight, logP the Wildman-Crippen estimate (Lipinski used
    CLogP, which is proprietary; Crippen logP is the common open substitute).
    """
    mol = as_mol(mol)
    properties = {
        "MolWt": Descriptors.MolWt(mol),
        "MolLogP": Crippen.MolLogP(mol),
        "NumHDonors": float(rdMolDescriptors.CalcNumLipinskiHBD(mol)),
        "NumHAcceptors": float(rdMolDescriptors.CalcNumLipinskiHBA(mol)),
    }
    violations = _violations(properties, _LIPINSKI_LIMITS)
    return RuleResult(
        rule="lipinski_rule_of_five",
        passed=len(violations) <= _LIPINSKI_MAX_VIOLATIONS,
        properties=properties,
        violations=violations,
        source=LIPINSKI_SOURCE,
    )


def veber(mol: Chem.Mol | str) -> RuleResult:
    """Veber's rule: at most 10 rotatable bonds and a polar surface area of at most 140 Å²."""
    mol = as_mol(mol)
    properties = {
        "NumRotatableBonds": float(rdMolDescriptors.CalcNumRotatableBonds(mol)),
        "TPSA": rdMolDescriptors.CalcTPSA(mol),
    }
    violations = _violations(properties, _VEBER_LIMITS)
    return RuleResult(
        rule="veber",
        passed=not violations,
        properties=properties,
        violations=violations,
        source=VEBER_SOURCE,
    )


def qed(mol: Chem.Mol | str) -> Score:
    """Quantitative estimate of drug-likeness: a graded score instead of a pass/fail rule."""
    return Score(
        name="qed",
        value=float(QED.qed(as_mol(mol))),
        interpretation="0 (unlike oral drugs) to 1 (like oral drugs)",
        source=QED_SOURCE,
    )


@cache
def _sascorer() -> ModuleType:
    """RDKit's Contrib SA_Score module, loaded from the installed RDKit (not a package).

    Loading it from the RDKit installation uses the fragment scores shipped with that same
    release, so nothing is downloaded and the score matches the recorded RDKit version.
    """
    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    spec = importlib.util.spec_from_file_location("medora_rdkit_sascorer", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"RDKit's SA_Score contribution is missing: {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_accessibility(mol: Chem.Mol | str) -> Score:
    """Synthetic accessibility: how hard the molecule is likely to be to make."""
    return Score(
        name="synthetic_accessibility",
        value=float(_sascorer().calculateScore(as_mol(mol))),
        interpretation="1 (easy to make) to 10 (very difficult to make)",
        source=SA_SOURCE,
    )


def drug_likeness(mol: Chem.Mol | str) -> DrugLikeness:
    """Lipinski, Veber, QED and synthetic accessibility of one molecule."""
    mol = as_mol(mol)
    return DrugLikeness(
        lipinski=lipinski(mol),
        veber=veber(mol),
        qed=qed(mol),
        synthetic_accessibility=synthetic_accessibility(mol),
    )
