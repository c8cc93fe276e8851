"""noise.classify: auto-replies, out-of-office, bounces (DSN and not), lists and spam."""

from __future__ import annotations

import pytest

from huiying.channels.email.noise import Noise, bounced_message_id, classify
from huiying.channels.email.parse import parse_mail

OUR_ID = "T-1001.42@support.example.com"


def mail(*headers: str, body: str = "Hello") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def noise_of(*headers: str, body: str = "Hello") -> Noise:
    raw = mail("From: user@example.com", "To: support@example.com", *headers, body=body)
    return classify(parse_mail(raw), raw)


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        ((), "normal", None),
        (("Subject: 我的订单还没到",), "normal", None),
        (("Subject: 外出时手机无法充电",), "normal", None),  # "外出" alone is a customer's word
        (("Auto-Submitted: no",), "normal", None),
        (("Auto-Submitted: auto-replied",), "auto_reply", "Auto-Submitted: auto-replied"),
        (("Auto-Submitted: auto-generated",), "auto_reply", "Auto-Submitted: auto-generated"),
        (("X-Autoreply: yes",), "auto_reply", "X-Autoreply"),
        (("X-Autorespond: Out of office",), "auto_reply", "X-Autorespond"),
        (("Precedence: auto_reply",), "auto_reply", "Precedence: auto_reply"),
        (("Subject: Automatic reply: 订单问题",), "auto_reply", "out-of-office subject"),
        (("Subject: Out of Office: back on Monday",), "auto_reply", "out-of-office subject"),
        (("Subject: 自动回复：您的来信已收到",), "auto_reply", "out-of-office subject"),
        (("Subject: 【自動回覆】休假中",), "auto_reply", "out-of-office subject"),
        (("Subject: =?utf-8?B?6Ieq5Yqo5Zue5aSNOiDorqLljZU=?=",), "auto_reply", "out-of-office subject"),
        (("Return-Path: <>",), "auto_reply", "Return-Path: <> (sent with a null sender)"),
        (
            ('Content-Type: multipart/report; report-type=disposition-notification; boundary="x"',),
            "auto_reply",
            "read receipt (disposition notification)",
        ),
        (("List-Id: Users <users.lists.example.com>",), "list", "List-Id"),
        (("List-Unsubscribe: <https://example.com/u>",), "list", "List-Unsubscribe"),
        (("Precedence: list",), "list", "Precedence: list"),
        (("Precedence: bulk",), "list", "Precedence: bulk"),
        (("Precedence: junk",), "list", "Precedence: junk"),
        (("X-Spam-Flag: YES",), "spam", "flagged as spam upstream"),
        (("X-Spam-Status: Yes, score=12.0 required=5.0",), "spam", "flagged as spam upstream"),
        (("X-Spam-Status: No, score=0.2 required=5.0",), "normal", None),
        (("X-Spam-Flag: YES", "Auto-Submitted: auto-replied", "List-Id: <l>"), "spam", "flagged as spam upstream"),
        (("Auto-Submitted: auto-replied", "Precedence: bulk"), "auto_reply", "Auto-Submitted: auto-replied"),
    ],
)
def test_kinds_from_headers(headers: tuple[str, ...], kind: str, reason: str | None) -> None:
    noise = noise_of(*headers)
    assert (noise.kind, noise.reason) == (kind, reason)
    assert noise.automated == (kind != "normal")


def dsn(*, action: str = "failed", returned: str = "text/rfc822-headers", recipient: str = "gone@example.net") -> bytes:
    return mail(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>",
        "To: support@example.com",
        "Subject: Undelivered Mail Returned to Sender",
        "Return-Path: <>",
        "Auto-Submitted: auto-replied",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="d"',
        body=(
            "--d\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at mx.example.net.\r\n"
            "--d\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
            f"Action: {action}\r\nStatus: {'5.1.1' if action == 'failed' else '4.4.1'}\r\n\r\n"
            f"--d\r\nContent-Type: {returned}\r\n\r\n"
            f"From: support@example.com\r\nTo: {recipient}\r\nMessage-ID: <{OUR_ID}>\r\nSubject: [T-1001] 回复\r\n"
            + ("\r\nthe original body\r\n" if returned == "message/rfc822" else "")
            + "--d--\r\n"
        ),
    )


@pytest.mark.parametrize("returned", ["text/rfc822-headers", "message/rfc822"])
@pytest.mark.parametrize("with_raw", [True, False])  # flufl.bounce, or our own reading of the DSN
def test_a_dsn_of_our_mail(returned: str, with_raw: bool) -> None:
    raw = dsn(returned=returned)
    noise = classify(parse_mail(raw), raw if with_raw else None)
    assert noise == Noise(
        "bounce", "delivery failed", bounced_message_id=OUR_ID, failed_recipients=("gone@example.net",)
    )


def test_a_delay_notice_is_a_bounce_without_failed_recipients() -> None:
    raw = dsn(action="delayed")
    for noise in (classify(parse_mail(raw), raw), classify(parse_mail(raw))):
        assert (noise.kind, noise.reason, noise.failed_recipients) == (
            "bounce",
            "delivery delayed (temporary failure)",
            (),
        )
        assert noise.bounced_message_id == OUR_ID


def test_a_success_notice_is_no_bounce() -> None:
    raw = dsn(action="delivered")
    assert classify(parse_mail(raw), raw) == Noise("auto_reply", "delivery status report: delivered")


QMAIL_BOUNCE = (
    "Hi. This is the qmail-send program at mx.example.net.\r\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
    "<gone@example.net>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
    "--- Below this line is a copy of the message.\r\n\r\n"
    f"Return-Path: <support@example.com>\r\nMessage-ID: <{OUR_ID}>\r\nSubject: [T-1001] 回复\r\n\r\nbody\r\n"
)


def test_a_bounce_that_is_not_a_dsn_is_read_by_flufl_bounce() -> None:
    raw = mail("From: MAILER-DAEMON@mx.example.net", "Subject: failure notice", "Return-Path: <>", body=QMAIL_BOUNCE)
    noise = classify(parse_mail(raw), raw)
    assert noise == Noise(
        "bounce", "delivery failed", bounced_message_id=OUR_ID, failed_recipients=("gone@example.net",)
    )


def test_a_customer_pasting_a_bounce_is_not_a_bounce() -> None:
    raw = mail("From: user@example.com", "Subject: I got this error", body=QMAIL_BOUNCE)
    assert classify(parse_mail(raw), raw).kind == "normal"


def test_a_chinese_bounce_notice_from_the_postmaster() -> None:
    raw = mail(
        "From: postmaster@mail.example.cn",
        "Subject: 系统退信",
        body=f"抱歉，您的邮件无法投递。\r\nMessage-ID: <{OUR_ID}>",
    )
    noise = classify(parse_mail(raw), raw)
    assert (noise.kind, noise.reason, noise.bounced_message_id) == ("bounce", "bounce from the mail system", OUR_ID)


def test_mail_from_the_postmaster_that_is_no_bounce_is_classified_by_its_headers() -> None:
    raw = mail("From: postmaster@example.net", "Subject: Weekly quarantine summary", "Auto-Submitted: auto-generated")
    assert classify(parse_mail(raw), raw).kind == "auto_reply"


def test_bounced_message_id_of_normal_mail_is_none() -> None:
    assert bounced_message_id(parse_mail(mail("From: a@example.com", body="no ids here"))) is None
