"""Service settings: the signing secret comes from the environment, a file, or a generated
private file, never from a default."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from medora.serve.settings import ServiceSettings, load_secret_key

STRONG = "s" * 48


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDORA_SECRET_KEY", raising=False)
    monkeypatch.delenv("MEDORA_SECRET_KEY_FILE", raising=False)


def test_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDORA_SECRET_KEY", STRONG)
    assert load_secret_key() == STRONG


def test_secret_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "key"
    path.write_text(STRONG + "\n")
    monkeypatch.setenv("MEDORA_SECRET_KEY_FILE", str(path))
    assert load_secret_key() == STRONG
    monkeypatch.setenv("MEDORA_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="not a file"):
        load_secret_key()


def test_generated_secret_is_private_and_stable(medora_home: Path) -> None:
    first = load_secret_key()
    path = medora_home / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and load_secret_key() == first
    assert list(medora_home.iterdir()) == [path]  # no temporary file left behind


def test_short_secrets_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDORA_SECRET_KEY", "changeme")
    with pytest.raises(ValueError, match="use at least 32"):
        load_secret_key()


def test_database_url_from_the_environment(medora_home: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDORA_SECRET_KEY", STRONG)
    monkeypatch.setenv("MEDORA_DATABASE_URL", "postgresql://medora@db.internal/medora")
    assert ServiceSettings().database_url == "postgresql://medora@db.internal/medora"


def test_defaults(medora_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDORA_DATABASE_URL", raising=False)
    settings = ServiceSettings()
    assert settings.database_url == f"sqlite:///{medora_home / 'medora.db'}"
    assert settings.registry_root == medora_home / "registry"
    assert settings.token_lifetime.total_seconds() == 900
    assert settings.max_body_bytes == 1 << 20
    assert settings.secret_key not in repr(settings)
