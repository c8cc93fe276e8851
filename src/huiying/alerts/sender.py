"""The `alert_robot_flush` job: send a robot's due alerts as ONE message, within its rate limit.

Every alert for a robot is a pending delivery row. A flush takes all of them that are due (past
their service-hours hold), and, if the robot's rate window allows a message now, sends them as
one message (one alert as itself, several as a digest); otherwise it schedules itself for the
moment the window allows. So a burst of 50 SLA warnings costs a robot at most its limit of
messages, the rest merged, and none is dropped. The rows are claimed (`sending`, with a lease)
in one transaction under the robot's row lock, sent outside any transaction, and the outcome
written in a third; a failure puts them back to pending, shows on the robot (`last_error`) and
raises so the job machinery retries with its backoff. Safe to run twice: a second run finds
nothing pending, or waits for the lease.

The `alert_email_send` job does the same for one alert's email deliveries (the named staff and
the team's supervisors): claimed, sent over one SMTP connection outside any transaction, each
row then `sent` or `failed` with its error in `reason`; a failure raises, so the outbox retries
the failed ones with its backoff, and a sent one is never sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update

from huiying.accounts.models import User
from huiying.alerts import mail, robots
from huiying.alerts.models import AlertDelivery, AlertRobot
from huiying.alerts.service import (
    EMAIL_JOB,
    FLUSH_JOB,
    STAFF_ALERT_JOB,
    record_alert,
    robot_secret,
    robot_url,
)
from huiying.db import Database
from huiying.jobs import outbox, registry
from huiying.kit.clock import utcnow

SENDING_LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 10.0
# More than this many alerts in one digest are counted ("… N more"), not listed.
MAX_PER_DIGEST = 200


@dataclass(frozen=True)
class _Claimed:
    delivery_ids: list[int]
    request: robots.Request


def flush_robot(db: Database, payload: dict[str, Any]) -> None:
    """Job: send robot `payload["robot_id"]`'s due alerts as one message, or schedule a later flush."""
    robot_id = int(payload["robot_id"])
    claimed = _claim(db, robot_id)
    if claimed is None:
        return
    try:
        response = httpx.post(claimed.request.url, json=claimed.request.body, timeout=TIMEOUT_SECONDS)
        answer = robots.read_answer(response.status_code, response.text)
    except httpx.HTTPError as exc:
        answer = robots.Answer(f"{type(exc).__name__}: {exc}"[:500])
    _record(db, robot_id, claimed.delivery_ids, answer)
    if answer.error is not None:
        raise RuntimeError(answer.error)  # the outbox retries with its backoff


def _claim(db: Database, robot_id: int) -> _Claimed | None:
    now = utcnow()
    with db.write() as session:
        robot = session.get(AlertRobot, robot_id, with_for_update=True, populate_existing=True)
        if robot is None:
            return None
        rows = list(
            session.scalars(
                select(AlertDelivery)
                .where(
                    AlertDelivery.robot_id == robot_id,
                    AlertDelivery.hold_until <= now,
                    or_(
                        AlertDelivery.status == "pending",
                        # A run that died while sending: its lease is over, the rows are ours.
                        (AlertDelivery.status == "sending") & (AlertDelivery.sending_until < now),
                    ),
                )
                .order_by(AlertDelivery.id)
            )
        )
        if not rows:
            return None
        recent = [datetime.fromisoformat(t) for t in robot.recent_sends or []]
        allowed_at = robots.next_send_at(robot.kind, recent, now=now, throttled_until=robot.throttled_until)
        if allowed_at > now:
            # One flush for the moment the window opens, however many alerts are waiting.
            scheduled = robot.flush_at
            if scheduled is None or scheduled <= now or scheduled > allowed_at:
                outbox.enqueue(session, FLUSH_JOB, {"robot_id": robot_id}, delay=allowed_at - now)
                robot.flush_at = allowed_at
            return None
        # Urgent ones first in a digest: they are what a reader must not miss.
        rows.sort(key=lambda row: (not row.urgent, row.id))
        alerts = [(row.text_zh, row.text_en) for row in rows[:MAX_PER_DIGEST]]
        alerts += [("…", "…")] * (len(rows) - len(alerts))
        text = robots.digest_text(alerts, limit=robots.MAX_TEXT_BYTES[robot.kind])
        request = robots.build_request(robot.kind, url=robot_url(robot), secret=robot_secret(robot), text=text, now=now)
        for row in rows:
            row.status = "sending"
            row.sending_until = now + SENDING_LEASE
        robot.recent_sends = [t.isoformat() for t in robots.keep_recent(robot.kind, [*recent, now], now=now)]
        return _Claimed([row.id for row in rows], request)


