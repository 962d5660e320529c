"""Who sees which page: roles, log-in redirects, error pages, headers, and the API untouched."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.serve.db import ROLES, User, utc_now
from medora.serve.web.session import SESSION_COOKIE

TASK = FRAMINGHAM_CHD.name
# Written out here, not imported from the code under test, so widening a page's roles fails.
PAGES = {"/worklist": ("admin", "clinician"),
         "/predictions/{id}/view": ("admin", "data_scientist", "clinician"),
         "/admin/models": ("admin", "data_scientist", "auditor"),
         "/audit": ("admin", "auditor")}
# Pages that stand for a JSON route admit exactly the roles that route admits.
API_TWINS = {"/worklist": "/reviews/worklist", "/predictions/{id}/view": "/predictions/{id}",
             "/audit": "/audit/events"}


@pytest.fixture(scope="module")
def prediction_id(shared_service: Any) -> str:
    return shared_service.prediction("MRN-ACCESS")["id"]


@pytest.mark.parametrize("role", ROLES)
def test_each_page_admits_its_roles_and_refuses_the_others(shared_service: Any, shared_web: Any,
                                                           role: str, prediction_id: str) -> None:
    user = shared_web(role)
    for template, roles in PAGES.items():
        page = user.get(template.format(id=prediction_id))
        assert page.status_code == (200 if role in roles else 403), (template, page.text)
        assert page.headers["content-type"].startswith("text/html")
        assert f"<strong>{role}</strong>" in page.text  # who is logged in, on every page
        if template in API_TWINS:
            api = shared_service.request("GET", API_TWINS[template].format(id=prediction_id),
                                         role)
            assert (api.status_code == 200) == (page.status_code == 200), template
    if role not in PAGES["/audit"]:
        assert "This page is for: admin, auditor" in user.get("/audit").text


@pytest.mark.parametrize(("role", "home", "links"), [
    ("clinician", "/worklist", ["Worklist"]),
    ("admin", "/worklist", ["Worklist", "Models", "Audit log"]),
    ("data_scientist", "/admin/models", ["Models"]),
    ("auditor", "/audit", ["Models", "Audit log"]),
])
def test_start_page_and_navigation_follow_the_role(shared_web: Any, role: str, home: str,
                                                   links: list[str]) -> None:
    user = shared_web(role)
    start = user.get("/")
    assert (start.status_code, start.headers["location"]) == (303, home)
    navigation = user.get(home).text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert [label for label in ("Worklist", "Models", "Audit log")
            if f">{label}</a>" in navigation] == links


def test_without_a_session_every_page_redirects_to_the_log_in_page(shared_web: Any,
                                                                   prediction_id: str) -> None:
    anonymous = shared_web(None)
    assert anonymous.get("/").headers["location"] == "/login"
    for template in PAGES:
        path = template.format(id=prediction_id)
        page = anonymous.get(path)
        assert page.status_code == 303
        assert page.headers["location"] == (f"/login?reason=required&next="
                                            f"{path.replace('/', '%2F')}")
    for path in ("/worklist/predict", f"/predictions/{prediction_id}/view", "/logout",
                 f"/admin/models/{TASK}/versions/1/stop"):
        assert anonymous.client.post(path, data={"reason": "x"}).headers["location"] == (
            "/login?reason=required")


def test_expired_and_invalid_sessions_say_so(shared_service: Any, shared_web: Any) -> None:
    user = shared_web("clinician")
    expired = shared_service.token("clinician", "clinician", now=utc_now() - timedelta(hours=1))
    for token, reason in ((expired, "expired"), (expired[:-4] + "AAAA", "invalid"),
                          ("not a token", "invalid")):
        user.client.cookies.set(SESSION_COOKIE, token)
        page = user.get("/worklist")
        assert page.headers["location"] == f"/login?reason={reason}&next=%2Fworklist"
        assert f'{SESSION_COOKIE}=""' in page.headers["set-cookie"]  # the bad cookie is dropped
        message = {"expired": "Your session has expired", "invalid": "no longer valid"}[reason]
        assert message in user.get(page.headers["location"]).text


def test_a_changed_role_ends_the_session(shared_service: Any, shared_web: Any) -> None:
    shared_service.add_user("demoted", "admin")
    user = shared_web(None)
    user.client.cookies.set(SESSION_COOKIE, shared_service.token("demoted", "admin"))
    assert user.get("/audit").status_code == 200
    with shared_service.database.write() as session:
        session.query(User).filter_by(name="demoted").one().role = "clinician"
    assert user.get("/audit").headers["location"].startswith("/login?reason=invalid")


def test_not_found_pages_for_browsers_and_json_for_the_api(shared_service: Any,
                                                           shared_web: Any) -> None:
    user = shared_web("clinician")
    for path in (f"/predictions/{uuid.uuid4()}/view", "/predictions/not-a-uuid/view",
                 "/no/such/page"):
        page = user.get(path)
        assert page.status_code == 404, path
        assert "<h1>Not found</h1>" in page.text and "<strong>clinician</strong>" in page.text
    api = shared_service.client.get("/no/such/page")
    assert (api.status_code, api.json()) == (404, {"detail": "Not Found"})
    assert shared_service.request("GET", f"/predictions/{uuid.uuid4()}").json()[
        "detail"].startswith("no prediction")
    assert user.get("/audit?before=zero").status_code == 403  # the role is checked first
    assert shared_web("auditor").get("/audit?before=zero").status_code == 400


def test_pages_are_not_in_the_api_schema(shared_service: Any) -> None:
    paths = shared_service.client.get("/openapi.json").json()["paths"]
    assert not {"/", "/login", "/logout", "/worklist", "/admin/models", "/audit"} & set(paths)
    assert not [path for path in paths if path.endswith("/view") or "/admin/" in path]


def test_pages_forbid_framing_scripts_and_caching(shared_web: Any) -> None:
    user = shared_web("clinician")
    page = user.get("/worklist")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy and "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"
    style = user.get("/static/medora.css")
    assert style.status_code == 200 and "system-ui" in style.text
