"""The EHR area: risks at an index time from a patient's coded event history.

Its tasks (:mod:`medora.areas.ehr.tasks`) train on an event table (``medora train --data``, the
table ``medora data ingest`` writes; by default the bundled synthetic cohort) and predict one
patient from a FHIR R4 Bundle, on the command line and through the service's POST
/predict/{task}/bundle. This module stays light: the models, the run, the serving code and the
routes are imported by the methods that need them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from medora.areas.ehr.tasks import (
    DIABETES_COMPLICATION_2Y,
    MORTALITY_1Y,
    READMISSION_30D,
    EventSequenceTask,
)
from medora.core.area import Area, AreaCommands, AreaUsageError, FilePredictions, TaskRow

if TYPE_CHECKING:
    from fastapi import APIRouter

    from medora.areas.ehr.run import EhrRun
    from medora.areas.ehr.serving import EhrServing
    from medora.registry.store import ModelStore
    from medora.serve.limits import LargerLimit
    from medora.serve.settings import ServiceSettings
    from medora.train.run import RunConfig


class EhrArea(Area):
    """Event-sequence tasks: 30-day readmission, 1-year mortality, diabetic complications."""

    name = "ehr"
    task_type = EventSequenceTask
    template_package = "medora.areas.ehr"
    train_options = frozenset({"data"})  # the event table, default the bundled cohort
    predict_options = frozenset({"explain", "version", "out", "index_time"})
    demo_tasks = ("ehr.readmission_30d",)
    # The classes a registered EHR artifact pickles (the networks, the code vocabulary, the
    # bag of codes), by the modules medora 0.1 defined them in.
    moved_modules: ClassVar[Mapping[str, str]] = {
        "medora.models.sequence": "medora.areas.ehr.models",
        "medora.models.event_baselines": "medora.areas.ehr.baselines",
        "medora.featurizers.events": "medora.areas.ehr.featurizers",
    }

    def tasks(self) -> Sequence[EventSequenceTask]:
        return (READMISSION_30D, MORTALITY_1Y, DIABETES_COMPLICATION_2Y)

    def describe(self, task: EventSequenceTask) -> TaskRow:
        """The data is the bundled cohort or the user's own table, so no size is given."""
        return TaskRow("bundled synthetic cohort (Synthea, 2,000 patients) or your event "
                       "table (train --data PATH)")

    def model_names(self, task: EventSequenceTask) -> Sequence[str]:
        from medora.areas.ehr.factory import EVENT_MODEL_NAMES

        return EVENT_MODEL_NAMES

    def train(self, task: EventSequenceTask, config: RunConfig,
              store: ModelStore | None = None) -> EhrRun:
        """Train on the event table ``config.data`` (default: the bundled cohort), split by
        patient: the tasks offer no other split."""
        from medora.areas.ehr.run import train_event_task

        if config.split is not None:
            raise AreaUsageError(f"{task.name} offers the split(s) its stratified random "
                                 f"split, not {config.split!r}")
        return train_event_task(task, config, store)

    def predict_file(self, task: EventSequenceTask, path: Path,
                     options: Mapping[str, Any]) -> FilePredictions:
        """One patient's risk at the index time from the FHIR Bundle at ``path``; the terminal
        shows the risk, where and on what it was predicted, and with ``explain`` the past
        events that drove it."""
        from functools import partial

        from medora.areas.ehr.cli import print_prediction
        from medora.areas.ehr.predict import predict_ehr_patient

        explain = bool(options.get("explain"))
        result = predict_ehr_patient(task, path, index_time=options.get("index_time"),
                                     version=options.get("version"), explain=explain)
        title = (f"{task.name} v{result.version.version}: calibrated risk at the index time "
                 f"(threshold {task.threshold.value})")
        return FilePredictions(table=result.table, version=result.version, title=title,
                               show=partial(print_prediction, task=task, result=result,
                                            title=title, explain=explain))

    def commands(self) -> AreaCommands:
        from medora.areas.ehr.cli import ingest_command, synthea_command

        return AreaCommands(data_commands={"ingest": ingest_command,
                                           "synthea": synthea_command})

    def serving(self, task: EventSequenceTask) -> EhrServing:
        from medora.areas.ehr.serving import EhrServing

        return EhrServing(task)

    def detail_schemas(self) -> tuple[type, ...]:
        from medora.areas.ehr.schemas import EventSequenceDetails

        return (EventSequenceDetails,)

    def stored_input_schemas(self) -> tuple[type, ...]:
        from medora.areas.ehr.schemas import RecordedEvent

        return (RecordedEvent,)

    def body_limits(self, settings: ServiceSettings) -> Sequence[LargerLimit]:
        from medora.areas.ehr.limits import ehr_body_limit

        return (ehr_body_limit(settings),)

    def routers(self) -> Sequence[APIRouter]:
        from medora.areas.ehr.routes import router

        return (router,)
