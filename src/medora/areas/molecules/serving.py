"""A molecule task as the service predicts it: one compound's SMILES sanitised exactly as a SMILES
file's would be, the property with its split-conformal interval, flagged outside the serving
model's applicability domain, and every atom's weight, drawn as an atom map.

What is stored, read by kind (see :mod:`medora.serve.contract`): ``risk`` is the predicted
property in the task's units, ``risk_lower``/``risk_upper`` its conformal interval,
``threshold`` the applicability domain's similarity threshold, ``flagged`` "outside the
applicability domain", ``explanation`` one weight per atom in the atom order of the stored
SMILES, and no ``details``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rdkit import Chem

from medora.areas.molecules.chem.depict import draw_molecule, png_data_uri
from medora.areas.molecules.chem.similarity import (
    APPLICABILITY_DOMAIN_SOURCE,
    morgan_fingerprints,
)
from medora.areas.molecules.regression import ConformalRegressor
from medora.areas.molecules.tasks import INTERVAL_COVERAGE, MoleculeTask
from medora.core.errors import InputValidationError
from medora.data.molecules import MoleculeValidationError, parse_smiles
from medora.serve.contract import (
    Catalogue,
    NamedInputs,
    Outcome,
    Page,
    Prepared,
    Score,
    ServedModelError,
    TaskServing,
)
from medora.serve.errors import ConflictError, NotFoundError, ServiceError
from medora.serve.inputs import RISK_DECIMALS
from medora.serve.schemas import Feature

if TYPE_CHECKING:
    from medora.serve.db import Prediction
    from medora.serve.schemas import PredictionInfo

SMILES_INPUT = "smiles"  # a molecule task's one input
MOLECULE_DECIMALS = 3  # as `medora predict` reports a molecule's value and interval
_SHOWN_SMILES = 80  # characters of a refused SMILES quoted back


def stored_molecule(smiles: str) -> Chem.Mol:
    """The molecule of a stored (canonical) SMILES, with its atoms in that SMILES's order: the
    order its stored atom weights follow, because the model scored this very parse."""
    return parse_smiles([smiles], source="the stored SMILES").mols[0]


def molecule_input(task: MoleculeTask, inputs: NamedInputs) -> str:
    """The canonical SMILES of a molecule task's inputs, salts and solvents reduced to the
    largest fragment as `medora predict` does.

    Raises :class:`InputValidationError` naming each problem (RDKit's reason for an invalid
    SMILES) and its fix.
    """
    problems = [f"{name}: unknown input; {task.name} takes one input, {SMILES_INPUT}"
                for name in sorted(set(inputs) - {SMILES_INPUT})]
    text = inputs.get(SMILES_INPUT)
    if not isinstance(text, str):
        problems.append(f"{SMILES_INPUT}: " + ("required" if text is None else "a number")
                        + "; send the molecule as a SMILES string, e.g. \"CCO\" for ethanol")
    if problems or not isinstance(text, str):
        raise InputValidationError("inputs", problems)
    try:
        return parse_smiles([text], source="inputs").smiles[0]
    except MoleculeValidationError as error:
        shown = text if len(text) <= _SHOWN_SMILES else text[:_SHOWN_SMILES] + "..."
        raise InputValidationError("inputs", [
            f"{SMILES_INPUT}: {item.reason} in {shown!r}; send a SMILES that RDKit can parse "
            "and sanitise (check ring-closure digits, brackets and atom valences)"
            for item in error.invalid]) from None


def atom_map(prediction: Prediction, image_format: Literal["png", "svg"]) -> bytes | str:
    """The stored atom weights drawn on the 2D depiction of the stored SMILES.

    404 for a patient's prediction; 409 when the stored SMILES no longer parses to as many atoms
    as weights were stored (an RDKit upgrade that reads it differently).
    """
    # A patient's stored inputs are numbers or null, a molecule's its SMILES.
    smiles = prediction.inputs.get(SMILES_INPUT)
    if not isinstance(smiles, str):
        raise NotFoundError(f"prediction {prediction.id} is a patient's prediction for "
                            f"{prediction.task}; atom maps exist only for molecule predictions")
    weights = [item["contribution"] for item in prediction.explanation]
    try:
        mol = stored_molecule(smiles)
    except MoleculeValidationError as error:
        raise ConflictError(f"prediction {prediction.id}: its stored SMILES no longer parses "
                            f"({'; '.join(error.problems)}); predict the molecule again") from None
    if mol.GetNumAtoms() != len(weights):
        raise ConflictError(f"prediction {prediction.id} stores {len(weights)} atom weights but "
                            f"its SMILES has {mol.GetNumAtoms()} atoms, so the weights cannot be "
                            "placed; predict the molecule again")
    return draw_molecule(mol, atom_weights=weights, format=image_format)


class MoleculeServing(TaskServing):
    model_type = ConformalRegressor
    subject = "Compound"
    flag_labels = ("outside domain", "in domain")
    page_template = "web/molecule.html"
    form_template = "web/molecules_form.html"
    task: MoleculeTask

    @property
    def outcome(self) -> Outcome:
        """The property in the task's units with its conformal interval. A measured property (a
        solubility, a free energy, a pIC50) is one a reviewer may know better than the model,
        outside the training data's range included, so any finite value is accepted."""
        return Outcome("molecule", self.task.units, INTERVAL_COVERAGE, None)

    def catalogue(self) -> Catalogue:
        return Catalogue(
            None, "flagged when outside the serving model's applicability domain. "
                  f"{APPLICABILITY_DOMAIN_SOURCE}",
            [Feature(name=SMILES_INPUT,
                     description=f"the compound, whose {self.task.target} is predicted",
                     kind="text", unit="SMILES",
                     expected="a SMILES RDKit can parse and sanitise; a salt is reduced to its "
                              "largest fragment", required=True)])

    def check_model(self, model: object) -> None:
        """Besides its type: stored predictions state their interval's coverage by task (see
        :attr:`outcome`), so a model whose intervals promise another coverage is not served."""
        super().check_model(model)
        assert isinstance(model, ConformalRegressor)
        if model.conformal.coverage != INTERVAL_COVERAGE:
            raise ServedModelError(
                f"gives {model.conformal.coverage:.0%} intervals; the service states "
                f"{INTERVAL_COVERAGE:.0%} for molecule tasks, so retrain it with `medora train`")

    def prepare(self, model: ConformalRegressor, inputs: object) -> Prepared:
        smiles = molecule_input(self.task, inputs)  # type: ignore[arg-type]  # named inputs
        return Prepared({SMILES_INPUT: smiles}, stored_molecule(smiles))

    def score(self, model: ConformalRegressor, prepared: Prepared) -> Score:
        """The value with its conformal interval, flagged when outside the applicability
        domain, and every atom's weight in atom order (each atom's "value" is its index)."""
        mol = prepared.model_input
        interval = model.predict_interval([mol])
        domain = model.reference.domain
        (assessment,) = domain.assess(morgan_fingerprints([mol]))
        (weights,) = model.explain([mol])
        return Score(risk=round(float(interval.value[0]), MOLECULE_DECIMALS),
                     lower=round(float(interval.lower[0]), MOLECULE_DECIMALS),
                     upper=round(float(interval.upper[0]), MOLECULE_DECIMALS),
                     threshold=domain.threshold, threshold_source=domain.source,
                     flagged=not assessment.inside,
                     explanation=[{"feature": f"{atom.GetSymbol()}{atom.GetIdx()}",
                                   "value": atom.GetIdx(),
                                   "contribution": round(float(weight), RISK_DECIMALS)}
                                  for atom, weight in zip(mol.GetAtoms(), weights, strict=True)])

    def page(self, prediction: PredictionInfo, stored: Prediction) -> Page:
        """The atom map inline, as a data URI (the API's image endpoint takes no session
        cookie), or why it cannot be drawn (weights that no longer fit the stored SMILES)."""
        try:
            png = atom_map(stored, "png")
        except ServiceError as error:
            return Page(self.page_template, {"atom_map": "", "atom_map_problem": error.detail})
        assert isinstance(png, bytes)  # draw_molecule's PNG
        return Page(self.page_template, {"atom_map": png_data_uri(png), "atom_map_problem": ""})
