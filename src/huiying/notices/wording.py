"""The words of each notice, per kind and language, with the placeholders admins may use: pure.

A notice is what the user is told about their ticket without a person writing it. Each kind has
three texts: the mail's `subject` (the mail adds "[#number] " in front and the title after), the
mail's `body` (its news; the mail adds the greeting, the compensation, the links and the footer)
and the `short` text of an in-app push or an SMS (a line or two: the push's link and the SMS's
number lead to the rest). Admins may replace any of them (notices/service.py stores theirs); a
template may use only the placeholders below, each in braces: `{number}`.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huiying.kit.locale import Language, language_of, when_words, zone_words

LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
KINDS = ("received", "taken", "pending", "delayed", "resolved", "closed", "unsolvable", "suggestion")
FIELDS = ("subject", "body", "short")
MAX_CHARS = {"subject": 120, "body": 2000, "short": 300}

# Placeholder -> what it says (the admin page lists these).
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "number": ("工单号", "the ticket number"),
    "title": ("工单标题", "the ticket's title"),
    "expected": ("预计答复与处理完成时间（一句话）", "when to expect a reply and a solution (a sentence)"),
    "expected_at": ("新的预计完成时间", "the new expected time of a delay"),
    "reason": ("原因（延期、无法解决、不采纳）", "the reason (of a delay, an unsolvable problem, a decline)"),
    "alternative": ("替代方案", "the alternative offered"),
    "outcome": ("建议的处理结果", "what became of a suggestion"),
    "timeline": ("大致时间表", "the rough timeline of a planned suggestion"),
    "compensation": ("补偿（没有则为空）", "the compensation (empty if none)"),
}


@dataclass(frozen=True)
class Texts:
    subject: str
    body: str
    short: str


_ZH: dict[str, Texts] = {
    "received": Texts(
        "我们已收到您的邮件",
        "我们已收到您的邮件，工单号为 {number}。\n{expected}",
        "我们已收到您的反馈，工单号 {number}。{expected}",
    ),
    "taken": Texts(
        "您的反馈正在处理中",
        "您的工单 {number} 已由客服接手，正在处理中。我们有进展会第一时间告诉您。",
        "您的反馈 {number} 已由客服接手处理，有进展会及时通知您。",
    ),
    "pending": Texts(
        "需要您补充信息",
        "处理您的工单 {number} 还需要您补充一些信息，请查看客服的留言并回复。收到您的回复后我们会继续处理。",
        "处理您的反馈 {number} 需要您补充信息，请查看客服留言并回复。",
    ),
    "delayed": Texts(
        "处理时间需要延长",
        "非常抱歉，您的工单 {number} 需要更多时间处理。原因：{reason}\n新的预计完成时间：{expected_at}。",
        "抱歉，您的反馈 {number} 需要更多时间处理（{reason}），预计{expected_at}前完成。",
    ),
    "resolved": Texts(
        "您的问题已处理完毕",
        "您的工单 {number} 已处理完毕。如果问题仍未解决，直接回复这封邮件告诉我们，我们会继续跟进。",
        "您的反馈 {number} 已解决。{compensation}"
        "问题已解决请点击确认并为本次服务评价；如仍有问题，可在页面中重新打开。",
    ),
    "closed": Texts(
        "您的工单已关闭",
        "您的工单 {number} 已关闭，感谢您的反馈。如有新的问题，欢迎随时来信。",
        "您的反馈 {number} 已关闭。如有新的问题，欢迎随时再次反馈。",
    ),
    "unsolvable": Texts(
        "关于您反馈的问题",
        "非常抱歉，您的工单 {number} 反映的问题暂时无法解决。原因：{reason}\n您可以：{alternative}",
        "抱歉，您的反馈 {number} 暂时无法解决（{reason}）。建议：{alternative}",
    ),
    "suggestion": Texts(
        "您的建议有了结果",
        "感谢您的建议（工单 {number}）。{outcome}",
        "您的建议（{number}）：{outcome}",
    ),
}

_EN: dict[str, Texts] = {
    "received": Texts(
        "We have received your email",
        "We have received your email and opened ticket {number} for it.\n{expected}",
        "We have received your feedback: ticket {number}. {expected}",
    ),
    "taken": Texts(
        "We are working on your ticket",
        "An agent has taken up your ticket {number} and is working on it. We will tell you as soon as there is news.",
        "An agent is now working on your ticket {number}. We will keep you posted.",
    ),
    "pending": Texts(
        "We need a little more from you",
        "To go on with your ticket {number} we need some more information from you: please read our message"
        " and answer it. We carry on as soon as we hear from you.",
        "We need more information for your ticket {number}: please read our message and answer it.",
    ),
    "delayed": Texts(
        "Your ticket needs more time",
        "We are sorry: your ticket {number} needs more time. The reason: {reason}\nWe now expect to finish by"
        " {expected_at}.",
        "Sorry, your ticket {number} needs more time ({reason}). We now expect to finish by {expected_at}.",
    ),
    "resolved": Texts(
        "Your issue has been resolved",
        "Your ticket {number} has been resolved. If the problem is still there, just reply to this email and we"
        " will pick it up again.",
        "Your ticket {number} is resolved.{compensation} Tap to confirm and tell us how we did, or reopen it if"
        " the problem remains.",
    ),
    "closed": Texts(
        "Your ticket is closed",
        "Your ticket {number} is closed. Thank you for your feedback. If anything new comes up, write to us at"
        " any time.",
        "Your ticket {number} is closed. If anything else comes up, send us new feedback.",
    ),
    "unsolvable": Texts(
        "About the problem you reported",
        "We are sorry: the problem in your ticket {number} cannot be solved for now. The reason: {reason}\n"
        "What you can do instead: {alternative}",
        "Sorry, your ticket {number} cannot be solved for now ({reason}). Instead: {alternative}",
    ),
    "suggestion": Texts(
        "News about your suggestion",
        "Thank you for your suggestion (ticket {number}). {outcome}",
        "Your suggestion ({number}): {outcome}",
    ),
}

DEFAULTS: dict[Language, dict[str, Texts]] = {"zh-CN": _ZH, "en": _EN}

# The words of a suggestion's outcome ({outcome}), with its timeline or reason in them.
OUTCOMES: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "planned": "产品团队已将它列入计划，预计{timeline}上线。",
        "adopted": "您的建议已被采纳并上线，感谢您帮助我们变得更好！",
        "declined": "经过评估，我们暂时不会采纳这条建议。原因：{reason}",
    },
    "en": {
        "planned": "The product team has planned it; expect it {timeline}.",
        "adopted": "Your suggestion has been adopted and is live. Thank you for making us better!",
        "declined": "After weighing it we will not take it up for now. The reason: {reason}",
    },
}


def default(kind: str, language: Language) -> Texts:
    """The built-in words of `kind`; KeyError for a kind that is no notice."""
    return DEFAULTS[language][kind]


def problems(text: str, *, field: str) -> list[str]:
    """What is wrong with an admin's template text (empty when it may be saved): an unknown
    placeholder, a lone brace, too long, empty."""
    found: list[str] = []
    if not text.strip():
        found.append(f"{field} is empty")
    if len(text) > MAX_CHARS[field]:
        found.append(f"{field} is longer than {MAX_CHARS[field]} characters")
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)]
    except ValueError as exc:
        return [*found, f"{field}: {exc} (write a brace as {{{{ or }}}})"]
    for name, spec, conversion in fields:
        if name is None:
            continue  # plain text between placeholders
        if name not in PLACEHOLDERS:
            found.append(f"{field}: unknown placeholder {{{name}}}" if name else f"{field}: empty placeholder {{}}")
        elif spec or conversion:
            found.append(f"{field}: a placeholder takes no format (write {{number}}, not {{number:…}})")
    return found


def render(text: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled; one without a value says nothing. A stored
    template was checked when saved (`problems`), so this never fails on it."""
    filled = {name: values.get(name, "") for name in PLACEHOLDERS}
    return string.Formatter().vformat(text, (), filled).strip()


