"""charsets: labels read as the supersets senders use, mislabels caught, headers decoded."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiying.channels.email import charsets
from huiying.channels.email.charsets import decode, decode_bytes, decode_header, decode_raw_8bit, lenient_b64decode

GBK_ONLY = "朱镕基、张喆、王堃、李玥"  # none of 镕 喆 堃 玥 is in GB2312
ZH = "您好，我的订单还没有收到，请尽快处理。谢谢！"
ZH_HANT = "您好，我的訂單還沒有收到，請盡快處理。謝謝！"
JA = "お世話になっております。注文した商品がまだ届いていません。"
KO = "안녕하세요. 주문한 상품이 아직 도착하지 않았습니다."


@pytest.mark.parametrize(
    ("label", "first_codec"),
    [
        ("gb2312", "gb18030"),
        ("GB2312", "gb18030"),
        ('"gbk"', "gb18030"),
        ("gb_2312-80", "gb18030"),
        ("x-gbk", "gb18030"),
        ("euc-cn", "gb18030"),
        ("cp936", "gb18030"),
        ("ks_c_5601-1987", "cp949"),
        ("euc-kr", "cp949"),
        ("big5", "big5hkscs"),
        ("x-x-big5", "big5hkscs"),
        ("shift_jis", "cp932"),
        ("sjis", "cp932"),
        ("windows-31j", "cp932"),
        ("iso-2022-jp", "iso2022_jp"),
        ("iso-2022-jp-ext", "iso2022_jp_ext"),
        ("iso-2022-jp-1", "iso2022_jp_1"),
        ("iso-2022-jp-2004", "iso2022_jp_2004"),
        ("utf-7", "utf-7"),
        ("utf8", "utf-8"),
        ("utf-8*zh-cn", "utf-8"),  # an RFC 2231 language tag on the label
        ("iso-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("koi8-r", "koi8-r"),
    ],
)
def test_labels_map_to_the_superset_senders_use(label: str, first_codec: str) -> None:
    assert charsets.codecs_for(label)[0] == first_codec


@pytest.mark.parametrize("label", [None, "", "x-unknown", "unknown-8bit", "no-such-charset", "rot13", "base64", "idna"])
def test_missing_unknown_and_non_charset_labels_mean_detection(label: str | None) -> None:
    assert charsets.codecs_for(label) == ()


def test_python_policy_default_loses_gbk_characters_in_a_gb2312_part() -> None:
    # Why this module exists: the standard library decodes "gb2312" strictly.
    raw = b"Content-Type: text/plain; charset=gb2312\r\n\r\n" + GBK_ONLY.encode("gb18030")
    assert "\ufffd" in message_from_bytes(raw, policy=policy.default).get_content()
    assert decode(GBK_ONLY.encode("gb18030"), "gb2312") == GBK_ONLY


@pytest.mark.parametrize(
    ("case", "data", "label", "text", "codec"),
    [
        ("gb2312 label, GBK-only characters", GBK_ONLY.encode("gbk"), "gb2312", GBK_ONLY, "gb18030"),
        ("GB18030 four-byte character", "𠮷野家的订单".encode("gb18030"), "gb2312", "𠮷野家的订单", "gb18030"),
        ("Big5", ZH_HANT.encode("big5"), "big5", ZH_HANT, "big5hkscs"),
        ("Big5 HKSCS character", "𨋢到了".encode("big5hkscs"), "big5", "𨋢到了", "big5hkscs"),
        ("Big5 with the euro of cp950", "價格€100".encode("cp950"), "big5", "價格€100", "cp950"),
        ("Big5 mislabelled gb2312", ZH_HANT.encode("big5"), "gb2312", ZH_HANT, "big5hkscs"),
        ("short Big5 mislabelled gb2312", "測試郵件".encode("big5"), "gb2312", "測試郵件", "big5hkscs"),
        ("GBK labelled utf-8", ZH.encode("gbk"), "utf-8", ZH, "gb18030"),
        ("GBK labelled iso-8859-1", ZH.encode("gbk"), "iso-8859-1", ZH, "gb18030"),
        ("UTF-8 labelled gb2312", ZH.encode("utf-8"), "gb2312", ZH, "utf-8"),
        ("UTF-8 labelled iso-8859-1", "Grüße aus Köln".encode(), "iso-8859-1", "Grüße aus Köln", "utf-8"),
        (
            "Latin-1 stays Latin-1",
            "Grüße aus Köln, café".encode("latin-1"),
            "iso-8859-1",
            "Grüße aus Köln, café",
            "cp1252",
        ),
        (
            "windows-1252 quotes under latin-1",
            "“quoted” – dash".encode("cp1252"),
            "iso-8859-1",
            "“quoted” – dash",
            "cp1252",
        ),
        ("8-bit under us-ascii", "café crème".encode("latin-1"), "us-ascii", "café crème", "cp1252"),
        ("KOI8-R stays", "Привет, заказ не пришёл.".encode("koi8-r"), "koi8-r", "Привет, заказ не пришёл.", "koi8-r"),
        ("ISO-2022-JP", JA.encode("iso2022_jp"), "iso-2022-jp", JA, "iso2022_jp"),
        ("ISO-2022-JP with NEC row 13", b"\x1b$B-!-j\x1b(B", "iso-2022-jp", "①㈱", charsets.ISO2022JP_AS_CP932),
        ("ISO-2022-JP half-width katakana", b"\x1b(I6@6E\x1b(B", "iso-2022-jp", "ｶﾀｶﾅ", charsets.ISO2022JP_AS_CP932),
        ("ISO-2022-JP without a label", JA.encode("iso2022_jp"), None, JA, "iso2022_jp"),
        ("Shift_JIS with a NEC character", ("①" + JA).encode("cp932"), "shift_jis", "①" + JA, "cp932"),
        ("ks_c_5601 with a UHC syllable", ("똠" + KO).encode("cp949"), "ks_c_5601-1987", "똠" + KO, "cp949"),
        ("EUC-KR", KO.encode("euc_kr"), "euc-kr", KO, "cp949"),
        ("UTF-7", "Hi 你好".encode("utf-7"), "utf-7", "Hi 你好", "utf-7"),
        (
            "Big5 misread as Latin-1 and re-encoded as UTF-8, under its big5 label",
            ZH_HANT.encode("big5").decode("latin-1").encode(),
            "big5",
            ZH_HANT,
            "big5hkscs",
        ),
        (
            "GBK misread as cp1252, under its gb2312 label",
            ZH.encode("gbk").decode("cp1252").encode(),
            "gb2312",
            ZH,
            "gb18030",
        ),
        ("accented Latin in UTF-8 under gb2312", "Grüße aus Köln".encode(), "gb2312", "Grüße aus Köln", "utf-8"),
        ("a few accented letters in UTF-8 under big5", "Crème brûlée".encode(), "big5", "Crème brûlée", "utf-8"),
        ("x-unknown is detected", ZH.encode("gbk"), "x-unknown", ZH, "gb18030"),
        ("GBK without a label", ZH.encode("gbk"), None, ZH, "gb18030"),
        ("short GBK without a label", "退款申请".encode("gbk"), None, "退款申请", "gb18030"),
        ("Big5 without a label", ZH_HANT.encode("big5"), None, ZH_HANT, "big5hkscs"),
        ("Shift_JIS without a label", JA.encode("cp932"), None, JA, "cp932"),
        ("Korean without a label", KO.encode("cp949"), None, KO, "cp949"),
        ("UTF-8 with a BOM", "\ufeff你好".encode(), None, "你好", "utf-8-sig"),
        ("a non-charset label is ignored", b"plain words", "rot13", "plain words", "ascii"),
        ("empty", b"", "gb2312", "", "gb18030"),
    ],
)
def test_decode_bytes(case: str, data: bytes, label: str | None, text: str, codec: str) -> None:
    decoded = decode_bytes(data, label)
    assert (decoded.text, decoded.charset, decoded.lossy) == (text, codec, False), case


def test_western_text_without_a_label_is_detected() -> None:
    text = "Привет, как дела? Заказ не пришёл, пожалуйста помогите мне разобраться."
    assert decode(text.encode("cp1251")) == text


@pytest.mark.parametrize(
    ("data", "label"),
    [
        ("您好，我的订单还没有收到".encode("gbk")[:-1], "gb2312"),  # cut in the middle of 到
        ("您好，我的订单还没有收到".encode()[:-1], "utf-8"),
        ("您好，我的订单还没有收到".encode()[:-1], None),  # unlabelled 8-bit: UTF-8 first
        ("您好，我的订单还没有收到".encode("gbk")[:-1], "x-unknown"),  # ...unless it reads as CJK
    ],
)
def test_a_few_broken_bytes_keep_the_label_and_only_they_become_u_fffd(data: bytes, label: str) -> None:
    decoded = decode_bytes(data, label)
    assert decoded.lossy
    assert decoded.text == "您好，我的订单还没有收\ufffd"


def test_bytes_valid_in_no_charset_are_lossy_not_an_error() -> None:
    decoded = decode_bytes(bytes(range(256)) * 3, "utf-8")
    assert isinstance(decoded.text, str)


def test_a_hint_decides_a_raw_header_without_a_label() -> None:
    # Two rare characters alone are ambiguous; the body's charset says which.
    name = "測試"
    assert decode(name.encode("big5"), None, hint="big5") == name
    assert decode("张三".encode("gbk"), None, hint="gb2312") == "张三"
    # A single-byte hint never hides a CJK reading: any bytes fit latin-1.
    assert decode("您好，订单".encode("gbk"), None, hint="iso-8859-1") == "您好，订单"
    assert decode("Grüße".encode("latin-1"), None, hint="iso-8859-1") == "Grüße"


GB2312_HANZI = sorted(charsets._repertoire("gb2312", range(0xB0, 0xF8), (range(0xA1, 0xFF),)))
BIG5_HANZI = sorted(charsets._repertoire("big5", range(0xA4, 0xC7), (range(0x40, 0x7F), range(0xA1, 0xFF))))
PUNCTUATION = list("，。、！？：；“”（）《》 0123456789abcXYZ")


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(GB2312_HANZI + PUNCTUATION), min_size=1, max_size=40))
def test_any_gb2312_text_under_its_label_comes_back_exactly(text: str) -> None:
    assert decode(text.encode("gb18030"), "gb2312") == text


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(BIG5_HANZI + PUNCTUATION), min_size=1, max_size=40))
def test_any_big5_text_under_its_label_comes_back_exactly(text: str) -> None:
    assert decode(text.encode("big5"), "big5") == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_utf8_text_under_its_label_comes_back_exactly(text: str) -> None:
    assert decode(text.encode("utf-8"), "utf-8") == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([None, "utf-8", "gb2312", "big5", "iso-2022-jp", "utf-7", "x-bogus"]))
def test_decode_never_raises(data: bytes, label: str | None) -> None:
    assert isinstance(decode(data, label), str)
    assert isinstance(decode_header(data, hint=label), str)


# --- headers ----------------------------------------------------------------------------------


def _b(text: str, codec: str) -> str:
    return _b64(text.encode(codec))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _q(data: bytes) -> str:
    return "".join(f"={byte:02X}" for byte in data)


NIHAO = "你好".encode()  # e4 bd a0 | e5 a5 bd
DINGDAN = "订单".encode("gbk")  # b6 a9 | b5 a5


@pytest.mark.parametrize(
    ("case", "raw", "text"),
    [
        ("plain ASCII, folded", "Hello\r\n world", "Hello world"),
        ("B word", f"=?utf-8?B?{_b('退款申请', 'utf-8')}?=", "退款申请"),
        ("Q word", "=?utf-8?Q?Caf=C3=A9_au_lait?=", "Café au lait"),
        ("lower-case b and q", f"=?UTF-8?b?{_b('你好', 'utf-8')}?= =?utf-8?q?=E4=BD=A0?=", "你好你"),
        ("gb2312 word with GBK-only characters", f"=?gb2312?B?{_b(GBK_ONLY, 'gbk')}?=", GBK_ONLY),
        (
            "space between words dropped, around text kept",
            f"Re: =?utf-8?B?{_b('你', 'utf-8')}?= =?utf-8?B?{_b('好', 'utf-8')}?= ok",
            "Re: 你好 ok",
        ),
        (
            "character split across two words",
            f"=?utf-8?B?{_b64(NIHAO[:4])}?= =?utf-8?B?{_b64(NIHAO[4:])}?=",
            "你好",
        ),
        (
            "GBK character split across two Q words",
            f"=?gbk?Q?{_q(DINGDAN[:3])}?= =?gbk?Q?{_q(DINGDAN[3:])}?=",
            "订单",
        ),
        ("base64 split off its 4-character groups", "=?utf-8?B?5L2g5a?= =?utf-8?B?W9?=", "你好"),
        ("unpadded base64", "=?utf-8?B?5L2g5aW95L2g?=", "你好你"),
        ("missing ?= at the end", f"=?utf-8?B?{_b('退款', 'utf-8')}", "退款"),
        ("missing ?= before a space", f"=?utf-8?B?{_b('退款', 'utf-8')} now", "退款 now"),
        ("wrong charset label: GBK bytes labelled utf-8", f"=?utf-8?B?{_b(ZH, 'gbk')}?=", ZH),
        ("unknown charset label", f"=?x-unknown?B?{_b(ZH, 'gbk')}?=", ZH),
        ("language tag in the charset", f"=?utf-8*zh?B?{_b('你好', 'utf-8')}?=", "你好"),
        ("an encoded word glued to text", f"Re:=?utf-8?B?{_b('你好', 'utf-8')}?=", "Re:你好"),
        ("encoded words in ISO-2022-JP", f"=?iso-2022-jp?B?{_b('まみむめも', 'iso2022_jp')}?=", "まみむめも"),
        ("not an encoded word", "=?what is this", "=?what is this"),
    ],
)
def test_decode_header(case: str, raw: str, text: str) -> None:
    assert decode_header(raw) == text, case


def test_raw_8bit_gbk_subject_without_rfc2047() -> None:
    raw = ("Re: " + "退款申请：订单号 12345").encode("gbk")
    assert decode_header(raw) == "Re: 退款申请：订单号 12345"
    assert decode_header(raw, hint="gb2312") == "Re: 退款申请：订单号 12345"
    # As the parser hands it over: 8-bit bytes as lone surrogates in a str.
    assert decode_header(raw.decode("ascii", "surrogateescape")) == "Re: 退款申请：订单号 12345"


def test_raw_utf8_header() -> None:
    assert decode_header("Säying Hello 你好".encode()) == "Säying Hello 你好"


def test_decode_raw_8bit_leaves_encoded_words_for_the_address_parser() -> None:
    raw = "张三 <zhang@example.com>, =?utf-8?Q?Doe=2C_John?= <john@example.com>".encode("gbk")
    assert decode_raw_8bit(raw) == "张三 <zhang@example.com>, =?utf-8?Q?Doe=2C_John?= <john@example.com>"


@pytest.mark.parametrize(
    ("data", "decoded"),
    [
        (b"5L2g5aW9", "你好".encode()),
        (b"5L2g\r\n5aW9\r\n", "你好".encode()),
        (b"5L2g5a", b"\xe4\xbd\xa0\xe5"),  # padding missing
        (b"5L0=5aW9", b"\xe4\xbd\xe5\xa5\xbd"),  # padding in the middle: two streams
        (b"5L2g\r\nThis mail was scanned!\r\n", "你".encode()),  # a footer appended after the base64
        (b"ecO2dMOkIHZhYW4uCg== ignored", "yötä vaan.\n".encode()),  # text after the padding
        (b"?garbage", b""),
        (b"5L2g5", "你".encode()),  # a lone trailing character
        (b"", b""),
    ],
)
def test_lenient_b64decode(data: bytes, decoded: bytes) -> None:
    assert lenient_b64decode(data) == decoded
