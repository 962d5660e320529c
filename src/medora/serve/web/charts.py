"""The geometry of the patient view's charts, drawn as inline SVG by the templates: the risk
with its interval on a 0-100% scale, and the explanation as bars of contributions to the
log-odds; an area's own charts (a survival curve) build on these. Computing it here keeps the
templates free of arithmetic and the charts testable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from medora.serve.schemas import Contribution

# SVG user units; the charts scale to their container, the risk bar in the narrower column.
RISK_WIDTH = 420
WIDTH = 640
ROW_HEIGHT = 30
BAR_HEIGHT = 18


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class RiskBar:
    """x positions on a track from ``left`` to ``right`` (0% to 100%)."""

    left: float
    right: float
    risk: float
    lower: float
    upper: float
    threshold: float
    threshold_anchor: Literal["start", "middle", "end"]
    ticks: tuple[Tick, ...]
    width: int = RISK_WIDTH
    height: int = 72


def risk_bar(risk: float, lower: float, upper: float, threshold: float,
             margin: float = 24) -> RiskBar:
    span = RISK_WIDTH - 2 * margin

    def x(fraction: float) -> float:
        return round(margin + min(max(fraction, 0.0), 1.0) * span, 1)

    threshold_x = x(threshold)
    # The threshold's label must stay inside the drawing near either end of the scale.
    anchor: Literal["start", "middle", "end"] = (
        "start" if threshold_x < 4 * margin else
        "end" if threshold_x > RISK_WIDTH - 4 * margin else "middle")
    return RiskBar(left=x(0), right=x(1), risk=x(risk), lower=x(lower),
                   upper=max(x(upper), x(lower) + 2),  # a very narrow interval stays visible
                   threshold=threshold_x, threshold_anchor=anchor,
                   ticks=tuple(Tick(x(step / 4), f"{25 * step}%") for step in range(5)))


@dataclass(frozen=True)
class ContributionBar:
    label: str
    amount: str
    raises_risk: bool
    x: float
    width: float
    y: float
    amount_x: float
    amount_anchor: Literal["start", "end"]


@dataclass(frozen=True)
class ContributionChart:
    bars: tuple[ContributionBar, ...]
    label_x: float  # where the labels end (they are right-aligned)
    zero: float
    height: float
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT


def _label(contribution: Contribution, units: Mapping[str, str]) -> str:
    if contribution.value is None:
        return f"{contribution.feature}: missing"
    unit = units.get(contribution.feature, "")
    return f"{contribution.feature} = {contribution.value:g}{f' {unit}' if unit else ''}"


def contribution_chart(contributions: Sequence[Contribution], units: Mapping[str, str],
                       labels_width: float = 250, amount_room: float = 56,
                       top: float = 8) -> ContributionChart:
    """Bars from a zero line in the middle of the plot area: right (red) for contributions
    that raise the risk, left (green) for those that lower it, the largest filling its side."""
    return labelled_chart([(_label(item, units), item.contribution) for item in contributions],
                          labels_width, amount_room, top)


def labelled_chart(items: Sequence[tuple[str, float]], labels_width: float = 250,
                   amount_room: float = 56, top: float = 8,
                   digits: int = 2) -> ContributionChart:
    """The chart of :func:`contribution_chart` for (label, contribution) pairs."""
    zero = labels_width + (WIDTH - labels_width) / 2
    half = (WIDTH - labels_width) / 2 - amount_room
    largest = max((abs(contribution) for _, contribution in items), default=0.0) or 1.0
    bars = []
    for row, (label, contribution) in enumerate(items):
        length = max(abs(contribution) / largest * half, 1.0)
        raises = contribution > 0
        y = top + row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        bars.append(ContributionBar(
            label=label, amount=f"{contribution:+.{digits}f}", raises_risk=raises,
            x=zero if raises else zero - length, width=round(length, 1), y=y,
            amount_x=round(zero + length + 6 if raises else zero - length - 6, 1),
            amount_anchor="start" if raises else "end"))
    return ContributionChart(bars=tuple(bars), label_x=labels_width - 12, zero=zero,
                             height=2 * top + len(bars) * ROW_HEIGHT)
