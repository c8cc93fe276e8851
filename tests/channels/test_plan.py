"""Which ways a reply goes out for each ticket channel, and what a way without a sender says."""

from __future__ import annotations

import pytest

from huiying.channels import plan


@pytest.mark.parametrize(
    ("ticket_channel", "contact_is_email", "ways"),
    [
        ("app", False, ["portal", "inapp"]),
        ("web", False, ["portal"]),
        ("web", True, ["portal", "email"]),
        ("api", True, ["portal", "email"]),
        ("email", True, ["email"]),
        ("hotline", False, ["phone"]),
        ("offline", False, ["offline"]),
        ("wechat", False, ["wechat"]),
    ],
)
def test_the_ways_a_reply_goes_out(ticket_channel: str, contact_is_email: bool, ways: list[str]) -> None:
    assert plan.channels_for(ticket_channel, contact_is_email=contact_is_email) == ways


def test_an_app_ticket_without_a_user_id_is_answered_on_the_portal_only() -> None:
    assert plan.channels_for("app", contact_is_email=False, has_user_id=False) == ["portal"]
    assert plan.channels_for("web", contact_is_email=True, has_user_id=False) == ["portal", "email"]


@pytest.mark.parametrize(
    ("channel", "reason"),
    [
        ("email", ("no_email_sender", "no email sender configured")),
        ("inapp", ("no_inapp_push", "no in-app push configured")),
        ("phone", ("phone_callback", "phone tickets are answered by call-back")),
        ("offline", ("offline", "offline feedback has no channel to reply through")),
        ("wechat", ("no_sender", "no wechat sender configured")),
    ],
)
def test_a_way_without_a_sender_says_why(channel: str, reason: tuple[str, str]) -> None:
    assert plan.reason_without_sender(channel) == reason


@pytest.mark.parametrize(
    ("new", "old", "news"),
    [
        ("resolved", "open", True),
        ("closed", "open", True),  # closed without a resolution: the user should hear why
        ("closed", "resolved", False),  # the usual close after a resolution says nothing new
        ("open", "resolved", False),
        ("pending", "open", False),
    ],
)
def test_which_status_changes_are_news_to_the_user(new: str, old: str, news: bool) -> None:
    assert plan.status_is_news(new, old) is news
