"""Logging in, tokens and API keys: argon2 hashes, short-lived JWTs, no default credentials."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import select

from medora.serve.db import ApiKey, User, utc_now


def test_login_issues_a_short_lived_token(service) -> None:
    service.add_user("alice", "clinician")
    response = service.login("alice")
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == (
        "alice", "clinician", 900)
    assert len(claims["jti"]) == 32
    me = service.client.get("/auth/me",
                            headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"name": "alice", "role": "clinician", "via": "token"}


def test_wrong_password_and_unknown_user_get_the_same_answer(service) -> None:
    service.add_user("alice", "clinician")
    answers = [service.login(name, password) for name, password in (
        ("alice", "not the password"), ("nobody", "not the password"),
        ("NOT A NAME\x00", "x"))]
    assert {response.status_code for response in answers} == {401}
    assert {response.json()["detail"] for response in answers} == {
        "incorrect user name or password"}
    assert all(response.headers["WWW-Authenticate"] == "Bearer" for response in answers)


def test_there_are_no_default_credentials(service) -> None:
    with service.database.read() as session:
        assert session.scalars(select(User)).all() == []
    for name, password in (("admin", "admin"), ("admin", "password"), ("medora", "medora")):
        assert service.login(name, password).status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(service) -> None:
    service.add_user("alice", "clinician")
    with service.database.read() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


def test_api_keys_are_stored_as_hashes(service) -> None:
    key = service.api_key(service.user("data_scientist"))["X-API-Key"]
    assert key.startswith("mdr_") and len(key) > 40
    with service.database.read() as session:
        stored = session.scalars(select(ApiKey)).one()
    assert stored.prefix == key[:12] and key not in (stored.key_sha256, stored.prefix)
    me = service.client.get("/auth/me", headers={"X-API-Key": key})
    assert me.json() == {"name": "data_scientist", "role": "data_scientist", "via": "api_key"}


def test_expired_token_says_so(service) -> None:
    service.user("admin")
    token = service.token("admin", "admin", now=utc_now() - timedelta(minutes=16))
    response = service.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "the access token has expired; log in again"


def test_unsigned_token_is_refused(service) -> None:
    service.user("admin")
    now = utc_now()
    token = jwt.encode({"sub": "admin", "role": "admin", "iat": now, "jti": "x",
                        "exp": now + timedelta(minutes=5)}, key=None, algorithm="none")
    response = service.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_a_role_change_invalidates_older_tokens(service) -> None:
    headers = service.headers("data_scientist")
    with service.database.write() as session:
        session.scalars(select(User)).one().role = "auditor"
    response = service.client.get("/auth/me", headers=headers)
    assert response.status_code == 401
    assert "no longer matches" in response.json()["detail"]
