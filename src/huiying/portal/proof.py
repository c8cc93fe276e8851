"""What a portal visitor has proved about themselves, kept in a signed cookie.

A signed ticket link opens one ticket and proves nothing about its reader: it is sent in
notifications, forwarded and typed in from anywhere. Only two things prove who a visitor is:
a platform user token (portal/user_token.py) proves a platform user id, and a one-time code sent
to a contact (portal/codes.py) proves that contact. The cookie keeps those proofs for a while, so
"my other feedback" lists exactly the tickets of the proven ids and contacts — never those of
whatever id or contact a ticket was submitted with.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "hy_portal_proof"
MAX_AGE_SECONDS = 12 * 3600
_SALT = "huiying.portal.proof.v1"
# A visitor proves one or two identities; a bound keeps the cookie small.
_MAX_EACH = 5


@dataclass(frozen=True)
class Proofs:
    user_ids: frozenset[str] = frozenset()
    # Keyed digests (privacy.crypto.digest) of contacts proved by a one-time code.
    contact_digests: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.contact_digests)

    def with_user(self, user_id: str) -> Proofs:
        return Proofs(_newest(self.user_ids, user_id), self.contact_digests)

    def with_contact(self, digest: str) -> Proofs:
        return Proofs(self.user_ids, _newest(self.contact_digests, digest))


def _newest(values: frozenset[str], value: str) -> frozenset[str]:
    return frozenset([value, *sorted(values - {value})[: _MAX_EACH - 1]])


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def dumps(secret_key: str, proofs: Proofs) -> str:
    return _serializer(secret_key).dumps({"u": sorted(proofs.user_ids), "c": sorted(proofs.contact_digests)})


def loads(secret_key: str, value: str | None) -> Proofs:
    """The proofs in a cookie; none if it is missing, tampered with or older than its lifetime."""
    if not value:
        return Proofs()
    try:
        data = _serializer(secret_key).loads(value, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return Proofs()
    if not isinstance(data, dict):
        return Proofs()
    users, contacts = data.get("u"), data.get("c")
    if not isinstance(users, list) or not isinstance(contacts, list):
        return Proofs()
    return Proofs(
        frozenset(u for u in users if isinstance(u, str)),
        frozenset(c for c in contacts if isinstance(c, str)),
    )
