"""The EHR patient page: the worklist form takes a patient's FHIR Bundle as a file, and the
prediction's page shows the risk at the index time and the timeline of the events the model
read, the events that drove it highlighted with their rank, sign and size; in a page client
and in a real browser against `medora serve`."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from medora.serve.launch import MEDORA, running_service

from ...conftest import Service, WebUser
from ...serve.web.test_web_browser import CHROMIUM, PASSWORD, _log_in, chromium_page
from .small_model import BUNDLE, READMISSION, ehr_registry
from .test_serving import ehr_running_service

PATIENT = "MRN-EHR-PAGE"


@pytest.fixture
def ehr_pages(database_url: str, tmp_path: Path, password_hash: str,
              patient: dict[str, float | None]) -> Iterator[Service]:
    with ehr_running_service(database_url, tmp_path, password_hash, patient) as service:
        yield service


def upload(user: WebUser, bundle: bytes | None, index_time: str = "",
           patient_id: str = PATIENT) -> httpx.Response:
    """The worklist's form for the readmission task, sent as the browser sends it: multipart,
    the bundle as a file."""
    page = f"/worklist?task={READMISSION}"
    token = user.csrf_token(user.get(page))
    files = {"input:bundle": ("patient-bundle.json", bundle or b"", "application/json")}
    return user.client.post("/worklist/predict", files=files, data={
        "task": READMISSION, "patient_id": patient_id, "input:index_time": index_time,
        "csrf_token": token})


def test_the_form_takes_a_bundle_and_the_page_shows_the_timeline(ehr_pages: Service) -> None:
    user = WebUser(ehr_pages, "clinician")
    form = user.get(f"/worklist?task={READMISSION}").text
    assert 'enctype="multipart/form-data"' in form
    assert 'name="input:bundle" type="file"' in form
    assert 'name="input:index_time" type="datetime-local"' in form
    sent = upload(user, BUNDLE.read_bytes())
    assert sent.status_code == 303, sent.text
    page = user.get(sent.headers["location"]).text
    assert f"Patient {PATIENT}" in page and "Why: the events that drove it" in page
    assert "2013-02-13 18:57" in page and "the latest inpatient discharge" in page
    assert "The model read <strong>394</strong> of the record's 427 events." in page
    assert "33 later events left out (after the index time)." in page
    # The overview strip: one mark per encounter, one dot per driver, linked to its group.
    assert page.count('<line class="visit"') == 19  # of the bundle's 20 encounters
    dots = re.findall(r'<a href="#(group-\d+)"><circle class="(raises|lowers)"', page)
    assert len(dots) == 10
    # The encounters, newest first; those holding a driver open, each driver ranked.
    groups = re.findall(r'<details class="visit" id="(group-\d+)"( open)?>', page)
    assert len(groups) > 20 and {anchor for anchor, _ in dots} <= {
        anchor for anchor, opened in groups if opened}
    ranks = re.findall(r'<span class="rank">#(\d+)</span>', page)
    assert sorted(map(int, ranks)) == list(range(1, 11))
    assert page.count('<tr class="driver ') == 10
    assert "Body Height" in page and "LOINC/8302-2" in page
    assert "Inpatient encounter" in page and "Sex: male" in page
    assert "SHA-256" in page and "Observation" in page
    starts = re.findall(r'<span class="when">(\d{4}-\d\d-\d\d)', page)
    assert starts == sorted(starts, reverse=True) and starts[-1] == "2008-01-08"


@pytest.mark.parametrize(("bundle", "index_time", "field", "message"), [
    (None, "", "bundle", "choose the patient&#39;s FHIR R4 Bundle, a .json file"),
    (b"not json", "", "bundle", "not JSON"),
    (BUNDLE.read_bytes(), "last week", "index_time", "is not an ISO 8601 date"),
    (BUNDLE.read_bytes(), "2001-01-01T00:00", "index_time", "before the patient&#39;s birth"),
])
def test_the_form_puts_each_problem_beside_its_field(
        ehr_pages: Service, bundle: bytes | None, index_time: str, field: str,
        message: str) -> None:
    response = upload(WebUser(ehr_pages, "clinician"), bundle, index_time)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert error and message in error[1], response.text
    assert 'aria-invalid="true"' in response.text


# -- A real browser -----------------------------------------------------------------------------


@pytest.fixture
def ehr_server(tmp_path: Path) -> Iterator[str]:
    """`medora serve` with v1 of every EHR task registered in its home, and users added by
    `medora users add`."""
    ehr_registry(tmp_path / "registry")
    env = {**os.environ, "MEDORA_HOME": str(tmp_path),
           "MEDORA_SECRET_KEY": "browser-test-secret-" + "e" * 40}
    database = f"sqlite:///{tmp_path / 'medora.db'}"
    with running_service(["--db", database], env=env, log=tmp_path / "server.log") as service:
        for name, role in (("admin", "admin"), ("clinician", "clinician")):
            added = subprocess.run([MEDORA, "users", "add", name, "--role", role, "--db",
                                    database, "--password-stdin"], env=env, text=True,
                                   input=PASSWORD + "\n", capture_output=True, timeout=60)
            assert added.returncode == 0, added.stdout + added.stderr
        with httpx.Client(base_url=service.url, timeout=30) as client:
            token = client.post("/auth/token", data={"username": "admin",
                                                     "password": PASSWORD})
            approved = client.post(f"/models/{READMISSION}/versions/1/approve",
                                   json={"reason": "validated"}, headers={
                                       "Authorization": f"Bearer {token.json()['access_token']}"})
            assert approved.status_code == 200, approved.text
        yield service.url


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"needs Debian's Chromium at {CHROMIUM}")
def test_a_clinician_uploads_a_bundle_and_reads_the_timeline_in_a_browser(
        ehr_server: str, tmp_path: Path) -> None:
    with chromium_page(tmp_path) as (page, problems):
        _log_in(page, ehr_server, "clinician")
        page.get_by_label("Task").select_option(READMISSION)
        page.get_by_role("button", name="Show its inputs").click()
        page.get_by_label("Patient identifier").fill(PATIENT)
        page.get_by_label("Patient record (FHIR R4 Bundle)").set_input_files(BUNDLE)
        page.get_by_role("button", name="Predict").click()

        expect(page.get_by_role("heading", name=f"Patient {PATIENT}")).to_be_visible()
        expect(page.get_by_role("img", name="Calibrated risk")).to_be_visible()
        expect(page.get_by_role("img", name="Contributions to the log-odds")).to_be_visible()
        strip = page.get_by_role("img", name="Timeline: 394 events")
        expect(strip).to_be_visible()
        drivers = page.locator("tr.driver")
        expect(drivers).to_have_count(10)
        expect(drivers.first).to_be_visible()  # inside an open encounter
        # A closed encounter opens on a click and shows its events.
        anchor = page.locator("details.visit:not([open])").first.get_attribute("id")
        closed = page.locator(f"#{anchor}")
        expect(closed.locator("table")).to_be_hidden()
        closed.locator("summary").click()
        expect(closed.locator("table")).to_be_visible()
        # A driver's dot on the strip leads to its encounter.
        dot = strip.locator("a").filter(has=page.locator("circle")).first
        dot.click()
        assert re.search(r"#group-\d+$", page.url)
        target = page.url.rsplit("#", 1)[1]
        expect(page.locator(f"#{target} tr.driver").first).to_be_visible()
        page.screenshot(path=tmp_path / "ehr-patient-view.png", full_page=True)

        page.get_by_role("radio", name="Override").check()
        page.get_by_role("textbox", name="Your risk estimate").fill("30")
        page.get_by_role("textbox", name="Reason").fill("readmitted to another hospital")
        page.get_by_role("button", name="Submit review").click()
        expect(page.locator("#history")).to_contain_text("override 30.0%")
    assert problems == []
