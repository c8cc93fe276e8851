"""The one way domain code alerts staff: `alert_staff` queues the alert in the caller's
transaction; the `staff_alert` job sends it after commit (to the team's robots, merged into a
digest when a burst would break a robot's rate limit, and by email to the named staff and the
team's supervisors; held outside service hours unless urgent).

Also the robots' configuration (admins; audited), secrets encrypted at rest and never shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huiying.accounts.models import Team, TeamMember, User
from huiying.alerts import mail
from huiying.alerts.models import AlertDelivery, AlertRobot, AlertRobotTeam
from huiying.alerts.robots import KINDS
from huiying.audit import service as audit
from huiying.db import Database
from huiying.errors import InvalidInput, NotFound
from huiying.jobs import outbox
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.privacy import crypto

STAFF_ALERT_JOB = "staff_alert"
FLUSH_JOB = "alert_robot_flush"
EMAIL_JOB = "alert_email_send"
NO_EMAIL = mail.NO_SMTP  # HUIYING_SMTP_URL unset: a person's delivery says so instead of pretending
INACTIVE = "inactive account"


def alert_staff(
    session: Session,
    *,
    kind: str,
    text_zh: str,
    text_en: str,
    team_id: int | None = None,
    user_ids: Iterable[int] = (),
    ticket_id: int | None = None,
    urgent: bool = False,
) -> None:
    """Queue an alert for a team (its robots and supervisors) and/or named staff. `kind` says what
    happened (e.g. `sla_warning`, `sla_breach`, `escalation`, `unaccepted`, `calendar_missing`)."""
    payload = {
        "kind": kind,
        "text_zh": text_zh,
        "text_en": text_en,
        "team_id": team_id,
        "user_ids": sorted(set(user_ids)),
        "ticket_id": ticket_id,
        "urgent": urgent,
        # Names this alert: the job, run twice, finds its delivery rows and adds none.
        "alert_key": uuid.uuid4().hex,
    }
    outbox.enqueue(session, STAFF_ALERT_JOB, payload)


# --- the staff_alert job: one delivery row per target, then one flush job per robot -------------


def record_alert(db: Database, payload: dict[str, Any]) -> None:
    """Job: write the alert's delivery rows (robots of its team; by email the named staff and the
    team's active supervisors, once each; suppressed while no SMTP is configured) and hand the
    robots to the flush job and the people to the email job, at the start of service hours for
    non-urgent work."""
    key = str(payload.get("alert_key") or uuid.uuid5(uuid.NAMESPACE_OID, repr(sorted(payload.items()))).hex)
    team_id = payload.get("team_id")
    urgent = bool(payload.get("urgent"))
    now = utcnow()
    with db.write() as session:
        robot_ids = robots_of_team(session, int(team_id)) if team_id is not None else []
        hold = now if urgent or team_id is None else _service_hours_start(session, int(team_id), now)
        existing = set(session.scalars(select(AlertDelivery.target).where(AlertDelivery.alert_key == key)))
        common = {
            "alert_key": key,
            "kind": str(payload["kind"])[:32],
            "text_zh": str(payload["text_zh"]),
            "text_en": str(payload["text_en"]),
            "ticket_id": payload.get("ticket_id"),
            "urgent": urgent,
            "hold_until": hold,
            "created_at": now,
        }
        for robot_id in robot_ids:
            if f"robot:{robot_id}" not in existing:
                session.add(AlertDelivery(target=f"robot:{robot_id}", robot_id=robot_id, status="pending", **common))
        people = staff_to_mail(session, [int(u) for u in payload.get("user_ids") or ()], team_id)
        emailed = False
        for user_id, active in people:
            if f"user:{user_id}" in existing:
                continue
            if not active:
                status, reason = "suppressed", INACTIVE
            elif not mail.enabled():
                status, reason = "suppressed", NO_EMAIL
            else:
                status, reason, emailed = "pending", None, True
            session.add(
                AlertDelivery(target=f"user:{user_id}", user_id=user_id, status=status, reason=reason, **common)
            )
        try:
            session.flush()
        except IntegrityError:
            raise RuntimeError("alert recorded concurrently; retrying") from None
        delay = max(hold - now, timedelta())
        for robot_id in robot_ids:
            outbox.enqueue(session, FLUSH_JOB, {"robot_id": robot_id}, delay=delay)
        if emailed:
            outbox.enqueue(session, EMAIL_JOB, {"alert_key": key}, delay=delay)


def staff_to_mail(session: Session, user_ids: list[int], team_id: Any) -> list[tuple[int, bool]]:
    """(user id, active) of the named staff that exist, then the team's active supervisors not
    named already: each person once, whatever the overlap."""
    named = sorted(set(user_ids))
    found: dict[int, bool] = {}
    if named:
        # Not dict(result): a Result has keys(), so dict() would read it as a mapping.
        for user_id, active in session.execute(select(User.id, User.active).where(User.id.in_(named))):
            found[user_id] = active
    people = [(user_id, bool(found[user_id])) for user_id in named if user_id in found]
    if team_id is not None:
        supervisors = session.scalars(
            select(User.id)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == int(team_id), User.role == Role.SUPERVISOR.value, User.active.is_(True))
            .order_by(User.id)
        )
        people += [(user_id, True) for user_id in supervisors if user_id not in found]
    return people


def robots_of_team(session: Session, team_id: int) -> list[int]:
    return list(
        session.scalars(
            select(AlertRobotTeam.robot_id).where(AlertRobotTeam.team_id == team_id).order_by(AlertRobotTeam.robot_id)
        )
    )


def _service_hours_start(session: Session, team_id: int, now: datetime) -> datetime:
    """`now` if the team is working, else the moment its service hours next start; a team whose
    calendar has no data for these dates counts as open, so an alert is never held for ever."""
    calendar = _calendar_for(session, team_id)
    if calendar is None:
        return now
    try:
        if calendar.is_open(now):
            return now
        # Zero business minutes from a closed moment is the next opening.
        return max(calendar.add_minutes(now, 0), now)
    except Exception:  # noqa: BLE001 - MissingCalendarData and the like: holding must never lose an alert
        return now


class _Calendar(Protocol):
    def is_open(self, at: datetime) -> bool: ...
    def add_minutes(self, start: datetime, minutes: int) -> datetime: ...


def _calendar_for(session: Session, team_id: int) -> _Calendar | None:
    """The team's working calendar, None if there is none."""
    try:
        # Imported here: the calendars package alerts staff through this module.
        from huiying.calendars import service as calendars
    except ImportError:  # an install without working calendars: always open
        return None
    try:
        return calendars.team_calendar(session, session.get(Team, team_id))
    except Exception:  # noqa: BLE001 - no calendar for the team: open
        return None


