"""Every file of the shared mail corpus (../shared/data/emails: the mail gem's and Stalwart's
fixtures, see its SOURCE.txt) through parse_mail and classify: no exception, a ParsedMail or a
problem, and U+FFFD only where the bytes had no character (a U+FFFD already in the raw mail, or
bytes valid in no charset, reported in `defects`). Skipped without the data, except under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huiying.channels.email.noise import classify
from huiying.channels.email.parse import ParsedMail, parse_mail
from shared_data import shared_data_dir

SHARED = shared_data_dir()
CORPUS = SHARED / "emails" if SHARED else Path("emails")
FILES = sorted(path for path in CORPUS.rglob("*") if path.is_file()) if CORPUS.is_dir() else []
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RAW_U_FFFD = b"\xef\xbf\xbd"  # U+FFFD in UTF-8: a mail that already carries it


def _require_corpus() -> None:
    if FILES:
        return
    if IN_CI:
        pytest.fail(f"CI=true but the mail corpus is not at {CORPUS}: set HUIYING_SHARED_DATA")
    pytest.skip("mail corpus not found: set HUIYING_SHARED_DATA to the shared data folder")


def _lossy(parsed: ParsedMail) -> bool:
    """Whether parse_mail reported bytes that are valid in no charset it tried."""
    return any("replaced by U+FFFD" in defect for defect in parsed.defects)


def test_the_corpus_is_there() -> None:
    _require_corpus()
    assert len([path for path in FILES if path.suffix == ".eml"]) >= 150


@pytest.mark.parametrize("path", FILES, ids=[str(path.relative_to(CORPUS)) for path in FILES])
def test_every_file_parses(path: Path) -> None:
    raw = path.read_bytes()
    parsed = parse_mail(raw)
    assert isinstance(parsed, ParsedMail)
    assert len(parsed.digest) == 64
    noise = classify(parsed, raw)
    assert noise.kind in ("normal", "auto_reply", "bounce", "list", "spam")
    if parsed.problem is not None:
        assert parsed.problem.strip()
        return
    for field in (parsed.subject, parsed.text, parsed.text_new, parsed.from_name or ""):
        if "\ufffd" in field:
            assert RAW_U_FFFD in raw or _lossy(parsed), f"U+FFFD in {path.name} where the bytes had a character"
    assert parsed.date is None or parsed.date.tzinfo is not None


def parsed(name: str) -> ParsedMail:
    _require_corpus()
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{name} not in this corpus")
    return parse_mail(path.read_bytes())


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("mail-gem/multi_charset/japanese_iso_2022.eml", "まみむめも", "すみません。"),
        ("mail-gem/multi_charset/ks_c_5601-1987.eml", "test", "스티해"),
        (
            "mail-gem/multi_charset/japanese_shift_jis.eml",
            "test",
            "あいうえお\n\nこのメールはテスト用のメールです。\n\n今後ともよろしくお願い申し上げます！",
        ),
        (
            "mail-gem/plain_emails/raw_email.eml",
            "NOTE: 한국말로 하는 것",
            "대부분의 마찬가지로, 우리는 하나님을 믿습니다.\n\n제 이름은 Jamis입니다.",
        ),
        ("mail-gem/plain_emails/raw_email_with_partially_quoted_subject.eml", 'Re: Test: "漢字" mid "漢字" tail', None),
        ("mail-gem/rfc6532/utf8_headers.eml", "Säying Hello", None),
        ("mail-gem/rfc2822/example14.eml", "Re: TEST テストテスト", None),
    ],
)
def test_cjk_mails_of_the_corpus(name: str, subject: str, text: str | None) -> None:
    mail = parsed(name)
    assert mail.subject == subject
    if text is not None:
        assert mail.text == text


def test_a_big5_html_part_of_the_corpus() -> None:
    mail = parsed("mail-parser-rs/thirdparty/005.eml")
    assert "『世界人権宣言』" in mail.text


@pytest.mark.parametrize(
    ("name", "failed"),
    [
        ("mail-gem/multipart_report_emails/report_530.eml", ("edwin@zzzzzzz.com",)),
        ("mail-gem/multipart_report_emails/multipart_report_multiple_status.eml", ("u@ci.com",)),
        ("mail-gem/multipart_report_emails/report_422.eml", ()),  # a delay, not a failure
    ],
)
def test_corpus_bounces(name: str, failed: tuple[str, ...]) -> None:
    mail = parsed(name)
    noise = classify(mail, (CORPUS / name).read_bytes())
    assert (noise.kind, noise.failed_recipients) == ("bounce", failed)
    assert noise.bounced_message_id
