"""2D depictions of molecules with highlighted atoms or per-atom weights.

Alerts and model attributions are claims about specific atoms; drawing them on the structure
is how a chemist checks them. Highlighted atoms (for example the atoms of a structural alert)
are drawn in orange; per-atom weights (for example a model's atom attributions) are drawn as
a similarity map, a field of Gaussians around the atoms coloured blue for negative, white for
zero and red for positive on a scale symmetric about zero, as RDKit's
``SimilarityMaps.GetSimilarityMapFromWeights`` does (Riniker S, Landrum GA. Similarity maps -
a visualization strategy for molecular fingerprints and machine-learning methods.
J Cheminform 5 (2013) 43. doi:10.1186/1758-2946-5-43). Both may be combined.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Literal

from rdkit import Chem, Geometry
from rdkit.Chem import Draw
from rdkit.Chem.Draw import rdMolDraw2D

from medora.areas.molecules.chem._mol import as_mol

__all__ = ["HIGHLIGHT_COLOUR", "WEIGHT_COLOURS", "draw_molecule", "png_data_uri"]

Colour = tuple[float, float, float]

#: Orange, so highlighted atoms never read as a weight on the blue-white-red scale.
HIGHLIGHT_COLOUR: Colour = (1.0, 0.6, 0.0)
#: Colours of the most negative weight, zero and the most positive weight.
WEIGHT_COLOURS: tuple[Colour, Colour, Colour] = ((0.0, 0.0, 1.0), (1.0, 1.0, 1.0), (1.0, 0.0, 0.0))

#: Gaussian width relative to the bond length, and the grid settings, as in RDKit's
#: SimilarityMaps defaults, so maps look the same as ones drawn there.
_SIGMA_PER_BOND_LENGTH = 0.3
#: RDKit's 2D depiction bond length, for the width of a molecule without bonds.
_DEPICTION_BOND_LENGTH = 1.5
_GRID_RESOLUTION = 0.1
_GRID_PADDING = 0.5
_CONTOUR_LINES = 10


def _drawer(format: Literal["svg", "png"], size: tuple[int, int]) -> rdMolDraw2D.MolDraw2D:
    """An SVG drawer, or a Cairo one for PNG when this RDKit build includes Cairo."""
    width, height = size
    if format == "svg":
        return rdMolDraw2D.MolDraw2DSVG(width, height)
    if format == "png":
        if not hasattr(rdMolDraw2D, "MolDraw2DCairo"):
            raise RuntimeError("This RDKit build has no Cairo support; draw SVG instead.")
        return rdMolDraw2D.MolDraw2DCairo(width, height)
    raise ValueError(f"format must be 'svg' or 'png', got {format!r}.")


def _draw_weights(drawer: rdMolDraw2D.MolDraw2D, mol: Chem.Mol, weights: list[float]) -> None:
    """Fill the background with the weights' Gaussian field, as a similarity map does."""
    conformer = mol.GetConformer()
    if mol.GetNumBonds():
        bond = mol.GetBondWithIdx(0)
        bond_length = (
            conformer.GetAtomPosition(bond.GetBeginAtomIdx())
            - conformer.GetAtomPosition(bond.GetEndAtomIdx())
        ).Length()
    else:
        bond_length = _DEPICTION_BOND_LENGTH
    sigma = round(_SIGMA_PER_BOND_LENGTH * bond_length, 2)
    centres = [
        Geometry.Point2D(position.x, position.y)
        for position in (conformer.GetAtomPosition(i) for i in range(mol.GetNumAtoms()))
    ]
    params = Draw.ContourParams()
    params.fillGrid = True
    params.gridResolution = _GRID_RESOLUTION
    params.extraGridPadding = _GRID_PADDING
    params.setColourMap(list(WEIGHT_COLOURS))
    Draw.ContourAndDrawGaussians(
        drawer,
        centres,
        weights,
        [sigma] * len(centres),
        nContours=_CONTOUR_LINES,
        params=params,
        mol=mol,
    )
    drawer.drawOptions().clearBackground = False


def draw_molecule(
    mol: Chem.Mol | str,
    highlight_atoms: Sequence[int] = (),
    atom_weights: Sequence[float] | None = None,
    size: tuple[int, int] = (400, 300),
    format: Literal["svg", "png"] = "svg",
) -> str | bytes:
    """Draw ``mol``; SVG text for ``format="svg"``, PNG bytes for ``format="png"``.

    ``highlight_atoms`` are atom indices drawn in :data:`HIGHLIGHT_COLOUR`, together with the
    bonds between them. ``atom_weights``, one per atom in atom order, are drawn as a
    blue-white-red similarity map scaled to the largest absolute value.
    """
    mol = as_mol(mol)
    n_atoms = mol.GetNumAtoms()
    highlight = sorted(set(highlight_atoms))
    if highlight and not 0 <= highlight[0] <= highlight[-1] < n_atoms:
        raise ValueError(f"highlight_atoms must be atom indices in [0, {n_atoms}).")
    if atom_weights is not None and len(atom_weights) != n_atoms:
        raise ValueError(f"atom_weights has {len(atom_weights)} values for {n_atoms} atoms.")

    drawer = _drawer(format, size)
    # No chiral hydrogens are added, so atom indices stay those of the caller's molecule.
    drawing = rdMolDraw2D.PrepareMolForDrawing(mol, addChiralHs=False)
    if atom_weights is not None:
        _draw_weights(drawer, drawing, [float(w) for w in atom_weights])
    selected = set(highlight)
    bonds = [
        bond.GetIdx()
        for bond in drawing.GetBonds()
        if bond.GetBeginAtomIdx() in selected and bond.GetEndAtomIdx() in selected
    ]
    drawer.DrawMolecule(
        drawing,
        highlightAtoms=highlight,
        highlightAtomColors=dict.fromkeys(highlight, HIGHLIGHT_COLOUR),
        highlightBonds=bonds,
        highlightBondColors=dict.fromkeys(bonds, HIGHLIGHT_COLOUR),
    )
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def png_data_uri(png: bytes) -> str:
    """A drawn PNG inline in a page (a report, or the service's page, whose image requests
    carry no session cookie)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
