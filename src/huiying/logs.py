"""Logging set-up: every line passes through the PII mask before it is written.

The mask is applied to the formatted line — message, exception text and traceback together —
because a database error carries the failing row or key in its text (PostgreSQL's DETAIL) and
SQLAlchemy would print the statement's parameters. Engines hide parameters (db.py); this is the
net behind that for every other logger (uvicorn's, Celery's, a library's).
"""

from __future__ import annotations

import logging
import re
from typing import IO, Any

from huiying.kit.masking import mask_text

# `[parameters: (...)]` of an engine without hide_parameters; PostgreSQL's DETAIL lines that
# quote the row or the key that failed.
_PARAMETERS = re.compile(r"^\[parameters: .*$", re.MULTILINE)
_FAILING_ROW = re.compile(r"Failing row contains \(.*\)")
_KEY_VALUE = re.compile(r"Key \(([^)]*)\)=\(.*?\)(?= already exists| is not present|\s*$)", re.MULTILINE)


def mask_log_text(text: str) -> str:
    """A log line with personal data masked and statement values removed."""
    text = _PARAMETERS.sub("[parameters hidden]", text)
    text = _FAILING_ROW.sub("Failing row contains (…)", text)
    text = _KEY_VALUE.sub(r"Key (\1)=(…)", text)
    return mask_text(text)


class MaskPersonalData(logging.Filter):
    """Rewrite each record's message with phones, emails and card numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_message(record)
        return True


_MASKED = "huiying_masked"


def _mask_message(record: logging.LogRecord) -> None:
    if getattr(record, _MASKED, False):
        return
    message = record.getMessage()
    masked = mask_log_text(message)
    if masked != message:
        record.msg, record.args = masked, None
    setattr(record, _MASKED, True)


class MaskingFormatter(logging.Formatter):
    """Masks what the filter cannot reach: exception and stack texts. (The message was masked by
    MaskPersonalData on the same handler; masking the whole line again cost a second regex pass
    per access-log line.)"""

    def format(self, record: logging.LogRecord) -> str:
        _mask_message(record)  # a no-op after the filter; covers a handler without it
        return super().format(record)

    def formatException(self, ei: Any) -> str:
        return mask_log_text(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return mask_log_text(super().formatStack(stack_info))


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str = "INFO", stream: IO[str] | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter(FORMAT))
    handler.addFilter(MaskPersonalData())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers propagate to ours, so whatever they write is masked too.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
