"""Compensation in JSON: what the API takes and answers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool

from huiying.kit.strings import CleanText, InputModel

Kind = Literal["coupon", "points", "refund", "membership_days", "other"]
Unit = Literal["CNY", "points", "days"]


class CompensationIn(InputModel):
    kind: Kind
    # Above 0, two decimals, Numeric(12, 2); points and days must be whole (the service checks).
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    unit: Unit | None = Field(default=None, description="default: CNY for coupon/refund/other, points, days")
    note: Annotated[CleanText, Field(max_length=500)] = ""


class DecisionIn(InputModel):
    approve: StrictBool


class CompensationOut(BaseModel):
    id: int
    ticket: str
    kind: str
    amount: Decimal
    unit: str
    note: str
    status: str
    proposed_by: str | None  # staff email
    approved_by: str | None  # who decided (approved or rejected)
    created_at: datetime
    decided_at: datetime | None
    text_zh: str
    text_en: str


class CategoryTotalOut(BaseModel):
    category: str | None
    count: int
    tickets: int
    sums: dict[str, Decimal]


class CompensationReport(BaseModel):
    since: datetime
    until: datetime
    items: list[CategoryTotalOut]
