"""No patient data in the service's logs from the pages either, whatever the log level."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from medora.areas.risk.cardio import FRAMINGHAM_CHD

TASK = FRAMINGHAM_CHD.name
PATIENT = "PATIENT-W3B9Q"


def test_pages_never_log_patient_ids_or_inputs(serving: Any, web: Any,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the libraries' included
    clinician = web("clinician")
    created = clinician.submit("/worklist", "/worklist/predict", {
        "task": TASK, "patient_id": PATIENT, "input:male": "1", "input:age": "61.5",
        "input:sysBP": "152.25", "input:totChol": "287.75"})
    assert created.status_code == 303
    page = created.headers["location"]
    assert PATIENT in clinician.get(page).text
    assert clinician.submit(page, page, {"action": "override", "reason": f"{PATIENT} on statins",
                                         "clinician_value": "6.25"}).status_code == 303
    rejected = clinician.submit("/worklist", "/worklist/predict", {
        "task": TASK, "patient_id": PATIENT, "input:male": "1", "input:age": "61.5",
        "input:sysBP": "351.37"})
    assert rejected.status_code == 422 and "351.37" in rejected.text  # echoed to the page only
    clinician.get("/worklist")
    web("auditor").get("/audit")

    text = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)
    assert "POST /worklist/predict 303" in text  # the request log is captured
    for secret in (PATIENT, "61.5", "152.25", "287.75", "351.37", "6.25", "on statins"):
        assert secret not in text
