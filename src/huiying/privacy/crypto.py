"""The contact crypto is pure and lives in `huiying.kit.crypto`; this name stays, and installs
the fallback that reads the keys from settings for a process that never called `configure`."""

from __future__ import annotations

from huiying.kit import crypto as _crypto
from huiying.kit.crypto import (
    Keyring,
    candidate_digests,
    configure,
    decrypt,
    digest,
    encrypt,
    keyring,
    normalise_contact,
    rotate,
)

__all__ = [
    "Keyring",
    "candidate_digests",
    "configure",
    "decrypt",
    "digest",
    "encrypt",
    "keyring",
    "normalise_contact",
    "rotate",
]


def _from_settings() -> tuple[str, tuple[str, ...]]:
    from huiying.config import get_settings

    settings = get_settings()
    return settings.resolved_secret_key, settings.previous_secret_keys


_crypto.default_secrets(_from_settings)
