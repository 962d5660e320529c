"""Depictions: valid SVG with highlight and weight colours, and PNG bytes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from rdkit.Chem.Draw import rdMolDraw2D

from medora.areas.molecules.chem import draw_molecule, structural_alerts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _fills(svg: str) -> set[str]:
    return set(re.findall(r"fill:#([0-9A-F]{6})", svg))


def test_svg_highlights_alert_atoms_in_orange(drugs: dict[str, str]) -> None:
    (alert,) = structural_alerts(drugs["aspirin"])
    svg = draw_molecule(drugs["aspirin"], highlight_atoms=alert.atoms)
    assert isinstance(svg, str)
    assert ET.fromstring(svg).tag.endswith("svg")
    assert "#FF9900" in svg
    assert "#FF9900" not in draw_molecule(drugs["aspirin"])


def test_atom_weights_are_blue_negative_red_positive_on_a_symmetric_scale(
    drugs: dict[str, str],
) -> None:
    n_atoms = 13
    weights = [0.0] * n_atoms
    weights[0], weights[12] = 1.0, -1.0
    svg = draw_molecule(drugs["aspirin"], atom_weights=weights)
    ET.fromstring(svg)
    assert {"FF0000", "0000FF"} <= _fills(svg)
    # A negative weight ten times smaller than the positive one stays pale blue.
    weights[12] = -0.1
    blues = [
        f
        for f in _fills(draw_molecule(drugs["aspirin"], atom_weights=weights))
        if f.endswith("FF") and f[:2] == f[2:4] and f != "FFFFFF"
    ]
    assert blues and min(int(f[:2], 16) for f in blues) > 0xC0


@pytest.mark.skipif(not hasattr(rdMolDraw2D, "MolDraw2DCairo"), reason="RDKit without Cairo")
def test_png_with_highlights_and_weights(drugs: dict[str, str]) -> None:
    png = draw_molecule(
        drugs["aspirin"], highlight_atoms=(0, 1), atom_weights=[0.5] * 13, format="png"
    )
    assert isinstance(png, bytes) and png.startswith(PNG_MAGIC)


def test_bad_arguments_are_errors(drugs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="atom_weights"):
        draw_molecule(drugs["aspirin"], atom_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="highlight_atoms"):
        draw_molecule(drugs["aspirin"], highlight_atoms=(13,))
    with pytest.raises(ValueError, match="format"):
        draw_molecule(drugs["aspirin"], format="gif")  # type: ignore[arg-type]