# --- configuration (admins) -----------------------------------------------------------------------


def list_robots(session: Session) -> list[AlertRobot]:
    return list(session.scalars(select(AlertRobot).order_by(AlertRobot.id)))


def team_slugs(session: Session, robot_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Team.slug)
            .join(AlertRobotTeam, AlertRobotTeam.team_id == Team.id)
            .where(AlertRobotTeam.robot_id == robot_id)
            .order_by(Team.slug)
        )
    )


def pending_count(session: Session, robot_id: int) -> int:
    """Alerts waiting for this robot: held for service hours, for its rate window, or retrying."""
    query = (
        select(func.count())
        .select_from(AlertDelivery)
        .where(AlertDelivery.robot_id == robot_id, AlertDelivery.status.in_(("pending", "sending")))
    )
    return int(session.scalar(query) or 0)


def masked_url(url: str) -> str:
    """The address with its query values hidden (a WeCom key, a DingTalk token), for pages."""
    parts = urlsplit(url)
    query = "&".join(f"{name}=…" for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def robot_url(robot: AlertRobot) -> str:
    return crypto.decrypt(robot.url_encrypted)


def robot_secret(robot: AlertRobot) -> str | None:
    return crypto.decrypt(robot.secret_encrypted) if robot.secret_encrypted else None


def _teams(session: Session, slugs: list[str]) -> list[Team]:
    wanted = sorted(set(slugs))
    found = list(session.scalars(select(Team).where(Team.slug.in_(wanted)).order_by(Team.slug)))
    missing = sorted(set(wanted) - {t.slug for t in found})
    if missing:
        raise InvalidInput(f"unknown teams: {', '.join(missing)}", code="unknown_team")
    return found


def _check(kind: str, secret: str | None) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"unknown robot kind {kind!r}", code="unknown_robot_kind")
    if kind == "wecom" and secret:
        # A WeCom robot's key is part of its URL; it has no signing secret.
        raise InvalidInput("a WeCom robot has no secret: its key is in the URL", code="wecom_no_secret")


