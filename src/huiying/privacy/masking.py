"""Masking is pure and lives in `huiying.kit.masking`, below every layer; this name stays."""

from huiying.kit.masking import contains_pii, is_id_card, mask_contact, mask_email, mask_phone, mask_text, passes_luhn

__all__ = ["contains_pii", "is_id_card", "mask_contact", "mask_email", "mask_phone", "mask_text", "passes_luhn"]
