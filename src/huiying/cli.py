"""The `huiying` command line (CONTRACT.md)."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from huiying.config import Settings, get_settings
from huiying.db import Database
from huiying.kit.actor import Actor, ActorType

if TYPE_CHECKING:
    from huiying.channels.email.imap import Configured
    from huiying.channels.email.service import ImportOutcome

app = typer.Typer(help="Huiying (回应): user-feedback handling.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
privacy_app = typer.Typer(help="Personal data: requests of data subjects, key rotation.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys for integrations.", no_args_is_help=True)
triage_app = typer.Typer(help="Triage models: train, evaluate, list, activate.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(teams_app, name="teams")
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
app.add_typer(apikeys_app, name="apikeys")
app.add_typer(triage_app, name="triage")
jobs_app = typer.Typer(help="Background jobs: on-demand and periodic.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
sla_app = typer.Typer(help="Service-level targets: due times, the sweep.", no_args_is_help=True)
app.add_typer(sla_app, name="sla")
calendar_app = typer.Typer(help="The working calendar: holidays and 调休 make-up days.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
mail_app = typer.Typer(help="Email in: import .eml and mbox files, poll the mailbox.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")
qa_app = typer.Typer(help="Quality review (质检): the weekly sample of each agent's tickets.", no_args_is_help=True)
app.add_typer(qa_app, name="qa")

ADMIN_EMAIL = "admin@huiying.local"


def _database() -> Database:
    """The configured database, with the process set up as the app sets itself up."""
    from huiying import wiring
    from huiying.privacy import crypto

    settings = get_settings()
    settings.ensure_data_dir()
    crypto.configure(settings.resolved_secret_key, settings.previous_secret_keys)
    wiring.install(settings)
    return Database(settings.resolved_database_url)


def _cli_actor() -> Actor:
    """Who a command acts as in the audit log: the operating-system user at the console."""
    return Actor(type=ActorType.SYSTEM, name=f"cli:{getpass.getuser()}")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def listen_url(host: str, port: int) -> str:
    """The address of a server listening on `host`:`port`, as a browser on this machine reaches it."""
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - only read
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _settings_for_address(host: str, port: int) -> Settings:
    """The settings, with links following the listening address unless HUIYING_BASE_URL is set.

    The variable (not only this process's settings) is set so that uvicorn's worker processes,
    which read their settings afresh, agree.
    """
    if not os.environ.get("HUIYING_BASE_URL"):
        os.environ["HUIYING_BASE_URL"] = listen_url(host, port)
        get_settings.cache_clear()
    return get_settings()


def server_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app (`serve` and the tests that start a real server).

    Forwarded headers are believed only from HUIYING_TRUSTED_PROXIES: uvicorn's default trusts
    loopback, so anything on the host (or a proxy that passes the header through) could pick
    its client IP and walk past the per-IP limits. The access log is the app's own (AccessLog),
    which cuts secrets out of paths; uvicorn's would log them.
    """
    proxies = list(settings.trusted_proxies)
    return {
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "log_config": None,
        "access_log": False,
    }


def server_processes(requested: int | None, *, database_url: str, cores: int | None) -> int:
    """How many processes `serve` starts: `requested` if given, else one per core on PostgreSQL
    and one on SQLite (it lets one writer in at a time: more processes only queue for it)."""
    if requested is not None:
        return requested
    if database_url.startswith("sqlite"):
        return 1
    return max(1, cores or 1)


def _cores() -> int | None:
    """The cores this process may run on (its CPU affinity: a cpuset narrows it), or all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="server processes; default: one per core on PostgreSQL, 1 on SQLite"),
    ] = None,
) -> None:
    """The web UI and API (plus in-process jobs when no broker is configured)."""
    import logging

    import uvicorn

    from huiying import logs

    settings = _settings_for_address(host, port)
    logs.configure(settings.log_level)
    settings.ensure_data_dir()
    settings.resolved_secret_key  # noqa: B018 - create the key file before workers race for it
    processes = server_processes(workers, database_url=settings.resolved_database_url, cores=_cores())
    logging.getLogger("huiying.serve").info(
        "serving on %s with %d process(es); links use %s (HUIYING_BASE_URL)",
        listen_url(host, port),
        processes,
        settings.base_url,
    )
    uvicorn.run(
        "huiying.app:create_app", factory=True, host=host, port=port, workers=processes, **server_options(settings)
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="parallel jobs")] = 2,
) -> None:
    """A Celery worker for distributed mode (needs HUIYING_BROKER_URL)."""
    settings = get_settings()
    if not settings.broker_url:
        _fail("HUIYING_BROKER_URL is not set: without a broker, `huiying serve` runs the jobs itself")
    from celery import signals

    from huiying import logs
    from huiying.worker.celery_app import make_celery

    # Our masked log set-up instead of Celery's: a failing job's traceback may quote personal data.
    signals.setup_logging.connect(lambda **_: logs.configure(settings.log_level), weak=False)
    celery = make_celery(settings.broker_url or "", queue=settings.broker_queue)
    celery.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=threads"])


@app.command()
def scheduler(
    interval: Annotated[float, typer.Option(help="seconds between ticks")] = 1.0,
) -> None:
    """Run the registered periodic jobs, handing due jobs to the workers (distributed mode)."""
    from huiying.jobs import outbox
    from huiying.worker import scheduler as loop
    from huiying.worker.celery_app import dispatcher_for, make_celery

    settings = get_settings()
    if not settings.broker_url:
        _fail("HUIYING_BROKER_URL is not set: without a broker, `huiying serve` runs the jobs itself")
    outbox.dispatcher = dispatcher_for(make_celery(settings.broker_url or "", queue=settings.broker_queue))
    database = _database()
    typer.echo(f"scheduler: ticking every {interval}s")
    loop.run_forever(database, interval=interval, owner=loop.owner_id("scheduler"))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to the configured database and add missing default teams/categories."""
    from huiying import bootstrap, migrate

    database = _database()
    migrate.upgrade(database.engine)
    with database.write() as session:
        created = bootstrap.ensure_defaults(session)
    typer.echo(f"database at {migrate.current(database.engine)}; defaults added: {created}")


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="agent, senior, supervisor, admin, qa or auditor")],
    team: Annotated[list[str] | None, typer.Option(help="team slug; may be repeated")] = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create a staff account."""
    from huiying.accounts import service
    from huiying.errors import HuiyingError
    from huiying.kit.roles import Role

    try:
        staff_role = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}", 2)
        return
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with _database().write() as session:
            user = service.create_user(
                session,
                email=email,
                password=password,
                role=staff_role,
                display_name=name,
                team_slugs=team or [],
                actor=_cli_actor(),
            )
            teams = ", ".join(t.slug for t in user.teams) or "-"
            typer.echo(f"created {user.email} ({user.role}; teams: {teams})")
    except HuiyingError as exc:
        _fail(exc.message, 1)


@teams_app.command("list")
def teams_list() -> None:
    """One team a line: slug, name."""
    from huiying.accounts import service

    with _database().read() as session:
        for team in service.list_teams(session):
            typer.echo(f"{team.slug}\t{team.name_zh} / {team.name_en}")


@app.command()
def bootstrap(
    demo_if_empty: Annotated[bool, typer.Option(help="load the demo data set into an empty database")] = False,
    host: Annotated[str, typer.Option(help="where `serve` will listen (for the printed link)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="the port `serve` will use (for the printed link)")] = 8000,
) -> None:
    """First-run set-up for `make run`: defaults, an admin account, optionally demo data."""
    from huiying import bootstrap as setup

    settings = _settings_for_address(host, port)
    database = _database()
    password_file = settings.data_dir / "initial_admin_password"
    with database.write() as session:
        setup.ensure_defaults(session)
        password = secrets.token_urlsafe(12)
        if setup.ensure_admin(session, email=ADMIN_EMAIL, password=password):
            _write_secret(password_file, password)
    if demo_if_empty:
        from huiying.demo import loader

        with database.write() as session:
            if loader.is_empty(session):
                summary = loader.load(session, settings=settings)
                typer.echo(f"demo data loaded: {summary}")
    shown = password_file.read_text().strip() if password_file.exists() else "(the password you set)"
    typer.echo(f"Log in at {settings.base_url}/login as {ADMIN_EMAIL} with password {shown} (kept in {password_file}).")


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(value + "\n")


@app.command()
def demo() -> None:
    """Load a realistic demo data set: teams, agents, a few hundred tickets."""
    from huiying.demo import loader

    settings = get_settings()
    with _database().write() as session:
        summary = loader.load(session, settings=settings)
    typer.echo(f"demo data loaded: {summary}")
    typer.echo(f"demo staff log in with password {loader.DEMO_PASSWORD}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 naming the first broken entry."""
    from huiying.audit import service

    database = _database()
    service.chain_all(database)
    with database.read() as session:
        result = service.verify(session)
    if result.broken is not None:
        typer.echo(f"audit chain broken at entry {result.broken.seq}: {result.broken.reason}")
        raise typer.Exit(1)
    typer.echo(f"audit chain ok: entries={result.entries}")


