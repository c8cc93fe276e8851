"""parse_mail on mails built byte by byte: Chinese charsets and mislabels, transfer encodings,
attachments, broken and empty input, threading headers, quoted history, the digest."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiying.channels.email import html_text
from huiying.channels.email.parse import Flag, ParsedMail, content_digest, parse_mail, trim_quoted

GBK_ONLY = "朱镕基、张喆、王堃、李玥"  # 镕 喆 堃 玥 are GBK, not GB2312
ZH = "您好，我的订单还没有收到，请尽快处理。谢谢！"
ZH_HANT = "您好，我的訂單還沒有收到，請盡快處理。謝謝！"


def mail(*headers: str | bytes, body: str | bytes = b"") -> bytes:
    """A raw mail: header lines (str as UTF-8, bytes as they are), CRLF, a blank line, the body."""
    lines = [line.encode() if isinstance(line, str) else line for line in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body.encode() if isinstance(body, str) else body)


def text_mail(body: bytes, *, charset: str | None, encoding: str = "8bit", subtype: str = "plain") -> bytes:
    content_type = f"Content-Type: text/{subtype}" + (f"; charset={charset}" if charset else "")
    return mail(
        "From: user@example.com", "Subject: t", content_type, f"Content-Transfer-Encoding: {encoding}", body=body
    )


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


def assert_clean(parsed: ParsedMail) -> None:
    assert parsed.problem is None
    assert "\ufffd" not in parsed.subject + parsed.text


# --- Chinese and other CJK charsets -----------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "raw", "text"),
    [
        ("gb2312 part with GBK-only characters", text_mail(GBK_ONLY.encode("gbk"), charset="gb2312"), GBK_ONLY),
        ("the same in base64", text_mail(b64(GBK_ONLY.encode("gbk")), charset="gb2312", encoding="base64"), GBK_ONLY),
        (
            "the same in quoted-printable",
            text_mail(binascii.b2a_qp(GBK_ONLY.encode("gbk")), charset='"GB2312"', encoding="quoted-printable"),
            GBK_ONLY,
        ),
        ("GB18030 four-byte character", text_mail("吉野家：𠮷".encode("gb18030"), charset="gb18030"), "吉野家：𠮷"),
        ("the same under a gb2312 label", text_mail("吉野家：𠮷".encode("gb18030"), charset="gb2312"), "吉野家：𠮷"),
        ("Big5", text_mail(ZH_HANT.encode("big5"), charset="big5"), ZH_HANT),
        ("Big5 mislabelled gb2312", text_mail(ZH_HANT.encode("big5"), charset="gb2312"), ZH_HANT),
        ("GBK labelled utf-8", text_mail(ZH.encode("gbk"), charset="utf-8"), ZH),
        ("GBK without a charset", text_mail(ZH.encode("gbk"), charset=None), ZH),
        ("UTF-8 under us-ascii", text_mail(ZH.encode(), charset="us-ascii"), ZH),
        (
            "Shift_JIS",
            text_mail("①お世話になっております。".encode("cp932"), charset="shift_jis"),
            "①お世話になっております。",
        ),
        ("ks_c_5601-1987", text_mail("똠 안녕하세요.".encode("cp949"), charset="ks_c_5601-1987"), "똠 안녕하세요."),
        (
            "ISO-2022-JP with NEC characters",
            # ① is JIS row 13 (NEC), 0x2D21: Windows writes it, Python's iso2022_jp rejects it.
            text_mail(
                "会議は".encode("iso2022_jp") + b"\x1b$B-!\x1b(B" + "から".encode("iso2022_jp"),
                charset="iso-2022-jp",
                encoding="7bit",
            ),
            "会議は①から",
        ),
    ],
)
def test_body_charsets(case: str, raw: bytes, text: str) -> None:
    parsed = parse_mail(raw)
    assert_clean(parsed)
    assert parsed.text == text, case


def test_iso_2022_jp_mail() -> None:
    subject = "=?ISO-2022-JP?B?" + base64.b64encode("お問い合わせ".encode("iso2022_jp")).decode() + "?="
    raw = mail(
        "From: =?ISO-2022-JP?B?" + base64.b64encode("山田".encode("iso2022_jp")).decode() + "?= <yamada@example.jp>",
        f"Subject: {subject}",
        "Content-Type: text/plain; charset=ISO-2022-JP",
        "Content-Transfer-Encoding: 7bit",
        body="注文した商品がまだ届いていません。".encode("iso2022_jp"),
    )
    parsed = parse_mail(raw)
    assert_clean(parsed)
    assert (parsed.subject, parsed.from_name, parsed.text) == (
        "お問い合わせ",
        "山田",
        "注文した商品がまだ届いていません。",
    )


def test_raw_8bit_gbk_headers_are_decoded_with_the_body_charset() -> None:
    raw = mail(
        b"From: " + "张三".encode("gbk") + b" <zhang@example.com>",
        b"Subject: " + "退款申请：订单 12345 还没有退款".encode("gbk"),
        "Content-Type: text/plain; charset=gb2312",
        body=ZH.encode("gbk"),
    )
    parsed = parse_mail(raw)
    assert_clean(parsed)
    assert parsed.subject == "退款申请：订单 12345 还没有退款"
    assert (parsed.from_name, parsed.from_address) == ("张三", "zhang@example.com")


def test_raw_8bit_gbk_subject_without_any_charset_in_the_mail() -> None:
    raw = mail("From: a@example.com", b"Subject: " + "我的账号无法登录".encode("gbk"), body="see subject")
    assert parse_mail(raw).subject == "我的账号无法登录"


def test_rfc2047_subject_split_in_the_middle_of_a_character() -> None:
    data = "发票开具问题".encode("gbk")
    words = [
        f"=?gb2312?B?{base64.b64encode(data[:5]).decode()}?=",
        f"=?gb2312?B?{base64.b64encode(data[5:]).decode()}?=",
    ]
    parsed = parse_mail(mail("From: a@example.com", f"Subject: {words[0]}\r\n {words[1]}", body="x"))
    assert parsed.subject == "发票开具问题"


def test_gbk_only_characters_in_a_gb2312_encoded_word_and_an_address_name() -> None:
    name = base64.b64encode("王堃".encode("gbk")).decode()
    subject = base64.b64encode(GBK_ONLY.encode("gbk")).decode()
    parsed = parse_mail(
        mail(f"From: =?gb2312?B?{name}?= <kun@example.com>", f"Subject: =?GB2312?B?{subject}?=", body="x")
    )
    assert (parsed.subject, parsed.from_name) == (GBK_ONLY, "王堃")


@pytest.mark.parametrize(
    "headers",
    [
        ("Content-Type: text/html; charset=gb2312",),
        ("Content-Type: text/html",),  # the charset only in the HTML's <meta>
    ],
)
def test_html_only_gb2312_mail(headers: tuple[str, ...]) -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        "<title>标题</title><style>p {color: red}</style><script>alert('x')</script></head>"
        f"<body><p>{GBK_ONLY}</p><p>第二段<br>换行</p><img src=x onerror=alert(1)></body></html>"
    )
    parsed = parse_mail(mail("From: a@example.com", "Subject: html", *headers, body=html.encode("gbk")))
    assert_clean(parsed)
    assert parsed.text == f"{GBK_ONLY}\n\n第二段\n换行"
    assert parsed.html is not None
    assert GBK_ONLY in parsed.html
    for unsafe in ("<script", "alert", "onerror", "<style", "标题"):
        assert unsafe not in parsed.html and unsafe not in parsed.text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<ul><li>一</li><li>二</li></ul>", "  * 一\n  * 二"),
        (
            "<table><tr><td>订单</td><td>12345</td></tr><tr><td>状态</td><td>已发货</td></tr></table>",
            "订单  12345\n状态  已发货",
        ),
        ('<p>点击 <a href="https://example.com/x">这里</a> 查看</p>', "点击 这里 查看"),
        ("a &amp; &lt;b&gt;", "a & <b>"),
        ("line1<br>line2<br/><br><br><br>line3", "line1\nline2\n\nline3"),
        ("<p>a</p>\x00<p>b</p>", "a\n\nb"),  # control characters go before lxml sees them
        ("<div>" * 3000 + "深<script>alert(1)</script>", "深"),  # too deep: read without the markup
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_text.to_text(html) == text


def test_sanitize_keeps_what_a_reader_shows() -> None:
    html = '<a href="javascript:alert(1)" onclick="x()">a</a><a href="https://example.com">b</a><img src="cid:i@x">'
    assert html_text.sanitize(html) == (
        '<a rel="noopener noreferrer nofollow">a</a>'
        '<a href="https://example.com" rel="noopener noreferrer nofollow">b</a><img src="cid:i@x">'
    )


def test_alternative_takes_text_from_plain_and_keeps_the_sanitised_html() -> None:
    raw = mail(
        "From: a@example.com",
        'Content-Type: multipart/alternative; boundary="b"',
        body=(
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n纯文本\r\n"
            '--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p onclick="x()">超文本</p>\r\n--b--\r\n'
        ),
    )
    parsed = parse_mail(raw)
    assert (parsed.text, parsed.html) == ("纯文本", "<p>超文本</p>")


def test_an_empty_plain_alternative_falls_back_to_the_html_text() -> None:
    raw = mail(
        "From: a@example.com",
        'Content-Type: multipart/alternative; boundary="b"',
        body="--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>hello</b>\r\n--b--\r\n",
    )
    assert parse_mail(raw).text == "hello"


# --- transfer encodings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("base64", b64("退款".encode()) + b"\r\n-- \r\nScanned by AV, no virus found.\r\n"),  # a footer appended
        ("base64 ", base64.b64encode("退款".encode())),  # a trailing space in the header
        ("base64;", base64.b64encode("退款".encode())),
        ("BASE64", base64.b64encode("退款\n".encode()).rstrip(b"=")),  # padding lost
        ("quoted-printable", b"=E9=80=80=\r\n=E6=AC=BE"),  # a soft line break inside
        ("x-uuencode", b"begin 644 body.txt\r\n" + binascii.b2a_uu("退款".encode()) + b"`\r\nend\r\n"),
        ("8bit", "退款".encode()),
        ("binary", "退款".encode()),
        ("x-made-up", "退款".encode()),
    ],
)
def test_transfer_encodings(encoding: str, body: bytes) -> None:
    parsed = parse_mail(text_mail(body, charset="utf-8", encoding=encoding))
    assert_clean(parsed)
    assert parsed.text == "退款"


def test_a_uuencoded_file_inside_a_plain_text_body_becomes_an_attachment() -> None:
    data = bytes(range(200))
    encoded = b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45))
    body = b"See the file.\r\n\r\nbegin 644 report.bin\r\n" + encoded + b"`\r\nend\r\n\r\nThanks\r\n"
    parsed = parse_mail(text_mail(body, charset="us-ascii"))
    assert parsed.text == "See the file.\n\nThanks"
    assert [(a.filename, a.data) for a in parsed.attachments] == [("report.bin", data)]


def test_format_flowed_lines_are_joined() -> None:
    body = b"This is one \r\nlong line.\r\n> quoted \r\n> too\r\n-- \r\nsig"
    raw = mail("From: a@example.com", "Content-Type: text/plain; charset=utf-8; format=flowed", body=body)
    # (Trailing spaces are tidied away, the signature line's too; trim_quoted knows "--".)
    assert parse_mail(raw).text == "This is one long line.\n> quoted too\n--\nsig"


# --- attachments ------------------------------------------------------------------------------


def attachment_mail(*part_headers: str | bytes, data: bytes = b"%PDF-1.4 data") -> bytes:
    lines = [line.encode() if isinstance(line, str) else line for line in part_headers]
    part = b"\r\n".join(lines) + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(data)
    return mail(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="m"',
        body=b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xe8\xa7\x81\xe9\x99\x84\xe4\xbb\xb6\r\n--m\r\n"
        + part
        + b"\r\n--m--\r\n",
    )


@pytest.mark.parametrize(
    ("case", "headers", "filename"),
    [
        (
            "RFC 2231 in gb2312",
            ("Content-Type: application/pdf", "Content-Disposition: attachment; filename*=gb2312''%B7%A2%C6%B1.pdf"),
            "发票.pdf",
        ),
        (
            "RFC 2231 continuations in UTF-8",
            (
                "Content-Type: application/pdf",
                "Content-Disposition: attachment;\r\n filename*0*=utf-8''%E5%8F%91%E7%A5%A8;\r\n filename*1*=%E9%95%95.pdf",
            ),
            "发票镕.pdf",
        ),
        (
            "RFC 2231 with GBK-only characters under gb2312",
            ("Content-Type: application/pdf", "Content-Disposition: attachment; filename*=gb2312''%E9F.pdf"),
            "镕.pdf",
        ),
        (
            "RFC 2047 in a quoted name (what most mailers send)",
            ('Content-Type: application/pdf; name="=?utf-8?B?5Y+R56WoLnBkZg==?="', "Content-Disposition: attachment"),
            "发票.pdf",
        ),
        (
            "raw 8-bit GBK",
            (
                "Content-Type: application/pdf",
                b'Content-Disposition: attachment; filename="' + "发票.pdf".encode("gbk") + b'"',
            ),
            "发票.pdf",
        ),
        (
            "a Windows path",
            ("Content-Type: application/pdf", 'Content-Disposition: attachment; filename="C:\\\\Users\\\\me\\\\a.pdf"'),
            "a.pdf",
        ),
        ("no name at all", ("Content-Type: application/pdf", "Content-Disposition: attachment"), None),
    ],
)
def test_attachment_filenames(case: str, headers: tuple[str | bytes, ...], filename: str | None) -> None:
    parsed = parse_mail(attachment_mail(*headers))
    assert parsed.text == "见附件"
    assert [(a.filename, a.content_type, a.data, a.inline) for a in parsed.attachments] == [
        (filename, "application/pdf", b"%PDF-1.4 data", False)
    ], case


@pytest.mark.parametrize(
    ("content_type", "name"), [("application/ms-tnef", "winmail.dat"), ("application/vnd.ms-outlook", "邮件.msg")]
)
def test_tnef_winmail_dat_and_an_outlook_msg_are_kept_as_attachments(content_type: str, name: str) -> None:
    headers = (f'Content-Type: {content_type}; name="{name}"', f'Content-Disposition: attachment; filename="{name}"')
    parsed = parse_mail(attachment_mail(*headers, data=b"\x78\x9f\x3e\x22 tnef"))
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        (name, content_type, b"\x78\x9f\x3e\x22 tnef")
    ]


def test_inline_image_keeps_its_content_id_and_the_html_its_cid_link() -> None:
    png = b"\x89PNG\r\n\x1a\n fake"
    raw = mail(
        "From: a@example.com",
        'Content-Type: multipart/related; boundary="r"',
        body=b'--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>\xe6\x88\xaa\xe5\x9b\xbe<img src="cid:shot@x"></p>\r\n'
        b"--r\r\nContent-Type: image/png\r\nContent-ID: <shot@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(png)
        + b"--r--\r\n",
    )
    parsed = parse_mail(raw)
    assert parsed.text == "截图"
    assert parsed.html == '<p>截图<img src="cid:shot@x"></p>'
    assert [(a.content_id, a.inline, a.data, a.filename) for a in parsed.attachments] == [("shot@x", True, png, None)]


def test_an_attached_mail_is_kept_whole_not_read_as_the_body() -> None:
    inner = mail("From: b@example.com", "Subject: inner", body="inner body")
    raw = mail(
        "From: a@example.com",
        "Subject: outer",
        'Content-Type: multipart/mixed; boundary="m"',
        body=b"--m\r\nContent-Type: text/plain\r\n\r\nouter body\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner
        + b"\r\n--m--\r\n",
    )
    parsed = parse_mail(raw)
    assert parsed.text == "outer body"
    [attached] = parsed.attachments
    assert attached.content_type == "message/rfc822"
    assert b"Subject: inner" in attached.data and b"inner body" in attached.data


def test_a_base64_encoded_attached_mail_is_decoded() -> None:
    inner = mail("From: b@example.com", "Subject: inner", body="inner body")
    raw = mail(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="m"',
        body=b"--m\r\nContent-Type: text/plain\r\n\r\nouter\r\n--m\r\nContent-Type: message/rfc822\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(inner) + b"--m--\r\n",
    )
    [attached] = parse_mail(raw).attachments
    assert attached.data == inner


def test_a_text_part_with_a_filename_is_an_attachment() -> None:
    raw = mail(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="m"',
        body="--m\r\nContent-Type: text/plain\r\n\r\nbody\r\n--m\r\n"
        'Content-Type: text/plain; name="log.txt"\r\nContent-Disposition: inline; filename="log.txt"\r\n\r\nlog\r\n--m--\r\n',
    )
    parsed = parse_mail(raw)
    assert parsed.text == "body"
    assert [(a.filename, a.inline, a.data) for a in parsed.attachments] == [("log.txt", True, b"log")]


# --- empty, broken and odd input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "raw", "problem"),
    [
        ("0 bytes", b"", "empty input"),
        ("only blank lines", b"\r\n\r\n  \r\n", "empty input"),
        ("garbage bytes", bytes(range(256)) * 4, "no mail header fields"),
        ("text that is not a mail", "这不是邮件\n只是文字".encode(), "no mail header fields"),
    ],
)
def test_input_that_is_not_a_mail_has_a_problem(case: str, raw: bytes, problem: str) -> None:
    parsed = parse_mail(raw)
    assert parsed.problem is not None and parsed.problem.startswith(problem), case
    assert parsed.digest == content_digest(raw)


def test_no_subject_no_sender_empty_body() -> None:
    parsed = parse_mail(mail("To: support@example.com", "Message-ID: <1@x>"))
    assert parsed.problem is None
    assert (parsed.subject, parsed.from_address, parsed.from_name, parsed.text, parsed.text_new) == (
        "",
        None,
        None,
        "",
        "",
    )
    assert "no sender address" in parsed.defects


def test_headers_only_without_a_blank_line() -> None:
    parsed = parse_mail(b"From: a@example.com\r\nSubject: only headers\r\n")
    assert (parsed.problem, parsed.subject, parsed.text, parsed.attachments) == (None, "only headers", "", ())


def test_obsolete_space_before_the_colon() -> None:
    parsed = parse_mail(b"From  : John <john@example.com>\r\nSubject   : hi\r\n\r\nbody")
    assert (parsed.from_address, parsed.subject, parsed.text) == ("john@example.com", "hi", "body")


def test_a_mime_tree_built_to_exhaust_the_parser_is_cut_not_fatal() -> None:
    depth = 60
    body = "".join(f'--b{n}\r\nContent-Type: multipart/mixed; boundary="b{n + 1}"\r\n\r\n' for n in range(depth))
    body += "--b60\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" + "".join(f"--b{n}--\r\n" for n in range(depth, -1, -1))
    parsed = parse_mail(mail("From: a@example.com", 'Content-Type: multipart/mixed; boundary="b0"', body=body))
    assert parsed.problem is None
    assert any("deeper than" in defect for defect in parsed.defects)


def test_bytes_valid_in_no_charset_are_reported() -> None:
    parsed = parse_mail(text_mail("订单".encode() + b"\xff" + "已收到".encode(), charset="utf-8"))
    assert parsed.text == "订单\ufffd已收到"
    assert "text/plain part: bytes invalid in utf-8 replaced by U+FFFD" in parsed.defects


def test_header_bytes_valid_in_no_charset_are_reported() -> None:
    parsed = parse_mail(mail("From: a@example.com", b"Subject: " + "订单".encode() + b"\xff\xfe"))
    assert parsed.subject == "订单\ufffd\ufffd"
    assert "subject header: bytes invalid in every charset replaced by U+FFFD" in parsed.defects


def test_an_exception_inside_becomes_a_problem_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("huiying.channels.email.parse._collect", explode)
    raw = mail("From: a@example.com", body="x")
    parsed = parse_mail(raw)
    assert parsed.problem == "cannot parse: RecursionError: maximum recursion depth exceeded"
    assert parsed.digest == content_digest(raw)


@pytest.mark.parametrize(
    ("case", "raw"),
    [
        ("uuencode begins without an end", text_mail(b"begin 644 a.txt\r\n" * 20_000, charset="us-ascii")),
        ("a megabyte header line", mail("From: a@example.com", "Subject: " + "a" * 1_000_000)),
        ("a header folded over 100,000 lines", mail("From: a@example.com", "X-Long: a" + "\r\n b" * 100_000)),
        (
            "thousands of encoded words",
            mail("From: a@example.com", "Subject: " + " ".join(["=?utf-8?B?5L2g?="] * 5_000)),
        ),
        ("a megabyte of one quoted line", text_mail(b"> " + b"x" * 1_000_000, charset="us-ascii")),
        ("deeply nested HTML", text_mail(b"<div>" * 50_000 + b"deep", charset="us-ascii", subtype="html")),
    ],
)
def test_pathological_input_stays_linear(case: str, raw: bytes) -> None:
    started = time.perf_counter()
    assert parse_mail(raw).problem is None, case
    assert time.perf_counter() - started < 5, case


SAMPLE = attachment_mail(
    "Content-Type: application/pdf", "Content-Disposition: attachment; filename*=gb2312''%B7%A2.pdf"
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_parse_mail_never_raises_on_random_bytes(raw: bytes) -> None:
    assert isinstance(parse_mail(raw), ParsedMail)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(SAMPLE) - 1), st.binary(min_size=1, max_size=8), st.integers(0, 8))
def test_parse_mail_never_raises_on_a_damaged_mail(at: int, insert: bytes, cut: int) -> None:
    parsed = parse_mail(SAMPLE[:at] + insert + SAMPLE[at + cut :])
    assert isinstance(parsed, ParsedMail)
    assert parsed.problem is None or isinstance(parsed.problem, str)


# --- headers: dates, ids, addresses, flags ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 12 Mar 2024 10:30:00 +0800", datetime(2024, 3, 12, 2, 30, tzinfo=UTC)),
        ("12 Mar 2024 10:30:00 -0000", datetime(2024, 3, 12, 10, 30, tzinfo=UTC)),  # no zone: UTC
        ("Tue, 12 Mar 2024 10:30 GMT", datetime(2024, 3, 12, 10, 30, tzinfo=UTC)),
        ("not a date", None),
        ("Tue, 99 Foo 2024 10:30:00 +0800", None),
    ],
)
def test_date_is_aware_utc_or_none(value: str, expected: datetime | None) -> None:
    assert parse_mail(mail("From: a@example.com", f"Date: {value}")).date == expected


def test_threading_ids_without_angle_brackets() -> None:
    parsed = parse_mail(
        mail(
            "From: a@example.com",
            "Message-ID: < abc@example.com >",
            "In-Reply-To: Your message of Monday <T-1001@support.example.com> (and more)",
            "References: <r1@x> <r2@x>\r\n\t<r1@x>,<T-1001@support.example.com>",
        )
    )
    assert parsed.message_id == "abc@example.com"
    assert parsed.in_reply_to == "T-1001@support.example.com"
    assert parsed.references == ("r1@x", "r2@x", "T-1001@support.example.com")


def test_bare_message_ids_are_accepted() -> None:
    parsed = parse_mail(mail("From: a@example.com", "Message-ID: 1234@example.com", "In-Reply-To:"))
    assert (parsed.message_id, parsed.in_reply_to) == ("1234@example.com", None)


def test_addresses() -> None:
    parsed = parse_mail(
        mail(
            'From: "=?utf-8?Q?Doe=2C_John?=" <John.Doe@Example.COM>',
            "To: support@example.com, =?utf-8?B?5a6i5pyN?= <kefu@example.com>",
            "Cc: undisclosed-recipients:;",
            "Reply-To: Reply <reply@example.com>",
        )
    )
    assert (parsed.from_name, parsed.from_address) == ("Doe, John", "john.doe@example.com")
    assert (parsed.to, parsed.cc, parsed.reply_to) == (
        ("support@example.com", "kefu@example.com"),
        (),
        ("reply@example.com",),
    )


@pytest.mark.parametrize(
    ("value", "name", "address"),
    [
        ("Big Bug bb@bug.com", "Big Bug", "bb@bug.com"),  # no angle brackets
        ("MAILER-DAEMON", "MAILER-DAEMON", None),  # no address at all
        ("<a@example.com>", None, "a@example.com"),
    ],
)
def test_sender_that_the_address_parser_cannot_split(value: str, name: str | None, address: str | None) -> None:
    parsed = parse_mail(mail(f"From: {value}", "Subject: s"))
    assert (parsed.from_name, parsed.from_address) == (name, address)


def test_sender_header_when_there_is_no_from() -> None:
    assert parse_mail(mail("Sender: s@example.com", "Subject: s")).from_address == "s@example.com"


@pytest.mark.parametrize(
    ("header", "flag"),
    [
        ("Auto-Submitted: auto-replied", Flag.AUTO_SUBMITTED),
        ("Auto-Submitted: auto-generated; type=bounce", Flag.AUTO_SUBMITTED),
        ("Precedence: bulk", Flag.PRECEDENCE_BULK),
        ("Precedence: junk", Flag.PRECEDENCE_BULK),
        ("Precedence: list", Flag.PRECEDENCE_LIST),
        ("Precedence: auto_reply", Flag.PRECEDENCE_AUTO_REPLY),
        ("X-Autoreply: yes", Flag.X_AUTOREPLY),
        ("X-Autorespond: vacation", Flag.X_AUTORESPOND),
        ("List-Id: <users.lists.example.com>", Flag.LIST_ID),
        ("List-Unsubscribe: <mailto:leave@example.com>", Flag.LIST_UNSUBSCRIBE),
        ("Return-Path: <>", Flag.NULL_RETURN_PATH),
        ("X-Spam-Flag: YES", Flag.SPAM),
        ("X-Spam-Status: Yes, score=9.1 required=5.0", Flag.SPAM),
        ('Content-Type: multipart/report; report-type="delivery-status"; boundary=x', Flag.DELIVERY_REPORT),
        ("Content-Type: multipart/report; report-type=disposition-notification; boundary=x", Flag.DISPOSITION_REPORT),
    ],
)
def test_header_flags(header: str, flag: Flag) -> None:
    assert parse_mail(mail("From: a@example.com", header)).flags == (flag,)


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: no",
        "Precedence: first-class",
        "X-Autoreply: no",
        "X-Spam-Flag: NO",
        "X-Spam-Status: No, score=0.1",
        "Return-Path: <a@example.com>",
    ],
)
def test_headers_that_raise_no_flag(header: str) -> None:
    assert parse_mail(mail("From: a@example.com", header)).flags == ()


def test_headers_are_all_kept_decoded() -> None:
    parsed = parse_mail(mail("From: a@example.com", "X-Custom: =?utf-8?B?5L2g5aW9?=", "x-custom: second"))
    assert parsed.header("X-CUSTOM") == "你好"
    assert ("x-custom", "second") in parsed.headers
    assert parsed.header("missing") is None


# --- quoted history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "text", "new"),
    [
        ("Gmail", "Thanks!\n\nOn Mon, Mar 11, 2024 at 10:00 AM Support <s@x.com> wrote:\n> old\n> older", "Thanks!"),
        (
            "Gmail, intro wrapped",
            "Thanks!\n\nOn Mon, Mar 11, 2024 at 10:00 AM Support Team <\nsupport@example.com> wrote:\n\n> old",
            "Thanks!",
        ),
        ("163.com", '好的，谢谢\n\n在 2024-03-11 10:00:00，"客服" <kefu@example.com> 写道：\n>您好', "好的，谢谢"),
        ("Apple Mail zh", "收到\n\n在 2024年3月11日，10:00，客服 <kefu@example.com> 写道：\n\n旧内容", "收到"),
        (
            "Outlook",
            "Please see below.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nold text",
            "Please see below.",
        ),
        ("Outlook zh", "请看下面。\n\n-----邮件原件-----\n发件人: 客服\n发送时间: 2024年3月11日\n旧内容", "请看下面。"),
        ("QQ Mail", '已处理\n\n------------------ 原始邮件 ------------------\n发件人: "客服"<k@x.com>;\n旧', "已处理"),
        (
            "Foxmail 发件人 block",
            "没问题\n\n发件人：客服\n发送时间：2024-03-11 10:00\n收件人：我\n主题：回复\n旧",
            "没问题",
        ),
        (
            "Outlook From block",
            "OK\n________________________________\nFrom: Support <s@x.com>\nSent: Monday\nTo: me\nold",
            "OK",
        ),
        ("signature", "Fine.\n-- \nJohn Doe\nACME", "Fine."),
        ("inline replies keep the answers", "> Does it work?\nYes.\n> And now?\nNo.", "Yes.\nNo."),
        ("mobile signature", "马上到\n\n发自我的iPhone", "马上到"),
        ("nothing new: the whole text", "> only a quote\n> more", "> only a quote\n> more"),
        (
            "a From: line in prose is not a block",
            "From: the start it failed.\nThen it worked.",
            "From: the start it failed.\nThen it worked.",
        ),
        ("no history", "just text\n\nsecond paragraph", "just text\n\nsecond paragraph"),
    ],
)
def test_trim_quoted(case: str, text: str, new: str) -> None:
    assert trim_quoted(text) == new, case


def test_text_keeps_the_history_text_new_drops_it() -> None:
    parsed = parse_mail(text_mail("好的\n\n在 2024年3月11日，客服 写道：\n> 旧".encode("gbk"), charset="gbk"))
    assert (parsed.text, parsed.text_new) == ("好的\n\n在 2024年3月11日，客服 写道：\n> 旧", "好的")


# --- the digest -------------------------------------------------------------------------------


def test_the_same_mail_delivered_twice_has_one_digest() -> None:
    original = mail("From: a@example.com", "Subject: s", "Message-ID: <1@x>", body="body\r\n")
    again = (
        b"From MAILER-DAEMON Mon Mar 11 10:00:00 2024\r\n"
        b"Received: from mx2 by us\r\n\tfor <other@example.com>\r\nDelivered-To: other@example.com\r\n"
        b"X-Spam-Status: No, score=0.0\r\nStatus: RO\r\n" + original.replace(b"\r\n", b"\n") + b"\n\n"
    )
    assert content_digest(original) == content_digest(again)
    assert parse_mail(original).digest == content_digest(original)


def test_a_different_body_or_header_is_a_different_digest() -> None:
    original = mail("From: a@example.com", "Subject: s", "Message-ID: <1@x>", body="body")
    assert content_digest(original) != content_digest(original.replace(b"body", b"bodY"))
    assert content_digest(original) != content_digest(original.replace(b"Subject: s", b"Subject: t"))
