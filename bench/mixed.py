"""Benchmark: a mixed load against `huiying serve` — 70 % intake, 25 % agent reads, 5 % agent
writes — with N tickets stored beforehand; throughput, p50/p99 and errors per endpoint, the CPU
of the server processes and of PostgreSQL, and the memory of each server process.

    .venv/bin/python bench/mixed.py --db sqlite --tickets 10000 --duration 60
    .venv/bin/python bench/mixed.py --db postgresql --workers 2

The mix, per request: 70 % POST /api/v1/feedback (anonymous, varied Chinese bodies), 10 % the
new-ticket queue GET /api/v1/tickets?status=new&limit=50, 15 % GET /api/v1/tickets/{number} of a
random stored or created ticket, 5 % writes by the agent on a random open ticket (an internal
note, a public reply, or a status change open <-> pending). The agent is of every team and has
no PII permission, so its reads write no audit entries (an admin's would).

The client is this process: 16 keep-alive connections on asyncio with a minimal HTTP/1.1 client
(httpx costs several times more CPU per request, and client and server share the two cores);
its own CPU seconds are printed so they can be taken into account. "CPU ms per create" is the
server processes' CPU during the run divided by the creates: it includes the reads and writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from common import PASSWORD, fresh_database, server
from seed import seed_tickets
from sqlalchemy import create_engine, func, select, text

from huiying.accounts import service as accounts
from huiying.accounts.models import Team
from huiying.config import Settings
from huiying.db import Database
from huiying.demo.samples import APP_VERSIONS, CITIES, DEVICES, SAMPLES
from huiying.kit.roles import Role
from huiying.tickets.models import Ticket

AGENT = "mixed.agent@example.com"
LIST_PATH = "/api/v1/tickets?status=new&limit=50"
TIMEOUT = 10.0  # seconds, like wrk --timeout 10s in ../shared/perf-peer
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

INTAKE, LIST, TICKET, NOTE, REPLY, STATUS = "intake", "list", "ticket", "note", "reply", "status"
MIX = {INTAKE: 70.0, LIST: 10.0, TICKET: 15.0, NOTE: 2.0, REPLY: 1.5, STATUS: 1.5}
LABELS = {
    INTAKE: "POST /api/v1/feedback",
    LIST: f"GET {LIST_PATH}",
    TICKET: "GET /api/v1/tickets/{n}",
    NOTE: "POST /tickets/{n}/replies (note)",
    REPLY: "POST /tickets/{n}/replies (reply)",
    STATUS: "POST /tickets/{n}/status",
}
OPENINGS = ["", "你好，", "您好，", "客服你好，", "麻烦看一下：", "急！"]
ENDINGS = ["", "谢谢。", "请尽快处理，谢谢！", "希望早点解决。", "已经是第二次了。", "等你们回复。"]
NOTES = [
    "已联系用户，等待截图。",
    "疑似与昨晚的版本发布有关，已转研发。",
    "用户是老客户，优先处理。",
    "同类问题今天第三单。",
]
REPLIES = [
    "您好，问题已经收到，我们正在排查，请耐心等待。",
    "您好，款项已原路退回，预计1到3个工作日到账。",
    "您好，请更新到最新版本后再试一下，如仍有问题请回复我们。",
]


# --- the requests ---------------------------------------------------------------------------------


def intake_bodies(count: int, rng: random.Random) -> list[bytes]:
    """Feedback as apps and the web form send it: one sample, varied around its edges."""
    bodies = []
    for i in range(count):
        sample = rng.choice(SAMPLES)
        os_name, model = rng.choice(DEVICES)
        body: dict[str, object] = {
            "channel": rng.choice(["app", "app", "app", "web"]),
            "user_id": f"u{rng.randrange(10**7, 10**8)}",
            "contact": f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
            "description": f"{rng.choice(OPENINGS)}{sample.description}{rng.choice(ENDINGS)}",
            "device": {"os": os_name, "model": model},
            "app_version": rng.choice(APP_VERSIONS),
            "city": rng.choice(CITIES),
        }
        if rng.random() < 0.7:
            body["title"] = f"{sample.title} {i}"
        if rng.random() < 0.4:
            body["links"] = {"order_no": f"DD{rng.randrange(10**13, 10**14)}"}
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


@dataclass
class Pools:
    """Tickets the agent can read, and the open ones it can write to (with their status)."""

    readable: list[str]
    writable: list[str]
    status: dict[str, str]
    busy: set[str] = field(default_factory=set)  # one write per ticket at a time: no 409 from a race

    def add_created(self, number: str, status: str) -> None:
        self.readable.append(number)
        self.writable.append(number)
        self.status[number] = status

    def take_writable(self, rng: random.Random) -> str | None:
        for _ in range(8):
            number = rng.choice(self.writable)
            if number not in self.busy:
                self.busy.add(number)
                return number
        return None


# --- a minimal HTTP/1.1 client ----------------------------------------------------------------------


class Connection:
    """One keep-alive connection; reconnects after the server closes it or an error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        try:
            return await asyncio.wait_for(self._answer(self.reader), TIMEOUT)
        except BaseException:
            self.close()
            raise

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip().lower()
        if "content-length" in fields:
            body = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            body = b""
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                body += await reader.readexactly(size + 2)
                body = body[:-2]
            await reader.readuntil(b"\r\n")
        else:
            body = b""
        if fields.get("connection") == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- the load ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    non_2xx: int = 0
    connection_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


