"""Tabular clinical risk: a binary outcome predicted from a table of patients (Framingham CHD,
heart-failure death, WDBC malignancy), the MLP beside logistic regression and gradient boosting,
calibrated, with the threshold that flags a patient."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medora.areas.risk.task import RiskTask
from medora.core.area import Area, FilePredictions, TaskRow

if TYPE_CHECKING:
    from medora.registry.store import ModelStore
    from medora.serve.contract import TaskServing
    from medora.train.run import Run, RunConfig


class RiskArea(Area):
    name = "risk"
    task_type = RiskTask
    template_package = "medora.areas.risk"
    demo_tasks = ("cardio.framingham_chd", "cardio.heart_failure_death",
                  "oncology.wdbc_malignancy")

    def tasks(self) -> Sequence[RiskTask]:
        from medora.areas.risk.cardio import FRAMINGHAM_CHD, HEART_FAILURE_DEATH
        from medora.areas.risk.oncology import WDBC_MALIGNANCY

        return (FRAMINGHAM_CHD, HEART_FAILURE_DEATH, WDBC_MALIGNANCY)

    def describe(self, task: RiskTask) -> TaskRow:
        dataset, _, y = task.load_xy()
        provenance = dataset.provenance
        return TaskRow(f"{provenance.title} ({provenance.package} {provenance.package_version})",
                       str(len(y)), f"{y.mean():.1%} positive")

    def model_names(self, task: RiskTask) -> Sequence[str]:
        from medora.models.factory import MODEL_CLASSES

        return tuple(MODEL_CLASSES)

    def train(self, task: RiskTask, config: RunConfig, store: ModelStore | None = None) -> Run:
        from medora.areas.risk.run import train_task

        return train_task(task, config, store)

    def predict_file(self, task: RiskTask, path: Path, options: Mapping[str, Any]
                     ) -> FilePredictions:
        from medora.areas.risk.predict import predict_patients
        from medora.data.tabular import read_table

        result = predict_patients(task, read_table(path), version=options.get("version"),
                                  explain=bool(options.get("explain")), source=str(path))
        return FilePredictions(result.table, result.version,
                               f"{task.name} v{result.version.version}: calibrated risk "
                               f"(threshold {task.threshold.value})")

    def serving(self, task: RiskTask) -> TaskServing:
        from medora.areas.risk.serving import RiskServing

        return RiskServing(task)
