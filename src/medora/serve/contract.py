"""What the service asks of an area for each task it predicts (:meth:`Area.serving
<medora.core.area.Area.serving>`): what a prediction is, the inputs it takes, how they are read
and validated, how the serving model scores them, and what the web page shows.

Every area stores its predictions in the same columns (see :class:`Score`), read by kind:
``risk`` is the predicted value in the outcome's unit, ``risk_lower``/``risk_upper`` its
interval (none for some kinds), ``threshold`` what ``flagged`` is judged against, and
``details`` what only that kind has (a survival curve, a recommended arm, an index time).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medora.core.task import Task
    from medora.serve.db import Prediction
    from medora.serve.schemas import Feature, PredictionInfo
    from medora.serve.web.session import SubmittedForm

#: One request's inputs by name, as POST /predict/{task} and the web form send them; an area
#: with its own route (a FHIR Bundle's) passes its own type instead.
NamedInputs = Mapping[str, float | str | None]


class ServedModelError(TypeError):
    """A registered artifact the task cannot be served with; the message says why and how to
    fix it (the service answers 503 with it)."""


@dataclass(frozen=True)
class Outcome:
    """What a task's predicted value is: the kind of prediction (``modality``, as GET /tasks
    reports it), its unit, the coverage of its interval, and the values a reviewer's own
    estimate may take (None: any finite number)."""

    modality: str
    unit: str
    interval_coverage: float | None  # None: no interval is given
    value_range: tuple[float, float] | None

    def describe_range(self) -> str:
        if self.value_range is None:
            return f"any finite number, in {self.unit}"
        low, high = self.value_range
        return f"a number from {low:g} to {high:g} ({self.unit})"


@dataclass(frozen=True)
class Prepared:
    """Validated inputs: as stored with the prediction, and as the model takes them."""

    stored: dict[str, Any]
    model_input: Any


@dataclass(frozen=True)
class Score:
    """What the stored prediction says."""

    risk: float
    lower: float | None
    upper: float | None
    threshold: float
    threshold_source: str
    flagged: bool
    explanation: list[dict[str, Any]]
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Catalogue:
    """What GET /tasks and the web form say of a task beyond its name and outcome."""

    threshold: float | None
    threshold_source: str
    inputs: list[Feature]


@dataclass(frozen=True)
class Page:
    """A prediction's web page: the area's template and what it needs beyond the page's
    common context (the prediction, its version, reviews and the review form)."""

    template: str
    context: dict[str, Any]


@dataclass(frozen=True)
class FormInputs:
    """The new-prediction form as the task reads it: the values to show back, the problems by
    input, and the inputs to score (None when a problem stops them being read)."""

    values: dict[str, str]
    errors: dict[str, str]
    inputs: object | None


class TaskServing:
    """One task as the service predicts it. Subclasses implement :attr:`outcome`,
    :meth:`catalogue`, :meth:`prepare` and :meth:`score`; the web form and page default to
    the named inputs and the area's :attr:`page_template`."""

    #: The served artifact's class; any other is refused when loaded.
    model_type: type = object
    #: How a subject is named on the page and the form ("Patient", "Compound").
    subject: str = "Patient"
    #: What ``flagged`` means on the page and the worklist, then what its absence means.
    flag_labels: tuple[str, str] = ("flagged", "below threshold")
    #: The template of the prediction page ("web/<area>.html": a ``prediction_page.html``).
    page_template: str = "web/prediction_page.html"
    #: A template fragment with the form's input fields (None: one text field per input).
    form_template: str | None = None
    #: Whether the form uploads a file.
    multipart: bool = False

    def __init__(self, task: Task) -> None:
        self.task = task

    @property
    def outcome(self) -> Outcome:
        raise NotImplementedError

    def catalogue(self) -> Catalogue:
        raise NotImplementedError

    @functools.cached_property
    def features(self) -> dict[str, Feature]:
        """The catalogue's inputs by name, built once: the request and form checks and the
        pages read them on every call."""
        return {feature.name: feature for feature in self.catalogue().inputs}

    def check_model(self, model: object) -> None:
        """Refuse (:class:`ServedModelError`) an artifact the task cannot be served with."""
        if not isinstance(model, self.model_type):
            raise ServedModelError(f"holds a {type(model).__name__}, not the "
                                   f"{self.model_type.__name__} {self.task.name} is served "
                                   "with; register a model trained for this task")

    def prepare(self, model: Any, inputs: object) -> Prepared:
        """Validate ``inputs`` (against the serving ``model`` where it decides them); raises
        :class:`medora.core.errors.InputValidationError` listing every problem."""
        raise NotImplementedError

    def score(self, model: Any, prepared: Prepared) -> Score:
        raise NotImplementedError

    def read_form(self, form: SubmittedForm, prefix: str) -> FormInputs:
        """The form's fields named ``prefix + input`` as named inputs, blanks as missing."""
        values = {name: form.text(prefix + name) for name in self.features}
        return FormInputs(values, {}, {name: value or None for name, value in values.items()})

    def flag_label(self, prediction: PredictionInfo) -> str:
        return self.flag_labels[0] if prediction.flagged else self.flag_labels[1]

    def page(self, prediction: PredictionInfo, stored: Prediction) -> Page:
        """The page of ``prediction`` (``stored``: its database row, for what the page draws
        from the stored inputs)."""
        return Page(self.page_template, {})
