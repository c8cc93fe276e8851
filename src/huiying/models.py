"""Every table of the application, imported in one place so the metadata is complete."""

from huiying.accounts.models import AccessToken, Team, TeamMember, User
from huiying.categories.models import Category
from huiying.db import Base
from huiying.tickets.models import (
    Attachment,
    IntakeKey,
    Message,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketTag,
)
from huiying.worker.models import OutboxJob

metadata = Base.metadata

__all__ = [
    "AccessToken",
    "Attachment",
    "Category",
    "IntakeKey",
    "Message",
    "OutboxJob",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "TicketTag",
    "User",
    "metadata",
]
