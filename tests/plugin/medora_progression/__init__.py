"""A medora area shipped as its own package, the way a hospital would ship one: whether a
diabetes patient's disease progressed past the cohort's median one year after baseline, from
the ten baseline measurements of scikit-learn's diabetes data (Efron et al. 2004, 442 real
patients), by logistic regression.

It uses only medora's public contract (the Area, the serving contract, the model store, the
run helpers and the template loader) and is registered through the entry-point group
``medora.areas`` by the ``dist-info`` folder beside it: put this folder on ``sys.path`` (or
``PYTHONPATH``) and medora finds it as it finds an installed package. docs/adding-an-area.md
walks through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medora.core.area import Area, FilePredictions, ResultTable, TaskRow


@dataclass(frozen=True)
class ProgressionTask:
    """The one task this area offers: the fields medora's core reads of every task."""

    name: str
    area: str
    description: str
    modality: str = "progression"
    target: str = "progressed"
    primary_metric: str = "auroc"
    metrics: tuple[str, ...] = ("auroc",)

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "area": self.area, "modality": self.modality,
                "target": self.target, "primary_metric": self.primary_metric,
                "description": self.description}


DIABETES_PROGRESSION = ProgressionTask(
    name="plugin.diabetes_progression", area="metabolic",
    description="Disease progression above the cohort median one year after baseline, from "
                "age, sex, BMI, blood pressure and six serum measurements (scikit-learn's "
                "diabetes data, standardised as shipped).")


class ProgressionArea(Area):
    name = "progression"
    task_type = ProgressionTask
    template_package = "medora_progression"

    def tasks(self) -> Sequence[ProgressionTask]:
        return (DIABETES_PROGRESSION,)

    def describe(self, task: ProgressionTask) -> TaskRow:
        from medora_progression.run import load

        _, y = load()
        return TaskRow("diabetes (scikit-learn)", str(len(y)), f"{y.mean():.1%} progressed")

    def model_names(self, task: ProgressionTask) -> Sequence[str]:
        return ("logistic_regression",)

    def train(self, task: ProgressionTask, config: Any, store: Any = None) -> Any:
        from medora_progression.run import train

        return train(task, config, store)

    def result_table(self, run: Any) -> ResultTable:
        estimate = run.auroc
        return ResultTable(title=f"{run.task.name}: test split", columns=("model", "auroc"),
                           rows=((run.model_name, f"{estimate.value:.3f}"),))

    def predict_file(self, task: ProgressionTask, path: Path, options: Mapping[str, Any]
                     ) -> FilePredictions:
        from medora_progression.run import predict_file

        return predict_file(task, path, options.get("version"))

    def serving(self, task: ProgressionTask) -> Any:
        from medora_progression.serving import ProgressionServing

        return ProgressionServing(task)