@dataclass
class Load:
    host: str
    port: int
    auth: str
    pools: Pools
    bodies: list[bytes]
    rng: random.Random
    tallies: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in MIX})
    creates: int = 0

    async def one(self, connection: Connection, kind: str) -> None:
        number = None
        method, path, body, headers = "GET", "", b"", self.auth
        if kind == INTAKE:
            method, path, body = "POST", "/api/v1/feedback", self.rng.choice(self.bodies)
            headers = f"Idempotency-Key: {uuid.uuid4()}\r\n" if self.rng.random() < 0.5 else ""
        elif kind == LIST:
            path = LIST_PATH
        elif kind == TICKET:
            path = f"/api/v1/tickets/{self.rng.choice(self.pools.readable)}"
        else:
            number = self.pools.take_writable(self.rng)
            if number is None:
                kind, path = TICKET, f"/api/v1/tickets/{self.rng.choice(self.pools.readable)}"
            elif kind == STATUS:
                target = "pending" if self.pools.status[number] in ("new", "open") else "open"
                method, path = "POST", f"/api/v1/tickets/{number}/status"
                body = json.dumps({"status": target}).encode()
            else:
                method, path = "POST", f"/api/v1/tickets/{number}/replies"
                words = self.rng.choice(NOTES if kind == NOTE else REPLIES)
                body = json.dumps({"body": words, "internal": kind == NOTE}, ensure_ascii=False).encode()
        tally = self.tallies[kind]
        started = time.perf_counter()
        try:
            status, answer = await connection.request(method, path, body, headers)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            tally.connection_errors += 1
            return
        finally:
            if number is not None:
                self.pools.busy.discard(number)
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            tally.non_2xx += 1
            return
        if kind == INTAKE:
            created = json.loads(answer)
            self.pools.add_created(created["number"], created["status"])
            self.creates += 1
        elif kind == STATUS and number is not None:
            self.pools.status[number] = json.loads(answer)["status"]
        elif kind == REPLY and number is not None and self.pools.status[number] == "new":
            self.pools.status[number] = "open"  # a first public reply opens a new ticket

    async def run(self, seconds: float, connections: int) -> float:
        kinds, weights = list(MIX), list(MIX.values())
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            connection = Connection(self.host, self.port)
            while time.perf_counter() < deadline:
                await self.one(connection, self.rng.choices(kinds, weights)[0])
            connection.close()

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(connections)))
        return time.perf_counter() - started


# --- processes: CPU and memory ----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                found += [int(child) for child in listing.read().split()]
    except OSError:
        pass
    return found


