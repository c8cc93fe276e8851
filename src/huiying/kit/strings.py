"""Input strings made safe to store: no NUL or other control characters, valid UTF-8."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that take no room on screen: zero-width spaces and joiners, word joiner, BOM,
# soft hyphen, Mongolian vowel separator, the invisible math operators, Hangul fillers.
_INVISIBLE = re.compile(
    r"[\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u115f\u1160\u3164\uffa0]"
)
# No request body of ours nests deeper than a few levels; deeper ones are refused before the
# cleaning (or validation) recurses into them and runs out of stack.
MAX_DEPTH = 32


def clean(value: str) -> str:
    """Drop control characters (PostgreSQL refuses NUL) and replace lone surrogates."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", value)


def clean_line(value: str) -> str:
    """`clean`, on one line, trimmed: for titles, names and other single-line fields."""
    return " ".join(clean(value).split())


def has_visible(value: str) -> bool:
    """Whether a person can read anything in `value` (not only spaces and zero-width characters)."""
    return bool(_INVISIBLE.sub("", value))


def visible(value: str) -> str:
    """Refuse a text with nothing a person can read in it (spaces, zero-width characters)."""
    if not has_visible(value):
        raise PydanticCustomError("text_empty", "the text is empty: write at least a few words")
    return value


CleanText = Annotated[str, AfterValidator(clean)]
CleanLine = Annotated[str, AfterValidator(clean_line)]
# Cleaned, and with something to read in it: a description, a reply.
VisibleText = Annotated[str, AfterValidator(clean), AfterValidator(visible)]


def _clean_tree(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, (list, dict)) and depth >= MAX_DEPTH:
        raise PydanticCustomError(
            "too_deep", "the body is nested more than {max_depth} levels deep", {"max_depth": MAX_DEPTH}
        )
    if isinstance(value, list):
        return [_clean_tree(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _clean_tree(v, depth + 1) for k, v in value.items()}
    return value


class InputModel(BaseModel):
    """Base of every request body: unknown fields are refused, and every string anywhere in
    the body is cleaned of NUL and control characters before validation."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _clean_strings(cls, data: Any) -> Any:
        return _clean_tree(data)
