"""Input strings made safe to store: no NUL or other control characters, valid UTF-8."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

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
