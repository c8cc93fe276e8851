"""The JSON shapes of the QA API (CONTRACT.md: qa-reviews, qa/samples, reports/qa)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from huiying.kit.strings import CleanLine, CleanText, InputModel
from huiying.quality.scoring import Criteria

Item = Annotated[int, Field(ge=1, le=5)]
FORM_ITEMS = ("accuracy", "tone", "timeliness", "process")


class ReviewIn(InputModel):
    """A plain `score` (0-100), or the form's items (1-5) it is computed from; both: the score
    given wins. `callback` left out on a phone ticket: the call-back's own outcome (null: none)."""

    score: Annotated[int, Field(ge=0, le=100)] | None = None
    accuracy: Item | None = None
    tone: Item | None = None
    timeliness: Item | None = None
    process: Item | None = None
    callback: Item | None = None
    comment: Annotated[CleanText, Field(max_length=5000)] = ""

    @model_validator(mode="after")
    def _score_or_form(self) -> ReviewIn:
        given = [name for name in FORM_ITEMS if getattr(self, name) is not None]
        if given and len(given) < len(FORM_ITEMS):
            missing = ", ".join(name for name in FORM_ITEMS if name not in given)
            raise ValueError(f"the form needs all of accuracy, tone, timeliness and process (missing: {missing})")
        if not given and self.score is None:
            raise ValueError("give a score (0-100) or accuracy, tone, timeliness and process (1-5 each)")
        return self

    @property
    def callback_given(self) -> bool:
        return "callback" in self.model_fields_set

    def form(self, *, callback: int | None) -> Criteria | None:
        """The form's criteria with this call-back item (None: a plain score was given)."""
        if self.accuracy is None or self.tone is None or self.timeliness is None or self.process is None:
            return None
        return Criteria(
            accuracy=self.accuracy, tone=self.tone, timeliness=self.timeliness, process=self.process, callback=callback
        )


class ReviewOut(BaseModel):
    id: int
    score: int
    comment: str
    created_at: datetime
    accuracy: int | None = None
    tone: int | None = None
    timeliness: int | None = None
    process: int | None = None
    callback: int | None = None


class SampleRunIn(InputModel):
    week: Annotated[CleanLine, Field(max_length=8)] | None = None  # default: last week


class SampleOut(BaseModel):
    id: int
    week: str
    ticket: str
    agent: str  # email
    reviewer: str | None  # email; null when every QA person worked on the ticket
    scored: bool
    score: int | None


class SampleRunOut(BaseModel):
    week: str
    created: int  # 0 when the week was sampled already
    agents: int
    items: list[SampleOut]


class SampleList(BaseModel):
    weeks: list[str]
    items: list[SampleOut]


class AgentWeekOut(BaseModel):
    agent: str  # email; "—" for reviews of unassigned tickets
    week: str | None  # null in `agents`: the whole span
    reviews: int
    score: float
    accuracy: float | None
    tone: float | None
    timeliness: float | None
    process: float | None
    callback: float | None


class QAReport(BaseModel):
    weeks: list[str]
    items: list[AgentWeekOut]  # per agent and week
    agents: list[AgentWeekOut]  # per agent over `weeks`
