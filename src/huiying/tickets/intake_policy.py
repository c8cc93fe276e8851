"""Who may hand in what at intake: the one policy every adapter goes through (tickets/intake.py
`receive`). Pure: a caller and a submission in, the submission it may carry out (or a refusal).

| caller                               | channels          | priority, tags | vip              | limit |
(special_group: like vip, but no claim carries it — staff, API keys and the system only.)
| ------------------------------------ | ----------------- | -------------- | ---------------- | ----- |
| visitor (anonymous, or staff / an    | app, web          | refused        | only with the    | per IP and  |
| API key without ticket:create)       |                   |                | platform's claim | per user id |
| staff, API key with ticket:create    | any               | yes            | yes              | none  |
| channel adapter (email, WeChat, ...) | its own only      | tags only      | refused          | none  |
| system (demo data, imports)          | any               | yes            | yes              | none  |

The platform's signed VIP claim marks the ticket VIP even when the body does not ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import Forbidden, InvalidInput
from huiying.kit.actor import SYSTEM, Actor, platform_user
from huiying.kit.strings import has_visible
from huiying.portal.user_token import UserClaim
from huiying.tickets.enums import PUBLIC_CHANNELS, Channel
from huiying.tickets.schemas import FeedbackIn


class CallerKind(StrEnum):
    VISITOR = "visitor"
    STAFF = "staff"
    API_KEY = "api_key"
    CHANNEL = "channel"
    SYSTEM = "system"


@dataclass(frozen=True)
class IntakeCaller:
    """Who hands feedback in, as far as the adapter could tell from its transport."""

    kind: CallerKind
    actor: Actor
    # A visitor's proof from the platform (portal/user_token.py), already verified by the adapter.
    claim: UserClaim | None = None
    # A channel adapter speaks for this channel only.
    channel: Channel | None = None

    @classmethod
    def visitor(cls, *, user_id: str | None, ip: str | None, claim: UserClaim | None = None) -> IntakeCaller:
        return cls(CallerKind.VISITOR, platform_user(user_id, ip=ip), claim=claim)

    @classmethod
    def of_actor(cls, actor: Actor, *, claim: UserClaim | None = None) -> IntakeCaller:
        """The caller behind an HTTP request: a staff login, an API key, or nobody."""
        if not actor.is_staff:
            return cls(CallerKind.VISITOR, actor, claim=claim)
        kind = CallerKind.API_KEY if actor.scopes is not None else CallerKind.STAFF
        return cls(kind, actor, claim=claim)

    @classmethod
    def channel_adapter(cls, channel: Channel, *, actor: Actor = SYSTEM) -> IntakeCaller:
        return cls(CallerKind.CHANNEL, actor, channel=channel)

    @classmethod
    def system(cls, actor: Actor = SYSTEM) -> IntakeCaller:
        return cls(CallerKind.SYSTEM, actor)

    @property
    def trusted(self) -> bool:
        """May set anything: staff and API keys with ticket:create, and the system itself."""
        if self.kind == CallerKind.SYSTEM:
            return True
        return self.kind in (CallerKind.STAFF, CallerKind.API_KEY) and access.has(self.actor, Permission.TICKET_CREATE)

    @property
    def replays_must_match(self) -> bool:
        """A visitor's `source_ref` seen before answers the earlier ticket (and its signed portal
        link) only for the very same submission: anyone may type any source_ref."""
        return not self.trusted and self.kind != CallerKind.CHANNEL

    @property
    def limited(self) -> bool:
        """Whether the public intake limit (per IP and per user id) applies."""
        return not self.trusted and self.kind != CallerKind.CHANNEL


def _refuse(message: str, field: str) -> Forbidden:
    return Forbidden(message, details={"field": field})


def admit(caller: IntakeCaller, submission: FeedbackIn) -> FeedbackIn:
    """The submission as `caller` may hand it in; Forbidden (403) naming the field otherwise."""
    if not has_visible(submission.description):
        raise InvalidInput("the description is empty", code="empty_description", details={"field": "description"})
    vip_claimed = caller.claim is not None and caller.claim.vip
    if vip_claimed and not submission.vip:
        submission = submission.model_copy(update={"vip": True})
    if caller.trusted:
        return submission
    if caller.kind == CallerKind.CHANNEL:
        if submission.channel != caller.channel:
            raise _refuse(f"a {caller.channel} adapter may only hand in {caller.channel} feedback", "channel")
        if submission.priority is not None:
            raise _refuse("only staff may set priority at intake", "priority")
        if submission.vip:
            raise _refuse("a channel adapter may not set vip", "vip")
        if submission.special_group is not None:
            raise _refuse("a channel adapter may not set special_group", "special_group")
        return submission
    if submission.vip and not vip_claimed:
        raise _refuse(
            "only staff, an API key with ticket:create or the platform's signed user token with the VIP flag "
            "(X-Huiying-User-Token) may set vip",
            "vip",
        )
    if submission.special_group is not None:
        # Like vip, but no platform claim carries it yet: only a trusted caller sets it.
        raise _refuse("only staff or an API key with ticket:create may set special_group", "special_group")
    if submission.channel not in PUBLIC_CHANNELS:
        allowed = ", ".join(sorted(c.value for c in PUBLIC_CHANNELS))
        raise _refuse(f"without the ticket:create permission the channel must be one of: {allowed}", "channel")
    if submission.priority is not None or submission.tags:
        raise _refuse("only staff may set priority or tags at intake", "priority" if submission.priority else "tags")
    return submission
