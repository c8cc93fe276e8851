"""Staff alerts reach people by email through a REAL local SMTP server (aiosmtpd): the named staff
and the team's supervisors get one mail each (UTF-8, Chinese then English), a second run sends
nothing again, an unset HUIYING_SMTP_URL is said on the delivery, a server that is down fails the
delivery with its error and is retried, routine mail waits for service hours. Time is injected
(`kit.clock.frozen`), like the robot tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from alert_robot_server import T0
from sqlalchemy import select

from huiying import wiring
from huiying.accounts import service as accounts
from huiying.accounts.models import Team
from huiying.alerts import mail, sender, service
from huiying.alerts.models import AlertDelivery
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.worker.runner import run_due
from smtp_sink import SmtpSink

MAIL_FROM = "support@huiying.example"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A server on a free port, not started yet; alerts mail to it (stopped and unset afterwards)."""
    server = SmtpSink()
    mail.configure(smtp_url=server.url, mail_from=MAIL_FROM)
    try:
        yield server
    finally:
        server.stop()
        mail.configure(smtp_url=None, mail_from="support@localhost")


@pytest.fixture
def wired() -> None:
    wiring.install_jobs()


def _team_id(db: Database, slug: str = "tech-support") -> int:
    with db.read() as session:
        return int(session.scalars(select(Team.id).where(Team.slug == slug)).one())


def _user(db: Database, email: str, role: Role, teams: list[str]) -> int:
    with db.write() as session:
        return accounts.create_user(
            session, email=email, password="long-enough-password-1", role=role, team_slugs=teams
        ).id


def _alert(db: Database, text: str, *, urgent: bool = True, user_ids: list[int] | None = None) -> None:
    with db.write() as session:
        service.alert_staff(
            session,
            kind="sla_warning",
            text_zh=f"{text} 即将超时",
            text_en=f"{text} is due soon",
            team_id=_team_id(db),
            user_ids=user_ids or [],
            urgent=urgent,
        )


def _drain(db: Database) -> int:
    ran = 0
    while (n := run_due(db)) > 0:
        ran += n
    return ran


def _rows(db: Database) -> dict[str, tuple[str, str | None]]:
    with db.read() as session:
        return {row.target: (row.status, row.reason) for row in session.scalars(select(AlertDelivery))}


def test_named_staff_and_team_supervisors_get_one_mail_each(db: Database, smtp: SmtpSink, wired: None) -> None:
    smtp.start()
    agent = _user(db, "agent@example.com", Role.AGENT, [])
    supervisor = _user(db, "lead@example.com", Role.SUPERVISOR, ["tech-support"])
    _user(db, "other-lead@example.com", Role.SUPERVISOR, ["finance"])  # another team's: not told
    _user(db, "peer@example.com", Role.AGENT, ["tech-support"])  # a member, not a supervisor
    with frozen(T0):
        # The supervisor is named as well: still one mail.
        _alert(db, "工单 20261202-0001", user_ids=[agent, supervisor])
        _drain(db)
    assert smtp.to() == ["agent@example.com", "lead@example.com"]
    assert sorted(rcpt for _, rcpts in smtp.envelopes for rcpt in rcpts) == smtp.to()
    assert {sender_ for sender_, _ in smtp.envelopes} == {MAIL_FROM}
    for message in smtp.messages:
        assert message["From"] == MAIL_FROM
        assert message["Subject"] == "工单 20261202-0001 即将超时 / 工单 20261202-0001 is due soon"
        assert message["Message-ID"] and message["Date"]
        body = message.get_content()
        assert body.index("工单 20261202-0001 即将超时") < body.index("工单 20261202-0001 is due soon")
        assert message.get_content_charset() == "utf-8"
    assert _rows(db) == {f"user:{agent}": ("sent", None), f"user:{supervisor}": ("sent", None)}


def test_running_the_jobs_twice_sends_nothing_twice(db: Database, smtp: SmtpSink, wired: None) -> None:
    smtp.start()
    agent = _user(db, "agent@example.com", Role.AGENT, [])
    with frozen(T0):
        _alert(db, "工单 1", user_ids=[agent])
        with db.read() as session:
            payload = session.scalars(select(OutboxJob.payload).where(OutboxJob.job == service.STAFF_ALERT_JOB)).one()
        _drain(db)
        assert len(smtp.messages) == 1
        # The staff_alert job and the email job again (a duplicate hand-over, a redelivery).
        service.record_alert(db, payload)
        sender.send_alert_emails(db, {"alert_key": payload["alert_key"]})
        _drain(db)
    assert len(smtp.messages) == 1
    with db.read() as session:
        assert session.scalars(select(AlertDelivery.status)).all() == ["sent"]


