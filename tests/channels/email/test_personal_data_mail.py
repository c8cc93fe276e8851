"""A data-subject request reaches the email channel's own records (channels/email/personal_data.py
through privacy/dsr.py), on both back ends: the export lists the person's mails and their
quarantined ones; erasure clears them, deletes the quarantined raw mail from disk, leaves other
people's alone, and still knows a replay of the erased mail when the mailbox is read again."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from mail_samples import mail, take
from sqlalchemy import select

from conftest import StaffLogin
from huiying.channels.email.models import MailMessage, MailQuarantine
from huiying.config import Settings
from huiying.db import Database

PERSON = "li.lei@example.net"
OTHER = "han.mei@example.net"


def test_a_persons_mails_are_exported_and_erased_and_a_replay_stays_out(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    limited = settings.model_copy(update={"mail_flood_per_hour": 1})
    first = mail(sender=PERSON, subject="会员充值失败", body="钱扣了会员没到账")
    assert take(db, limited, first).result == "imported"
    flooded = take(
        db, limited, mail(sender=PERSON, subject="再问一次", body="还是没到账", date="Wed, 02 Dec 2026 10:05:00 +0800")
    )
    assert flooded.result == "quarantined"  # more new tickets in an hour than the limit
    assert take(db, limited, mail(sender=OTHER, subject="直播卡顿", body="一直卡")).result == "imported"
    quarantine = Path(settings.quarantine_dir)
    assert len(list(quarantine.glob("*.eml"))) == 1

    exported = app_client.post("/api/v1/privacy/export", json={"contact": PERSON}, headers=admin.headers)
    assert exported.status_code == 200, exported.text
    data = exported.json()
    assert [(m["kind"], m["outcome"]) for m in data["mails"]] == [("normal", "imported")]
    assert [(q["subject"], q["status"]) for q in data["quarantined_mails"]] == [("再问一次", "open")]

    erased = app_client.post("/api/v1/privacy/erase", json={"contact": PERSON}, headers=admin.headers)
    assert erased.status_code == 200, erased.text
    # The ticket's files (the original mail) and the quarantined raw mail; a record and an entry.
    assert erased.json() == {"tickets": 1, "messages": 0, "files": 2, "mails": 2}
    assert list(quarantine.glob("*.eml")) == []
    with db.read() as session:
        rows = session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
        (entry,) = session.scalars(select(MailQuarantine)).all()
        assert [r.sender_digest is None for r in rows] == [True, False]  # the other sender keeps theirs
        assert (entry.subject, entry.sender_masked, entry.sender_digest, entry.status) == (None, None, None, "dropped")
    again = app_client.post("/api/v1/privacy/export", json={"contact": PERSON}, headers=admin.headers).json()
    assert (again["tickets"], again["mails"], again["quarantined_mails"]) == ([], [], [])  # nothing leads back

    # The mailbox read again: the erased mail is a replay, not a new ticket with the person back in it.
    assert take(db, limited, first).result == "duplicate"
