"""The words of an in-app push, per kind, in the ticket's language: pure, no database or I/O.

Push-sized: a line or two the app shows in its message centre; the link (`url` of the push)
opens the whole conversation on the portal. A reply is said in the agent's words (cut to push
size); every notice in its `short` text (notices/wording.py, where admins may reword it).
"""

from __future__ import annotations

from huiying.kit.locale import language_of
from huiying.notices import wording

KINDS = ("reply", *wording.KINDS)
# A reply longer than this is cut: the push is a pointer, the portal has the whole text.
MAX_REPLY_CHARS = 500


def reply_text(number: str, body: str, *, language: str | None) -> str:
    """A reply's push: who answered and the start of what they said."""
    body = body.strip()
    if len(body) > MAX_REPLY_CHARS:
        body = body[: MAX_REPLY_CHARS - 1] + "…"
    if language_of(language) == "zh-CN":
        return f"客服回复（{number}）：{body}"
    return f"Support replied ({number}): {body}"


def notice_text(facts: wording.Facts, template: wording.Texts | None = None) -> str:
    """A notice's push; KeyError for a kind that is no notice."""
    return wording.rendered(facts, template).short
