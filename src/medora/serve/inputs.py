"""Named inputs of one request as the readers of a file see them, and values as the service
stores them: the pieces every area's serving shares."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from medora.serve.contract import NamedInputs

RISK_DECIMALS = 4  # as `medora predict` reports a risk


def _cell(value: float | str | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else value


def input_frame(names: list[str], inputs: NamedInputs) -> pd.DataFrame:
    """One row of text cells, as a CSV reader would give it: ``names`` first (a left-out input
    is an empty cell), then any unknown input, for the validator to name."""
    cells: Mapping[str, float | str | None] = {**dict.fromkeys(names), **inputs}
    return pd.DataFrame({name: [_cell(value)] for name, value in cells.items()}, dtype=str)


def as_json(x: pd.DataFrame) -> dict[str, float | None]:
    """The first row's numbers, a missing one as null."""
    return {name: None if math.isnan(value) else value for name, value in x.iloc[0].items()}
