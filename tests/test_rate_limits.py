"""Public endpoints and logins are rate-limited: 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import PASSWORD, login
from helpers import feedback
from huiying.app import create_app
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.roles import Role


@pytest.fixture
def limited_app(settings: Settings, db: Database) -> FastAPI:
    strict = settings.model_copy(update={"rate_limit_intake": "3/minute", "rate_limit_login": "4/minute"})
    return create_app(strict, db)


@pytest.fixture
def limited(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(limited_app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_intake_is_limited_per_ip(limited: TestClient) -> None:
    answers = [limited.post("/api/v1/feedback", json=feedback(user_id=f"u{i}")).status_code for i in range(4)]
    assert answers == [201, 201, 201, 429]
    refused = limited.post("/api/v1/feedback", json=feedback(user_id="u99"))
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_intake_is_limited_per_user_id_across_addresses(limited: TestClient, limited_app: FastAPI) -> None:
    def from_address(ip: str, user_id: str) -> int:
        client = TestClient(limited_app, client=(ip, 50000), raise_server_exceptions=False)
        return client.post("/api/v1/feedback", json=feedback(user_id=user_id)).status_code

    assert [from_address(f"10.0.0.{i}", "same-user") for i in range(4)] == [201, 201, 201, 429]
    assert from_address("10.0.0.9", "another-user") == 201  # a fresh address and user are fine


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_staff_are_not_limited_by_the_public_limit(limited: TestClient, db: Database) -> None:
    staff = login(limited, db, email="hotline@example.com", role=Role.AGENT)
    codes = [
        limited.post("/api/v1/feedback", json=feedback(channel="hotline"), headers=staff.headers).status_code
        for _ in range(5)
    ]
    assert codes == [201] * 5


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_login_attempts_are_limited_per_ip(limited: TestClient, db: Database) -> None:
    login(limited, db, email="first@example.com", role=Role.AGENT)  # one attempt used
    codes = [
        limited.post("/api/v1/auth/token", json={"email": f"x{i}@example.com", "password": PASSWORD}).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]
