"""Every table of the application, imported in one place so the metadata is complete."""

from huiying.accounts.models import AccessToken, Team, TeamMember, User
from huiying.alerts.models import AlertDelivery, AlertRobot, AlertRobotTeam
from huiying.audit.models import AuditEntry, AuditHead
from huiying.calendars.models import CalendarDay, CalendarYear, WorkSchedule
from huiying.callbacks.models import Callback, CallLog
from huiying.categories.models import Category
from huiying.channels.email.models import MailAccount, MailMessage, MailQuarantine
from huiying.channels.models import MessageDelivery
from huiying.compensation.models import Compensation
from huiying.db import Base
from huiying.jobs.models import OutboxJob, PeriodicJob
from huiying.macros.models import Macro
from huiying.moderation.models import Freeze
from huiying.portal.models import PortalCode
from huiying.quality.models import QAReview, QASample
from huiying.routing.models import RoutingRuleRow
from huiying.sla.models import SlaPolicyRow
from huiying.suggestions.models import SuggestionGroup, SuggestionMember, SuggestionVote
from huiying.surveys.models import SurveyResponse
from huiying.tickets.models import (
    Attachment,
    IntakeKey,
    Message,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketTag,
)
from huiying.triage.models import ModelVersion, TriageLabel, TriageRule
from huiying.web.models import WebSession

metadata = Base.metadata

__all__ = [
    "AccessToken",
    "AlertDelivery",
    "AlertRobot",
    "AlertRobotTeam",
    "Attachment",
    "AuditEntry",
    "AuditHead",
    "CalendarDay",
    "CalendarYear",
    "CallLog",
    "Callback",
    "Category",
    "Compensation",
    "Freeze",
    "IntakeKey",
    "Macro",
    "MailAccount",
    "MailMessage",
    "MailQuarantine",
    "Message",
    "MessageDelivery",
    "ModelVersion",
    "OutboxJob",
    "PeriodicJob",
    "PortalCode",
    "QAReview",
    "QASample",
    "RoutingRuleRow",
    "SlaPolicyRow",
    "SuggestionGroup",
    "SuggestionMember",
    "SuggestionVote",
    "SurveyResponse",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "TicketTag",
    "TriageLabel",
    "TriageRule",
    "User",
    "WebSession",
    "WorkSchedule",
    "metadata",
]
