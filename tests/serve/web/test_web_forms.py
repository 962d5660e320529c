"""The pages' forms: log-in and log-out, reviews, new predictions and model status changes, each
through the service's own rules, with CSRF protection and nothing stored when refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.serve import accounts, audit
from medora.serve.db import AuditEvent, Prediction, Review
from medora.serve.web.session import LOGIN_COOKIE, SESSION_COOKIE

TASK = FRAMINGHAM_CHD.name
PASSWORD = "a long enough web password"
OVERRIDE = {"action": "override", "reason": "already on statins", "clinician_value": "8"}


def add_alice(service: Any) -> None:
    with service.database.write() as session:
        accounts.add_user(session, "alice", "clinician", PASSWORD, actor="test")


def counts(service: Any) -> tuple[int, int, int]:
    """Rows that a refused form must leave as they were: predictions, reviews, audit events."""
    with service.database.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(table))
                     for table in (Prediction, Review, AuditEvent))


def last_events(service: Any, count: int) -> list[AuditEvent]:
    with service.database.read() as session:
        events = audit.events_after(session, 0, 10_000)
    return events[-count:]


def test_log_in_and_out_through_the_form(serving: Any, web: Any) -> None:
    add_alice(serving)
    browser = web(None)
    wrong = browser.submit("/login", "/login", {"username": "alice", "password": "wrong!"})
    assert wrong.status_code == 401 and "Incorrect user name or password" in wrong.text
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    page = browser.get("/login?next=/audit")
    assert page.status_code == 200 and 'name="next" value="/audit"' in page.text
    right = browser.submit("/login?next=/worklist", "/login",
                           {"username": "alice", "password": PASSWORD, "next": "/worklist"})
    assert (right.status_code, right.headers["location"]) == (303, "/worklist")
    cookie = next(value for value in right.headers.get_list("set-cookie")
                  if value.startswith(SESSION_COOKIE))
    assert {"HttpOnly", "SameSite=strict", "Path=/"} <= {part.strip() for part in
                                                        cookie.split(";")}
    assert "Secure" not in cookie  # plain http in the tests; set when the page came over https
    assert [(e.actor, e.action, e.target) for e in last_events(serving, 2)] == [
        ("anonymous", "login.failed", "user:alice"), ("alice", "login", "user:alice")]
    assert "<strong>alice</strong>" in browser.get("/worklist").text
    assert browser.get("/login").headers["location"] == "/worklist"  # already logged in

    assert browser.submit("/worklist", "/logout", {}, csrf="").status_code == 403
    out = browser.submit("/worklist", "/logout", {})
    assert out.headers["location"] == "/login?reason=logged_out"
    assert "You have logged out" in browser.get(out.headers["location"]).text
    assert browser.get("/worklist").headers["location"].startswith("/login?reason=required")


def test_log_in_refuses_a_form_not_sent_from_its_page(serving: Any, web: Any) -> None:
    add_alice(serving)
    browser = web(None)
    before = counts(serving)
    for token in ("", "0" * 64):
        refused = browser.submit("/login", "/login",
                                 {"username": "alice", "password": PASSWORD}, csrf=token)
        assert refused.status_code == 403 and "was not sent from this site" in refused.text
    browser.client.cookies.delete(LOGIN_COOKIE, path="/login")
    token = browser.csrf_token(browser.get("/login"))
    browser.client.cookies.delete(LOGIN_COOKIE, path="/login")  # the token without its nonce
    assert browser.submit("/login", "/login", {"username": "alice", "password": PASSWORD},
                          csrf=token).status_code == 403
    assert counts(serving) == before  # not even audited: the password was never checked


def test_log_in_returns_only_to_this_site(serving: Any, web: Any) -> None:
    add_alice(serving)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        browser = web(None)
        answer = browser.submit("/login", "/login",
                                {"username": "alice", "password": PASSWORD, "next": target})
        assert answer.headers["location"] == "/", target


def test_review_through_the_form(serving: Any, web: Any) -> None:
    prediction_id = serving.prediction("MRN-FORM")["id"]
    page = f"/predictions/{prediction_id}/view"
    clinician = web("clinician")
    answer = clinician.submit(page, page, OVERRIDE)
    assert (answer.status_code, answer.headers["location"]) == (303, page + "#history")
    history = serving.request("GET", f"/predictions/{prediction_id}/history", "clinician").json()
    [review] = history["reviews"]
    assert (review["action"], review["reviewer"], review["reason"],
            review["clinician_value"]) == ("override", "clinician", "already on statins", 0.08)
    assert history["prediction"]["review_status"] == "overridden"
    [event] = last_events(serving, 1)
    assert (event.actor, event.action, event.target, event.details) == (
        "clinician", "review.override", f"prediction:{prediction_id}",
        {"review_id": review["id"]})
    shown = clinician.get(page).text
    assert "already on statins" in shown and "8.0%" in shown
    assert 'name="action"' not in shown  # decided: no form any more


def test_a_refused_review_is_shown_with_its_problems_and_nothing_is_stored(serving: Any,
                                                                          web: Any) -> None:
    prediction_id = serving.prediction("MRN-FORM")["id"]
    page = f"/predictions/{prediction_id}/view"
    clinician = web("clinician")
    before = counts(serving)
    for form, problem in [
        ({"action": "override", "clinician_value": "8"}, "required"),
        ({"action": "override", "reason": "on statins"}, "a number from 0 to 100"),
        ({"action": "override", "reason": "on statins", "clinician_value": "150"},
         "a number from 0 to 100"),
        ({"action": "override", "reason": "on statins", "clinician_value": "abc"},
         "a number from 0 to 100"),
        ({"action": "override", "reason": "on\x01statins", "clinician_value": "8"},
         "remove the control characters"),
        ({"reason": "no decision"}, "choose what to do"),
        ({"action": "dismiss"}, "choose what to do"),
    ]:
        answer = clinician.submit(page, page, form)
        assert answer.status_code == 422, form
        assert "Nothing was saved" in answer.text and problem in answer.text, form
        assert 'aria-invalid="true"' in answer.text
        assert form.get("reason", "") in answer.text  # what was typed is kept
    assert counts(serving) == before
    serving.request("POST", f"/predictions/{prediction_id}/reviews", "admin",
                    json={"action": "accept"})
    late = clinician.submit(page, page, {"action": "escalate"}, csrf=clinician.csrf_token(
        clinician.get("/worklist")))
    assert late.status_code == 409 and "that decision is final" in late.text
    late = clinician.submit(page, page, {"action": "override"}, csrf=clinician.csrf_token(late))
    assert late.status_code == 422 and "Nothing was saved: the prediction has been decided" in (
        late.text)


def test_forms_without_the_sessions_csrf_token_change_nothing(serving: Any, web: Any) -> None:
    prediction_id = serving.prediction("MRN-CSRF")["id"]
    clinician, admin = web("clinician"), web("admin")
    someone_elses = admin.csrf_token(admin.get("/worklist"))
    before = counts(serving)
    page = f"/predictions/{prediction_id}/view"
    for token in ("", "0" * 64, someone_elses):
        for action, data in [(page, OVERRIDE),
                             ("/worklist/predict", {"task": TASK, "patient_id": "MRN-X",
                                                    "input:age": "60"})]:
            refused = clinician.submit("/worklist", action, data, csrf=token)
            assert refused.status_code == 403 and "nothing was changed" in refused.text
        refused = admin.submit("/admin/models", f"/admin/models/{TASK}/versions/1/stop",
                               {"reason": "drift"}, csrf=token if token != someone_elses else
                               clinician.csrf_token(clinician.get("/worklist")))
        assert refused.status_code == 403
    assert counts(serving) == before
    assert serving.predict().status_code == 201  # v1 still serves
    # The JSON API takes no cookies, so a page of another site cannot use the session there.
    cookie_only = clinician.client.post(f"/predictions/{prediction_id}/reviews",
                                        json={"action": "accept"})
    assert cookie_only.status_code == 401


def test_new_prediction_through_the_form(serving: Any, web: Any) -> None:
    clinician = web("clinician")
    inputs = {f"input:{name}": "" if value is None else f"{value:g}"
              for name, value in serving.patient.items()}
    answer = clinician.submit("/worklist", "/worklist/predict",
                              {"task": TASK, "patient_id": "MRN-WEB-1", **inputs})
    assert answer.status_code == 303
    page = clinician.get(answer.headers["location"])
    assert "Patient MRN-WEB-1" in page.text
    [listed] = serving.request("GET", "/reviews/worklist", "clinician").json()
    assert listed["patient_id"] == "MRN-WEB-1"
    assert listed["inputs"] == serving.patient  # the same values as through the API
    assert answer.headers["location"] == f"/predictions/{listed['id']}/view"
    assert "MRN-WEB-1" in clinician.get("/worklist").text


def test_invalid_inputs_are_shown_beside_their_fields_and_nothing_is_stored(serving: Any,
                                                                           web: Any) -> None:
    clinician = web("clinician")
    before = counts(serving)
    answer = clinician.submit("/worklist", "/worklist/predict", {
        "task": TASK, "patient_id": "MRN-WEB-2", "input:age": "300", "input:glucose": "high",
        "input:male": "1"})
    assert answer.status_code == 422
    text = answer.text
    assert "Nothing was saved" in text
    for name, problem in (("age", "300 outside the valid range; expected 18 to 110 years"),
                          ("glucose", "non-numeric value(s) &#39;high&#39;"),
                          ("sysBP", "missing value")):
        field = text.split(f'id="input-{name}"')[1].split("</div>")[0]
        assert 'aria-invalid="true"' in field and problem in field, name
    assert 'value="300"' in text and 'value="MRN-WEB-2"' in text
    for data, problem in [({"task": TASK, "patient_id": "bad id!"}, "use 1 to 64 letters"),
                          ({"task": "no.such_task", "patient_id": "MRN-1"},
                           "choose one of the tasks")]:
        answer = clinician.submit("/worklist", "/worklist/predict", data)
        assert answer.status_code == 422 and problem in answer.text
    assert counts(serving) == before


def test_stop_through_the_model_page(serving: Any, web: Any) -> None:
    admin = web("admin")
    refused = admin.submit("/admin/models", f"/admin/models/{TASK}/versions/1/stop",
                           {"reason": ""})
    assert refused.status_code == 422 and "required" in refused.text
    assert serving.predict().status_code == 201
    stopped = admin.submit("/admin/models", f"/admin/models/{TASK}/versions/1/stop",
                           {"reason": "calibration drift"})
    assert (stopped.status_code, stopped.headers["location"]) == (
        303, f"/admin/models#model-{TASK}")
    answer = serving.predict()
    assert answer.status_code == 503
    assert "was stopped by admin" in answer.json()["detail"]
    assert answer.json()["detail"].endswith(": calibration drift")
    page = admin.get("/admin/models").text
    assert "was stopped by admin" in page and "calibration drift" in page
    assert f"/admin/models/{TASK}/versions/1/resume" in page
    again = admin.submit("/admin/models", f"/admin/models/{TASK}/versions/1/stop",
                         {"reason": "twice"})
    assert again.status_code == 409 and "stop applies only to a approved version" in again.text
    assert admin.submit("/admin/models", f"/admin/models/{TASK}/versions/1/resume",
                        {}).status_code == 303
    assert serving.predict().status_code == 201


def test_roll_back_through_the_model_page(serving: Any, web: Any) -> None:
    assert serving.set_status(2, "approve").status_code == 200
    scientist = web("data_scientist")
    answer = scientist.submit("/admin/models", f"/admin/models/{TASK}/rollback",
                              {"reason": "v2 under-predicts"})
    assert answer.status_code == 303
    [event] = last_events(serving, 1)
    assert (event.actor, event.action) == ("data_scientist", "model.rollback")
    assert serving.prediction()["model_version"] == 1


def test_auditors_read_the_model_page_without_its_forms(serving: Any, web: Any) -> None:
    auditor = web("auditor")
    page = auditor.get("/admin/models")
    assert page.status_code == 200
    assert "Model card of v1" in page.text and "<h1>Model card" in page.text
    assert "<form" not in page.text.split("<main")[1]  # the log-out form is in the header
    token = auditor.csrf_token(page)
    assert auditor.submit("/admin/models", f"/admin/models/{TASK}/versions/1/stop",
                          {"reason": "x"}, csrf=token).status_code == 403
    assert serving.predict().status_code == 201


def test_audit_page_verifies_the_chain_and_pages_newest_first(
        serving: Any, web: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving.database.write() as session:
        for number in range(60):
            audit.append(session, actor="test", action="test.event", target=f"n:{number}")
    auditor = web("auditor")
    first = auditor.get("/audit").text
    assert "Chain verified" in first
    head = int(first.split("of ")[1].split(",")[0])
    assert f"Events #{head - 49} to #{head} of {head}" in first
    assert first.index("n:59") < first.index("n:58")
    assert f'href="/audit?before={head - 49}"' in first and "Newer" not in first
    second = auditor.get(f"/audit?before={head - 49}").text
    assert f"Events #1 to #{head - 50}" in second and 'href="/audit"' in second
    # The page shows what the service's verification finds (its tampering cases: test_audit).
    monkeypatch.setattr(audit, "verify_chain",
                        lambda _: audit.VerificationResult(False, 4, 5, "ab" * 32))
    assert "Chain broken at event #5" in auditor.get("/audit").text