def _record(db: Database, robot_id: int, delivery_ids: list[int], answer: robots.Answer) -> None:
    now = utcnow()
    with db.write() as session:
        robot = session.get(AlertRobot, robot_id, populate_existing=True)
        sending = (AlertDelivery.id.in_(delivery_ids), AlertDelivery.status == "sending")
        if answer.error is None:
            session.execute(
                update(AlertDelivery).where(*sending).values(status="sent", sent_at=now, sending_until=None)
            )
            if robot is not None:
                robot.last_sent_at = now
            return
        session.execute(update(AlertDelivery).where(*sending).values(status="pending", sending_until=None))
        if robot is not None:
            robot.last_error = answer.error
            robot.last_error_at = now
            if answer.throttled:
                robot.throttled_until = now + robots.THROTTLE_PENALTY


# --- the alert_email_send job: one alert's mails to staff ------------------------------------------

# `reason` is short (64): the full error of a failed run stays on the outbox job.
REASON_CHARS = 64


def send_alert_emails(db: Database, payload: dict[str, Any]) -> None:
    """Job: mail alert `payload["alert_key"]` to each person whose delivery is due and not sent."""
    key = str(payload["alert_key"])
    claimed = _claim_emails(db, key)
    if not claimed:
        return
    results = mail.send_all([m for _, m in claimed])
    now = utcnow()
    with db.write() as session:
        for (delivery_id, _), error in zip(claimed, results, strict=True):
            sending = (AlertDelivery.id == delivery_id, AlertDelivery.status == "sending")
            values: dict[str, Any] = (
                {"status": "sent", "sent_at": now, "reason": None}
                if error is None
                else {"status": "failed", "reason": error[:REASON_CHARS]}
            )
            session.execute(update(AlertDelivery).where(*sending).values(sending_until=None, **values))
    errors = sorted({e for e in results if e is not None})
    if errors:
        raise RuntimeError("; ".join(errors)[:1000])  # the outbox retries with its backoff


def _claim_emails(db: Database, key: str) -> list[tuple[int, mail.Mail]]:
    now = utcnow()
    with db.write() as session:
        rows = list(
            session.execute(
                select(AlertDelivery, User.email)
                .join(User, User.id == AlertDelivery.user_id)
                .where(
                    AlertDelivery.alert_key == key,
                    or_(
                        AlertDelivery.status.in_(("pending", "failed")),
                        (AlertDelivery.status == "sending") & (AlertDelivery.sending_until < now),
                    ),
                )
                .order_by(AlertDelivery.id)
                .with_for_update(of=AlertDelivery)
            )
        )
        if not mail.enabled():
            for row, _ in rows:
                row.status, row.reason, row.sending_until = "suppressed", mail.NO_SMTP, None
            return []
        held = [row.hold_until for row, _ in rows if row.hold_until > now]
        if held:
            # Run early (a retry, a second hand-over): come back when the held ones are due.
            outbox.enqueue(session, EMAIL_JOB, {"alert_key": key}, delay=min(held) - now)
        claimed: list[tuple[int, mail.Mail]] = []
        for row, email in rows:
            if row.hold_until > now:
                continue
            row.status = "sending"
            row.sending_until = now + SENDING_LEASE
            message = mail.alert_mail(to=email, text_zh=row.text_zh, text_en=row.text_en, message_key=f"alert{row.id}")
            claimed.append((row.id, message))
        return claimed


def register_jobs() -> None:
    registry.register(STAFF_ALERT_JOB, record_alert)
    registry.register(FLUSH_JOB, flush_robot)
    registry.register(EMAIL_JOB, send_alert_emails)
