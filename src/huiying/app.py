"""The ASGI application: API, web pages, and (in embedded mode) the job runner."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from huiying import __version__, web, wiring
from huiying.accounts.api import router as accounts_router
from huiying.alerts.api import router as alerts_router
from huiying.assignment.api import router as assignment_router
from huiying.audit.api import router as audit_router
from huiying.calendars.api import router as calendars_router
from huiying.callbacks.api import router as callbacks_router
from huiying.categories.api import router as categories_router
from huiying.channels.email.api import router as mail_router
from huiying.compensation.api import router as compensation_router
from huiying.config import MIB, Settings, get_settings
from huiying.db import Database
from huiying.http import errors
from huiying.http.access_log import AccessLog
from huiying.http.jobs import router as jobs_router
from huiying.http.middleware import BodyLimit, ContainErrors, Metrics, RejectNulBytes
from huiying.http.ratelimit import Limits
from huiying.http.system import router as system_router
from huiying.jobs import outbox
from huiying.kit import text
from huiying.moderation.api import router as moderation_router
from huiying.notices.api import router as notices_router
from huiying.privacy import crypto
from huiying.privacy.api import router as privacy_router
from huiying.quality.api import router as quality_router
from huiying.routing.api import router as routing_router
from huiying.sla.api import router as sla_router
from huiying.suggestions.api import router as suggestions_router
from huiying.surveys.api import router as surveys_router
from huiying.tickets.api import router as tickets_router
from huiying.triage.api import router as triage_router
from huiying.triage.service import runtime as triage_runtime
from huiying.web import admin as web_admin
from huiying.web import auth as web_auth
from huiying.web import callbacks as web_callbacks
from huiying.web import errors as web_errors
from huiying.web import live as web_live
from huiying.web import portal_identity as web_portal_identity
from huiying.web import public as web_public
from huiying.web import qa as web_qa
from huiying.web import reports as web_reports
from huiying.web import suggestions as web_suggestions
from huiying.web import workspace as web_workspace
from huiying.web.security import SecurityHeaders
from huiying.worker.runner import EmbeddedRunner

UPLOAD_PATHS = ("/api/v1/attachments",)


def _load_triage(database: Database) -> None:
    """Load triage rules and models now, not during the first intake."""
    try:
        with database.read() as session:
            triage_runtime(session)
    except Exception:  # noqa: BLE001 - an unmigrated database: the first intake will load them
        logging.getLogger(__name__).warning("triage not loaded at start; run `huiying db upgrade`")


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the app for `settings` (default: the environment) on `db` (default: from settings)."""
    settings = settings or get_settings()
    database = db or Database(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        text.warm_up()
        _load_triage(database)
        # Request handlers are synchronous and mostly CPU-bound Python: a few threads keep the
        # database busy, more only fight over the GIL (16 threads served half the requests of 4).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # Everything loaded at start (jieba's dictionary, models, modules) is long-lived: keep the
        # garbage collector from re-scanning it, and collect young objects less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        runner: EmbeddedRunner | None = None
        if settings.broker_url:
            from huiying.worker.celery_app import dispatcher_for, make_celery

            outbox.dispatcher = dispatcher_for(make_celery(settings.broker_url, queue=settings.broker_queue))
        elif settings.embedded_jobs:
            runner = EmbeddedRunner(database)
            runner.start()
        mail_watchers = None
        if settings.imap_idle and runner is not None:  # HUIYING_IMAP_URL's mailbox and the admins'
            from huiying.channels.email.imap import Watchers

            mail_watchers = Watchers(database, settings)
            mail_watchers.start()  # IDLE: mail within seconds; the mail_poll job polls every minute anyway
        try:
            yield
        finally:
            if mail_watchers is not None:
                mail_watchers.stop()
            if runner is not None:
                runner.stop()
            outbox.dispatcher = None
            if db is None:
                database.dispose()

    app = FastAPI(
        title="Huiying 回应",
        version=__version__,
        description="User-feedback handling: intake, triage, routing, SLAs, replies, reports.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.limits = Limits.from_settings(settings)
    crypto.configure(settings.resolved_secret_key, settings.previous_secret_keys)
    errors.install(app)
    web_auth.install(app)
    web_errors.install(app)
    wiring.install(settings)
    for router in (
        accounts_router,
        categories_router,
        tickets_router,
        quality_router,
        compensation_router,
        moderation_router,
        privacy_router,
        audit_router,
        triage_router,
        alerts_router,
        routing_router,
        sla_router,
        jobs_router,
        calendars_router,
        assignment_router,
        mail_router,
        callbacks_router,
        surveys_router,
        notices_router,
        suggestions_router,
    ):
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    for router in (
        system_router,
        web_auth.router,
        web_workspace.router,
        web_live.router,
        web_admin.router,
        web_public.router,
        web_portal_identity.router,
        web_callbacks.router,
        web_reports.router,
        web_qa.router,
        web_suggestions.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(web.__file__).parent / "static"), name="static")

    def limit_for(path: str) -> int:
        if path.startswith(UPLOAD_PATHS):
            return settings.max_attachment_bytes + MIB  # room for the multipart framing
        return settings.max_json_bytes

    # Innermost first: an unexpected error becomes a 500 inside the other middleware, so it
    # carries the security headers and leaves the connection usable.
    app.add_middleware(ContainErrors)
    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(RejectNulBytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Metrics)
    app.add_middleware(AccessLog)
    return app
