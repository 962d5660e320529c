"""The service's commands: ``medora serve``, ``medora users add|key``, ``medora db upgrade``,
``medora demo``.

Only typer is imported here; the service is imported when one of these commands runs, so the
rest of the ``medora`` command starts as fast as before.
"""

from __future__ import annotations

import copy
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from medora.serve.db import Database

CLI_ACTOR = "cli"  # the audit log's actor for changes made from the command line

DatabaseOption = Annotated[str | None, typer.Option(
    "--db", help="Database URL (default: $MEDORA_DATABASE_URL, else "
                 "sqlite:///$MEDORA_HOME/medora.db), e.g. postgresql://medora@localhost/medora.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@contextmanager
def _database(url: str | None) -> Iterator[Database]:
    """The migrated database at ``url``, closed afterwards."""
    from medora.serve import migrate
    from medora.serve.db import Database
    from medora.serve.settings import default_database_url

    database = Database(url or default_database_url())
    try:
        migrate.upgrade(database)
        yield database
    finally:
        database.dispose()


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the service's own loggers on its console handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["medora"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def serve_command(
    db: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Worker processes (about one per core); each loads the models and "
                            "reads its settings from the environment.")] = 1,
    keep_alive: Annotated[int, typer.Option(
        min=1, help="Seconds an idle keep-alive connection stays open. Keep it longer than "
                    "the idle timeout of clients and load balancers in front (httpx: 5 s, "
                    "many proxies: 60 s): when both sides close at the same moment, a request "
                    "sent just then is lost.")] = 75,
) -> None:
    """Run the API service (documentation at /docs). The database is migrated and the
    registry's versions registered once, before the workers start."""
    import os

    import torch
    import uvicorn
    from sqlalchemy import make_url
    from sqlalchemy.exc import OperationalError

    from medora.serve.app import create_app, prepare_database
    from medora.serve.settings import DATABASE_URL_ENV, ServiceSettings, default_database_url

    try:
        # Reads (or generates, once) the signing secret before any worker needs it.
        settings = ServiceSettings(database_url=db or default_database_url())
    except ValueError as error:
        raise _fail(str(error)) from None
    try:
        prepare_database(settings)
    except OperationalError as error:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        raise _fail(f"cannot use the database at {where}: {error.orig}") from None
    # uvicorn's access log would write full paths and query strings; the service logs
    # requests itself, by route template.
    # uvloop and httptools, not asyncio's loop and h11: besides costing less CPU per request,
    # uvloop sets TCP_NODELAY on every connection. asyncio sets it only on sockets created with
    # proto IPPROTO_TCP, which the socket uvicorn shares with its workers is not, so with
    # --workers a response's headers and body left as two segments and met the client's
    # delayed ACK: 40 ms added to every request (measured: p50 53 ms against 9 ms). uvloop has
    # no Windows build; there the service runs on asyncio's loop.
    options: dict[str, Any] = {"host": host, "port": port, "access_log": False,
                               "log_config": _log_config(), "timeout_keep_alive": keep_alive,
                               "loop": "asyncio" if sys.platform == "win32" else "uvloop",
                               "http": "httptools"}
    if workers == 1:
        # A request's model work is tiny; concurrent requests are the parallelism. More
        # intra-op threads per request only oversubscribe the cores (seen: the forward pass
        # 10x slower).
        torch.set_num_threads(1)
        uvicorn.run(create_app(settings, prepare=False), **options)
        return
    # Each worker is a fresh process that builds its app from the environment.
    os.environ[DATABASE_URL_ENV] = settings.database_url
    uvicorn.run("medora.serve.app:create_worker_app", factory=True, workers=workers, **options)


users_app = typer.Typer(help="Service users and their API keys.", no_args_is_help=True)


@users_app.command("add")
def add_user_command(
    name: Annotated[str, typer.Argument(help="User name (lower-case letters, digits, . _ -).")],
    role: Annotated[str, typer.Option(help="admin, data_scientist, clinician or auditor.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input "
                                 "(default: generate one and print it).")] = False,
    db: DatabaseOption = None,
) -> None:
    """Add a user. There are no default users or passwords."""
    from medora.serve import accounts

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else (
        secrets.token_urlsafe(18))
    with _database(db) as database:
        try:
            with database.write() as session:
                accounts.add_user(session, name, accounts.parse_role(role), password,
                                  actor=CLI_ACTOR)
        except accounts.AccountError as error:
            raise _fail(str(error)) from None
    typer.echo(f"added user {name} with role {role}")
    if not password_stdin:
        typer.echo(f"password (shown once): {password}")


@users_app.command("key")
def add_key_command(
    name: Annotated[str, typer.Argument(help="The user the key acts as.")],
    db: DatabaseOption = None,
) -> None:
    """Create an API key for a machine client acting as a user (printed once, stored hashed)."""
    from medora.serve import accounts

    with _database(db) as database:
        try:
            with database.write() as session:
                key = accounts.add_api_key(session, name, actor=CLI_ACTOR)
        except accounts.AccountError as error:
            raise _fail(str(error)) from None
    typer.echo(f"API key for {name} (shown once; send it as X-API-Key): {key}")


db_app = typer.Typer(help="The service database.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command(db: DatabaseOption = None) -> None:
    """Migrate the database to the newest schema (the service also does this at start)."""
    with _database(db):
        typer.echo("database schema is up to date")


def demo_command(
    db: DatabaseOption = None,
    quick: Annotated[bool, typer.Option("--quick", help="Train on the smoke setting.")] = False,
) -> None:
    """Prepare the demo: train the demo tasks (if not yet registered), approve them, and create
    one user per role with a generated password, printed once."""
    from medora.serve.demo import credentials_file, prepare_demo
    from medora.serve.settings import default_database_url

    accounts = prepare_demo(db or default_database_url(), quick=quick)
    typer.echo("demo users (sign in on the /login page of `medora serve`):")
    for account in accounts:
        password = account.password or f"(created earlier; see {credentials_file()})"
        typer.echo(f"  {account.name:<10} {account.role:<15} {password}")
