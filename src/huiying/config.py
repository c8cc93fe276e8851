"""Settings from `HUIYING_*` environment variables, with the embedded defaults of CONTRACT.md."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from huiying.notices import quiet

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob of a Huiying install; defaults suit `make run` on a laptop."""

    model_config = SettingsConfigDict(env_prefix="HUIYING_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str | None = None
    # The queue web processes send jobs to and workers take them from: installs (or test runs)
    # that share one broker keep apart by name. "celery" is Celery's own default.
    broker_queue: str = Field(default="celery", min_length=1, max_length=200)
    secret_key: str = ""
    # Comma-separated older keys, still accepted while `huiying privacy rotate-keys` runs.
    previous_secret_keys_csv: str = Field(default="", validation_alias="HUIYING_PREVIOUS_SECRET_KEYS")
    # Without HUIYING_BASE_URL, `huiying serve` sets it to the address it listens on.
    base_url: str = "http://127.0.0.1:8000"
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For and -Proto are
    # believed. None by default: otherwise any client could pick its IP for the rate limits.
    trusted_proxies_csv: str = Field(default="", validation_alias="HUIYING_TRUSTED_PROXIES")
    # Shared with the platform's own servers: they sign the user id of their logged-in user with
    # it (portal/user_token.py), so the portal may list that user's tickets. Unset: no user tokens.
    platform_user_secret: str = ""
    timezone: str = "Asia/Shanghai"
    ticket_number_prefix: str = "HY"

    max_json_bytes: int = Field(default=1 * MIB, gt=0)
    max_attachment_bytes: int = Field(default=20 * MIB, gt=0)
    max_attachments_per_ticket: int = Field(default=20, gt=0)

    token_ttl_minutes: int = Field(default=12 * 60, gt=0)
    idempotency_ttl_hours: int = Field(default=48, gt=0)
    due_soon_minutes: int = Field(default=30, gt=0)
    # How long before a first-response or resolution target the sweep warns (sla/sweep.py).
    sla_warn_minutes: int = Field(default=30, gt=0)
    # A phone ticket's call-back is due 48 h after receipt: wall-clock (False) or working hours
    # on the ticket's SLA calendar (True).
    callback_working_hours: bool = False
    # QA sampling (quality/samples.py): tickets drawn per agent and ISO week for the QA people.
    qa_sample_per_agent: int = Field(default=5, ge=0, le=100)
    # A refund above this many CNY is approved by an admin, not a supervisor (compensation/).
    compensation_approval_cny: Decimal = Field(default=Decimal("200"), ge=0)

    rate_limit_intake: str = "30/minute"
    rate_limit_login: str = "10/minute"
    rate_limit_portal: str = "60/minute"
    # Where rate-limit counters live: memory:// (one process) or redis://host:6379 (shared).
    rate_limit_storage: str = "memory://"
    # Robot webhook (WeCom / DingTalk / Feishu style JSON POST) for compliance alerts.
    compliance_webhook_url: str | None = None
    # Outgoing mail (staff alerts): smtp://[user:pass@]host:port, smtps://… (implicit TLS),
    # ?starttls=1 (STARTTLS). Unset: mail is not sent (deliveries say so).
    smtp_url: str | None = None
    mail_from: str = "support@localhost"
    # Inbound mail: a sender with more new tickets than this in an hour (by the mails' dates) has
    # the next ones quarantined as a flood; 0 turns the limit off.
    mail_flood_per_hour: int = Field(default=20, ge=0)
    # `huiying mail receive` takes mail for HUIYING_MAIL_FROM's domain and these (comma-separated)
    # and refuses every other recipient: it must never relay.
    mail_receive_domains_csv: str = Field(default="", validation_alias="HUIYING_MAIL_RECEIVE_DOMAINS")
    # The mailbox polled into tickets (channels/email/imap.py): imap://user:pass@host:port/INBOX,
    # imaps://… (implicit TLS), ?starttls=1, ?move=FOLDER. Unset: no polling. Out of the repr:
    # it holds the mailbox's password.
    imap_url: str | None = Field(default=None, repr=False)
    # Long-running processes also wait on IDLE where the server has it, for mail within seconds
    # (the mail_poll job polls every minute either way).
    imap_idle: bool = True
    session_ttl_hours: int = Field(default=12, gt=0)
    # The platform's push endpoint for in-app messages to users (channels/inapp): a JSON POST
    # signed with HMAC-SHA256 of the secret. Unset: no pushes (deliveries say so). The secret is
    # out of the repr, and a URL without one is refused below: unsigned pushes are not allowed.
    inapp_webhook_url: str | None = None
    inapp_webhook_secret: str | None = Field(default=None, repr=False)
    # The platform's SMS gateway (channels/sms): the same signed JSON POST, to a phone number.
    # Unset: notices to phone users are not texted (deliveries say so).
    sms_gateway_url: str | None = None
    sms_gateway_secret: str | None = Field(default=None, repr=False)
    # Local hours when proactive notices (taken up, waiting for you, delays, suggestion outcomes)
    # wait (notices/quiet.py); empty turns them off.
    quiet_hours: str = "22:00-08:00"

    # Triage: below min_confidence a category goes to a person; a model whose confidence was
    # calibrated on this kind of feedback (platform-trained, or the in-domain starter) overrules
    # a keyword rule from model_trust up. Both chosen on the dev split (docs/triage-data.md).
    triage_enabled: bool = True
    triage_min_confidence: float = Field(default=0.4, ge=0, le=1)
    triage_model_trust: float = Field(default=0.5, ge=0, le=1)

    # Threads that run request handlers in one server process.
    worker_threads: int = Field(default=4, ge=1, le=200)

    log_level: str = "INFO"
    embedded_jobs: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone name
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_window(cls, value: str) -> str:
        quiet.parse(value)  # raises, saying the form, for anything but "22:00-08:00" or empty
        return value

    @model_validator(mode="after")
    def _signed_pushes_only(self) -> Settings:
        if self.sms_gateway_url and not self.sms_gateway_secret:
            raise ValueError(
                "HUIYING_SMS_GATEWAY_URL is set but HUIYING_SMS_GATEWAY_SECRET is not: its posts are signed"
            )
        if self.sms_gateway_url and not self.sms_gateway_url.startswith(("http://", "https://")):
            raise ValueError("HUIYING_SMS_GATEWAY_URL must be an http:// or https:// address")
        if self.inapp_webhook_url and not self.inapp_webhook_secret:
            raise ValueError(
                "HUIYING_INAPP_WEBHOOK_URL is set but HUIYING_INAPP_WEBHOOK_SECRET is not: in-app pushes are"
                " signed (X-Huiying-Signature), so set the secret shared with the platform, or unset the URL"
            )
        if self.inapp_webhook_url and not self.inapp_webhook_url.startswith(("http://", "https://")):
            raise ValueError("HUIYING_INAPP_WEBHOOK_URL must be an http:// or https:// address")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'huiying.db'}"

    def ensure_data_dir(self) -> Path:
        """The data directory, created (or narrowed to) owner-only: it holds keys and the database."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.data_dir.stat().st_mode & 0o077:
            self.data_dir.chmod(0o700)
        return self.data_dir

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def quarantine_dir(self) -> Path:
        """Raw mail that could not be taken in, one file per mail (channels/email/quarantine.py)."""
        return self.data_dir / "quarantine"

    @property
    def trusted_proxies(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.trusted_proxies_csv.split(",") if p.strip())

    @property
    def mail_receive_domains(self) -> tuple[str, ...]:
        return tuple(d.strip().lower() for d in self.mail_receive_domains_csv.split(",") if d.strip())

    @property
    def previous_secret_keys(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.previous_secret_keys_csv.split(",") if k.strip())

    @property
    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        return _key_from_file(self.data_dir / "secret_key")


def _key_from_file(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