@privacy_app.command("export")
def privacy_export(
    user_id: Annotated[str | None, typer.Option(help="the platform user id")] = None,
    contact: Annotated[str | None, typer.Option(help="phone or email the user gave")] = None,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """Everything stored about one platform user, as JSON (a PIPL access request)."""
    from huiying.privacy import dsr

    if not (user_id or contact):
        _fail("give --user-id, --contact or both", 2)
    with _database().write() as session:
        data = dsr.export(session, user_id=user_id, contact=contact, actor=_cli_actor())
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"exported {len(data['tickets'])} tickets to {out}")
    else:
        typer.echo(text)


@privacy_app.command("erase")
def privacy_erase(
    user_id: Annotated[str | None, typer.Option(help="the platform user id")] = None,
    contact: Annotated[str | None, typer.Option(help="phone or email the user gave")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do it without asking")] = False,
) -> None:
    """Anonymise everything about one platform user (statistics are kept)."""
    from huiying.privacy import dsr

    if not (user_id or contact):
        _fail("give --user-id, --contact or both", 2)
    if not yes and not typer.confirm("Erase this person's data? This cannot be undone."):
        raise typer.Exit(1)
    with _database().write() as session:
        result = dsr.erase(
            session,
            user_id=user_id,
            contact=contact,
            actor=_cli_actor(),
            attachments_root=get_settings().attachments_dir,
            quarantine_root=get_settings().quarantine_dir,
        )
    typer.echo(f"erased: tickets={result.tickets} messages={result.messages} files={result.files} mails={result.mails}")


@privacy_app.command("rotate-keys")
def privacy_rotate_keys() -> None:
    """Re-encrypt every contact with the current key (old ones: HUIYING_PREVIOUS_SECRET_KEYS)."""
    from huiying.privacy import dsr

    with _database().write() as session:
        count = dsr.rotate_keys(session, actor=_cli_actor())
    typer.echo(f"re-encrypted contacts={count}")


@apikeys_app.command("create")
def apikeys_create(
    name: str,
    user: Annotated[str, typer.Option(help="the staff account the key acts as")],
    scope: Annotated[list[str], typer.Option(help="a permission, e.g. ticket:create; repeatable")],
    days: Annotated[int | None, typer.Option(help="expire after this many days")] = None,
) -> None:
    """Create a key for an integration; it is printed once."""
    from huiying.accounts import service
    from huiying.errors import HuiyingError

    try:
        with _database().write() as session:
            key, row = service.create_api_key(
                session,
                user=service.user_by_email(session, user),
                name=name,
                scopes=scope,
                ttl=timedelta(days=days) if days else None,
                actor=_cli_actor(),
            )
            typer.echo(f"api key #{row.id} ({', '.join(row.scopes or [])}): {key}")
    except HuiyingError as exc:
        _fail(exc.message, 1)


@apikeys_app.command("list")
def apikeys_list() -> None:
    from huiying.accounts import service

    with _database().read() as session:
        for row in service.list_api_keys(session):
            state = "revoked" if row.revoked_at else "active"
            typer.echo(f"{row.id}\t{row.name}\t{row.user.email}\t{','.join(row.scopes or [])}\t{state}")


@apikeys_app.command("revoke")
def apikeys_revoke(key_id: int) -> None:
    from huiying.accounts import service
    from huiying.errors import HuiyingError

    try:
        with _database().write() as session:
            service.revoke_api_key(session, key_id=key_id, actor=_cli_actor())
    except HuiyingError as exc:
        _fail(exc.message, 1)
    typer.echo(f"revoked api key #{key_id}")


TargetOption = Annotated[
    str, typer.Option("--target", help="category, priority, sentiment or urgency (urgent or not, from priority labels)")
]


def _read_csv(path: Path) -> list[tuple[str, str]]:
    """Rows of a UTF-8 CSV with the columns text,label (a BOM from spreadsheet tools is fine)."""
    import csv

    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
                _fail(f"{path}: the CSV needs the columns text,label (found {reader.fieldnames})", 2)
            return [(row["text"] or "", (row["label"] or "").strip()) for row in reader if (row["text"] or "").strip()]
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: {exc}", 2)
    return []


@triage_app.command("train")
def triage_train(
    csv_file: Annotated[Path | None, typer.Argument(metavar="CSV", help="extra labelled rows (text,label)")] = None,
    target: TargetOption = "category",
    force: Annotated[bool, typer.Option(help="activate even if the activation checks say no")] = False,
    allow_fewer_classes: Annotated[
        bool, typer.Option(help="accept a model that answers fewer classes than the active one")
    ] = False,
) -> None:
    """Retrain from every label people gave (plus the CSV); activate only if the checks allow
    (held-out size, labels per class, classes covered, not worse on the held-out rows)."""
    from huiying.errors import HuiyingError
    from huiying.triage import service
    from huiying.triage.evaluation import format_report

    extra = _read_csv(csv_file) if csv_file else []
    try:
        result = service.train_outside_write(
            _database(),
            target=target,
            extra=extra,
            actor=_cli_actor(),
            force=force,
            allow_fewer_classes=allow_fewer_classes,
        )
    except HuiyingError as exc:
        _fail(exc.message, 1)
        return
    typer.echo(f"{target} model v{result.version} trained on {result.n_train} examples")
    typer.echo(f"active model {result.current_label} on the held-back split:")
    typer.echo(format_report(result.current).splitlines()[-1])
    typer.echo(f"new model v{result.version} on the same split:")
    typer.echo(format_report(result.new))
    if result.new.calibration_error is not None:
        typer.echo(f"calibration error on the held-back split: {result.new.calibration_error:.3f}")
    if result.note:
        typer.echo(result.note)
    typer.echo("activated" if result.activated else "not activated")


@triage_app.command("eval")
def triage_eval(
    csv_file: Annotated[Path, typer.Argument(metavar="CSV", help="labelled rows (text,label)")],
    target: TargetOption = "category",
) -> None:
    """Evaluate the active model on a CSV; the last line is `accuracy=… macro_f1=… n=N`."""
    from huiying.errors import HuiyingError
    from huiying.triage import service
    from huiying.triage.evaluation import evaluate, format_report

    rows = _read_csv(csv_file)
    if not rows:
        _fail(f"{csv_file}: no rows", 2)
    try:
        with _database().read() as session:
            model = service.active_model(session, target)
    except HuiyingError as exc:
        _fail(exc.message, 2)
        return
    typer.echo(f"model {model.label}" + ("" if model.platform_trained else " (built-in starter)"))
    typer.echo(format_report(evaluate(model.classifier, [t for t, _ in rows], [label for _, label in rows])))


@triage_app.command("models")
def triage_models() -> None:
    """Every model version, with its measurements; * marks the active one."""
    from huiying.triage import service

    with _database().read() as session:
        rows = service.list_models(session)
        active = {r.target for r in rows if r.active}
        for target in ("category", "priority", "sentiment"):
            mark = " " if target in active else "*"
            typer.echo(f"{mark} {target} v0 built-in starter")
        for row in rows:
            meta = row.metadata_
            typer.echo(
                f"{'*' if row.active else ' '} {row.target} v{row.version} {row.created_at:%Y-%m-%d %H:%M} "
                f"n_train={meta.get('n_train')} accuracy={meta.get('accuracy')} macro_f1={meta.get('macro_f1')} "
                f"{row.note}"
            )


@triage_app.command("activate")
def triage_activate(target: str, version: int) -> None:
    """Make VERSION of TARGET the active model (0: back to the built-in starter)."""
    from huiying.errors import HuiyingError
    from huiying.triage import service

    try:
        with _database().write() as session:
            service.activate(session, target=target, version=version, actor=_cli_actor())
    except HuiyingError as exc:
        _fail(exc.message, 1)
    typer.echo(f"{target} v{version} is active")


@jobs_app.command("list")
def jobs_list() -> None:
    """Every registered job: kind, last run, pending/running/failed/dead counts, last error."""
    from huiying.jobs import overview

    with _database().read() as session:
        summaries = overview.summaries(session)
    for job in summaries:
        kind = f"every {job.every_seconds}s" if job.kind == "periodic" else "on-demand"
        last_run = job.last_run_at.isoformat(timespec="seconds") if job.last_run_at else "never"
        typer.echo(
            f"{job.name}\t{kind}\tlast_run={last_run}\tpending={job.pending} running={job.running} "
            f"failed={job.failed} dead={job.dead}\tlast_error={overview.short_error(job.last_error) or '-'}"
        )


@sla_app.command("sweep")
def sla_sweep(
    now: Annotated[str | None, typer.Option(help="ISO 8601 moment to sweep as of (default: now)")] = None,
) -> None:
    """One sweep (warnings, breaches, escalations) as of NOW, acted on at once; last line
    `warned=N breached=N escalated=N`."""
    from datetime import UTC, datetime

    from huiying.kit.clock import frozen, utcnow
    from huiying.sla import sweep

    at = utcnow()
    if now is not None:
        try:
            at = datetime.fromisoformat(now)
        except ValueError:
            _fail(f"--now must be an ISO 8601 moment, e.g. 2026-12-02T10:00:00+08:00 (got {now!r})", 2)
        if at.tzinfo is None:
            _fail("--now needs an offset (e.g. +08:00 or Z)", 2)
    db = _database()
    with frozen(at.astimezone(UTC)):
        result = sweep.sweep(db, inline=True)
    typer.echo(result.line())


@sla_app.command("due")
def sla_due(
    at: Annotated[str, typer.Option(help="when the ticket was received, ISO 8601 with offset")],
    priority: Annotated[str, typer.Option(help="urgent, high, medium or low")],
    category: Annotated[str | None, typer.Option(help="category slug, e.g. technical")] = None,
    team: Annotated[str | None, typer.Option(help="team slug: its working calendar")] = None,
) -> None:
    """The SLA policy applied to a ticket received AT; last line
    `first_response_due=ISO8601 resolution_due=ISO8601` in the platform's offset."""
    from datetime import datetime

    from huiying.accounts import teams
    from huiying.calendars.business_time import MissingCalendarData
    from huiying.errors import NotFound
    from huiying.sla import service as sla
    from huiying.tickets.enums import Priority

    try:
        received = datetime.fromisoformat(at)
    except ValueError:
        _fail(f"--at must be an ISO 8601 moment, e.g. 2026-12-02T10:00:00+08:00 (got {at!r})", 2)
    if received.tzinfo is None:
        _fail("--at needs an offset (e.g. +08:00 or Z)", 2)
    if priority not in {p.value for p in Priority}:
        _fail(f"--priority must be one of urgent, high, medium, low (got {priority!r})", 2)
    db = _database()
    tz = get_settings().tz
    with db.read() as session:
        try:
            owner = teams.team_by_slug(session, team) if team else None
        except NotFound:
            _fail(f"no team {team!r} (huiying teams list)", 2)
        try:
            policy, targets = sla.preview(
                session, received_at=received, priority=priority, category=category, team=owner
            )
        except MissingCalendarData as error:
            _fail(f"{error} (huiying calendar load FILE)", 2)
    typer.echo(f"policy={policy.slug}")
    typer.echo(
        f"first_response_due={targets.first_response_due.astimezone(tz).isoformat()} "
        f"resolution_due={targets.resolution_due.astimezone(tz).isoformat()}"
    )


@calendar_app.command("day")
def calendar_day(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    team: Annotated[str | None, typer.Option(help="team slug: its working calendar")] = None,
) -> None:
    """Whether DAY is worked; last line `YYYY-MM-DD workday|rest` and the reason in words.
    Exits 2 when the calendar has no data for the date (never a guess)."""
    from datetime import date

    from huiying.accounts import teams
    from huiying.calendars import service as calendars
    from huiying.errors import HuiyingError, NotFound

    try:
        when = date.fromisoformat(day)
    except ValueError:
        _fail(f"the date must be YYYY-MM-DD (got {day!r})", 2)
    with _database().read() as session:
        try:
            owner = teams.team_by_slug(session, team) if team else None
        except NotFound:
            _fail(f"no team {team!r} (huiying teams list)", 2)
        try:
            info = calendars.team_calendar(session, owner).day(when)
        except calendars.MissingCalendarData as error:
            _fail(f"{error}; load it with: huiying calendar load FILE", 2)
        except HuiyingError as error:
            _fail(error.message, 2)
    typer.echo(f"{when.isoformat()} {info.kind.value} {info.reason_zh} {info.reason_en}")


@calendar_app.command("load")
def calendar_load(file: Annotated[Path, typer.Argument(help="UTF-8 CSV `date,kind,name` (kind rest|workday)")]) -> None:
    """Load a year of the State Council's notice into the platform's calendar; prints what changed."""
    from huiying.calendars import service as calendars
    from huiying.errors import HuiyingError

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"cannot read {file}: {error}", 2)
    try:
        with _database().write() as session:
            summary = calendars.load_notice(session, calendars.parse_notice_csv(text), actor=_cli_actor())
    except HuiyingError as error:
        _fail(error.message, 2)
    for line in summary.lines:
        typer.echo(line)
    years = ",".join(str(y) for y in summary.years)
    typer.echo(f"loaded years={years} added={summary.added} changed={summary.changed} removed={summary.removed}")


