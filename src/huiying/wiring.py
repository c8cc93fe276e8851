"""Connect the packages that react to ticket events. Called by every process at start."""

from __future__ import annotations


def install_handlers() -> None:
    """Subscribe every reaction (idempotent: subscribing twice has no effect)."""
    from huiying.moderation import compliance
    from huiying.triage import service as triage

    # Triage first: compliance then sees the category triage chose.
    triage.install()
    compliance.install()
