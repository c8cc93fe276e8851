"""How `huiying serve` runs the app: forwarded headers (16.5), links (16.15), access log (16.18)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from servers import served

from conftest import _free_port
from huiying.config import Settings
from huiying.db import Database
from huiying.http.access_log import loggable_path


def _intakes(base: str, forwarded: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base) as client:
        for ip in forwarded:
            answer = client.post(
                "/api/v1/feedback", json={"description": "看直播一直卡"}, headers={"X-Forwarded-For": ip}
            )
            statuses.append(answer.status_code)
    return statuses


def test_a_rotating_forwarded_for_does_not_escape_the_ip_limit(settings: Settings, db: Database) -> None:
    limited = settings.model_copy(update={"rate_limit_intake": "3/minute"})
    with served(limited, db) as base:
        statuses = _intakes(base, [f"203.0.113.{i}" for i in range(6)])
    assert statuses[:3] == [201, 201, 201]
    assert statuses[3:] == [429, 429, 429]


def test_a_rotating_forwarded_for_does_not_escape_the_login_limit(settings: Settings, db: Database) -> None:
    limited = settings.model_copy(update={"rate_limit_login": "3/minute"})
    with served(limited, db) as base, httpx.Client(base_url=base) as client:
        statuses = [
            client.post(
                "/api/v1/auth/token",
                json={"email": f"guess{i}@example.com", "password": "wrong password"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(5)
        ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


def test_a_trusted_proxy_s_forwarded_for_is_the_client(settings: Settings, db: Database) -> None:
    trusted = Settings(
        HUIYING_TRUSTED_PROXIES="127.0.0.1",
        **settings.model_dump(exclude={"trusted_proxies_csv", "previous_secret_keys_csv"}),
    ).model_copy(update={"rate_limit_intake": "3/minute"})
    assert trusted.trusted_proxies == ("127.0.0.1",)
    with served(trusted, db) as base:
        # Each forwarded client has its own budget; one client alone runs out of it.
        assert _intakes(base, [f"203.0.113.{i}" for i in range(6)]) == [201] * 6
        assert _intakes(base, ["198.51.100.7"] * 4) == [201, 201, 201, 429]


def test_access_log_paths_keep_no_tokens_or_query_values() -> None:
    token = "eyJuIjoiSFkyNjEyMDEtMDAwMSJ9.Zk3v9yq-2bX8aQ1wL0"
    assert loggable_path(f"/portal/t/{token}/files/3", b"") == "/portal/t/eyJuIj…/files/3"
    assert loggable_path("/tickets/HY261201-0001", b"q=13912345678&status=new") == "/tickets/HY261201-0001?q=…&status=…"


def _huiying(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huiying", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_EMBEDDED_JOBS": "false"}
    for name in ("HUIYING_DATABASE_URL", "HUIYING_BASE_URL", "HUIYING_TRUSTED_PROXIES"):
        env.pop(name, None)
    assert _huiying(tmp_path, "db", "upgrade", env=env).returncode == 0
    return env


def test_bootstrap_prints_the_login_on_the_port_given(tmp_path: Path, cli_env: dict[str, str]) -> None:
    result = _huiying(tmp_path, "bootstrap", "--port", "8141", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "Log in at http://127.0.0.1:8141/login" in result.stdout


def test_serve_links_follow_its_port_and_logs_each_request(tmp_path: Path, cli_env: dict[str, str]) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "huiying", "serve", "--port", str(port)],
        env=cli_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        created = httpx.post(f"{base}/api/v1/feedback", json={"description": "看直播一直卡", "contact": "13912345678"})
        assert created.status_code == 201, created.text
        portal_url = created.json()["portal_url"]
        assert portal_url.startswith(f"{base}/portal/t/")
        token = portal_url.rsplit("/", 1)[1]
        assert httpx.get(portal_url).status_code == 200
        httpx.get(f"{base}/admin/staff/alice.secret@example.com")  # a staff email in a path
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert re.search(r"huiying\.access: 127\.0\.0\.1 POST /api/v1/feedback 201 \d+\.\dms", output), output
    assert re.search(r"huiying\.access: 127\.0\.0\.1 GET /portal/t/\S{6}… 200 ", output), output
    assert token not in output
    assert "13912345678" not in output
    assert "/admin/staff/a***@example.com" in output and "alice.secret@example.com" not in output
