"""Staff roles (CONTRACT.md), a value type at the bottom (Actor carries one). What each may do is
decided in `accounts.access`."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SENIOR = "senior"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    QA = "qa"
    AUDITOR = "auditor"
