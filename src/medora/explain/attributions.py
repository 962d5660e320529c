"""Summaries of per-patient feature attributions, whatever method produced them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Contribution:
    """One feature's push on one patient's log-odds of the outcome."""

    feature: str
    value: float | None
    contribution: float

    @property
    def direction(self) -> str:
        return "raises risk" if self.contribution > 0 else "lowers risk"


def global_importance(attributions: pd.DataFrame) -> pd.Series:
    """Mean absolute contribution per feature over patients, largest first."""
    return attributions.abs().mean(axis=0).sort_values(ascending=False)


def top_contributions(attributions: pd.Series, values: pd.Series,
                      k: int = 5) -> list[Contribution]:
    """The ``k`` features that moved this patient's log-odds the most, either way."""
    order = attributions.abs().sort_values(ascending=False).index[:k]
    return [
        Contribution(feature=str(name),
                     value=None if pd.isna(values[name]) else float(values[name]),
                     contribution=float(attributions[name]))
        for name in order
    ]
