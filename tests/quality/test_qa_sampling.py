"""The weekly QA sample (issue: QA sampling; SPEC.md §7), on both back ends: per agent, a seeded
and so reproducible draw of the tickets they resolved in the week, of the configured size, each
given in turn to a QA person who did not work on it; last week by default, from the API, the
periodic job and the CLI; a run again adds nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from qa_helpers import IN_WEEK, MONDAY_AFTER, NEXT_WEEK, THIS_WEEK, WEEK, handled, sampled, staff, user_id
from sqlalchemy import delete, select

from conftest import StaffLogin, login
from huiying.accounts import service as accounts
from huiying.accounts.models import User
from huiying.app import create_app
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs import registry
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.quality import samples, sampling
from huiying.quality.models import QASample
from huiying.tickets import repository
from huiying.tickets import service as tickets
from huiying.tickets.models import Ticket
from test_cli import huiying


def _run(client: TestClient, who: StaffLogin, week: str | None = WEEK) -> dict[str, Any]:
    answer = client.post("/api/v1/qa/samples", json={"week": week} if week else {}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _ids(db: Database, numbers: list[str]) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(Ticket.id).where(Ticket.number.in_(numbers))))


def test_each_agents_sample_is_seeded_sized_and_drawn_again_the_same(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    ann, bob = staff(app_client, db, Role.AGENT, "ann"), staff(app_client, db, Role.AGENT, "bob")
    anns = [handled(app_client, admin, ann) for _ in range(7)]
    bobs = [handled(app_client, admin, bob, status="closed") for _ in range(3)]
    handled(app_client, admin, ann, at=NEXT_WEEK)  # another week
    handled(app_client, admin, ann, status="open")  # not handled yet

    first = _run(app_client, qa)
    assert (first["week"], first["created"], first["agents"]) == (WEEK, 8, 2)
    drawn = sampled(db)
    assert set(drawn) <= set(anns) | set(bobs)
    assert len(set(drawn) & set(anns)) == 5  # HUIYING_QA_SAMPLE_PER_AGENT's default
    assert set(drawn) & set(bobs) == set(bobs)  # fewer than 5: all of them
    # The draw is the seeded one anyone can recompute from the week and the agent.
    expected = sampling.draw(_ids(db, anns), size=5, seed=sampling.seed_for(WEEK, user_id(db, ann)))
    assert sorted(expected) == sorted(_ids(db, [n for n in drawn if n in anns]))

    again = _run(app_client, qa)
    assert again["created"] == 0 and sampled(db) == drawn  # idempotent
    with db.write() as session:
        session.execute(delete(QASample))
    assert _run(app_client, qa)["created"] == 8
    assert set(sampled(db)) == set(drawn)  # reproducible: the same tickets again

    timeline = app_client.get(f"/api/v1/tickets/{next(iter(drawn))}/timeline", headers=admin.headers).json()
    assert [e["data"]["week"] for e in timeline["events"] if e["action"] == "qa_sampled"] == [WEEK, WEEK]


@pytest.fixture
def two_per_agent(settings: Settings, db: Database) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"qa_sample_per_agent": 2}), db)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        samples.configure(per_agent=samples.DEFAULT_PER_AGENT, timezone=settings.timezone)


def test_the_sample_size_is_the_setting(two_per_agent: TestClient, db: Database) -> None:
    admin = login(two_per_agent, db, email="admin2@example.com", role=Role.ADMIN)
    qa = staff(two_per_agent, db, Role.QA, "qa1")
    ann = staff(two_per_agent, db, Role.AGENT, "ann")
    for _ in range(4):
        handled(two_per_agent, admin, ann)
    assert _run(two_per_agent, qa)["created"] == 2
    assert Settings(qa_sample_per_agent=3).qa_sample_per_agent == 3
    with pytest.raises(ValueError):
        Settings(qa_sample_per_agent=-1)


def test_a_qa_person_is_never_given_a_ticket_they_worked_on(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    q1, q2 = staff(app_client, db, Role.QA, "qa1"), staff(app_client, db, Role.QA, "qa2")
    ann = staff(app_client, db, Role.AGENT, "ann")
    numbers = [handled(app_client, admin, ann) for _ in range(5)]
    noted = numbers[2]
    with db.write() as session:  # qa1 wrote on this one (say, before moving to QA)
        user = session.scalars(select(User).where(User.email == q1.email)).one()
        ticket = repository.get_by_number(session, noted)
        actor = accounts.actor_for(session, user)
        tickets.add_reply(session, ticket, body="内部备注", internal=True, actor=actor, settings=settings)

    _run(app_client, q1)
    given = sampled(db)
    assert set(given) == set(numbers)
    assert given[noted] == q2.email
    assert sorted(Counter(given.values()).values()) == [2, 3]  # in turn
    # And qa1 may not score it by hand either.
    refused = app_client.post(f"/api/v1/tickets/{noted}/qa-reviews", json={"score": 90}, headers=q1.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "own_work")


def test_a_ticket_every_qa_person_worked_on_is_sampled_for_nobody(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    ann = staff(app_client, db, Role.AGENT, "ann")
    number = handled(app_client, admin, ann)
    with db.write() as session:
        user = session.scalars(select(User).where(User.email == qa.email)).one()
        actor = accounts.actor_for(session, user)
        ticket = repository.get_by_number(session, number)
        tickets.add_reply(session, ticket, body="备注", internal=True, actor=actor, settings=settings)
    _run(app_client, qa)
    assert sampled(db) == {number: None}
    mine = app_client.get("/api/v1/qa/samples", params={"week": WEEK, "mine": 1}, headers=qa.headers).json()
    assert mine["items"] == []
    everyone = app_client.get("/api/v1/qa/samples", params={"week": WEEK}, headers=qa.headers).json()
    assert [(i["ticket"], i["reviewer"]) for i in everyone["items"]] == [(number, None)]


def test_without_a_week_the_api_and_the_job_sample_last_week(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    ann = staff(app_client, db, Role.AGENT, "ann")
    number = handled(app_client, admin, ann, at=IN_WEEK)
    assert "qa_sample" in {job.name for job in registry.periodic_jobs()}

    with frozen(MONDAY_AFTER):
        samples.sample_job(db)
        samples.sample_job(db)  # hourly: the second run of the week finds it done
    assert sampled(db) == {number: qa.email}
    with frozen(MONDAY_AFTER):
        answer = _run(app_client, qa, week=None)
        listed = app_client.get("/api/v1/qa/samples", params={"mine": 1}, headers=qa.headers).json()
    assert (answer["week"], answer["created"]) == (WEEK, 0)
    assert listed["weeks"] == [WEEK, THIS_WEEK]
    assert [(i["ticket"], i["agent"], i["scored"]) for i in listed["items"]] == [(number, ann.email, False)]


def test_a_bad_week_is_a_422_and_only_qa_and_supervisors_sample(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    agent = staff(app_client, db, Role.AGENT, "ann")
    lead = staff(app_client, db, Role.SUPERVISOR, "lead")
    for week in ("2026-W54", "49", "2026-w49x"):
        answer = app_client.post("/api/v1/qa/samples", json={"week": week}, headers=qa.headers)
        assert answer.status_code == 422, (week, answer.text)
        assert "error" in answer.json()
    bad_query = app_client.get("/api/v1/qa/samples", params={"week": "2026-W60"}, headers=qa.headers)
    assert (bad_query.status_code, bad_query.json()["error"]["code"]) == (422, "invalid_week")
    assert app_client.post("/api/v1/qa/samples", json={}, headers=agent.headers).status_code == 403
    assert app_client.get("/api/v1/qa/samples", headers=agent.headers).status_code == 403
    assert app_client.post("/api/v1/qa/samples", json={"week": WEEK}, headers=lead.headers).status_code == 201


def test_the_cli_samples_a_week(tmp_path: Path) -> None:
    assert huiying(tmp_path, "db", "upgrade").returncode == 0
    result = huiying(tmp_path, "qa", "sample", "--week", "2026-W08")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "week=2026-W08 sampled=0 agents=0"
    bad = huiying(tmp_path, "qa", "sample", "--week", "2026-48")
    assert bad.returncode == 2 and "ISO week" in bad.stderr
