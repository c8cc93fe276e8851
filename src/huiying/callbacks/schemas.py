"""The JSON shapes of the call and call-back API (CONTRACT.md: `GET /api/v1/callbacks`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from huiying.kit.strings import CleanLine, CleanText, InputModel, VisibleText

# Only web links: a javascript: or file: link would run or open on the agent's machine.
WEB_LINK = r"(?i)^https?://\S+$"


class Outcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"


class Verdict(StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"
    NO_OPINION = "no_opinion"


class CallIn(InputModel):
    """A hotline call an agent logs. No `ticket`: the caller's open ticket, else a new one."""

    caller: Annotated[CleanLine, Field(min_length=5, max_length=32)]
    called_at: AwareDatetime | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=24 * 3600)] = 0
    recording_url: (
        Annotated[CleanLine, StringConstraints(pattern=r"(?i)^https?://\S+$"), Field(max_length=500)] | None
    ) = None
    summary: Annotated[VisibleText, Field(min_length=1, max_length=20_000)]
    ticket: Annotated[CleanLine, Field(max_length=32)] | None = None


class CallOut(BaseModel):
    ticket: str
    created: bool
    call_id: int


class CallbackItem(BaseModel):
    ticket: str
    due_at: datetime
    overdue: bool
    outcome: Outcome | None


class CallbackList(BaseModel):
    items: list[CallbackItem]


class OutcomeIn(InputModel):
    outcome: Outcome
    verdict: Verdict | None = None
    note: Annotated[CleanText, Field(max_length=2_000)] | None = None


class OutcomeOut(BaseModel):
    ticket: str
    due_at: datetime
    done_at: datetime | None
    overdue: bool
    outcome: Outcome | None
    verdict: Verdict | None
    attempts: int