@mail_app.command("import")
def mail_import(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help=".eml files, mbox files or folders of them")],
    show_source: Annotated[
        bool, typer.Option(help="start each line with the file (mbox: file#n) it came from")
    ] = False,
) -> None:
    """Take mail in as if it had arrived: one line per mail (the ticket number, or
    `quarantined: <reason>`), then `imported=N threaded=N quarantined=N failed=N`; exit 1 when
    a mail failed. Mails are committed in batches, each mail in a savepoint of its own: one bad
    mail never loses the others, and a line is printed once its mail is stored."""
    from huiying.channels.email import importer
    from huiying.channels.email import service as mail

    settings = get_settings()
    database = _database()
    tally = mail.Tally()
    for found, outcome in mail.import_many(database, importer.read_paths(paths), settings=settings):
        tally.add(outcome)
        _echo_mail(found.source, outcome, show_source=show_source)
    typer.echo(tally.line())
    if tally.failed:
        raise typer.Exit(1)


def _echo_mail(source: str, outcome: ImportOutcome, *, show_source: bool) -> None:
    """A mail's line of `mail import` and `mail poll` (an ImportOutcome of channels/email/service.py)."""
    typer.echo(f"{source}\t{outcome.line()}" if show_source else outcome.line())


@mail_app.command("poll")
def mail_poll(
    show_source: Annotated[
        bool, typer.Option(help="start each line with the mail's IMAP URL (password left out)")
    ] = False,
) -> None:
    """One poll of the configured mailboxes (HUIYING_IMAP_URL and those on /admin/mail) now: one
    line per new mail, as `mail import` prints them, then the same totals line; a mail is marked
    on the server only after its ticket is committed. Exit 1 when a mail failed or a mailbox could
    not be read, 2 when no mailbox is configured."""
    from huiying.channels.email import imap

    settings = get_settings()
    database = _database()
    boxes = _mailboxes(database, settings, "poll")
    result = imap.poll_configured(
        database,
        boxes,
        settings=settings,
        on_mail=lambda source, outcome: _echo_mail(source, outcome, show_source=show_source),
    )
    for error in result.errors:
        typer.echo(error, err=True)
    typer.echo(result.tally.line())
    if result.tally.failed or result.errors:
        raise typer.Exit(1)


