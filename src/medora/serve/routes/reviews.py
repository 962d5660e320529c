"""Clinician review: the worklist, decisions on predictions, a prediction's history."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from medora.serve import worklist
from medora.serve.schemas import (
    OverrideReview,
    PredictionHistory,
    PredictionInfo,
    Problem,
    ReviewInfo,
    ReviewRequest,
)
from medora.serve.security import AUTH_RESPONSES, Predictor, Reviewer
from medora.serve.state import State

router = APIRouter(tags=["reviews"], responses=AUTH_RESPONSES)


@router.get("/reviews/worklist")
def get_worklist(
    _: Reviewer, state: State,
    review_status: Annotated[Literal["pending", "escalated"], Query(
        alias="status", description="pending, or escalated for senior reviewers.")] = "pending",
    task: Annotated[str | None, Query(max_length=128, description="Only this task.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[PredictionInfo]:
    """Predictions awaiting review, highest risk first."""
    with state.database.read() as session:
        predictions = worklist.worklist(session, review_status, task, limit)
    return [PredictionInfo.model_validate(prediction) for prediction in predictions]


@router.post("/predictions/{prediction_id}/reviews", status_code=status.HTTP_201_CREATED,
             responses={404: {"model": Problem},
                        409: {"model": Problem, "description": "Already decided."},
                        422: {"description": "An invalid body, or a clinician_value outside "
                                             "the task's range (the message names it)."}})
def review_prediction(prediction_id: uuid.UUID, body: ReviewRequest, principal: Reviewer,
           state: State) -> ReviewInfo:
    """Accept the prediction, override it (a reason and the reviewer's own value are required:
    a risk from 0 to 1, or for a molecule task any finite value in the task's unit) or escalate
    it to a senior reviewer."""
    value = body.clinician_value if isinstance(body, OverrideReview) else None
    decision, _ = worklist.review(state.database, prediction_id, body.action, principal.name,
                                  body.reason, value)
    state.metrics.reviews.labels(body.action).inc()
    return ReviewInfo.model_validate(decision)


@router.get("/predictions/{prediction_id}/history", responses={404: {"model": Problem}})
def prediction_history(prediction_id: uuid.UUID, _: Predictor, state: State) -> PredictionHistory:
    """The prediction and every review of it, oldest first."""
    with state.database.read() as session:
        prediction, reviews = worklist.history(session, prediction_id)
    return PredictionHistory(prediction=PredictionInfo.model_validate(prediction),
                             reviews=[ReviewInfo.model_validate(r) for r in reviews])
