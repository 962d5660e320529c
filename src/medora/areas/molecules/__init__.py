"""Molecular property prediction (drug discovery): a property of a compound predicted from its
structure (aqueous solubility, hydration free energy, potency in one ChEMBL series), the D-MPNN
ensemble beside fingerprint baselines, each value with a split-conformal interval, an
applicability domain and an atom map; and the ``medora mol`` verbs (profile, screen).

This module stays light: it is imported whenever the areas are listed, so RDKit drawing, the
run, the service and typer are imported by the methods that need them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from medora.areas.molecules.tasks import (
    CHEMBL2321810_PIC50,
    FREESOLV,
    SOLUBILITY,
    MoleculeTask,
)
from medora.core.area import (
    Area,
    AreaCommands,
    AreaUsageError,
    FilePredictions,
    ResultTable,
    TaskRow,
)

if TYPE_CHECKING:
    from fastapi import APIRouter

    from medora.areas.molecules.predict import MoleculePredictions
    from medora.areas.molecules.run import MoleculeRun
    from medora.areas.molecules.serving import MoleculeServing
    from medora.registry.store import ModelStore
    from medora.train.run import RunConfig

#: The formats an atom map is written in by ``medora predict --explain``.
IMAGE_FORMATS = ("svg", "png")


class MoleculeArea(Area):
    name = "molecules"
    task_type = MoleculeTask
    template_package = "medora.areas.molecules"
    train_options = frozenset({"split"})  # given, random or scaffold, as the task offers
    predict_options = frozenset({"explain", "version", "out", "skip_invalid", "smiles_column",
                                 "id_column", "maps", "image_format"})
    # The modules whose classes a registered molecule artifact pickles: the conformal wrapper
    # and its training reference, the D-MPNN ensemble or a fingerprint model, and the
    # applicability domain. Not the old package medora.chem itself: mapped to the new one, its
    # folder would let the import system run chem/similarity.py again under the old name.
    moved_modules: ClassVar[Mapping[str, str]] = {
        "medora.models.regression": "medora.areas.molecules.regression",
        "medora.models.graph": "medora.areas.molecules.graph",
        "medora.models.fingerprint": "medora.areas.molecules.fingerprint",
        "medora.chem.similarity": "medora.areas.molecules.chem.similarity",
    }

    def tasks(self) -> Sequence[MoleculeTask]:
        return (SOLUBILITY, FREESOLV, CHEMBL2321810_PIC50)

    def describe(self, task: MoleculeTask) -> TaskRow:
        """The dataset's source, its molecule count and the target's mean and sd in its
        units."""
        dataset, _, y = task.load_molecules()
        provenance = dataset.provenance
        return TaskRow(f"{provenance.title} ({provenance.package} {provenance.package_version})",
                       str(len(y)), f"mean {y.mean():.2f}, sd {y.std():.2f} {task.units}")

    def model_names(self, task: MoleculeTask) -> Sequence[str]:
        from medora.areas.molecules.factory import MOLECULE_MODEL_CLASSES

        return tuple(MOLECULE_MODEL_CLASSES)

    def train(self, task: MoleculeTask, config: RunConfig, store: ModelStore | None = None
              ) -> MoleculeRun:
        """Refuses an event table (molecule tasks train on their bundled dataset) and a split
        the task does not offer, before anything is loaded."""
        from medora.areas.molecules.run import train_molecule_task

        if config.data is not None:
            raise AreaUsageError(f"{task.name} trains on its bundled dataset and takes no "
                                 "--data; only the ehr.* tasks read an event table")
        if config.split is not None and config.split not in task.split_kinds:
            raise AreaUsageError(f"{task.name} offers the split(s) "
                                 f"{', '.join(task.split_kinds)}, not {config.split!r}")
        return train_molecule_task(task, config, store)

    def result_table(self, run: MoleculeRun) -> ResultTable:
        """The default comparison, then how often the candidate's conformal intervals held the
        measured value on the test split."""
        coverage = run.primary.coverage
        return dataclasses.replace(super().result_table(run), notes=(
            f"conformal intervals: nominal coverage {coverage['nominal']:.0%}, empirical on the "
            f"test split {coverage['empirical']:.1%}",))

    def predict_file(self, task: MoleculeTask, path: Path, options: Mapping[str, Any]
                     ) -> FilePredictions:
        """Each molecule of a .smi, .csv/.tsv or .sdf file with its conformal interval and
        applicability domain; with ``explain``, its top atoms, and one atom map per molecule
        written to ``maps`` (default: atom-maps/ beside ``out``, else in the current folder).

        Invalid molecules stop the prediction, unless ``skip_invalid``: they are then left out
        and named in the warnings (the reader refuses a file left with no valid molecule).
        """
        from rich.markup import escape

        from medora.areas.molecules.predict import predict_molecules
        from medora.data.molecules import read_molecules

        image_format = options.get("image_format") or "png"
        if image_format not in IMAGE_FORMATS:
            raise AreaUsageError(f"--image-format must be svg or png, not {image_format!r}")
        explain = bool(options.get("explain"))
        molecules = read_molecules(path, smiles_column=options.get("smiles_column"),
                                   id_column=options.get("id_column"),
                                   skip_invalid=bool(options.get("skip_invalid")))
        result = predict_molecules(task, molecules, version=options.get("version"),
                                   explain=explain)
        predictions = FilePredictions(
            result.table, result.version,
            f"{task.name} v{result.version.version}: {task.target} ({task.units}) with "
            f"{result.coverage:.0%} conformal interval",
            # escape: a SMILES's "[nH]" would be taken for a markup tag and vanish
            warnings=[f"[yellow]skipped[/yellow] {escape(item.describe())}"
                      for item in molecules.invalid])
        if explain:
            out: Path | None = options.get("out")
            folder = options.get("maps") or ((out.parent if out else Path.cwd()) / "atom-maps")
            written = _write_atom_maps(folder, result, image_format)
            predictions.notes.append(f"wrote {written} atom maps ({image_format}) to {folder}")
        return predictions

    def commands(self) -> AreaCommands:
        from medora.areas.molecules.cli import mol_app

        return AreaCommands(groups={"mol": mol_app})

    def serving(self, task: MoleculeTask) -> MoleculeServing:
        from medora.areas.molecules.serving import MoleculeServing

        return MoleculeServing(task)

    def routers(self) -> Sequence[APIRouter]:
        from medora.areas.molecules.routes import router

        return (router,)


def _write_atom_maps(folder: Path, result: MoleculePredictions, image_format: str) -> int:
    """One image per molecule, named after its id, drawn on the molecule the weights index."""
    from medora.areas.molecules.chem.depict import draw_molecule

    assert result.atom_weights is not None  # predicted with explain
    folder.mkdir(parents=True, exist_ok=True)
    for ident, mol, weights in zip(result.molecules.ids, result.molecules.mols,
                                   result.atom_weights, strict=True):
        image = draw_molecule(mol, atom_weights=list(weights), format=image_format)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(ident))
        path = folder / f"{safe}.{image_format}"
        if isinstance(image, bytes):
            path.write_bytes(image)
        else:
            path.write_text(image, encoding="utf-8")
    return len(result.table)