@mail_app.command("watch")
def mail_watch() -> None:
    """Wait on the mailbox's IDLE and poll whenever new mail arrives, until stopped (Ctrl-C):
    for a process of its own; `serve` does it already when it runs the jobs itself."""
    import logging
    import time

    from huiying import logs
    from huiying.channels.email import imap

    settings = get_settings()
    logs.configure(settings.log_level)
    database = _database()
    boxes = _mailboxes(database, settings, "watch")
    watchers = imap.Watchers(database, settings)
    watchers.start()
    logging.getLogger("huiying.mail").info("watching %s", ", ".join(box.mailbox.display for box in boxes))
    try:
        while watchers.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    watchers.stop(timeout=30)


@mail_app.command("receive")
def mail_receive(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SMTP port")] = 2525,
    show_source: Annotated[bool, typer.Option(help="start each line with smtp:<sender's IP>")] = False,
) -> None:
    """An SMTP server that takes mail for the support domains in (HUIYING_MAIL_FROM's and
    HUIYING_MAIL_RECEIVE_DOMAINS), until stopped (Ctrl-C or SIGTERM): one line per mail, as
    `mail import` prints them; the sender's 250 comes after the commit. Exit 1 when the
    address cannot be bound."""
    import signal
    import threading

    from huiying import logs
    from huiying.channels.email import receiver

    settings = get_settings()
    logs.configure(settings.log_level)
    smtp = receiver.Receiver(
        _database(),
        settings,
        host=host,
        port=port,
        on_mail=lambda source, outcome: _echo_mail(source, outcome, show_source=show_source),
    )
    try:
        smtp.start()
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc}")
    stop = threading.Event()
    # SIGTERM (a service manager stopping us) ends the loop as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    smtp.stop()


