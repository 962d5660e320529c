"""Form problems as messages beside the fields they concern."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError
from pydantic_core import ErrorDetails

_PLAIN = {"missing": "required", "string_too_short": "required",
          "string_pattern_mismatch": "remove the control characters"}


def _field(error: ErrorDetails, root: str) -> str:
    # The last name in the location is the field: ("override", "reason") -> "reason". A
    # discriminated union's own errors (an unknown action) have no location at all.
    return next((part for part in reversed(error["loc"]) if isinstance(part, str)), root)


def field_errors(error: ValidationError, messages: Mapping[str, str] | None = None,
                 root: str = "form") -> dict[str, str]:
    """The first problem of each field: ``messages[field]`` where given (a field's rule in the
    page's words), else pydantic's message in plainer words."""
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        field = _field(item, root)
        errors.setdefault(field, (messages or {}).get(field) or _PLAIN.get(item["type"],
                                                                          item["msg"]))
    return errors
