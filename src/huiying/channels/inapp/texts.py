"""The words of an in-app push, per kind, in the ticket's language: pure, no database or I/O.

Push-sized: a line or two the app shows in its message centre; the link (`url` of the push)
opens the whole conversation on the portal. Due times are said as the acknowledgement mail says
them (email/compose.py's helpers), in the platform's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from huiying.channels.email.compose import Language, language_of, when_words, zone_words

KINDS = ("received", "reply", "resolved", "closed")
# A reply longer than this is cut: the push is a pointer, the portal has the whole text.
MAX_REPLY_CHARS = 500


@dataclass(frozen=True)
class Facts:
    """What a push may say about its ticket, as plain values (sender.py reads them)."""

    kind: str
    number: str
    now: datetime  # aware: "today" and "tomorrow" are counted from it
    language: str | None = None  # the ticket's; anything but English gets zh-CN
    body: str = ""  # a reply's text
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    timezone: str = "Asia/Shanghai"
    # The approved compensation, each in words of the ticket's language (sender.py fills it).
    compensations: tuple[str, ...] = ()


def text_for(facts: Facts) -> str:
    """The push's text; ValueError for a kind this channel has no words for."""
    language = language_of(facts.language)
    zh = language == "zh-CN"
    if facts.kind == "received":
        return _received(facts, language)
    if facts.kind == "reply":
        body = facts.body.strip()
        if len(body) > MAX_REPLY_CHARS:
            body = body[: MAX_REPLY_CHARS - 1] + "…"
        return f"客服回复（{facts.number}）：{body}" if zh else f"Support replied ({facts.number}): {body}"
    if facts.kind == "resolved":
        if zh:
            given = f"补偿：{'；'.join(facts.compensations)}。" if facts.compensations else ""
            ask = "问题已解决请点击确认并为本次服务评价；如仍有问题，可在页面中重新打开。"
            return f"您的反馈 {facts.number} 已解决。{given}{ask}"
        given = f" Compensation: {'; '.join(facts.compensations)}." if facts.compensations else ""
        ask = "Tap to confirm and tell us how we did, or reopen it if the problem remains."
        return f"Your ticket {facts.number} is resolved.{given} {ask}"
    if facts.kind == "closed":
        if zh:
            return f"您的反馈 {facts.number} 已关闭。如有新的问题，欢迎随时再次反馈。"
        return f"Your ticket {facts.number} is closed. If anything else comes up, send us new feedback."
    raise ValueError(f"no in-app text for {facts.kind!r}")


def _received(facts: Facts, language: Language) -> str:
    def words(at: datetime) -> str:
        return when_words(at, now=facts.now, zone=facts.timezone, language=language)

    first, solved = facts.first_response_due, facts.resolution_due
    zone = zone_words(facts.timezone, first or solved or facts.now, language)
    if language == "zh-CN":
        head = f"我们已收到您的反馈，工单号 {facts.number}。"
        parts = [f"{words(first)} 前首次答复" if first else "", f"{words(solved)} 前处理完成" if solved else ""]
        said = "，".join(p for p in parts if p)
        return head + (f"预计{said}（{zone}）。" if said else "我们会尽快处理。")
    head = f"We have received your feedback: ticket {facts.number}."
    parts = [f"a first reply by {words(first)}" if first else "", f"a solution by {words(solved)}" if solved else ""]
    said = " and ".join(p for p in parts if p)
    return head + (f" Expect {said} ({zone})." if said else " We will get back to you as soon as we can.")
