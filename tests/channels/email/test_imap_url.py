"""HUIYING_IMAP_URL read into a mailbox, and folder names as IMAP wants them (no server needed)."""

from __future__ import annotations

import base64

import pytest

from huiying.channels.email.imap_client import Mailbox, mailbox_name, parse_imap_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "imaps://support%40help.example.com:p%40ss%3Aw%2Frd@mail.example.com/INBOX",
            Mailbox("mail.example.com", 993, "support@help.example.com", "p@ss:w/rd", "INBOX", implicit_tls=True),
        ),
        (
            "imap://u:pw@mail.example.com:1143/Support?starttls=1&move=Done",
            Mailbox("mail.example.com", 1143, "u", "pw", "Support", starttls=True, move_to="Done"),
        ),
        ("imap://u:pw@127.0.0.1:10143", Mailbox("127.0.0.1", 10143, "u", "pw", "INBOX")),
        ("IMAP://u:pw@localhost/", Mailbox("localhost", 143, "u", "pw", "INBOX")),
        ("imap://u:@[::1]/%E5%AE%A2%E6%9C%8D", Mailbox("::1", 143, "u", "", "客服")),
        ("imap://u:pw@10.0.0.9/INBOX?insecure=1", Mailbox("10.0.0.9", 143, "u", "pw", "INBOX")),
    ],
)
def test_a_mailbox_url_is_read(url: str, expected: Mailbox) -> None:
    assert parse_imap_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("pop3://u:pw@mail.example.com/", "must start with imap:// or imaps://"),
        ("imaps:///INBOX", "no host"),
        ("imaps://mail.example.com/INBOX", "needs the mailbox's user and password"),
        ("imaps://u@mail.example.com/INBOX", "needs the mailbox's user and password"),
        ("imaps://u:Secret-1@mail.example.com/INBOX?starttls=1", "already TLS"),
        ("imap://u:Secret-1@mail.example.com/INBOX", "sends the password in clear"),
        ("imaps://u:Secret-1@mail.example.com:99999/INBOX", "bad port"),
    ],
)
def test_a_wrong_mailbox_url_says_why_without_the_password(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as raised:
        parse_imap_url(url)
    assert "Secret-1" not in str(raised.value)


def test_the_password_stays_out_of_the_display_the_repr_and_the_source() -> None:
    mailbox = parse_imap_url("imaps://support%40help.example.com:Secret-1@mail.example.com/%E5%B7%B2%E5%A4%84%E7%90%86")
    assert mailbox.display == "imaps://support@help.example.com@mail.example.com:993/%E5%B7%B2%E5%A4%84%E7%90%86"
    assert mailbox.source("7", "42") == f"{mailbox.display};UIDVALIDITY=7/;UID=42"
    assert "Secret-1" not in repr(mailbox) + mailbox.display


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("INBOX", '"INBOX"'),
        ("Support Tickets", '"Support Tickets"'),
        ("已处理", '"&XfJZBHQG-"'),
        ("A&B", '"A&-B"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("Entwürfe", '"Entw&APw-rfe"'),  # RFC 3501's own kind of example
        ("~peter/mail/台北/日本語", '"~peter/mail/&U,BTFw-/&ZeVnLIqe-"'),  # RFC 3501 §5.1.3
    ],
)
def test_folder_names_go_out_in_modified_utf7_quoted(name: str, wire: str) -> None:
    assert mailbox_name(name) == wire


def test_modified_utf7_is_utf16_in_base64_with_commas() -> None:
    chunk = mailbox_name("收件箱")[2:-2]
    assert base64.b64decode(chunk.replace(",", "/") + "==").decode("utf-16-be") == "收件箱"
