"""`medora demo`: the state `make demo` serves — demo models trained, approved, and one user per
role, with passwords generated here and printed once (there are no default credentials)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from medora.core.registry import area_of, areas, get_task
from medora.registry.store import ModelStore, medora_home
from medora.serve import accounts, lifecycle, migrate
from medora.serve.db import Database
from medora.train.run import RunConfig


def demo_tasks() -> tuple[str, ...]:
    """Each installed area's demo tasks (the built-in ones: three risks, a survival curve, a
    treatment choice and a readmission risk from a FHIR record)."""
    return tuple(name for area in areas() for name in area.demo_tasks)

DEMO_USERS = (("admin", "admin"), ("scientist", "data_scientist"), ("clinician", "clinician"),
              ("auditor", "auditor"))
DEMO_ACTOR = "demo-setup"


@dataclass(frozen=True)
class DemoAccount:
    name: str
    role: str
    password: str | None  # None: the user existed before this run; its password was shown then


def credentials_file() -> Path:
    return medora_home() / "demo-credentials.txt"


def prepare_demo(database_url: str, *, quick: bool = False, progress: bool = True,
                 tasks: tuple[str, ...] | None = None) -> list[DemoAccount]:
    """Train each demo task that has no registered model, approve the newest version of each
    (audited, as the demo set-up), and create any missing demo user."""
    store = ModelStore()
    tasks = demo_tasks() if tasks is None else tasks
    for name in tasks:
        if not store.versions(name):
            task = get_task(name)
            area_of(task).train(task, RunConfig(quick=quick, progress=progress), store=store)
    database = Database(database_url)
    try:
        migrate.upgrade(database)
        lifecycle.sync_registry(database, store, actor=DEMO_ACTOR)
        for name in tasks:
            with database.read() as session:
                newest = lifecycle.versions_of(session, name)[-1]
                version, status = newest.version, newest.status
            if status == "draft":
                lifecycle.change_status(database, store, name, version, "approve", DEMO_ACTOR,
                                        "demo set-up")
        created = []
        for name, role in DEMO_USERS:
            with database.write() as session:
                if accounts.user_named(session, name) is not None:
                    created.append(DemoAccount(name, role, None))
                    continue
                password = secrets.token_urlsafe(12)
                accounts.add_user(session, name, accounts.parse_role(role), password,
                                  actor=DEMO_ACTOR)
                created.append(DemoAccount(name, role, password))
    finally:
        database.dispose()
    new = [a for a in created if a.password]
    if new:
        path = credentials_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.writelines(f"{a.name}\t{a.role}\t{a.password}\n" for a in new)
    return created
