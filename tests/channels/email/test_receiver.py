"""The SMTP receiver (channels/email/receiver.py, `huiying mail receive`) spoken to with smtplib,
on both back ends: a mail becomes a ticket and the 250 names it, after the commit; no relay for
other domains; the size limit; a failed import is a 451 that loses nothing, and one that keeps
failing is quarantined; a replay is one ticket; the command as a process of its own."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from mail_samples import SUPPORT, mail
from sqlalchemy import func, select

from conftest import _free_port
from huiying.channels.email import receiver, retries, service
from huiying.channels.email.models import MailMessage, MailQuarantine
from huiying.config import Settings
from huiying.db import Database
from huiying.tickets.models import Attachment, Ticket

NUMBER = r"HY\d{6}-\d{4}"
EXTRA_DOMAIN = "feedback.example.org"


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _crlf(raw: bytes) -> bytes:
    """The mail with CRLF line ends, as SMTP wants it (smtplib sends bytes as they are)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _send(port: int, raw: bytes, *, to: str = SUPPORT) -> tuple[int, str]:
    """One SMTP transaction; the reply to RCPT when it is refused, else the reply to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo("sender.example.net")
        code, reply = client.mail("li.lei@example.net")
        assert code == 250, reply
        code, reply = client.rcpt(to)
        if code != 250:
            return code, reply.decode()
        code, reply = client.data(_crlf(raw))
        return code, reply.decode()


class Running:
    def __init__(self, smtp: receiver.Receiver, lines: list[str]) -> None:
        self.smtp = smtp
        self.lines = lines

    @property
    def port(self) -> int:
        return self.smtp.port


@contextmanager
def _receiving(db: Database, settings: Settings) -> Iterator[Running]:
    lines: list[str] = []
    # HUIYING_MAIL_FROM as installs write it, with a name: only its domain counts.
    ours = settings.model_copy(
        update={"mail_from": f"回应客服 <{SUPPORT}>", "mail_receive_domains_csv": f" {EXTRA_DOMAIN} ,"}
    )
    smtp = receiver.Receiver(
        db, ours, port=_free_port(), on_mail=lambda source, outcome: lines.append(f"{source}\t{outcome.line()}")
    )
    smtp.start()
    try:
        yield Running(smtp, lines)
    finally:
        smtp.stop()


@pytest.fixture
def running(db: Database, settings: Settings) -> Iterator[Running]:
    with _receiving(db, settings) as smtp:
        yield smtp


def test_a_mail_becomes_a_ticket_and_the_250_names_its_number_after_the_commit(running: Running, db: Database) -> None:
    raw = _crlf(mail(body="通过SMTP投递的反馈：充值失败"))
    code, reply = _send(running.port, raw)
    assert code == 250 and re.fullmatch(rf"2\.0\.0 queued as {NUMBER}", reply), reply
    number = reply.rsplit(" ", 1)[1]
    with db.read() as session:  # the reply came after the commit: a new session sees it
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.channel == "email" and "充值失败" in ticket.description
        original = session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
        assert original is not None and original.filename == "original.eml"
        assert original.sha256 == hashlib.sha256(raw).hexdigest()  # the bytes exactly as sent
    assert running.lines == [f"smtp:127.0.0.1\t{number}"]


def test_a_line_longer_than_rfc_5321_allows_is_taken_in_as_other_servers_do(running: Running, db: Database) -> None:
    raw = mail().replace(b"MIME-Version: 1.0", b"X-Long: " + b"x" * 5000 + b"\r\nMIME-Version: 1.0")
    code, reply = _send(running.port, raw)
    assert code == 250 and re.search(NUMBER, reply), reply


def test_the_extra_receive_domains_are_local_too_in_any_case(running: Running, db: Database) -> None:
    code, reply = _send(running.port, mail(to=f"help@{EXTRA_DOMAIN}"), to=f"Help@{EXTRA_DOMAIN.upper()}")
    assert code == 250 and re.search(NUMBER, reply), reply
    assert _count(db, Ticket) == 1


def test_a_recipient_elsewhere_is_refused_and_nothing_is_stored(running: Running, db: Database) -> None:
    for address in ("someone@elsewhere.example", f"support@{SUPPORT.split('@')[1]}.evil.example", "postmaster"):
        code, reply = _send(running.port, mail(), to=address)
        assert (code, reply) == (550, "5.1.1 not a local recipient"), address
    assert _count(db, MailMessage) == 0 and _count(db, Ticket) == 0
    assert running.lines == []


def test_a_mail_over_the_size_limit_is_refused(db: Database, settings: Settings) -> None:
    small = settings.model_copy(update={"max_attachment_bytes": 10_000})
    with _receiving(db, small) as smtp:
        big = mail(body="太长了" * 5_000)  # about 60 kB of base64 against a 15 kB limit
        code, reply = _send(smtp.port, big)
        assert (code, reply) == (552, "5.3.4 message too big")
        # A sender that declares SIZE (smtplib's sendmail does) is refused before DATA.
        with smtplib.SMTP("127.0.0.1", smtp.port, timeout=60) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("li.lei@example.net", [SUPPORT], _crlf(big))
            assert refused.value.smtp_code == 552
        code, reply = _send(smtp.port, mail())  # a mail within the limit still goes in
        assert code == 250, reply
    assert _count(db, Ticket) == 1


def test_a_failed_import_is_a_451_that_loses_nothing_and_the_resend_goes_in(
    running: Running, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    raw = mail(body="第一次投递时磁盘满了")
    monkeypatch.setattr(service.files, "store_mail_files", broken)
    assert _send(running.port, raw) == (451, "4.3.0 try again later")
    assert _count(db, MailMessage) == 0 and _count(db, Ticket) == 0
    monkeypatch.undo()
    code, reply = _send(running.port, raw)  # the sender's retry
    assert code == 250 and re.search(NUMBER, reply), reply
    assert _count(db, Ticket) == 1
    assert running.lines[0] == "smtp:127.0.0.1\tfailed: RuntimeError: disk full"


def test_a_mail_whose_import_keeps_failing_is_quarantined_at_the_third_try(
    running: Running, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service.files, "store_mail_files", broken)
    raw = mail(body="一直导入失败的邮件")
    assert [_send(running.port, raw)[0] for _ in range(retries.FAILURES_TO_QUARANTINE - 1)] == [451, 451]
    code, reply = _send(running.port, raw)
    assert code == 250 and re.fullmatch(r"2\.0\.0 queued as quarantine-\d+", reply), reply
    assert _count(db, MailQuarantine) == 1 and _count(db, Ticket) == 0
    with db.read() as session:
        entry = session.scalars(select(MailQuarantine)).one()
        assert entry.reason.startswith("import failed 3 times: RuntimeError: disk full")
        assert entry.source == "smtp:127.0.0.1"


def test_the_same_mail_twice_is_one_ticket_and_the_second_250_says_duplicate(running: Running, db: Database) -> None:
    raw = mail(body="同一封邮件发了两次")
    first = _send(running.port, raw)
    second = _send(running.port, raw)
    number = first[1].rsplit(" ", 1)[1]
    assert first[0] == 250 and re.fullmatch(NUMBER, number), first
    assert second == (250, f"2.0.0 queued as duplicate {number}")
    assert _count(db, Ticket) == 1


def test_an_unreadable_mail_is_quarantined_and_answered_250(running: Running, db: Database) -> None:
    code, reply = _send(running.port, b"\x00\x01 not a mail at all \xff\xfe\r\n")
    assert code == 250 and reply.startswith("2.0.0 queued as quarantine-"), reply
    assert _count(db, MailQuarantine) == 1 and _count(db, Ticket) == 0


# --- huiying mail receive ----------------------------------------------------------------------------


def _wait_for_port(port: int, process: subprocess.Popen[str], *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"huiying mail receive ended: {process.communicate()[0]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("huiying mail receive did not listen in time")


def test_huiying_mail_receive_takes_a_mail_in_until_sigterm(db: Database, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_DATABASE_URL": db.url}
    env.update(HUIYING_MAIL_FROM=SUPPORT, HUIYING_MAIL_RECEIVE_DOMAINS=EXTRA_DOMAIN)
    env.pop("HUIYING_IMAP_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "huiying", "mail", "receive", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_port(port, process)
        code, reply = _send(port, mail(body="命令行接收进程收到的邮件"))
        refused = _send(port, mail(), to="someone@elsewhere.example")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert code == 250 and re.search(NUMBER, reply), (reply, output)
    number = reply.rsplit(" ", 1)[1]
    assert refused[0] == 550
    assert number in output.splitlines()  # one line per mail, as `mail import` prints it
    assert _count(db, Ticket) == 1


def test_huiying_mail_receive_on_a_port_in_use_exits_1(db: Database, tmp_path: Path) -> None:
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_DATABASE_URL": db.url}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "huiying", "mail", "receive", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
