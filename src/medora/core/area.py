"""The area plug-in: everything the core asks of a kind of task, answered by the area itself.

An area (tabular risk, molecules, survival, treatment effects, EHR sequences, or one a hospital
ships in its own package) is one :class:`Area` object, registered under the entry-point group
``medora.areas``. The CLI, the registry, the report and card renderers and the service never
branch on a task's type: they find the task's area (:func:`medora.core.registry.area_of`) and
call it. An area overrides what it offers and inherits the refusals below for the rest, the way
a scikit-learn estimator inherits ``get_params``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd
    import typer
    from fastapi import APIRouter
    from rich.console import Console

    from medora.core.task import Task
    from medora.registry.store import ModelStore, ModelVersion
    from medora.serve.contract import TaskServing
    from medora.serve.limits import LargerLimit
    from medora.serve.settings import ServiceSettings
    from medora.train.run import RunConfig


class AreaUsageError(ValueError):
    """A request the area cannot honour as asked (an option it does not take, a split it does
    not offer): the message says what it takes instead. The CLI prints it and exits 2."""


@dataclass(frozen=True)
class TaskRow:
    """A task's row of ``medora tasks``, beyond its name, area, target and metric."""

    data: str
    n: str = ""
    summary: str = ""


@dataclass(frozen=True)
class ResultTable:
    """What ``medora train`` prints of a run: one row per compared model, then notes (the
    published references, the empirical coverage) one line each."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


@dataclass
class FilePredictions:
    """``medora predict`` on one input file: the table ``--out`` writes (one row per input),
    the version that made it, and what the terminal shows."""

    table: pd.DataFrame
    version: ModelVersion
    title: str
    #: Lines printed after the predictions are made (files written beside them, say).
    notes: list[str] = field(default_factory=list)
    #: Lines printed to standard error (inputs skipped, resources rejected).
    warnings: list[str] = field(default_factory=list)
    #: The area's own terminal view, shown instead of the table when there is no ``--out``.
    show: Callable[[Console], None] | None = None


@dataclass(frozen=True)
class AreaCommands:
    """An area's own verbs: top-level commands, command groups, and ``medora data`` commands,
    each by the name it is called by."""

    commands: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    groups: Mapping[str, typer.Typer] = field(default_factory=dict)
    data_commands: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


class Area:
    """One kind of task, end to end. Subclasses set :attr:`name` and :attr:`task_type` and
    implement :meth:`tasks`, :meth:`describe`, :meth:`model_names`, :meth:`train` and
    :meth:`predict_file`; the rest is optional."""

    #: How the area is named in the entry-point group and in messages ("molecules").
    name: ClassVar[str]
    #: The class of the area's tasks: a task belongs to the area whose type it is an instance
    #: of, so a task derived from a registered one (``dataclasses.replace``) stays in its area.
    task_type: ClassVar[type]
    #: The package whose ``templates/`` folder holds the area's report, card and page
    #: templates (None: it has none). Names must not clash with another area's: prefix them.
    template_package: ClassVar[str | None] = None
    #: Options of ``medora train`` beyond the common ones that the area's :meth:`train` handles
    #: itself, reading them or refusing them with its own reason ("split": a choice of split,
    #: "data": the user's own data file); the CLI refuses any other that is given.
    train_options: ClassVar[frozenset[str]] = frozenset()
    #: Options of ``medora predict`` the area reads, by parameter name ("explain", "plot");
    #: any other that is given is refused naming these.
    predict_options: ClassVar[frozenset[str]] = frozenset({"explain", "version", "out"})
    #: The tasks `medora demo` trains and approves, so the demo service predicts each kind.
    demo_tasks: ClassVar[tuple[str, ...]] = ()
    #: Modules that held the area's classes in earlier releases, with where each lives now, so
    #: model artifacts pickled then still load (see :mod:`medora.registry.legacy`).
    moved_modules: ClassVar[Mapping[str, str]] = {}

    def tasks(self) -> Sequence[Task]:
        """The area's built-in tasks."""
        raise NotImplementedError

    def owns(self, task: object) -> bool:
        return isinstance(task, self.task_type)

    # ---- medora tasks / train / predict -------------------------------------------------
    def describe(self, task: Task) -> TaskRow:
        """What ``medora tasks`` says of the task's data: its source, size and target."""
        raise NotImplementedError

    def model_names(self, task: Task) -> Sequence[str]:
        """The models ``medora train --model`` may name for the task."""
        raise NotImplementedError

    def train(self, task: Task, config: RunConfig, store: ModelStore | None = None) -> Any:
        """Train, compare and (unless ``config.register`` is false) register the task's models;
        returns the run record. Raises :class:`AreaUsageError` for a ``config.split`` or
        ``config.data`` the task does not take."""
        raise NotImplementedError

    def result_table(self, run: Any) -> ResultTable:
        """The comparison ``medora train`` prints: each model's value of each of the task's
        metrics with its 95% bootstrap interval."""
        from medora.evaluate.bootstrap import format_estimate

        metrics = tuple(run.task.metrics)
        return ResultTable(
            title=f"{run.task.name}: test split, 95% bootstrap CI", columns=("model", *metrics),
            rows=tuple((r.display_name, *(format_estimate(r.metrics[m]) for m in metrics))
                       for r in run.results.values()))

    def predict_file(self, task: Task, path: Path, options: Mapping[str, Any]
                     ) -> FilePredictions:
        """Predict every input of the file at ``path`` with the task's registered model.
        ``options`` holds the :attr:`predict_options` as given; raises
        :class:`medora.core.errors.InputValidationError` naming every bad input."""
        raise NotImplementedError

    def commands(self) -> AreaCommands:
        """The area's own verbs, mounted on the ``medora`` command."""
        return AreaCommands()

    # ---- the service ----------------------------------------------------------------------
    def serving(self, task: Task) -> TaskServing | None:
        """How the service predicts the task; None: the service does not predict it."""
        return None

    def detail_schemas(self) -> tuple[type, ...]:
        """The pydantic models of the ``details`` the area stores with a prediction, for the
        OpenAPI schema of PredictionInfo."""
        return ()

    def stored_input_schemas(self) -> tuple[type, ...]:
        """The pydantic models of the records an area stores in a list among a prediction's
        inputs (an EHR task's events), for the OpenAPI schema of PredictionInfo."""
        return ()

    def body_limits(self, settings: ServiceSettings) -> Sequence[LargerLimit]:
        """Requests of the area's that may be larger than the service's 1 MiB (a file
        upload), each with its own limit."""
        return ()

    def routers(self) -> Sequence[APIRouter]:
        """The area's own API routes (an atom map, a FHIR Bundle upload)."""
        return ()
