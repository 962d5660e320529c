"""The geometry of a survival prediction's chart, drawn as inline SVG by ``web/survival.html``:
the patient's predicted survival curve with the task's horizons marked. Computing it here keeps
the template free of arithmetic and the chart testable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medora.areas.survival.predictor import DAYS_PER_YEAR
from medora.serve.web.charts import WIDTH


@dataclass(frozen=True)
class Mark:
    """A labelled position along one axis."""

    at: float
    label: str


@dataclass(frozen=True)
class HorizonMark:
    at: float
    time: str
    survival: str


def format_time(value: float, unit: str) -> str:
    """A follow-up time as a reader counts it: days in years."""
    if unit == "days":
        return f"{value / DAYS_PER_YEAR:.1f} years"
    return f"{value:g} {unit}"


@dataclass(frozen=True)
class CurveChart:
    """A survival curve as a polyline in a plot area from (``left``, ``top``) to (``right``,
    ``bottom``): time along x, S(t) from 0 (bottom) to 100% (top)."""

    points: str
    horizons: tuple[HorizonMark, ...]
    x_ticks: tuple[Mark, ...]
    y_ticks: tuple[Mark, ...]
    x_label: str
    left: float
    right: float
    top: float
    bottom: float
    width: int = WIDTH
    height: int = 260


def survival_curve(times: Sequence[float], survival: Sequence[float],
                   horizons: Sequence[float], at_horizons: Sequence[float], time_unit: str,
                   left: float = 48, right_margin: float = 16, top: float = 16,
                   bottom_margin: float = 40) -> CurveChart:
    """The predicted S(t) as a line through the model's points, the task's horizons marked
    with the survival there. Days are shown in years."""
    scale, unit = (DAYS_PER_YEAR, "years") if time_unit == "days" else (1.0, time_unit)
    height = CurveChart.height
    right, bottom = WIDTH - right_margin, height - bottom_margin
    end = max(times[-1], 1e-9)

    def x(t: float) -> float:
        return round(left + t / end * (right - left), 1)

    def y(s: float) -> float:
        return round(bottom - min(max(s, 0.0), 1.0) * (bottom - top), 1)

    step = max(1, round(end / scale / 5))
    x_ticks = tuple(Mark(x(k * step * scale), f"{k * step:g}")
                    for k in range(int(end / scale / step) + 1))
    return CurveChart(
        points=" ".join(f"{x(t)},{y(s)}" for t, s in zip(times, survival, strict=True)),
        horizons=tuple(HorizonMark(x(h), format_time(h, time_unit), f"{100 * s:.0f}%")
                       for h, s in zip(horizons, at_horizons, strict=True)),
        x_ticks=x_ticks, y_ticks=tuple(Mark(y(step / 4), f"{25 * step}%") for step in range(5)),
        x_label=unit, left=left, right=right, top=top, bottom=bottom)
