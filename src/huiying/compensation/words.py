"""Compensation said to the user, in zh-CN or English: pure, no database or I/O.

The resolution notice (email and in-app) lists each approved compensation as one phrase, e.g.
"优惠券 20 元" / "a coupon worth CNY 20"; the channel's text puts "补偿：" / "Compensation:" before.
"""

from __future__ import annotations

from decimal import Decimal

_UNIT_ZH = {"CNY": "元", "points": "积分", "days": "天"}


def number(amount: Decimal) -> str:
    """20 for 20.00, 19.90 for 19.9: whole amounts without decimals, others with two."""
    if amount == amount.to_integral_value():
        return str(int(amount))
    return f"{amount:.2f}"


def _quantity_en(amount: Decimal, unit: str) -> str:
    n = number(amount)
    if unit == "CNY":
        return f"CNY {n}"
    return f"{n} {'points' if unit == 'points' else 'days'}"


def phrase(*, kind: str, amount: Decimal, unit: str, note: str = "", language: str) -> str:
    """One compensation in words; `language` "en" gives English, anything else zh-CN."""
    n = number(amount)
    if language == "en":
        match kind:
            case "coupon":
                return f"a coupon worth CNY {n}"
            case "refund":
                return f"a refund of CNY {n}"
            case "points":
                return f"{n} points"
            case "membership_days":
                return f"{n} days of membership"
        return f"{note.strip() or 'other compensation'} ({_quantity_en(amount, unit)})"
    match kind:
        case "coupon":
            return f"优惠券 {n} 元"
        case "refund":
            return f"退款 {n} 元"
        case "points":
            return f"{n} 积分"
        case "membership_days":
            return f"会员 {n} 天"
    return f"{note.strip() or '其他补偿'}（{n} {_UNIT_ZH.get(unit, unit)}）"
