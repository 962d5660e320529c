"""The patient view of an EHR prediction: the events the model read as a timeline a clinician
can scan, and the events that drove the prediction picked out.

A life's history runs to hundreds or thousands of events, so they are grouped the way a chart
is read: by encounter (its admission, findings, measurements, procedures and medications
together, oldest first within it), most recent encounter first; events recorded outside any
encounter by day; the static facts (sex, race, ethnicity, birth) apart. Each group opens on a
click (HTML ``<details>``, no script); those holding a driver are open from the start. An
overview strip draws the years up to the index time with a mark per encounter and each driver
as a dot above the line (raised the risk, red) or below it (lowered it, green), its area
proportional to the contribution, linked to its group. The geometry is computed here, so the
template holds no arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from medora.areas.ehr.predict import ENCOUNTER_CLASSES
from medora.areas.ehr.schemas import EventSequenceDetails, RecordedEvent, TopEvent
from medora.serve.web.charts import WIDTH, Tick

STRIP_HEIGHT = 96
BAR_HALF = 40  # half the width of a driver's bar, in the bar's own SVG units


@dataclass(frozen=True)
class Driver:
    """An event's place among the drivers of the prediction: rank (1: largest), signed
    contribution to the log-odds, and the length of its bar (0 to BAR_HALF)."""

    rank: int
    contribution: float
    bar: float

    @property
    def raises(self) -> bool:
        return self.contribution > 0

    @property
    def amount(self) -> str:
        return f"{self.contribution:+.3f}"


@dataclass(frozen=True)
class TimelineEvent:
    position: int
    day: str  # 2013-02-13; "" for a static fact
    clock: str  # 18:57
    label: str  # the display text, else the code
    code: str
    value: str  # number and unit, or a coded or free-text value
    driver: Driver | None


@dataclass(frozen=True)
class TimelineGroup:
    """One encounter's events (or one day's outside any encounter), oldest first; ``start``
    and ``end`` are the encounter's admission and discharge days where the model read them
    (a condition may be dated before the encounter that recorded it)."""

    anchor: str
    title: str
    start: str
    end: str
    events: tuple[TimelineEvent, ...]

    @property
    def several_days(self) -> bool:
        return len({event.day for event in self.events}) > 1

    @property
    def drivers(self) -> tuple[TimelineEvent, ...]:
        return tuple(event for event in self.events if event.driver is not None)

    @property
    def raises(self) -> int:
        return sum(1 for event in self.drivers if event.driver and event.driver.raises)

    @property
    def lowers(self) -> int:
        return len(self.drivers) - self.raises


@dataclass(frozen=True)
class StripMark:
    x: float
    anchor: str
    title: str


@dataclass(frozen=True)
class StripDot:
    x: float
    y: float
    r: float
    raises: bool
    anchor: str
    title: str


@dataclass(frozen=True)
class TimelineStrip:
    """The years from the first dated event to the index time along x; encounters as marks on
    the line at ``baseline``; drivers as dots above (raised) or below (lowered) it."""

    left: float
    right: float
    baseline: float
    ticks: tuple[Tick, ...]
    visits: tuple[StripMark, ...]
    dots: tuple[StripDot, ...]
    first: str
    last: str
    width: int = WIDTH
    height: int = STRIP_HEIGHT


@dataclass(frozen=True)
class Timeline:
    facts: tuple[TimelineEvent, ...]
    groups: tuple[TimelineGroup, ...]
    drivers: tuple[TimelineEvent, ...]  # by rank
    strip: TimelineStrip | None
    events: int


def _value(event: RecordedEvent) -> str:
    if event.value is not None:
        return f"{event.value:g} {event.unit}" if event.unit else f"{event.value:g}"
    if event.text_display:
        return event.text_display
    return event.text or ""


def _drivers(top_events: Sequence[TopEvent]) -> dict[int, Driver]:
    largest = max((abs(event.contribution) for event in top_events), default=0.0) or 1.0
    return {event.position: Driver(rank, event.contribution,
                                   round(max(abs(event.contribution) / largest, 0.02) * BAR_HALF,
                                         1))
            for rank, event in enumerate(top_events, start=1) if event.position is not None}


def _group_title(events: Sequence[RecordedEvent]) -> str:
    for event in events:
        kind, _, value = event.code.partition("/")
        if kind in ("ENCOUNTER", "ENCOUNTER_END"):
            return f"{ENCOUNTER_CLASSES.get(value, value)} encounter"
    return "Recorded outside an encounter"


def _groups(events: Sequence[tuple[RecordedEvent, TimelineEvent]]
            ) -> list[tuple[datetime, TimelineGroup]]:
    """Events with a time grouped by encounter, else by day; newest group first."""
    keyed: dict[tuple[str, str], list[tuple[RecordedEvent, TimelineEvent]]] = {}
    for recorded, shown in events:
        key = ("encounter", recorded.encounter) if recorded.encounter else ("day", shown.day)
        keyed.setdefault(key, []).append((recorded, shown))
    groups = []
    for number, members in enumerate(keyed.values()):
        members.sort(key=lambda pair: (pair[0].time, pair[1].position))
        kinds = {recorded.code.partition("/")[0]: recorded.time for recorded, _ in members}
        start = kinds.get("ENCOUNTER") or members[0][0].time
        end = kinds.get("ENCOUNTER_END") or members[-1][0].time
        assert start is not None and end is not None  # only events with a time are grouped
        groups.append((start, TimelineGroup(
            anchor=f"group-{number}", title=_group_title([pair[0] for pair in members]),
            start=_day(start), end=_day(end), events=tuple(pair[1] for pair in members))))
    groups.sort(key=lambda pair: pair[0], reverse=True)
    return groups


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _ticks(first: datetime, last: datetime, x: object) -> tuple[Tick, ...]:
    """Year ticks, at most about eight."""
    years = last.year - first.year
    step = max(1, math.ceil(years / 8)) if years else 1
    ticks = []
    for year in range(first.year + 1, last.year + 1, step):
        at = datetime(year, 1, 1)
        ticks.append(Tick(x(at), str(year)))  # type: ignore[operator]
    return tuple(ticks)


def _strip(groups: Sequence[tuple[datetime, TimelineGroup]],
           dated: Sequence[tuple[RecordedEvent, TimelineEvent]], index_time: datetime,
           left: float = 16, right_margin: float = 16) -> TimelineStrip | None:
    if not dated:
        return None
    first = min(recorded.time for recorded, _ in dated if recorded.time is not None)
    last = max(index_time, first)
    right = WIDTH - right_margin
    span = (last - first).total_seconds() or 1.0

    def x(moment: datetime) -> float:
        return round(left + (moment - first).total_seconds() / span * (right - left), 1)

    baseline = STRIP_HEIGHT / 2 - 6
    anchors = {shown.position: group.anchor for _, group in groups for shown in group.events}
    visits = tuple(StripMark(x(start), group.anchor, f"{group.title}, {group.start}")
                   for start, group in groups if group.title != "Recorded outside an encounter")
    largest = max((abs(shown.driver.contribution) for _, shown in dated if shown.driver),
                  default=0.0) or 1.0
    dots = []
    for recorded, shown in dated:
        driver = shown.driver
        if driver is None or recorded.time is None:
            continue
        radius = round(3 + 6 * math.sqrt(abs(driver.contribution) / largest), 1)
        dots.append(StripDot(x(recorded.time), baseline - 18 if driver.raises else baseline + 18,
                             radius, driver.raises, anchors[shown.position],
                             f"#{driver.rank} {shown.day} {shown.label}: {driver.amount}"))
    return TimelineStrip(left=left, right=right, baseline=baseline, ticks=_ticks(first, last, x),
                         visits=visits, dots=tuple(dots), first=_day(first), last=_day(last))


def build_timeline(events: Sequence[RecordedEvent], details: EventSequenceDetails) -> Timeline:
    """The timeline of ``events`` (a prediction's stored inputs), the top events of
    ``details`` marked as drivers."""
    drivers = _drivers(details.top_events)
    shown = []
    for position, event in enumerate(events):
        shown.append((event, TimelineEvent(
            position=position, day=_day(event.time) if event.time else "",
            clock=event.time.strftime("%H:%M") if event.time else "",
            label=event.display or event.code, code=event.code, value=_value(event),
            driver=drivers.get(position))))
    dated = [pair for pair in shown if pair[0].time is not None]
    groups = _groups(dated)
    ranked = sorted((item for _, item in shown if item.driver is not None),
                    key=lambda item: item.driver.rank if item.driver else 0)
    return Timeline(facts=tuple(item for event, item in shown if event.time is None),
                    groups=tuple(group for _, group in groups), drivers=tuple(ranked),
                    strip=_strip(groups, dated, details.index_time), events=len(events))
