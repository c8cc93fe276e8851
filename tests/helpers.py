"""Small helpers shared by tests."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from huiying.db import Database
from huiying.tickets.models import Ticket, TicketEvent


def feedback(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "app",
        "user_id": "u10001",
        "contact": "13812345678",
        "title": "支付失败",
        "description": "充值会员的时候提示支付失败，但是钱已经扣了。",
        "category": "technical",
        "subcategory": "payment-failure",
        "device": {"os": "iOS 17.4", "model": "iPhone 13"},
        "app_version": "5.2.0",
        "city": "杭州",
        "links": {"order_no": "DD202611230001"},
    }
    body.update(overrides)
    return body


def submit(client: TestClient, body: dict[str, Any] | None = None, **headers: str) -> Any:
    headers = {"Idempotency-Key": str(uuid.uuid4()), **headers}
    answer = client.post("/api/v1/feedback", json=body or feedback(), headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def counts(db: Database) -> tuple[int, int]:
    """How many tickets and events are stored: to prove a refused request wrote nothing."""
    with db.read() as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        events = session.scalar(select(func.count()).select_from(TicketEvent)) or 0
        return tickets, events
