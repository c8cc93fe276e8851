"""staff alert robots (WeCom, DingTalk, Feishu), the teams each serves, and one delivery row per
alert and target (robot or person).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alert_robots",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("recent_sends", JSON, nullable=False),
        sa.Column("throttled_until", TIME, nullable=True),
        sa.Column("last_sent_at", TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", TIME, nullable=True),
        sa.Column("flush_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_robots")),
    )
    op.create_table(
        "alert_robot_teams",
        sa.Column("robot_id", BIG_ID, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["robot_id"],
            ["alert_robots.id"],
            name=op.f("fk_alert_robot_teams_robot_id_alert_robots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_alert_robot_teams_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("robot_id", "team_id", name=op.f("pk_alert_robot_teams")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("alert_key", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("robot_id", BIG_ID, nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("hold_until", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("sent_at", TIME, nullable=True),
        sa.Column("sending_until", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["robot_id"],
            ["alert_robots.id"],
            name=op.f("fk_alert_deliveries_robot_id_alert_robots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_alert_deliveries_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_deliveries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("alert_key", "target", name=op.f("uq_alert_deliveries_alert_key_target")),
    )
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.create_index("ix_alert_deliveries_robot_id_status", ["robot_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_index("ix_alert_deliveries_robot_id_status")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_robot_teams")
    op.drop_table("alert_robots")
