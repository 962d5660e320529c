"""A real browser against a real server: headless Chromium logs in as a clinician, overrides a
prediction from the patient view, and an auditor then finds the review in the audit log."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.serve.launch import MEDORA, running_service

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium); CI installs it")

TASK = FRAMINGHAM_CHD.name
PATIENT = "MRN-BROWSER-1"
PASSWORD = "a long browser-test password"
USERS = {"admin": "admin", "clinician": "clinician", "auditor": "auditor"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class Server:
    url: str
    log: Path


@pytest.fixture
def server(registry: Any, tmp_path: Path) -> Iterator[Server]:
    """`medora serve` on a free port, its home in tmp_path (where the registry fixture put v1
    and v2), with users added by `medora users add`."""
    env = {**os.environ, "MEDORA_HOME": str(tmp_path),
           "MEDORA_SECRET_KEY": "browser-test-secret-" + "b" * 40}
    database = f"sqlite:///{tmp_path / 'medora.db'}"
    log = tmp_path / "server.log"
    with running_service(["--db", database], env=env, log=log) as service:
        # The server has migrated the database, so the commands can add users side by side.
        adding = [subprocess.Popen([MEDORA, "users", "add", name, "--role", role, "--db",
                                    database, "--password-stdin"], env=env, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT) for name, role in USERS.items()]
        for command in adding:
            output_text, _ = command.communicate(PASSWORD + "\n", timeout=60)
            assert command.returncode == 0, output_text
        yield Server(service.url, log)


def _api_prediction(url: str, inputs: dict[str, float | None]) -> None:
    """v1 approved by the admin and one prediction made by the clinician, through the API."""
    with httpx.Client(base_url=url, timeout=30) as client:
        def headers(name: str) -> dict[str, str]:
            token = client.post("/auth/token", data={"username": name, "password": PASSWORD})
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        approved = client.post(f"/models/{TASK}/versions/1/approve",
                               json={"reason": "validated"}, headers=headers("admin"))
        assert approved.status_code == 200, approved.text
        made = client.post(f"/predict/{TASK}", headers=headers("clinician"),
                           json={"patient_id": PATIENT, "inputs": inputs})
        assert made.status_code == 201, made.text


def _log_in(page: Page, url: str, name: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Logged in as {name}")).to_be_visible()


def test_clinician_reviews_in_the_browser_and_the_auditor_sees_it(
        server: Server, patient: dict[str, float | None], tmp_path: Path) -> None:
    _api_prediction(server.url, patient)
    with chromium_page(tmp_path) as (page, problems):
        _log_in(page, server.url, "clinician")
        expect(page).to_have_url(f"{server.url}/worklist")
        page.get_by_role("link", name=PATIENT).click()
        expect(page.get_by_role("heading", name=f"Patient {PATIENT}")).to_be_visible()
        expect(page.get_by_role("img", name="Calibrated risk")).to_be_visible()
        expect(page.get_by_role("img", name="Contributions to the log-odds")).to_be_visible()
        assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
        page.screenshot(path=tmp_path / "patient-view.png", full_page=True)

        page.get_by_role("radio", name="Override").check()
        page.get_by_role("textbox", name="Your risk estimate").fill("8")
        page.get_by_role("textbox", name="Reason").fill("already on statins; LDL controlled")
        page.get_by_role("button", name="Submit review").click()
        history = page.locator("#history")
        expect(history).to_contain_text("already on statins; LDL controlled")
        expect(history.get_by_role("row")).to_contain_text(
            ["When", "clinician override 8.0% already on statins"])
        expect(page.locator(".status-overridden")).to_have_text("overridden")
        page.screenshot(path=tmp_path / "patient-view-reviewed.png", full_page=True)

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("You have logged out.")).to_be_visible()

        _log_in(page, server.url, "auditor")
        expect(page).to_have_url(f"{server.url}/audit")
        expect(page.get_by_text("Chain verified")).to_be_visible()
        newest = page.locator("table.audit tbody tr").filter(has_text="review.override")
        expect(newest).to_have_count(1)
        expect(newest).to_contain_text("clinician")
    assert problems == []
    assert PATIENT not in server.log.read_text()


@contextmanager
def chromium_page(tmp_path: Path) -> Iterator[tuple[Page, list[str]]]:
    """A page of a headless Chromium with its own profile in ``tmp_path``, and the console
    errors it logs (a blocked style sheet, a CSP violation, ...), to be checked after."""
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda message: _collect(problems, message))
            yield page, problems
        finally:
            browser.close()


def _collect(problems: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        problems.append(message.text)
