"""The Jinja2 environment of the web pages (autoescaping on: user text is always text)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates

from huiying.kit.clock import utcnow
from huiying.web.wording import bilingual, flash_error

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def local_time(moment: datetime | None, tz: tzinfo, pattern: str = "%m-%d %H:%M") -> str:
    """A stored UTC time in the platform's zone; '' for none."""
    return moment.astimezone(tz).strftime(pattern) if moment else ""


def urlencode_merge(params: Mapping[str, str], **changes: str) -> str:
    """The current query string with some parameters replaced (for "load more" links)."""
    merged = {k: v for k, v in params.items() if k not in changes}
    merged.update(changes)
    return urlencode(merged)


templates.env.filters["local"] = local_time
templates.env.globals["flash_error"] = flash_error
templates.env.globals["bilingual"] = bilingual
# The ticket page marks a target passed (breached) against now.
templates.env.globals["utcnow"] = utcnow
templates.env.filters["urlencode_merge"] = urlencode_merge