def server_processes() -> dict[int, str]:
    """`huiying serve` (a child of this script, started by common.server) and all below it."""
    found = {}
    for pid in _children(os.getpid()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"huiying" in cmdline and b"serve" in cmdline:
            found[pid] = "serve"
            below = _children(pid)
            while below:
                child = below.pop()
                command = Path(f"/proc/{child}/cmdline").read_bytes()
                found[child] = "resource tracker" if b"resource_tracker" in command else "serve worker"
                below += _children(child)
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of proc(5)


def memory_kib(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM (the peak) of one process."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(value.split()[0])
    except OSError:
        pass
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


class PostgresCpu:
    """CPU of the bench database's PostgreSQL backends over the run: their pids are sampled every
    half second (a backend that ends between samples loses at most that long of its CPU)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _sample(self, *, initial: bool = False) -> None:
        with self.engine.connect() as connection:
            pids = connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            ).all()
        for pid in pids:
            used = cpu_seconds(pid)
            if initial:
                self.first[pid] = used
            self.first.setdefault(pid, 0.0)  # started during the run: all its CPU is the run's
            self.last[pid] = max(self.last.get(pid, 0.0), used)

    def _sample_until_stopped(self) -> None:
        while not self.stop.wait(0.5):
            self._sample()

    def start(self) -> None:
        self._sample(initial=True)
        self.thread.start()

    def finish(self) -> float:
        self.stop.set()
        self.thread.join()
        self._sample()
        self.engine.dispose()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


# --- the run ----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def prepare(url: str, tickets: int) -> Pools:
    db = Database(url)
    seed_tickets(db, Settings(database_url=url), tickets)
    with db.write() as session:
        teams = list(session.scalars(select(Team.slug)))
        accounts.create_user(session, email=AGENT, password=PASSWORD, role=Role.AGENT, team_slugs=teams)
    with db.read() as session:
        rows = session.execute(select(Ticket.number, Ticket.status, Ticket.active)).all()
    db.dispose()
    writable = [number for number, _, active in rows if active]
    return Pools([number for number, _, _ in rows], writable, {number: status for number, status, _ in rows})


def agent_token(base: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"email": AGENT, "password": PASSWORD})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def stored_tickets(url: str) -> int:
    db = Database(url)
    with db.read() as session:
        count = session.scalar(select(func.count()).select_from(Ticket)) or 0
    db.dispose()
    return count


def _first_error(log: str) -> str:
    """The first logged traceback's last frame and exception (the rest is framework plumbing)."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Traceback")), None)
    if start is None:
        return ""
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines) - 1)
    return "\n".join(lines[max(start + 1, end - 4) : end + 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets stored before the load")
    parser.add_argument("--duration", type=float, default=60, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of the same load first, not counted")
    parser.add_argument("--workers", type=int, help="server processes (default: 2 on PostgreSQL, 1 on SQLite)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    workers = args.workers or (2 if args.db == "postgresql" else 1)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="huiying-bench-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.db, workdir)
        started = time.perf_counter()
        pools = prepare(url, args.tickets)
        print(f"seeded {args.tickets} tickets in {time.perf_counter() - started:.1f}s ({args.db})")
        with server(url, workdir, workers=workers) as base:
            address = urlsplit(base)
            auth = f"Authorization: Bearer {agent_token(base)}\r\n"
            load = Load(address.hostname or "127.0.0.1", address.port or 80, auth, pools, intake_bodies(2000, rng), rng)
            if args.warmup:  # models loaded and connections pooled in every worker before the clock runs
                asyncio.run(load.run(args.warmup, args.connections))
                load.tallies, load.creates = {kind: Tally() for kind in MIX}, 0
            before = {pid: cpu_seconds(pid) for pid in server_processes()}
            postgres = PostgresCpu(url) if args.db == "postgresql" else None
            if postgres:
                postgres.start()
            client_before = resource.getrusage(resource.RUSAGE_SELF)
            elapsed = asyncio.run(load.run(args.duration, args.connections))
            client_after = resource.getrusage(resource.RUSAGE_SELF)
            postgres_cpu = postgres.finish() if postgres else 0.0
            processes = server_processes()
            server_cpu = sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in processes)
            memory = {pid: memory_kib(pid) for pid in processes}
        stored = stored_tickets(url)
        server_log = (workdir / "serve.log").read_text(errors="replace")  # common.server writes it

    client_cpu = (client_after.ru_utime + client_after.ru_stime) - (client_before.ru_utime + client_before.ru_stime)
    print(f"\n{args.db}, serve --workers {workers}, {args.connections} connections, {elapsed:.1f}s measured")
    print(f"{args.tickets} tickets stored beforehand, {stored} at the end ({load.creates} created in the measured run)")
    print(f"{'endpoint':<42} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>7} {'conn err':>8}")
    for kind, tally in load.tallies.items():
        done = len(tally.latencies_ms)
        print(
            f"{LABELS[kind]:<42} {done:>8} {done / elapsed:>7.1f} {percentile(tally.latencies_ms, 0.50):>7.1f} "
            f"{percentile(tally.latencies_ms, 0.99):>7.1f} {tally.non_2xx:>7} {tally.connection_errors:>8}"
        )
        odd = {status: n for status, n in sorted(tally.statuses.items()) if not 200 <= status < 300}
        if odd:
            print(f"{'':<42} statuses: {odd}")
    everything = [ms for tally in load.tallies.values() for ms in tally.latencies_ms]
    errors = sum(tally.non_2xx + tally.connection_errors for tally in load.tallies.values())
    print(
        f"{'all':<42} {len(everything):>8} {len(everything) / elapsed:>7.1f} {percentile(everything, 0.5):>7.1f} "
        f"{percentile(everything, 0.99):>7.1f} {errors:>16}"
    )

    logged = [line for line in server_log.splitlines() if " ERROR " in line or line.startswith("Traceback")]
    if logged:
        print(f"\nthe server logged {len(logged)} errors; the first:\n{_first_error(server_log)}")

    per_create = 1000 / max(load.creates, 1)
    print(
        f"\nserver CPU: {server_cpu:.1f}s ({server_cpu / elapsed:.2f} cores), {server_cpu * per_create:.2f} ms per create"
    )
    print("  (all server CPU during the run divided by the creates: the reads and writes are in it)")
    if postgres:
        print(
            f"PostgreSQL CPU (backends of the bench database): {postgres_cpu:.1f}s "
            f"({postgres_cpu / elapsed:.2f} cores), {postgres_cpu * per_create:.2f} ms per create"
        )
    print(f"client CPU (this process): {client_cpu:.1f}s ({client_cpu / elapsed:.2f} cores)")
    print("memory at the end (RSS / peak):")
    for pid, (rss, peak) in sorted(memory.items()):
        print(f"  {processes.get(pid, '?'):<16} pid {pid:<8} {rss / 1024:>7.1f} MiB / {peak / 1024:>7.1f} MiB")
    creates, lists, reads = load.tallies[INTAKE], load.tallies[LIST], load.tallies[TICKET]
    writes = [ms for kind in (NOTE, REPLY, STATUS) for ms in load.tallies[kind].latencies_ms]
    total_rss = sum(rss for rss, _ in memory.values()) / 1024
    print(
        f"\nmixed {args.db} workers={workers} {elapsed:.0f}s: {len(everything) / elapsed:.0f} req/s; "
        f"creates {len(creates.latencies_ms) / elapsed:.0f}/s p50 {percentile(creates.latencies_ms, 0.5):.1f} "
        f"p99 {percentile(creates.latencies_ms, 0.99):.1f} ms; list p99 {percentile(lists.latencies_ms, 0.99):.1f} ms; "
        f"ticket p99 {percentile(reads.latencies_ms, 0.99):.1f} ms; writes p99 {percentile(writes, 0.99):.1f} ms; "
        f"errors {errors}; server {server_cpu * per_create:.2f} ms CPU/create"
        + (f", PostgreSQL {postgres_cpu * per_create:.2f} ms/create" if postgres else "")
        + f"; RSS {total_rss:.0f} MiB in {len(memory)} processes"
    )


if __name__ == "__main__":
    main()
