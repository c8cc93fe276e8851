"""The hash chain, pure: how an entry is hashed and how a sequence of entries is checked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the previous hash and the entry's fields in a canonical JSON form."""
    payload = dict(fields, prev_hash=prev_hash)
    if isinstance(payload.get("at"), datetime):
        payload["at"] = canonical_time(payload["at"])
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


HASHED_FIELDS = (
    "seq",
    "at",
    "actor_type",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "ip",
)


def first_break(entries: Iterable[dict[str, Any]], *, head_seq: int, head_hash: str) -> Break | None:
    """The first entry that does not follow from the ones before it, or None if all do.

    `entries` are in sequence order; `head_seq`/`head_hash` are what the head row says the
    last entry is, so a removed tail is caught as well as a changed or missing entry.
    """
    expected_seq = 1
    prev = GENESIS
    for entry in entries:
        if entry["seq"] != expected_seq:
            return Break(expected_seq, f"entry {expected_seq} is missing")
        if entry["prev_hash"] != prev:
            return Break(entry["seq"], "its link to the previous entry does not match")
        fields = {name: entry[name] for name in HASHED_FIELDS}
        if entry_hash(fields, prev) != entry["hash"]:
            return Break(entry["seq"], "its content does not match its hash (changed after writing)")
        prev = entry["hash"]
        expected_seq += 1
    if expected_seq - 1 != head_seq or prev != head_hash:
        return Break(expected_seq, f"the log ends at {expected_seq - 1} but the head says {head_seq}")
    return None
