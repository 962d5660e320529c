"""The areas installed, found through the entry-point group ``medora.areas``, and their tasks.

medora's own areas register the same way a hospital's package does, in its ``pyproject.toml``::

    [project.entry-points."medora.areas"]
    ecg = "hospital_ecg.area:EcgArea"

Each entry point names an :class:`~medora.core.area.Area` subclass (or instance). The areas load
on first use, once per process; their tasks are then looked up by name.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points

from medora.core.area import Area
from medora.core.task import Task

ENTRY_POINT_GROUP = "medora.areas"


class AreaLoadError(RuntimeError):
    """An installed area that cannot be used: it failed to import, or clashes with another."""


def _load(entry_point: EntryPoint) -> Area:
    try:
        loaded = entry_point.load()
    except Exception as error:  # an installed plug-in may fail in any way; name it
        raise AreaLoadError(f"area {entry_point.name!r} ({entry_point.value}) failed to load: "
                            f"{type(error).__name__}: {error}; reinstall or uninstall the "
                            "package that provides it") from error
    area = loaded() if isinstance(loaded, type) else loaded
    if not isinstance(area, Area):
        raise AreaLoadError(f"entry point {entry_point.name!r} ({entry_point.value}) is a "
                            f"{type(area).__name__}, not a medora.core.area.Area")
    return area


@functools.cache
def areas() -> tuple[Area, ...]:
    """Every installed area, by name."""
    found: dict[str, Area] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        area = _load(entry_point)
        if area.name in found:
            raise AreaLoadError(f"two installed areas are named {area.name!r}; uninstall one")
        found[area.name] = area
    return tuple(found[name] for name in sorted(found))


@functools.cache
def _tasks() -> dict[str, Task]:
    """The registry of tasks by name: every area's own, and any added to
    :func:`task_registry` since (a notebook's, a test's)."""
    registry: dict[str, Task] = {}
    for area in areas():
        for task in area.tasks():
            if task.name in registry:
                raise AreaLoadError(f"task {task.name!r} is defined twice (area {area.name!r} "
                                    "and another); rename one")
            registry[task.name] = task
    return registry


def task_registry() -> dict[str, Task]:
    """The live registry itself, for adding a task of an installed area's type (a notebook's,
    or a test's for its own duration: ``monkeypatch.setitem(task_registry(), task.name,
    task)``)."""
    return _tasks()


def get_task(name: str) -> Task:
    try:
        return _tasks()[name]
    except KeyError:
        known = ", ".join(sorted(_tasks()))
        raise KeyError(f"unknown task {name!r}; registered tasks: {known}") from None


def list_tasks() -> list[Task]:
    """Every registered task, by name."""
    registry = _tasks()
    return [registry[name] for name in sorted(registry)]


def task_names() -> Sequence[str]:
    return sorted(_tasks())


def area_of(task: object) -> Area:
    """The area ``task`` belongs to: the one whose task type it is an instance of."""
    for area in areas():
        if area.owns(task):
            return area
    installed = ", ".join(area.name for area in areas()) or "none"
    raise AreaLoadError(f"no installed area owns a {type(task).__name__} (areas installed: "
                        f"{installed}); install the package that defines it")


def area_named(name: str) -> Area:
    for area in areas():
        if area.name == name:
            return area
    raise KeyError(f"no area named {name!r}; installed: "
                   f"{', '.join(area.name for area in areas())}")