def _set_teams(session: Session, robot: AlertRobot, teams: list[Team]) -> None:
    session.execute(delete(AlertRobotTeam).where(AlertRobotTeam.robot_id == robot.id))
    for team in teams:
        session.add(AlertRobotTeam(robot_id=robot.id, team_id=team.id))
    session.flush()


def _summary(session: Session, robot: AlertRobot) -> dict[str, Any]:
    """What the audit log keeps of a robot: never the URL's key or the secret."""
    return {
        "kind": robot.kind,
        "has_secret": robot.secret_encrypted is not None,
        "teams": team_slugs(session, robot.id),
    }


def create_robot(
    session: Session, *, kind: str, url: str, secret: str | None, teams: list[str], actor: Actor
) -> AlertRobot:
    """Add a robot for some teams (audited). Any address is allowed, private ones included:
    company gateways are often internal."""
    _check(kind, secret)
    found = _teams(session, teams)
    robot = AlertRobot(
        kind=kind,
        url_encrypted=crypto.encrypt(url),
        secret_encrypted=crypto.encrypt(secret) if secret else None,
        created_at=utcnow(),
        recent_sends=[],
    )
    session.add(robot)
    session.flush()
    _set_teams(session, robot, found)
    audit.record(
        session,
        actor=actor,
        action="alerts.robot_created",
        object_type="alert_robot",
        object_id=str(robot.id),
        after=_summary(session, robot),
    )
    return robot


def get_robot(session: Session, robot_id: int) -> AlertRobot:
    robot = session.get(AlertRobot, robot_id)
    if robot is None:
        raise NotFound("no such robot", code="unknown_robot")
    return robot


def update_robot(
    session: Session,
    robot: AlertRobot,
    *,
    changes: dict[str, Any],
    actor: Actor,
) -> AlertRobot:
    """Change a robot's kind, url, secret (None or "" removes it) or teams; audited."""
    before = _summary(session, robot)
    kind = str(changes.get("kind", robot.kind))
    secret = changes["secret"] if "secret" in changes else robot_secret(robot)
    _check(kind, secret)
    robot.kind = kind
    if "url" in changes:
        robot.url_encrypted = crypto.encrypt(str(changes["url"]))
        robot.last_error = None  # a new address: the old one's failure says nothing of it
        robot.last_error_at = None
    if "secret" in changes:
        robot.secret_encrypted = crypto.encrypt(secret) if secret else None
    if "teams" in changes:
        _set_teams(session, robot, _teams(session, list(changes["teams"])))
    session.flush()
    after = _summary(session, robot)
    if "url" in changes:
        after["url_changed"] = True
    if "secret" in changes:
        after["secret_changed"] = True
    audit.record(
        session,
        actor=actor,
        action="alerts.robot_updated",
        object_type="alert_robot",
        object_id=str(robot.id),
        before=before,
        after=after,
    )
    return robot


def delete_robot(session: Session, robot: AlertRobot, *, actor: Actor) -> None:
    before = _summary(session, robot)
    session.execute(delete(AlertRobotTeam).where(AlertRobotTeam.robot_id == robot.id))
    session.execute(delete(AlertDelivery).where(AlertDelivery.robot_id == robot.id))
    session.delete(robot)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alerts.robot_deleted",
        object_type="alert_robot",
        object_id=str(robot.id),
        before=before,
    )
