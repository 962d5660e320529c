"""The molecule area's own API route: a molecule prediction's atom map, as PNG or SVG."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from medora.areas.molecules.serving import atom_map
from medora.serve import worklist
from medora.serve.schemas import Problem
from medora.serve.security import AUTH_RESPONSES, Predictor
from medora.serve.state import State

# Tagged with the prediction routes, beside which it has always been documented.
router = APIRouter(tags=["predictions"], responses=AUTH_RESPONSES)
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@router.get("/predictions/{prediction_id}/atom-map", response_class=Response, responses={
    200: {"content": {media: {} for media in IMAGE_TYPES.values()},
          "description": "The 2D depiction with each atom's weight as a blue (lowers the "
                         "value) to red (raises it) field."},
    404: {"model": Problem, "description": "No such prediction, or a patient's prediction."},
    409: {"model": Problem, "description": "The stored weights no longer fit the stored "
                                           "SMILES."},
})
def get_atom_map(prediction_id: uuid.UUID, _: Predictor, state: State,
                 image_format: Annotated[Literal["png", "svg"], Query(alias="format")] = "png",
                 ) -> Response:
    """A molecule prediction's atom weights drawn on its structure, as PNG or SVG."""
    with state.database.read() as session:
        prediction = worklist.get_prediction(session, prediction_id)
    image = atom_map(prediction, image_format)
    return Response(image, media_type=IMAGE_TYPES[image_format])
