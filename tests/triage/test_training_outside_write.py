"""Training a model holds no write transaction: on SQLite one would block intake for as long as
the model trains. The labels are read, the model trained, then one short write stores it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from huiying.db import Database, Timeouts
from huiying.kit.clock import utcnow
from huiying.triage import service as triage
from huiying.triage.classifier import TextClassifier
from huiying.triage.models import ModelVersion, TriageLabel


def _writes_go_through_meanwhile(db: Database) -> bool:
    """Whether another writer gets in right now (and no transaction of ours sits open)."""
    if db.is_sqlite:
        other = Database(db.url, Timeouts(lock=0.5, sqlite_busy=0.5))
        try:
            with other.write() as session:  # BEGIN IMMEDIATE: waits for a writer holding the file
                session.execute(text("DELETE FROM triage_labels WHERE id = -1"))
            return True
        except OperationalError:  # database is locked: a writer holds it
            return False
        finally:
            other.dispose()
    with db.engine.connect() as connection:
        waiting = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
    return waiting == 0


def test_the_train_job_trains_outside_the_write_transaction(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.write() as session:
        for i in range(30):
            for label, words in (("pay", "支付失败 扣款"), ("crash", "闪退 崩溃")):
                session.add(
                    TriageLabel(
                        target="category", text=f"{words} 第{i}次", label=label, source="csv", created_at=utcnow()
                    )
                )
    seen: list[bool] = []
    real = TextClassifier.train.__func__  # type: ignore[attr-defined]

    def watched(cls: type[TextClassifier], *args: Any, **kwargs: Any) -> TextClassifier:
        seen.append(_writes_go_through_meanwhile(db))
        return real(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(TextClassifier, "train", classmethod(watched))
    triage.train_job(db, {"target": "category", "by": "admin@example.com"})

    assert seen == [True]
    with db.read() as session:
        stored = session.query(ModelVersion).filter_by(target="category").one()
    assert stored.version == 1
    assert not stored.active and stored.note.startswith("not activated: held-out set of 12 rows")
