"""The closed vocabularies of a ticket. Stored as text; CONTRACT.md fixes the values."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"  # 待处理
    OPEN = "open"  # 处理中
    PENDING = "pending"  # 等待用户: the SLA clock stops
    RESOLVED = "resolved"  # 已解决待确认
    CLOSED = "closed"  # 已关闭
    MERGED = "merged"  # folded into another ticket


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class Channel(StrEnum):
    APP = "app"  # in-app feedback form / floating button
    WEB = "web"  # web feedback form
    EMAIL = "email"
    HOTLINE = "hotline"
    WECHAT = "wechat"
    WEIBO = "weibo"
    LIVE = "live"  # live-room comments and private messages
    FORUM = "forum"  # third-party forums and media
    CHAT = "chat"  # live chat with an agent or the bot
    OFFLINE = "offline"  # complaint box, face to face, entered by staff
    API = "api"  # integrations with an API key


# Channels anyone may use without credentials; the rest are entered by staff or integrations.
PUBLIC_CHANNELS = frozenset({Channel.APP, Channel.WEB})


class SpecialGroup(StrEnum):
    """People the service looks after first (they sort with VIPs, their own SLA policy). Set by
    an app or staff, never by the anonymous caller (tickets/intake_policy.py)."""

    ACCESSIBILITY = "accessibility"  # users with disabilities 残障用户
    ELDERLY = "elderly"  # 老年用户
    MINOR = "minor"  # 未成年人


class Sentiment(StrEnum):
    ANGRY = "angry"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Frequency(StrEnum):
    ONCE = "once"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


class MessageKind(StrEnum):
    USER = "user"  # the user's own words, from any channel
    REPLY = "reply"  # a public answer to the user
    NOTE = "note"  # internal, staff only


class Delivery(StrEnum):
    NOT_NEEDED = "not_needed"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # no way to send it (channels/plan.py says why)
