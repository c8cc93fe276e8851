"""Connect the packages that react to ticket events. Called by every process at start."""

from __future__ import annotations


def install_handlers() -> None:
    """Subscribe every reaction (idempotent: subscribing twice has no effect)."""
    from huiying.moderation import compliance

    compliance.install()
