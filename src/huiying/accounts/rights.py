"""The rights version: how every server process learns at once that someone's rights changed.

Token lookups are cached per process (api/deps.py) and a live event stream keeps its viewer for
as long as it runs (web/live.py). Both compare the `users.rights_version` they started from with
the current one on every request or poll — one indexed single-row read — and rebuild on a
difference. So every change to what a person may do (role, teams, active, the team tree) raises
it in the transaction that makes the change; logout and revocation are read from the token or
session row in that same query.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from huiying.accounts.models import User


def changed(session: Session, user_ids: Iterable[int] | None) -> None:
    """Raise the rights version of these staff members (None: everyone, for team-tree changes).

    One UPDATE that adds 1 in the database, never a value computed in Python: two concurrent
    changes must end on two different versions, or a process could keep rights built between them.
    """
    statement = update(User).values(rights_version=User.rights_version + 1)
    if user_ids is not None:
        ids = sorted(set(user_ids))
        if not ids:
            return
        statement = statement.where(User.id.in_(ids))
    session.execute(statement, execution_options={"synchronize_session": False})
