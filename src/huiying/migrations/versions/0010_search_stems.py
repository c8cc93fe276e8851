"""Search keeps the Snowball stem of English words (kit/text.py): rebuild the stored search
terms of every ticket so "crash" also finds tickets written before. Data only; the downgrade
writes the plain words back, as the code before this revision queries them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from huiying.kit.text import segment
from huiying.tickets.search_index import reindex

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    reindex(op.get_bind())


def downgrade() -> None:
    reindex(op.get_bind(), tokens_of=lambda text: " ".join(segment(text)))
