"""The base of every request and response body, and the pieces of a prediction an area's
own schemas build on (imported by the areas' detail schemas, which the service's schemas
module collects when it loads)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