# --- filling a template from a ticket's facts -----------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What a notice may say, as plain values (the senders gather them while claiming it)."""

    kind: str
    number: str
    now: datetime  # aware: "today" and "tomorrow" are counted from it
    language: str | None = None  # the ticket's; anything but English gets zh-CN
    title: str = ""
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    timezone: str = "Asia/Shanghai"
    # The delivery's own detail (a delay's reason and new time, a suggestion's outcome…).
    detail: dict[str, Any] = field(default_factory=dict)
    # The approved compensation, each in words of the ticket's language ("优惠券 20 元").
    compensations: tuple[str, ...] = ()


def values_for(facts: Facts) -> dict[str, str]:
    """Each placeholder's words for these facts."""
    language = language_of(facts.language)
    detail = facts.detail
    zh = language == "zh-CN"

    outcome = str(detail.get("outcome") or "")
    timeline, reason = str(detail.get("timeline") or ""), str(detail.get("reason") or "")
    outcome_words = OUTCOMES[language].get(outcome, "").format(timeline=timeline, reason=reason)
    if facts.compensations:
        compensation = (
            f"补偿：{'；'.join(facts.compensations)}。" if zh else f" Compensation: {'; '.join(facts.compensations)}."
        )
    else:
        compensation = ""
    return {
        "number": facts.number,
        "title": facts.title,
        "expected": _expected(facts, language),
        "expected_at": _expected_at(facts, language),
        "reason": reason,
        "alternative": str(detail.get("alternative") or ""),
        "outcome": outcome_words,
        "timeline": timeline,
        "compensation": compensation,
    }


