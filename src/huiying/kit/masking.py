"""Find personal data in text and mask it (脱敏): phones, emails, ID card and bank card numbers.

Pure functions, no app imports. Long digit runs are only masked when they validate (ID card
checksum, Luhn for bank cards, a mainland mobile prefix), so order numbers and room ids that
agents need stay readable.
"""

from __future__ import annotations

import re

_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
_ID_CARD = r"\d{17}[\dXx]"
_DIGITS = r"\d(?:[ \-]?\d){10,22}"
_LANDLINE = r"0\d{2,3}-\d{7,8}"

_PII = re.compile(
    rf"(?P<email>{_EMAIL})"
    rf"|(?<![\dA-Za-z])(?:(?P<id>{_ID_CARD})|(?P<landline>{_LANDLINE})|(?P<digits>{_DIGITS}))"
    r"(?![\dA-Za-z])"
)
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
# Every digit pattern above starts with three digits, at most one space or hyphen between
# them; with no "@" either, nothing can match. Far cheaper to search than _PII, which tries its
# alternatives at every character: most feedback has no personal data, and lists mask fifty.
_MAYBE_PII = re.compile(r"\d[ \-]?\d[ \-]?\d")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_id_card(value: str) -> bool:
    """True for an 18-character PRC resident ID number with a valid check character."""
    if not re.fullmatch(_ID_CARD, value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def passes_luhn(digits: str) -> bool:
    """The Luhn check used by bank card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mobile_number(contact: str | None) -> str | None:
    """The 11-digit mainland mobile number a contact is ("+86 138-0013-8000" → "13800138000"), or None."""
    if not contact or "@" in contact:
        return None
    digits = re.sub(r"[\s\-()+]", "", contact)
    found = _MOBILE.fullmatch(digits)
    return found.group(1) if found else None


def mask_phone(digits: str) -> str:
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "*" * len(digits)


def _mask_digit_run(run: str) -> str | None:
    digits = re.sub(r"[ \-]", "", run)
    mobile = _MOBILE.fullmatch(digits)
    if mobile:
        return mask_phone(mobile.group(1))
    if len(digits) == 18 and is_id_card(digits):
        return digits[:4] + "*" * 10 + digits[-4:]
    if 15 <= len(digits) <= 19 and passes_luhn(digits):
        return "*" * (len(digits) - 4) + digits[-4:]
    return None


def _replace(match: re.Match[str]) -> str:
    text = match.group(0)
    if match.group("email"):
        return mask_email(text)
    if match.group("id") and is_id_card(text):
        return text[:4] + "*" * 10 + text[-4:]
    if match.group("landline"):
        area, _, number = text.partition("-")
        return f"{area}-****{number[-3:]}"
    masked = _mask_digit_run(text)
    return text if masked is None else masked


def mask_text(text: str) -> str:
    """`text` with every phone number, email, ID card and bank card number masked."""
    if "@" not in text and _MAYBE_PII.search(text) is None:
        return text
    return _PII.sub(_replace, text)


def contains_pii(text: str) -> bool:
    """Whether `mask_text` would change anything in `text`."""
    return mask_text(text) != text


def mask_contact(contact: str | None) -> str | None:
    """A contact field (phone, email or account handle) as shown to readers without view_pii."""
    if not contact:
        return contact
    value = contact.strip()
    if "@" in value and re.fullmatch(_EMAIL, value):
        return mask_email(value)
    digits = re.sub(r"[^\d]", "", value)
    if len(digits) >= 7 and len(digits) >= len(value) - 4:
        mobile = _MOBILE.fullmatch(digits)
        return mask_phone(mobile.group(1) if mobile else digits)
    masked = mask_text(value)
    if masked != value:
        return masked
    # An account handle or anything else: keep a hint, hide the rest.
    return value[:2] + "***" if len(value) > 3 else "***"
