"""Contact fields encrypted at rest, and a keyed digest to find them without decrypting.

Keys come from HUIYING_SECRET_KEY (and HUIYING_PREVIOUS_SECRET_KEYS during a rotation): HKDF
derives one Fernet key (AES-128-CBC + HMAC-SHA256, from `cryptography`) and one HMAC key from
each. New values are encrypted with the current key; old ones decrypt with any listed key until
`huiying privacy rotate-keys` has re-encrypted them. Pure: the keys are handed in (`configure`),
never read from settings here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"huiying", info=purpose).derive(secret.encode())


@dataclass(frozen=True)
class Keyring:
    """The current secret first, then older ones still accepted for decryption."""

    fernet: MultiFernet
    digest_keys: tuple[bytes, ...]

    @classmethod
    def from_secrets(cls, current: str, previous: tuple[str, ...] = ()) -> Keyring:
        secrets = (current, *previous)
        fernets = [Fernet(base64.urlsafe_b64encode(_derive(s, b"contact-encryption"))) for s in secrets]
        return cls(MultiFernet(fernets), tuple(_derive(s, b"contact-digest") for s in secrets))


_keyring: Keyring | None = None


def configure(current: str, previous: tuple[str, ...] = ()) -> None:
    """Install the process's keys (the app, the CLI and workers do this at start)."""
    global _keyring
    _keyring = Keyring.from_secrets(current, previous)


# Where the secrets come from when nothing called configure() (a script, a test calling a service
# directly). The app layer installs it (`huiying.privacy.crypto`); this module never reads settings.
_default_secrets: Callable[[], tuple[str, tuple[str, ...]]] | None = None


def default_secrets(source: Callable[[], tuple[str, tuple[str, ...]]]) -> None:
    """Install the fallback source of (current, previous) secrets for an unconfigured process."""
    global _default_secrets
    _default_secrets = source


def keyring() -> Keyring:
    if _keyring is None:
        if _default_secrets is None:
            raise RuntimeError("no keys: call huiying.kit.crypto.configure() at start")
        configure(*_default_secrets())
    assert _keyring is not None
    return _keyring


def normalise_contact(contact: str) -> str:
    """The form a contact is digested in: emails lower-cased, phones as bare digits."""
    value = contact.strip().lower()
    if "@" in value:
        return value
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or value


def encrypt(value: str) -> str:
    return keyring().fernet.encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear text; a value no configured key can open is reported, not raised."""
    try:
        return keyring().fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        return "[unreadable: encrypted with an unknown key]"


def rotate(token: str) -> str:
    """Re-encrypt with the current key."""
    return keyring().fernet.rotate(token.encode()).decode()


def digest(contact: str) -> str:
    """The keyed digest (current key) used to look tickets up by contact."""
    return _hmac(keyring().digest_keys[0], contact)


def candidate_digests(contact: str) -> list[str]:
    """Digests under every configured key: lookups keep working during a key rotation."""
    return [_hmac(key, contact) for key in keyring().digest_keys]


def _hmac(key: bytes, contact: str) -> str:
    return hmac.new(key, normalise_contact(contact).encode(), hashlib.sha256).hexdigest()
