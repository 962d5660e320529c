"""Clinician review of predictions: the worklist, the decision on each prediction, its history.

A prediction is advice until reviewed. Accepting or overriding it is final; escalating passes it
to a senior reviewer, who then accepts or overrides it.
"""

from __future__ import annotations

import math
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from medora.serve import audit, scoring
from medora.serve.db import Database, Prediction, Review, ReviewAction, ReviewStatus, utc_now
from medora.serve.errors import ConflictError, NotFoundError, ServiceError

RESULTING_STATUS: dict[ReviewAction, ReviewStatus] = {
    "accept": "accepted", "override": "overridden", "escalate": "escalated"}
# review status -> the actions still open
OPEN_ACTIONS: dict[ReviewStatus, tuple[ReviewAction, ...]] = {
    "pending": ("accept", "override", "escalate"),
    "escalated": ("accept", "override"),
}


class ValueOutOfRangeError(ServiceError):
    """A reviewer's own value that the prediction's outcome cannot take."""

    status_code = 422


def check_clinician_value(prediction: Prediction, value: float) -> None:
    """422 unless ``value`` is one the prediction's outcome can take: a probability for a risk,
    any finite number in the property's unit for a molecule (see :func:`scoring.outcome`)."""
    outcome = scoring.outcome(prediction.task)
    low, high = outcome.value_range or (-math.inf, math.inf)
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueOutOfRangeError(f"clinician_value {value:g} is outside the range of "
                                   f"{prediction.task}'s predictions; send "
                                   f"{outcome.describe_range()}")


def get_prediction(session: Session, prediction_id: uuid.UUID, *,
                   lock: bool = False) -> Prediction:
    query = select(Prediction).where(Prediction.id == prediction_id)
    prediction = session.scalars(query.with_for_update() if lock else query).first()
    if prediction is None:
        raise NotFoundError(f"no prediction {prediction_id}")
    return prediction


def worklist(session: Session, status: ReviewStatus, task: str | None,
             limit: int) -> list[Prediction]:
    """Predictions awaiting review, highest risk first (oldest first among equal risks)."""
    query = select(Prediction).where(Prediction.review_status == status)
    if task is not None:
        query = query.where(Prediction.task == task)
    return list(session.scalars(query.order_by(Prediction.risk.desc(), Prediction.created_at,
                                               Prediction.id).limit(limit)))


def history(session: Session, prediction_id: uuid.UUID) -> tuple[Prediction, list[Review]]:
    prediction = get_prediction(session, prediction_id)
    reviews = session.scalars(select(Review).where(Review.prediction_id == prediction_id)
                              .order_by(Review.created_at, Review.id))
    return prediction, list(reviews)


def review(database: Database, prediction_id: uuid.UUID, action: ReviewAction, reviewer: str,
           reason: str | None, clinician_value: float | None) -> tuple[Review, Prediction]:
    """Record a clinician's decision on a prediction; 409 if its state does not allow it, 422
    if the clinician's value is outside the range of the task's predictions.

    The prediction's row is locked, so two clinicians deciding at once are serialised and the
    second sees the first's decision.
    """
    with database.write() as session:
        prediction = get_prediction(session, prediction_id, lock=True)
        allowed = OPEN_ACTIONS.get(prediction.review_status, ())
        if action not in allowed:
            raise ConflictError(
                f"prediction {prediction_id} is {prediction.review_status}; "
                + (f"it can still be: {', '.join(allowed)}" if allowed else
                   "that decision is final (see its history)"))
        if clinician_value is not None:
            check_clinician_value(prediction, clinician_value)
        decision = Review(prediction_id=prediction_id, reviewer=reviewer, action=action,
                          reason=reason, clinician_value=clinician_value, created_at=utc_now())
        session.add(decision)
        prediction.review_status = RESULTING_STATUS[action]
        session.flush()  # assigns the review's id, which the audit event names
        audit.append(session, actor=reviewer, action=f"review.{action}",
                     target=f"prediction:{prediction_id}", details={"review_id": decision.id})
    return decision, prediction
