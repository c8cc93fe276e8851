"""JSON shapes of availability and skills."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from huiying.assignment.modes import Availability
from huiying.kit.strings import InputModel

Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=48)]


class AvailabilityIn(InputModel):
    availability: Availability


class SkillsIn(InputModel):
    skills: Annotated[list[Skill], Field(max_length=50)]


class WorkStateOut(BaseModel):
    """What assignment knows of a person."""

    email: str
    availability: str
    skills: list[str]
