"""The one way domain code alerts staff: `alert_staff` queues the alert in the caller's
transaction; the `staff_alert` job sends it after commit (to the team's robots, merged into a
digest when a burst would break a robot's rate limit, held outside service hours unless urgent)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from huiying.jobs import outbox

STAFF_ALERT_JOB = "staff_alert"


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
    }
    outbox.enqueue(session, STAFF_ALERT_JOB, payload)
