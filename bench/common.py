"""Shared benchmark plumbing: a throw-away database, a server process, wrk runs."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from huiying import migrate
from huiying.accounts import service as accounts
from huiying.bootstrap import ensure_defaults
from huiying.db import Database
from huiying.kit.roles import Role

PASSWORD = "bench password 2026"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def fresh_database(kind: str, workdir: Path) -> str:
    """A new empty database URL (a file for SQLite, a new database for PostgreSQL), migrated."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        base = make_url(os.environ.get("HUIYING_BENCH_DATABASE_URL", DEFAULT_PG))
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text('DROP DATABASE IF EXISTS "huiying_bench" WITH (FORCE)'))
            connection.execute(text('CREATE DATABASE "huiying_bench"'))
        admin.dispose()
        url = base.set(database="huiying_bench").render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.write() as session:
        ensure_defaults(session)
        accounts.create_user(session, email="bench@example.com", password=PASSWORD, role=Role.ADMIN)
    db.dispose()
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str, workdir: Path, *, workers: int = 1) -> Iterator[str]:
    """`huiying serve` in a child process on a free port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "HUIYING_DATABASE_URL": url,
        "HUIYING_DATA_DIR": str(workdir / "var"),
        "HUIYING_RATE_LIMIT_INTAKE": "0",
        "HUIYING_RATE_LIMIT_LOGIN": "0",
        "HUIYING_LOG_LEVEL": "WARNING",
    }
    # Its log goes to a file, not a pipe: nobody reads a pipe during the run, and once it is full
    # (a burst of logged errors) the server blocks in the middle of a request.
    log_path = workdir / "serve.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "huiying", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def token(base: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"email": "bench@example.com", "password": PASSWORD})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    *,
    script: str | None = None,
    duration: int = 15,
    connections: int = 16,
    headers: dict[str, str] | None = None,
) -> WrkResult:
    """One wrk run (1 thread, `connections` connections), as PERFORMANCE.md measures."""
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    if script:
        command += ["-s", lua.name]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    Path(lua.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {m.group(1): float(m.group(2)) * _UNIT[m.group(3)] for m in _LATENCY.finditer(output)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return WrkResult(rps, latency.get("50", float("nan")), latency.get("99", float("nan")), errors)


def median_of(results: list[WrkResult]) -> WrkResult:
    return WrkResult(
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.errors for r in results),
    )
