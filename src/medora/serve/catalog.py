"""What the service says of each task it predicts (GET /tasks, the web page's form): what is
predicted, in which unit, when a prediction is flagged, and the inputs it takes (for an EHR
task, the patient's FHIR Bundle and an optional index time)."""

from __future__ import annotations

import functools

import pandas as pd

from medora.areas.molecules.chem.similarity import APPLICABILITY_DOMAIN_SOURCE
from medora.areas.ehr.predict import BUNDLE_INPUT, INDEX_TIME_EXAMPLE, INDEX_TIME_INPUT
from medora.serve import scoring
from medora.serve.schemas import Feature, TaskInfo
from medora.areas.effects.tasks import EffectTask
from medora.areas.ehr.tasks import EventSequenceTask
from medora.areas.molecules.tasks import MoleculeTask
from medora.areas.survival.tasks import SurvivalTask


@functools.cache
def _effect_inputs(task_name: str) -> list[Feature]:
    """An effect task's covariates, as its dataset has them (every one is required); none
    when the dataset's package is not installed."""
    dataset = scoring.effect_dataset(task_name)
    if dataset is None:
        return []
    inputs = []
    for name, values in dataset.covariates.items():
        description = f"baseline covariate of {dataset.name} (see the model card)"
        if isinstance(values.dtype, pd.CategoricalDtype):
            inputs.append(Feature(name=str(name), description=description, kind="categorical",
                                  unit="", expected=f"one of {list(values.cat.categories)}",
                                  required=True))
            continue
        binary = set(values.dropna().unique()) <= {0, 1}
        inputs.append(Feature(name=str(name), description=description,
                              kind="binary" if binary else "continuous", unit="",
                              expected="0 or 1" if binary else
                              f"a number (training patients: {values.min():g} to "
                              f"{values.max():g})", required=True))
    return inputs


def _ehr_inputs(task: EventSequenceTask) -> list[Feature]:
    """An EHR task's two inputs: the bundle (the request body) and the index time."""
    rule = task.index
    return [Feature(name=BUNDLE_INPUT,
                    description=f"the patient's record: POST it as the request body of "
                                f"{scoring.bundle_path(task)} (Content-Type "
                                "application/fhir+json); read like `medora data ingest` reads "
                                "a bundle", kind="fhir_bundle", unit="FHIR R4 Bundle (JSON)",
                    expected="one patient's Bundle, as Synthea writes it or Patient/$everything "
                             "returns it; resources medora does not read are skipped and "
                             "counted",
                    required=True),
            Feature(name=INDEX_TIME_INPUT,
                    description=f"the prediction time, a query parameter; no later event "
                                f"reaches the model. Left out: the latest {rule.description} "
                                "in the record", kind="datetime", unit="ISO 8601 (UTC unless "
                                "an offset is given)",
                    expected=f"a time at which {rule.applies}, e.g. {INDEX_TIME_EXAMPLE}",
                    required=False)]


def task_info(task: scoring.ServedTask) -> TaskInfo:
    """What GET /tasks says of ``task``: what it predicts, in which unit, and its inputs."""
    outcome = scoring.outcome(task.name)
    common = {"name": task.name, "area": task.area, "description": task.description,
              "modality": outcome.modality, "unit": outcome.unit,
              "interval_coverage": outcome.interval_coverage}
    if isinstance(task, MoleculeTask):
        return TaskInfo(**common, threshold=None,
                        threshold_source="flagged when outside the serving model's "
                                         f"applicability domain. {APPLICABILITY_DOMAIN_SOURCE}",
                        inputs=[Feature(name=scoring.SMILES_INPUT,
                                        description=f"the compound, whose {task.target} is "
                                                    "predicted", kind="text", unit="SMILES",
                                        expected="a SMILES RDKit can parse and sanitise; a "
                                                 "salt is reduced to its largest fragment",
                                        required=True)])
    if isinstance(task, SurvivalTask):
        labels = {encoding.column: list(encoding.codes) for encoding in task.encodings}
        return TaskInfo(**common, threshold=None,
                        threshold_source="flagged in the high-risk group: the top third of the "
                                         "training patients' probability of the event by the "
                                         "training cohort's median event time, which each "
                                         "prediction states",
                        inputs=[Feature(name=spec.name, description=spec.description,
                                        kind="categorical" if spec.name in labels else spec.kind,
                                        unit=spec.unit,
                                        expected=(f"{spec.expected}, or one of "
                                                  f"{labels[spec.name]}" if spec.name in labels
                                                  else spec.expected),
                                        required=True)  # survival models impute nothing
                                for spec in task.features])
    if isinstance(task, EventSequenceTask):
        return TaskInfo(**common, threshold=task.threshold.value,
                        threshold_source=task.threshold.source, inputs=_ehr_inputs(task))
    if isinstance(task, EffectTask):
        return TaskInfo(**common, threshold=None,
                        threshold_source="flagged outside overlap: a propensity outside the "
                                         "serving model's overlap region (Crump et al. 2009 "
                                         "trimming and the arms' common support), where no arm "
                                         "is recommended",
                        inputs=_effect_inputs(task.name))
    return TaskInfo(**common, threshold=task.threshold.value,
                    threshold_source=task.threshold.source,
                    inputs=[Feature(name=spec.name, description=spec.description,
                                    kind=spec.kind, unit=spec.unit, expected=spec.expected,
                                    required=spec.required) for spec in task.features])
