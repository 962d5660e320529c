"""No patient data in the service's logs, whatever the log level."""

from __future__ import annotations

import logging
import uuid

import pytest

from medora.areas.risk.cardio import FRAMINGHAM_CHD

TASK = FRAMINGHAM_CHD.name
PATIENT = "PATIENT-7Q3ZK"


def test_logs_never_hold_patient_ids_or_inputs(serving, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the libraries' included
    prediction = serving.prediction(PATIENT, totChol=287.25, glucose=93.75)
    serving.request("POST", f"/predictions/{prediction['id']}/reviews", "clinician",
                    json={"action": "override", "reason": f"{PATIENT} on statins",
                          "clinician_value": 0.0625})
    serving.request("GET", f"/predictions/{prediction['id']}/history", "clinician")
    serving.request("GET", "/reviews/worklist", "clinician", params={"task": TASK})
    rejected = serving.predict(PATIENT, heartRate=251.37)  # invalid: echoed back only
    assert rejected.status_code == 422 and "251.37" in rejected.text
    serving.request("GET", f"/predictions/{uuid.uuid4()}/history", "clinician")

    text = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)
    assert "POST /predict/{task} 201" in text  # the request log is captured
    for secret in (PATIENT, "287.25", "93.75", "251.37", "0.0625", "on statins"):
        assert secret not in text
