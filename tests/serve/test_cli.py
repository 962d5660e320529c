"""`medora users add|key`, `medora db upgrade` and `medora serve --help`."""

from __future__ import annotations

import re
import socket
import sys

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medora.cli.app import app
from medora.serve import accounts
from medora.serve.db import Database, User

runner = CliRunner()


def test_users_add_generates_and_prints_a_password(database_url: str, database: Database) -> None:
    result = runner.invoke(app, ["users", "add", "alice", "--role", "clinician", "--db",
                                 database_url])
    assert result.exit_code == 0, result.output
    password = re.search(r"password \(shown once\): (\S+)", result.output)[1]
    assert len(password) >= 20
    with database.read() as session:
        assert accounts.authenticate(session, "alice", password).role == "clinician"
        assert accounts.authenticate(session, "alice", "wrong password!") is None


def test_users_add_reads_a_password_from_stdin(database_url: str, database: Database) -> None:
    result = runner.invoke(app, ["users", "add", "bob", "--role", "auditor", "--db",
                                 database_url, "--password-stdin"],
                           input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    assert "passphrase" not in result.output
    with database.read() as session:
        assert accounts.authenticate(session, "bob", "a long enough passphrase") is not None


def test_users_add_refuses_bad_input(database_url: str, database: Database) -> None:
    add = ["users", "add", "--db", database_url]
    for arguments, stdin, message in [
        (["carol", "--role", "nurse"], None, "unknown role 'nurse'"),
        (["Carol Smith", "--role", "admin"], None, "invalid user name"),
        (["carol", "--role", "admin", "--password-stdin"], "short\n", "at least 12"),
    ]:
        result = runner.invoke(app, [*add, *arguments], input=stdin)
        assert result.exit_code == 2 and message in result.output, result.output
    assert runner.invoke(app, [*add, "carol", "--role", "admin"]).exit_code == 0
    result = runner.invoke(app, [*add, "carol", "--role", "admin"])
    assert result.exit_code == 2 and "already exists" in result.output
    with database.read() as session:
        assert session.scalars(select(User.name)).all() == ["carol"]


def test_users_key_prints_a_key_once(database_url: str, database: Database) -> None:
    assert runner.invoke(app, ["users", "add", "robot", "--role", "data_scientist", "--db",
                               database_url]).exit_code == 0
    result = runner.invoke(app, ["users", "key", "robot", "--db", database_url])
    assert result.exit_code == 0, result.output
    key = re.search(r"(mdr_\S+)", result.output)[1]
    with database.read() as session:
        assert accounts.user_for_api_key(session, key).name == "robot"
    result = runner.invoke(app, ["users", "key", "nobody", "--db", database_url])
    assert result.exit_code == 2 and "no user named 'nobody'" in result.output


def test_db_upgrade_and_serve_help(database_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--db", database_url])
    assert result.exit_code == 0 and "up to date" in result.output
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert all(option in result.output for option in ("--db", "--host", "--port", "--workers",
                                                      "--keep-alive"))


def test_serve_refuses_a_database_it_cannot_open(tmp_path) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = runner.invoke(app, ["serve", "--workers", "2", "--db",
                                 f"postgresql://medora:hunter2-secret@127.0.0.1:{port}/medora"],
                           env={"MEDORA_SECRET_KEY": "s" * 48, "MEDORA_HOME": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert "cannot use the database at postgresql://medora:***@127.0.0.1" in result.output
    assert "hunter2" not in result.output


def test_the_database_url_may_come_from_the_environment(database_url: str, monkeypatch) -> None:
    monkeypatch.setenv("MEDORA_DATABASE_URL", database_url)
    result = runner.invoke(app, ["users", "add", "dora", "--role", "auditor"])
    assert result.exit_code == 0, result.output
    database = Database(database_url)
    try:
        with database.read() as session:
            assert accounts.user_named(session, "dora").role == "auditor"
    finally:
        database.dispose()


@pytest.mark.parametrize(("platform", "loop"), [("linux", "uvloop"), ("win32", "asyncio")])
def test_serve_runs_uvloop_where_it_is_built(tmp_path, monkeypatch, platform: str,
                                            loop: str) -> None:
    import uvicorn

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: started.update(options))
    monkeypatch.setattr(sys, "platform", platform)
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'medora.db'}"],
                           env={"MEDORA_SECRET_KEY": "s" * 48, "MEDORA_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert (started["loop"], started["http"], started["access_log"]) == (loop, "httptools",
                                                                         False)