def _mailboxes(database: Database, settings: Settings, verb: str) -> list[Configured]:
    """HUIYING_IMAP_URL's and the admins' mailboxes, or exit 2 saying why there are none to `verb`."""
    from huiying.channels.email import imap

    try:
        boxes = imap.configured_mailboxes(database, settings)
    except ValueError as exc:
        _fail(str(exc), 2)
    if not boxes:
        _fail(
            f"HUIYING_IMAP_URL is not set and no mailbox is configured on /admin/mail: there is no mailbox to {verb}", 2
        )
    return boxes


@qa_app.command("sample")
def qa_sample(
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W48 (default: last week)")] = None,
) -> None:
    """Draw a week's QA sample (a week sampled already gets nothing new); one line per new
    sample `WEEK TICKET agent=EMAIL reviewer=EMAIL`, last line `week=W sampled=N agents=N`."""
    from huiying.errors import InvalidInput
    from huiying.quality import samples

    db = _database()
    try:
        chosen = samples.check_week(week) if week else samples.default_week()
    except InvalidInput as exc:
        _fail(f"--week: {exc.message}", 2)
    with db.write() as session:
        run = samples.sample_week(session, week=chosen, actor=_cli_actor())
        created = {row.id for row in run.created}
        rows = [r for r in samples.list_samples(session, weeks=[run.week], actor=None) if r.id in created]
    for row in rows:
        typer.echo(f"{row.week}\t{row.ticket}\tagent={row.agent}\treviewer={row.reviewer or '-'}")
    typer.echo(f"week={run.week} sampled={len(created)} agents={run.agents}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
