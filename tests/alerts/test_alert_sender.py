"""Alerts reach real robots (a local HTTP server that checks each payload and signature and counts
messages): signed per kind, a burst merged within the rate limit, held outside service hours
unless urgent, failures retried and shown. Time is injected (`kit.clock.frozen`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from alert_robot_server import SECRET, T0, RobotServer, serve
from sqlalchemy import select

from huiying import wiring
from huiying.accounts import service as accounts
from huiying.accounts.models import Team
from huiying.alerts import service
from huiying.alerts.models import AlertDelivery, AlertRobot
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.worker.runner import run_due


@pytest.fixture
def robot_server() -> Iterator[RobotServer]:
    yield from serve()


@pytest.fixture
def wired() -> None:
    wiring.install_jobs()


def _team_id(db: Database, slug: str = "tech-support") -> int:
    with db.read() as session:
        return int(session.scalars(select(Team.id).where(Team.slug == slug)).one())


def _robot(db: Database, kind: str, url: str, *, secret: str | None = None) -> int:
    with db.write() as session:
        return service.create_robot(session, kind=kind, url=url, secret=secret, teams=["tech-support"], actor=SYSTEM).id


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


def test_each_kind_gets_its_own_body_and_signature(db: Database, robot_server: RobotServer, wired: None) -> None:
    _robot(db, "wecom", f"{robot_server.base}/wecom?key=k1")
    _robot(db, "dingtalk", f"{robot_server.base}/dingtalk?access_token=t1", secret=SECRET)
    _robot(db, "feishu", f"{robot_server.base}/feishu", secret=SECRET)
    with db.write() as session:
        agent_id = accounts.create_user(
            session, email="a@example.com", password="long-enough-password-1", role=Role.AGENT, team_slugs=[]
        ).id
    with frozen(T0):
        _alert(db, "工单 20261202-0001", user_ids=[agent_id])
        _drain(db)
    assert sorted(r.path for r in robot_server.received) == ["/dingtalk", "/feishu", "/wecom"]
    assert [r.problems for r in robot_server.received] == [[], [], []]
    assert robot_server.texts() == ["工单 20261202-0001 即将超时\n工单 20261202-0001 is due soon"] * 3
    assert next(r for r in robot_server.received if r.path == "/wecom").query == {"key": ["k1"]}
    with db.read() as session:
        rows = {row.target: (row.status, row.reason) for row in session.scalars(select(AlertDelivery))}
    # Staff email goes by SMTP (test_alert_email.py): the person's delivery says so instead of pretending.
    assert rows[f"user:{agent_id}"] == ("suppressed", service.NO_EMAIL)
    assert sorted(v for k, v in rows.items() if k.startswith("robot:")) == [("sent", None)] * 3


@pytest.mark.parametrize("backend", ["sqlite"])  # 100 jobs: the other tests cover PostgreSQL
def test_a_burst_of_50_is_merged_within_the_robots_rate(db: Database, robot_server: RobotServer, wired: None) -> None:
    _robot(db, "wecom", f"{robot_server.base}/wecom?key=k1")
    with frozen(T0):
        for i in range(50):
            _alert(db, f"工单 {i:04d}")
            _drain(db)
    assert len(robot_server.received) == 20  # WeCom: 20 a minute, the rest wait merged
    with db.read() as session:
        waiting = session.scalars(select(OutboxJob.job).where(OutboxJob.state == "pending")).all()
    assert waiting == ["alert_robot_flush"]  # one flush scheduled for the 30 waiting alerts
    with frozen(T0 + timedelta(seconds=59)):
        _drain(db)
    assert len(robot_server.received) == 20
    with frozen(T0 + timedelta(seconds=61)):
        _drain(db)
    assert len(robot_server.received) == 21
    digest = robot_server.texts()[-1]
    assert digest.startswith("【汇总】30 条提醒 / Digest: 30 alerts")
    assert "工单 0020 即将超时" in digest and "工单 0049 即将超时" in digest
    with db.read() as session:
        statuses = list(session.scalars(select(AlertDelivery.status)))
    assert statuses == ["sent"] * 50
    assert all(not r.problems for r in robot_server.received)


def test_routine_alerts_wait_for_service_hours_urgent_ones_do_not(
    db: Database, robot_server: RobotServer, wired: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    opens = T0 + timedelta(hours=2)

    class Calendar:
        def is_open(self, at: datetime) -> bool:
            return at >= opens

        def add_minutes(self, start: datetime, minutes: int) -> datetime:
            return max(start, opens) + timedelta(minutes=minutes)

    monkeypatch.setattr(service, "_calendar_for", lambda session, team_id: Calendar())
    _robot(db, "wecom", f"{robot_server.base}/wecom?key=k1")
    with frozen(T0):
        _alert(db, "routine", urgent=False)
        _alert(db, "urgent", urgent=True)
        _drain(db)
    assert robot_server.texts() == ["urgent 即将超时\nurgent is due soon"]
    with frozen(opens - timedelta(seconds=1)):
        _drain(db)
    assert len(robot_server.received) == 1
    with frozen(opens):
        _drain(db)
    assert robot_server.texts()[1] == "routine 即将超时\nroutine is due soon"


def test_a_failing_robot_is_retried_and_its_error_shown(db: Database, robot_server: RobotServer, wired: None) -> None:
    robot_id = _robot(db, "dingtalk", f"{robot_server.base}/dingtalk?access_token=t1", secret=SECRET)
    robot_server.answers = [(502, "bad gateway"), (200, '{"errcode":130101,"errmsg":"send too fast"}')]
    with frozen(T0):
        _alert(db, "工单 1")
        _drain(db)
    with db.read() as session:
        robot = session.get_one(AlertRobot, robot_id)
        assert robot.last_error == "HTTP 502: bad gateway" and robot.last_sent_at is None
        assert session.scalars(select(AlertDelivery.status)).one() == "pending"
    with frozen(T0 + timedelta(seconds=11)):  # the outbox's first backoff is 10 s
        _drain(db)
    with db.read() as session:
        robot = session.get_one(AlertRobot, robot_id)
        assert robot.last_error == "robot error 130101: send too fast"
        assert robot.throttled_until is not None and robot.throttled_until > T0 + timedelta(minutes=9)
    with frozen(T0 + timedelta(minutes=5)):
        _drain(db)
    assert len(robot_server.received) == 2  # throttled: left alone
    with frozen(T0 + timedelta(minutes=11)):
        _drain(db)
    assert len(robot_server.received) == 3
    with db.read() as session:
        assert session.scalars(select(AlertDelivery.status)).one() == "sent"
        assert session.get_one(AlertRobot, robot_id).last_sent_at is not None


def test_a_calendar_without_data_holds_nothing(
    db: Database, robot_server: RobotServer, wired: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoData(Exception):
        pass

    class Calendar:
        def is_open(self, at: datetime) -> bool:
            raise NoData(at)  # like calendars.MissingCalendarData: the year's notice is not loaded

        def add_minutes(self, start: datetime, minutes: int) -> datetime:
            raise NoData(start)

    monkeypatch.setattr(service, "_calendar_for", lambda session, team_id: Calendar())
    _robot(db, "wecom", f"{robot_server.base}/wecom?key=k1")
    with frozen(T0):
        _alert(db, "routine", urgent=False)
        _drain(db)
    assert robot_server.texts() == ["routine 即将超时\nroutine is due soon"]
