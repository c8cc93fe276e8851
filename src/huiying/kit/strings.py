"""Input strings made safe to store: no NUL or other control characters, valid UTF-8."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean(value: str) -> str:
    """Drop control characters (PostgreSQL refuses NUL) and replace lone surrogates."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", value)


def clean_line(value: str) -> str:
    """`clean`, on one line, trimmed: for titles, names and other single-line fields."""
    return " ".join(clean(value).split())


CleanText = Annotated[str, AfterValidator(clean)]
CleanLine = Annotated[str, AfterValidator(clean_line)]


def _clean_tree(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_clean_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_tree(v) for k, v in value.items()}
    return value


class InputModel(BaseModel):
    """Base of every request body: unknown fields are refused, and every string anywhere in
    the body is cleaned of NUL and control characters before validation."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _clean_strings(cls, data: Any) -> Any:
        return _clean_tree(data)
