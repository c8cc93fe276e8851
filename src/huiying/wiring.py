"""Connect the packages: event handlers and background jobs. Called by every process at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huiying.config import Settings


def install(settings: Settings | None = None) -> None:
    """Everything a process needs before it serves or runs jobs (idempotent). `settings`: the
    app's (create_app passes its own); None reads the process's configuration."""
    if settings is None:
        from huiying.config import get_settings

        settings = get_settings()
    configure(settings)
    install_filters()
    install_handlers()
    install_jobs()


def configure(settings: Settings) -> None:
    """Hand each package the settings it reads, so no domain code reads a global."""
    from huiying.moderation import compliance
    from huiying.sla import followups as sla_followups
    from huiying.sla import sweep as sla_sweep
    from huiying.triage import service as triage

    triage.configure(triage.TriageOptions.from_settings(settings))
    from huiying.calendars import service as calendars

    calendars.configure(timezone=settings.timezone)
    from huiying.routing import service as routing

    routing.configure(timezone=settings.timezone)
    sla_sweep.configure(warn_minutes=settings.sla_warn_minutes)
    sla_followups.configure(settings)
    from huiying.callbacks import service as callbacks

    callbacks.configure(working_hours=settings.callback_working_hours)
    from huiying.quality import samples as qa_samples

    qa_samples.configure(per_agent=settings.qa_sample_per_agent, timezone=settings.timezone)
    compliance.configure(webhook_url=settings.compliance_webhook_url)
    from huiying.alerts import mail as alert_mail

    alert_mail.configure(smtp_url=settings.smtp_url, mail_from=settings.mail_from)
    from huiying.channels.email import outbound as email_outbound

    email_outbound.configure(
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
        base_url=settings.base_url,
        secret_key=settings.resolved_secret_key if settings.smtp_url else "",
        timezone=settings.timezone,
    )
    from huiying.channels.email import imap as email_imap

    email_imap.configure(settings)
    from huiying.channels.inapp import sender as inapp_sender
    from huiying.channels.sms import sender as sms_sender

    sms_sender.configure(url=settings.sms_gateway_url, secret=settings.sms_gateway_secret, timezone=settings.timezone)
    from huiying.notices import triggers as notices

    notices.configure(quiet_hours=settings.quiet_hours, timezone=settings.timezone)
    inapp_sender.configure(
        url=settings.inapp_webhook_url,
        secret=settings.inapp_webhook_secret,
        base_url=settings.base_url,
        secret_key=settings.resolved_secret_key if settings.inapp_webhook_url else "",
        timezone=settings.timezone,
    )


def install_filters() -> None:
    """List filters whose rule lives above tickets (idempotent)."""
    from huiying.sla import filters as sla_filters

    sla_filters.install()


def install_handlers() -> None:
    """Subscribe every reaction (idempotent: subscribing twice has no effect). The order of the
    TicketCreated handlers matters: each sees what the ones before decided on the new ticket."""
    from huiying.assignment import service as assignment
    from huiying.channels import delivery
    from huiying.moderation import compliance
    from huiying.routing import service as routing
    from huiying.sla import followups as sla_followups
    from huiying.sla import service as sla
    from huiying.triage import service as triage

    delivery.install()
    triage.install()  # category, priority, sentiment, language
    routing.install()  # team, lane, tags, assignment mode: reads what triage chose
    compliance.install()  # illegal content or a privacy leak: to security at once, urgent
    sla_followups.install()  # a reopened ticket asks for the supervisor's review
    assignment.install()  # a person of the chosen team, by the team's (or the rule's) mode
    sla.install()  # the targets follow the priority, category, team and group chosen above
    from huiying.callbacks import service as callbacks

    callbacks.install()  # a phone ticket's call-back, on its team's calendar when so configured
    from huiying.suggestions import service as suggestions

    suggestions.install()  # a suggestion joins the pool: after triage and routing set its category
    from huiying.channels.email import notices as email_notices

    email_notices.install()  # which tickets hear of their notices by mail
    from huiying.channels.inapp import notices as inapp_notices

    inapp_notices.install()  # …by in-app push
    from huiying.channels.sms import sender as sms

    sms.install()  # …by SMS
    from huiying.notices import triggers as notices

    notices.install()  # received, taken up, pending, resolved…: after everything that may tag it


def install_jobs() -> None:
    """Every package registers its on-demand and periodic jobs (idempotent)."""
    from huiying.alerts import sender as alerts
    from huiying.audit import service as audit
    from huiying.channels import delivery
    from huiying.jobs import outbox
    from huiying.moderation import compliance
    from huiying.portal import codes as portal_codes
    from huiying.sla import followups as sla_followups
    from huiying.sla import sweep as sla_sweep
    from huiying.tickets import day_sequences
    from huiying.triage import service as triage

    outbox.register_jobs()
    audit.register_jobs()
    alerts.register_jobs()
    from huiying.calendars import service as calendars

    calendars.register_jobs()
    delivery.register_jobs()
    from huiying.notices import overdue as overdue_notices

    overdue_notices.register_jobs()  # notice_overdue: a ticket open after 48 h is told of the delay
    compliance.register_jobs()
    portal_codes.register_jobs()
    day_sequences.register_jobs()
    triage.register_jobs()
    sla_sweep.register_jobs()
    sla_followups.register_jobs()
    from huiying.assignment import service as assignment

    assignment.register_jobs()
    from huiying.channels.email import imap as email_imap

    email_imap.register_jobs()  # mail_poll: HUIYING_IMAP_URL every minute
    from huiying.quality import samples as qa_samples

    qa_samples.register_jobs()  # qa_sample: last week's QA sample, once (hourly check)
