"""The size limit of an EHR prediction's request: its body is one patient's whole FHIR
Bundle, so it may be as large as ``settings.max_ehr_body_bytes`` rather than the service's
1 MiB."""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import Scope

from medora.serve.limits import LargerLimit
from medora.serve.settings import MAX_EHR_BODY_ENV, ServiceSettings

#: POST /predict/{task}/bundle, the API's EHR prediction.
_BUNDLE_PATH = re.compile(r"/predict/[^/]+/bundle")
#: The web page's new-prediction form; an EHR task's form uploads the bundle as a file, sent as
#: multipart/form-data.
_WEB_PREDICTION_PATH = "/worklist/predict"


def _is_ehr_prediction(scope: Scope, headers: Headers) -> bool:
    if scope.get("method") != "POST":
        return False
    path = scope.get("path", "")
    if _BUNDLE_PATH.fullmatch(path):
        return True
    return (path == _WEB_PREDICTION_PATH
            and headers.get("content-type", "").startswith("multipart/form-data"))


def ehr_body_limit(settings: ServiceSettings) -> LargerLimit:
    """The limit of EHR prediction requests (the API's and the web form's)."""
    return LargerLimit(settings.max_ehr_body_bytes, _is_ehr_prediction,
                       "EHR prediction requests (a patient's FHIR Bundle)",
                       f"${MAX_EHR_BODY_ENV} (ServiceSettings.max_ehr_body_bytes)")
