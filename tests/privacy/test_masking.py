"""Finding and masking personal data in text (table-driven)."""

from __future__ import annotations

import logging

import pytest

from huiying.kit.masking import contains_pii, is_id_card, mask_contact, mask_text, passes_luhn
from huiying.logs import MaskPersonalData


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的手机13812345678，谢谢", "我的手机138****5678，谢谢"),
        ("call +86 138 1234 5678 now", "call +138****5678 now"),
        ("电话：+8613812345678", "电话：+138****5678"),
        ("邮箱 zhang.san@example.com 联系", "邮箱 z***@example.com 联系"),
        ("身份证11010519491231002X", "身份证1101**********002X"),
        ("卡号 6222021234567890128 尾号", "卡号 ***************0128 尾号"),
        ("卡号 6222 0212 3456 7890 128", "卡号 ***************0128"),
        ("座机 010-12345678", "座机 010-****678"),
        # Things agents need must stay readable.
        ("订单号 202611230001234567", "订单号 202611230001234567"),
        ("直播间 88812345", "直播间 88812345"),
        ("版本 5.2.0，iOS 17.4", "版本 5.2.0，iOS 17.4"),
        ("工单 HY261123-0042", "工单 HY261123-0042"),
        ("12345678901", "12345678901"),  # not a mainland mobile prefix
        ("110105194912310021", "110105194912310021"),  # ID-shaped, wrong check digit
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert contains_pii(text) == (text != masked)


@pytest.mark.parametrize(
    ("contact", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86-138-1234-5678", "138****5678"),
        ("a@b.cn", "a***@b.cn"),
        ("wx_zhangsan", "wx***"),
        ("abc", "***"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_contact(contact: str | None, masked: str | None) -> None:
    assert mask_contact(contact) == masked


def test_validators() -> None:
    assert is_id_card("11010519491231002X")
    assert not is_id_card("110105194912310021")
    assert passes_luhn("4111111111111111")
    assert not passes_luhn("4111111111111112")


def test_log_lines_are_masked() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "user %s wrote from %s", ("u1", "13812345678"), None)
    assert MaskPersonalData().filter(record)
    assert record.getMessage() == "user u1 wrote from 138****5678"