def rendered(facts: Facts, template: Texts | None = None) -> Texts:
    """The notice's three texts for these facts, in `template`'s words (else the default's)."""
    language = language_of(facts.language)
    words = template or default(facts.kind, language)
    values = values_for(facts)
    return Texts(render(words.subject, values), render(words.body, values), render(words.short, values))


def _moment(value: object) -> datetime | None:
    """A detail's time (stored as ISO text in JSON), aware; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else None


def _expected_at(facts: Facts, language: Language) -> str:
    """A delay's new expected time in words, with its zone."""
    at = _moment(facts.detail.get("expected_at"))
    if at is None:
        return ""
    said = when_words(at, now=facts.now, zone=facts.timezone, language=language)
    zone = zone_words(facts.timezone, at, language)
    return f"{said}（{zone}）" if language == "zh-CN" else f"{said} ({zone})"


def _expected(facts: Facts, language: Language) -> str:
    """When to expect a first reply and a solution, as the acknowledgement says it."""
    first, solved = facts.first_response_due, facts.resolution_due
    zone = zone_words(facts.timezone, first or solved or facts.now, language)

    def words(at: datetime) -> str:
        return when_words(at, now=facts.now, zone=facts.timezone, language=language)

    if language == "zh-CN":
        if first and solved:
            return f"我们会在{words(first)} 前给您首次答复，预计在{words(solved)} 前处理完毕（{zone}）。"
        if first:
            return f"我们会在{words(first)} 前给您首次答复（{zone}）。"
        if solved:
            return f"我们预计在{words(solved)} 前处理完毕（{zone}）。"
        return "我们会尽快给您答复。"
    if first and solved:
        return f"We will reply by {words(first)} and expect to have it resolved by {words(solved)} ({zone})."
    if first:
        return f"We will reply by {words(first)} ({zone})."
    if solved:
        return f"We expect to have it resolved by {words(solved)} ({zone})."
    return "We will reply as soon as we can."


# The reason the sweep gives when a ticket is still open after 48 h (notices/overdue.py).
OVERDUE_REASON: dict[Language, str] = {
    "zh-CN": "您的问题需要比平时更多的时间排查，我们仍在处理",
    "en": "it needs more investigation than usual, and we are still on it",
}
