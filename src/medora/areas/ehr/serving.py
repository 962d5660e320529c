"""An EHR task through the service: one patient's FHIR R4 Bundle read into events exactly as
``medora data ingest`` reads one, assessed at the index time by the serving model, and shown
with the timeline of the events the model read.

What a prediction stores, in the columns every area shares: ``risk`` is the calibrated
probability at the index time with its 95% interval, ``threshold``/``flagged`` the task's
threshold as for a tabular risk, ``inputs`` the events the model read (not the bundle) with the
bundle's SHA-256, ``explanation`` the model's top terms, and ``details`` the index time and how
it was chosen, the event counts (read, left out after the index time or before the model's
window), what became of the bundle's resources, and the top past events (see
:mod:`medora.areas.ehr.predict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import TypeAdapter
from starlette.datastructures import UploadFile

from medora.areas.ehr.predict import (
    BUNDLE_INPUT,
    DECIMALS,
    INDEX_TIME_EXAMPLE,
    INDEX_TIME_INPUT,
    EhrAssessment,
    PatientRecord,
    assess,
    event_model,
    parse_index_time,
    prediction_details,
    read_patient_bundle,
    stored_inputs,
    top_terms,
)
from medora.areas.ehr.schemas import EventSequenceDetails, RecordedEvent
from medora.areas.ehr.tasks import EventSequenceTask
from medora.areas.ehr.timeline import TimelineEvent, build_timeline
from medora.core.errors import InputValidationError
from medora.models.calibrated import CalibratedModel
from medora.serve.contract import (
    Catalogue,
    FormInputs,
    Outcome,
    Page,
    Prepared,
    Score,
    ServedModelError,
    TaskServing,
)
from medora.serve.schemas import Feature
from medora.serve.web.charts import labelled_chart, risk_bar

if TYPE_CHECKING:
    from medora.serve.db import Prediction
    from medora.serve.schemas import PredictionInfo
    from medora.serve.web.session import SubmittedForm

#: An EHR artifact is a CalibratedModel, as a tabular one: the same calibrated probability and
#: interval (CalibratedModel.predict_risk's, alpha 0.05).
EHR_PROBABILITY = Outcome("event_sequence", "probability", 0.95, (0.0, 1.0))
BUNDLE_RULE = "choose the patient's FHIR R4 Bundle, a .json file"
DRIVER_LABEL = 40  # characters of a driver's label on the chart (the rest is cut)
_recorded_events = TypeAdapter(list[RecordedEvent])


@dataclass(frozen=True)
class BundleInputs:
    """An EHR prediction's inputs: one patient's FHIR R4 Bundle as sent (JSON bytes) and,
    optionally, the index time (ISO 8601 text; None: the task's latest index event)."""

    bundle: bytes
    index_time: str | None = None


@dataclass(frozen=True)
class EhrInput:
    """An EHR patient as the model sees it, assessed, with the record it was read from."""

    assessment: EhrAssessment
    record: PatientRecord


def bundle_path(task: EventSequenceTask) -> str:
    return f"/predict/{task.name}/bundle"


def _ehr_inputs(task: EventSequenceTask) -> list[Feature]:
    """An EHR task's two inputs: the bundle (the request body) and the index time."""
    rule = task.index
    return [Feature(name=BUNDLE_INPUT,
                    description=f"the patient's record: POST it as the request body of "
                                f"{bundle_path(task)} (Content-Type "
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


def _driver_label(event: TimelineEvent) -> str:
    label = f"{event.day} {event.label}" + (f" {event.value}" if event.value else "")
    return label if len(label) <= DRIVER_LABEL else label[:DRIVER_LABEL - 1] + "…"


class EhrServing(TaskServing):
    """An EHR task, predicted from a patient's FHIR Bundle (POST /predict/{task}/bundle, or the
    web form's file upload) at an index time."""

    task: EventSequenceTask
    model_type = CalibratedModel
    page_template = "web/ehr.html"
    form_template = "web/ehr_form.html"
    multipart = True

    @property
    def outcome(self) -> Outcome:
        return EHR_PROBABILITY

    def catalogue(self) -> Catalogue:
        return Catalogue(threshold=self.task.threshold.value,
                         threshold_source=self.task.threshold.source,
                         inputs=_ehr_inputs(self.task))

    def check_model(self, model: object) -> None:
        """A CalibratedModel around an event model: a tabular task's artifact is a
        CalibratedModel too, but around a model that cannot read events."""
        super().check_model(model)
        try:
            event_model(model)
        except TypeError as error:  # "it holds a ..., not an event model; register ..."
            raise ServedModelError(str(error).removeprefix("it ")) from None

    def prepare(self, model: CalibratedModel, inputs: object) -> Prepared:
        """The patient of the bundle at the index time, scored and explained: reading the
        bundle and choosing the index are its validation, and the events the model reads
        depend on the model's window, so the model runs here."""
        if not isinstance(inputs, BundleInputs):
            raise InputValidationError("inputs", [
                f"{BUNDLE_INPUT}: {self.task.name} predicts from one patient's FHIR R4 Bundle, "
                "not from inputs; POST the bundle as the request body to "
                f"{bundle_path(self.task)}"])
        index_time = parse_index_time(inputs.index_time)
        record = read_patient_bundle(inputs.bundle)
        assessment = assess(self.task, model, record, index_time, explain=True)
        return Prepared(stored_inputs(assessment, record), EhrInput(assessment, record))

    def score(self, model: CalibratedModel, prepared: Prepared) -> Score:
        """Calibrated risk at the index time with its 95% interval, flagged at the task's
        threshold, the model's top terms, and where, on what and why (see
        :func:`medora.areas.ehr.predict.prediction_details`)."""
        patient = prepared.model_input
        assert isinstance(patient, EhrInput)  # made by prepare
        assessment = patient.assessment
        threshold = self.task.threshold
        return Score(risk=round(assessment.risk, DECIMALS),
                     lower=round(assessment.lower, DECIMALS),
                     upper=round(assessment.upper, DECIMALS),
                     threshold=threshold.value, threshold_source=threshold.source,
                     flagged=bool(assessment.risk >= threshold.value),
                     explanation=top_terms(assessment),
                     details=prediction_details(assessment, patient.record))

    def read_form(self, form: SubmittedForm, prefix: str) -> FormInputs:
        """The uploaded bundle and the index time (a datetime-local field:
        ``2024-06-01T12:00``); no inputs, with the problem noted, without a file."""
        values = {INDEX_TIME_INPUT: form.text(prefix + INDEX_TIME_INPUT)}
        upload = form.fields.get(prefix + BUNDLE_INPUT)
        # The endpoint runs in a worker thread, so the spooled upload is read synchronously.
        bundle = upload.file.read() if isinstance(upload, UploadFile) else b""
        if not bundle:
            return FormInputs(values, {BUNDLE_INPUT: BUNDLE_RULE}, None)
        return FormInputs(values, {}, BundleInputs(bundle, values[INDEX_TIME_INPUT] or None))

    def page(self, prediction: PredictionInfo, stored: Prediction) -> Page:
        """The risk at the index time, the drivers, and the timeline of the events the model
        read (the stored inputs)."""
        details = prediction.details
        assert isinstance(details, EventSequenceDetails)  # what score stores
        assert prediction.risk_lower is not None and prediction.risk_upper is not None
        events = stored.inputs.get("events")
        timeline = build_timeline(_recorded_events.validate_python(events)
                                  if isinstance(events, list) else [], details)
        chart = labelled_chart([(_driver_label(event), event.driver.contribution)
                                for event in timeline.drivers if event.driver],
                               labels_width=320, digits=3)
        return Page(self.page_template, {
            "timeline": timeline, "details": details, "chart": chart,
            "risk_bar": risk_bar(prediction.risk, prediction.risk_lower,
                                 prediction.risk_upper, prediction.threshold)})
