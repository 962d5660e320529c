"""`medora demo`: models trained once and approved through the audited lifecycle, one user per
role with a generated password shown once."""

from __future__ import annotations

import stat
from pathlib import Path

from medora.registry.store import ModelStore
from medora.serve import accounts, audit
from medora.serve.db import Database
from medora.serve.demo import DEMO_USERS, credentials_file, prepare_demo

TASK = "oncology.wdbc_malignancy"


def test_demo_prepares_models_and_users_once(medora_home: Path) -> None:
    url = f"sqlite:///{medora_home / 'demo.db'}"
    first = prepare_demo(url, quick=True, progress=False, tasks=(TASK,))
    assert [(a.name, a.role) for a in first] == list(DEMO_USERS)
    assert all(a.password and len(a.password) >= 12 for a in first)
    store = ModelStore()
    record = store.get(TASK)
    assert (record.version, record.status) == (1, "approved")
    assert record.history[-1]["by"] == "demo-setup"
    assert stat.S_IMODE(credentials_file().stat().st_mode) == 0o600

    again = prepare_demo(url, quick=True, progress=False, tasks=(TASK,))
    assert all(a.password is None for a in again)
    assert [r.version for r in store.versions(TASK)] == [1]  # not retrained

    database = Database(url)
    try:
        with database.read() as session:
            admin = accounts.authenticate(session, "admin", first[0].password)
            assert admin is not None and admin.role == "admin"
            assert audit.verify_chain(session).ok
    finally:
        database.dispose()