def test_without_smtp_the_delivery_says_so(db: Database, wired: None) -> None:
    mail.configure(smtp_url=None, mail_from="support@localhost")
    agent = _user(db, "agent@example.com", Role.AGENT, [])
    supervisor = _user(db, "lead@example.com", Role.SUPERVISOR, ["tech-support"])
    with frozen(T0):
        _alert(db, "工单 1", user_ids=[agent])
        _drain(db)
    reason = "no SMTP configured (HUIYING_SMTP_URL)"
    assert _rows(db) == {f"user:{agent}": ("suppressed", reason), f"user:{supervisor}": ("suppressed", reason)}
    with db.read() as session:
        assert not session.scalars(select(OutboxJob).where(OutboxJob.job == service.EMAIL_JOB)).all()


def test_a_server_that_is_down_fails_the_delivery_and_is_retried(db: Database, smtp: SmtpSink, wired: None) -> None:
    agent = _user(db, "agent@example.com", Role.AGENT, [])
    with frozen(T0):
        _alert(db, "工单 1", user_ids=[agent])
        _drain(db)  # nothing listens on the port yet
    status, reason = _rows(db)[f"user:{agent}"]
    assert status == "failed" and reason is not None and "ConnectionRefusedError" in reason
    with db.read() as session:
        job = session.scalars(select(OutboxJob).where(OutboxJob.job == service.EMAIL_JOB)).one()
        assert job.state == "pending" and job.last_error is not None and "ConnectionRefusedError" in job.last_error
    smtp.start()
    with frozen(T0 + timedelta(seconds=5)):  # inside the outbox's first backoff (10 s): not yet
        _drain(db)
    assert smtp.messages == []
    with frozen(T0 + timedelta(seconds=11)):
        _drain(db)
    assert smtp.to() == ["agent@example.com"]
    assert _rows(db) == {f"user:{agent}": ("sent", None)}


def test_routine_mail_waits_for_service_hours_urgent_mail_does_not(
    db: Database, smtp: SmtpSink, wired: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    opens = T0 + timedelta(hours=2)

    class Calendar:
        def is_open(self, at: datetime) -> bool:
            return at >= opens

        def add_minutes(self, start: datetime, minutes: int) -> datetime:
            return max(start, opens) + timedelta(minutes=minutes)

    monkeypatch.setattr(service, "_calendar_for", lambda session, team_id: Calendar())
    smtp.start()
    _user(db, "lead@example.com", Role.SUPERVISOR, ["tech-support"])
    with frozen(T0):
        _alert(db, "routine", urgent=False)
        _alert(db, "urgent", urgent=True)
        _drain(db)
    assert [m["Subject"] for m in smtp.messages] == ["urgent 即将超时 / urgent is due soon"]
    with frozen(opens - timedelta(seconds=1)):
        _drain(db)
    assert len(smtp.messages) == 1
    with frozen(opens):
        _drain(db)
    assert [m["Subject"] for m in smtp.messages][1:] == ["routine 即将超时 / routine is due soon"]


def test_smtp_urls_are_parsed() -> None:
    plain = mail.parse_smtp_url("smtp://mail.example.com:2525")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls, plain.username) == (
        "mail.example.com",
        2525,
        False,
        False,
        None,
    )
    tls = mail.parse_smtp_url("smtps://alerts%40corp:p%40ss%3Aw@smtp.corp.example")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (465, True, "alerts@corp", "p@ss:w")
    start = mail.parse_smtp_url("smtp://u:p@smtp.corp.example:587?starttls=1")
    assert (start.port, start.starttls, start.implicit_tls) == (587, True, False)
    assert mail.parse_smtp_url("smtp://h").port == 25
    for bad in ("http://h:25", "smtp://:25", "smtps://h?starttls=1"):
        with pytest.raises(ValueError):
            mail.parse_smtp_url(bad)
