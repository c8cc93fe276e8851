"""A real SMTP server on this machine (aiosmtpd) that keeps what it was sent, raw and parsed:
the staff-alert and the email-channel tests send to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from conftest import _free_port


@dataclass
class SmtpSink:
    """Not listening until `start()`: until then a sender finds the port closed (server down)."""

    port: int = field(default_factory=_free_port)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    controller: Controller | None = None
    refuse: dict[str, str] = field(default_factory=dict)  # recipient → the reply to its RCPT TO

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        parsed = [message_from_bytes(raw, policy=policy.default) for raw in self.raw]
        return [m for m in parsed if isinstance(m, EmailMessage)]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.raw.append(bytes(envelope.original_content))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self) -> list[str]:
        """The To of every mail received, sorted."""
        return sorted(str(m["To"]) for m in self.messages)
