"""Which ways a public reply goes out for a ticket, and why a way without a sender sends nothing.

Pure: no database, no settings. The delivery job asks `registry.sender_for(channel)`; a channel
without one is `suppressed` with the reason below — never pretended `sent`.
"""

from __future__ import annotations

# The reply is published on the user's own status page (portal) — their app's message centre
# and the web form's status link read it there. It needs no sender: publishing is the delivery.
PORTAL = "portal"

# Ticket channel -> the ways its replies go out (besides the portal, see `channels_for`).
_BY_TICKET_CHANNEL: dict[str, tuple[str, ...]] = {
    "app": (PORTAL, "inapp"),
    "web": (PORTAL,),
    "api": (PORTAL,),
    "email": ("email",),
    "hotline": ("phone",),
    "offline": ("offline",),
}

# Why nothing is sent when a channel has no sender: (code for the pages, plain English for the API).
REASONS: dict[str, tuple[str, str]] = {
    "email": ("no_email_sender", "no email sender configured"),
    "inapp": ("no_inapp_push", "no in-app push configured"),
    "phone": ("phone_callback", "phone tickets are answered by call-back"),
    "offline": ("offline", "offline feedback has no channel to reply through"),
}


def channels_for(ticket_channel: str, *, contact_is_email: bool, has_user_id: bool = True) -> list[str]:
    """The delivery channels of a reply on a ticket of `ticket_channel`.

    Web and API feedback with an email contact is also answered by email; any other channel
    (wechat, weibo, chat…) through its own sender, once one is registered. An app ticket without
    the platform's user id has nobody to push to: its reply is on the portal only.
    """
    ways = list(_BY_TICKET_CHANNEL.get(ticket_channel, (ticket_channel,)))
    if not has_user_id and "inapp" in ways:
        ways.remove("inapp")
    if ticket_channel in ("web", "api") and contact_is_email:
        ways.append("email")
    return ways


def reason_without_sender(channel: str) -> tuple[str, str]:
    """Why a reply through `channel` is not sent when no sender is registered for it."""
    return REASONS.get(channel, ("no_sender", f"no {channel} sender configured"))


def status_is_news(new: str, old: str) -> bool:
    """Whether a status change deserves a notice to the user. Resolved is news (once per
    resolution: the notice's key carries the reopen count); closed is news only when nobody said
    "resolved" first — the usual close after a resolution, by the user or the sweep, would be a
    second message saying the same."""
    return new == "resolved" or (new == "closed" and old != "resolved")
