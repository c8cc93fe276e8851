"""Staff alert robots (a WeCom / DingTalk / Feishu group webhook per row, for some teams) and one
delivery row per alert and target: the honest record of what reached which robot or person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, JSONType, UTCDateTime
from huiying.kit.clock import utcnow


class AlertRobot(Base):
    __tablename__ = "alert_robots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # wecom | dingtalk | feishu
    # Both encrypted at rest: a WeCom or DingTalk URL carries its key, so it is a secret too.
    url_encrypted: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it last took messages (ISO strings, only those inside its widest rate window), when it
    # said "too fast" last, and the last failure an admin should see.
    recent_sends: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a flush is already scheduled for (while the rate window is full): a burst schedules one.
    flush_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertRobotTeam(Base):
    __tablename__ = "alert_robot_teams"

    robot_id: Mapped[int] = mapped_column(ForeignKey("alert_robots.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class AlertDelivery(Base):
    """pending → sending → sent, or suppressed (no way to reach the person yet); held pending
    until `hold_until` (service hours). Pending rows of one robot go out merged in one message."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        # One row per alert and target: a staff_alert job run twice adds nothing.
        UniqueConstraint("alert_key", "target"),
        Index("ix_alert_deliveries_robot_id_status", "robot_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_key: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(32))  # "robot:<id>" or "user:<id>"
    robot_id: Mapped[int | None] = mapped_column(ForeignKey("alert_robots.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(String(64))
    hold_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while a run is sending: another run leaves it alone; a run that died loses it on expiry.
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
