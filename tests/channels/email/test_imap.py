"""Polling a real IMAP server (pymap, started here) into tickets, on both database back ends:
mails appended to the mailbox become tickets and are marked only after their commit; a second
poll takes nothing twice; a crash between the commit and the mark loses nothing and makes no
duplicate; a broken mail is quarantined and marked; STARTTLS and IMAPS; IDLE; the periodic job;
`huiying mail poll`. Under CI=true the server must start; elsewhere, without pymap, they skip."""

from __future__ import annotations

import imaplib
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imap_server import PASSWORD, WIDE_PASSWORD, WIDE_USER, ImapServer, environment_has_pymap, start_server
from mail_samples import mail, new_id
from sqlalchemy import func, select

from conftest import _free_port
from huiying.channels.email import imap, imap_client, service
from huiying.channels.email.imap_client import KEYWORD, SEEN, ImapError, open_folder, parse_imap_url
from huiying.channels.email.models import MailMessage, MailQuarantine
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs import registry
from huiying.tickets.models import Message, Ticket

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
GARBAGE = b"\x00\x01 not a mail at all \xff\xfe\r\n"
NUMBER = r"HY\d{6}-\d{4}"


@pytest.fixture(scope="session")
def imap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImapServer]:
    if not environment_has_pymap():
        message = "pymap is not installed (the test extras): the IMAP polling tests need a real IMAP server"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        server = start_server(tmp_path_factory.mktemp("imap"))
    except RuntimeError as exc:
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_failures_left_over() -> Iterator[None]:
    imap.failures.clear()
    yield
    imap.failures.clear()


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _poll(db: Database, settings: Settings, url: str) -> tuple[imap.PollResult, list[str]]:
    lines: list[str] = []
    ours = settings.model_copy(update={"imap_url": url})
    result = imap.poll(
        db, imap.mailboxes(ours), settings=ours, on_mail=lambda source, outcome: lines.append(outcome.line())
    )
    return result, lines


# --- polling ----------------------------------------------------------------------------------------


def test_mails_appended_to_the_mailbox_become_tickets_and_are_marked_after_their_commit(
    imap_server: ImapServer, db: Database, settings: Settings
) -> None:
    folder = imap_server.new_folder(keywords=True)
    first = new_id()
    imap_server.append(
        folder,
        mail(message_id=first, body="提现一直没有到账，已经三天了。"),
        mail(subject="Re: 会员充值失败", body="补充：订单号 20261202001", in_reply_to=first),
        mail(sender="wang@example.org", headers=("X-Spam-Flag: YES",)),
    )
    assert imap_server.flags(folder) == [set(), set(), set()]

    result, lines = _poll(db, settings, imap_server.url(folder))
    assert result.errors == []
    assert result.tally.line() == "imported=2 threaded=1 quarantined=0 failed=0"
    assert re.fullmatch(NUMBER, lines[0]) and lines[1] == lines[0] and re.fullmatch(NUMBER, lines[2])
    with db.read() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert [(t.number, t.channel) for t in tickets] == [(lines[0], "email"), (lines[2], "email")]
        replies = session.execute(select(Message.ticket_id, Message.body).where(Message.author_type == "user")).all()
        assert [tuple(r) for r in replies] == [(tickets[0].id, "补充：订单号 20261202001")]  # the reply, on the first
        sources = session.scalars(select(MailMessage.source).order_by(MailMessage.id)).all()
    # The keyword marks them; \Seen is left to the people who read the mailbox.
    assert imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}, {KEYWORD}]
    assert all(s.startswith(f"imap://support@help.example.com@127.0.0.1:{imap_server.port}/") for s in sources)
    assert all(PASSWORD not in s for s in sources) and sources[0].endswith(";UID=1")


def test_a_second_poll_imports_nothing_twice_and_takes_only_what_is_new(
    imap_server: ImapServer, db: Database, settings: Settings
) -> None:
    folder = imap_server.new_folder(keywords=True)
    url = imap_server.url(folder)
    imap_server.append(folder, mail(), mail(body="第二封"))
    assert _poll(db, settings, url)[0].tally.imported == 2
    again, lines = _poll(db, settings, url)
    assert (again.tally.line(), lines) == ("imported=0 threaded=0 quarantined=0 failed=0", [])
    imap_server.append(folder, mail(body="第三封，新的问题"))
    third, lines = _poll(db, settings, url)
    assert third.tally.line() == "imported=1 threaded=0 quarantined=0 failed=0" and len(lines) == 1
    assert _count(db, Ticket) == 3 and _count(db, MailMessage) == 3


def test_a_folder_that_keeps_no_keywords_is_marked_seen_instead(
    imap_server: ImapServer, db: Database, settings: Settings
) -> None:
    folder = imap_server.new_folder(keywords=False)
    imap_server.append(folder, mail(), mail(body="另一封"))
    parsed = parse_imap_url(imap_server.url(folder))
    with open_folder(parsed) as opened:
        assert opened.marker == SEEN
    assert _poll(db, settings, imap_server.url(folder))[0].tally.imported == 2
    assert imap_server.flags(folder) == [{SEEN}, {SEEN}]
    assert _poll(db, settings, imap_server.url(folder))[0].tally.line() == (
        "imported=0 threaded=0 quarantined=0 failed=0"
    )


def test_a_crash_between_the_commit_and_the_mark_loses_nothing_and_imports_nothing_twice(
    imap_server: ImapServer, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail(body="我的账号被盗了，请尽快处理"), mail(body="第二封"))
    real_mark = imap_client.Folder.mark_many
    crashes = []

    def crash_once(self: imap_client.Folder, uids: list[str]) -> None:
        if not crashes:
            crashes.append(uids)
            raise SystemExit("power cut")  # the process dies: nothing after this line runs
        real_mark(self, uids)

    monkeypatch.setattr(imap_client.Folder, "mark_many", crash_once)
    with pytest.raises(SystemExit):
        _poll(db, settings, imap_server.url(folder))
    # The batch's tickets are committed; on the server neither mail is marked.
    assert _count(db, Ticket) == 2
    assert imap_server.flags(folder) == [set(), set()]

    result, lines = _poll(db, settings, imap_server.url(folder))
    assert result.tally.line() == "imported=0 threaded=0 quarantined=0 failed=0 duplicate=2"
    with db.read() as session:
        numbers = session.scalars(select(Ticket.number).order_by(Ticket.id)).all()
    assert lines == [f"duplicate: {number}" for number in numbers]
    assert _count(db, Ticket) == 2
    assert imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]
    assert _poll(db, settings, imap_server.url(folder))[0].tally.duplicate == 0


def test_a_broken_mail_is_quarantined_and_marked_never_tried_again(
    imap_server: ImapServer, db: Database, settings: Settings
) -> None:
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, GARBAGE, mail())
    result, lines = _poll(db, settings, imap_server.url(folder))
    assert result.tally.line() == "imported=1 threaded=0 quarantined=1 failed=0"
    assert lines[0].startswith("quarantined: ")
    with db.read() as session:
        entry = session.scalars(select(MailQuarantine)).one()
    assert entry.source.endswith(";UID=1") and (settings.quarantine_dir / entry.storage_key).is_file()
    assert imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]
    assert _poll(db, settings, imap_server.url(folder))[0].tally.quarantined == 0


def test_a_mail_whose_import_keeps_failing_stays_until_the_third_poll_then_is_quarantined(
    imap_server: ImapServer, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail(body="这封邮件触发了一个程序错误"), mail(body="这封没问题"))
    real_import = service.import_one

    def fails_on_the_first(db: Database, raw: bytes, *, source: str, settings: Settings) -> service.ImportOutcome:
        if source.endswith(";UID=1"):
            return service.ImportOutcome("failed", reason="RuntimeError: a bug")
        return real_import(db, raw, source=source, settings=settings)

    monkeypatch.setattr(service, "import_one", fails_on_the_first)
    url = imap_server.url(folder)
    first, lines = _poll(db, settings, url)
    assert first.tally.line() == "imported=1 threaded=0 quarantined=0 failed=1"  # the next mail still went in
    assert lines[0] == "failed: RuntimeError: a bug"
    assert imap_server.flags(folder) == [set(), {KEYWORD}]  # left for the next poll
    assert _poll(db, settings, url)[0].tally.failed == 1
    third, lines = _poll(db, settings, url)
    assert third.tally.line() == "imported=0 threaded=0 quarantined=1 failed=0"
    assert lines == ["quarantined: import failed 3 times: RuntimeError: a bug"]
    assert imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]
    with db.read() as session:
        entry = session.scalars(select(MailQuarantine)).one()
    assert entry.status == "open" and entry.reason.startswith("import failed 3 times")


def test_a_mail_taken_in_is_moved_where_the_url_says(imap_server: ImapServer, db: Database, settings: Settings) -> None:
    folder = imap_server.new_folder(keywords=True)
    done = imap_server.new_folder(keywords=True, name=f"已处理-{folder}")
    imap_server.append(folder, mail(), mail(sender="wang@example.org"), mail(sender="zhao@example.org"))
    result, _ = _poll(db, settings, imap_server.url(folder, query=f"move={done}"))
    assert result.tally.imported == 3  # one batch: marked and moved with one command each
    # Gone from the folder: what stays there is marked \Deleted for the server to expunge.
    assert [flags for flags in imap_server.flags(folder) if "\\Deleted" not in flags] == []
    assert imap_server.flags(done) == [{KEYWORD}] * 3


def test_a_batch_the_server_will_not_fetch_at_once_is_fetched_one_by_one(
    imap_server: ImapServer, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that refuses the batch FETCH (some limit the command's length): each mail is
    fetched alone, and one it refuses fails alone, unmarked, while the others go in."""
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail(), mail(sender="wang@example.org"), mail(sender="zhao@example.org"))
    real_fetch = imap_client.Folder.fetch

    def refuse_the_batch(self: imap_client.Folder, uids: list[str]) -> dict[str, bytes]:
        raise imaplib.IMAP4.error("FETCH failed: command line too long")

    def refuse_the_second(self: imap_client.Folder, uid: str) -> bytes | None:
        if uid == "2":
            raise imaplib.IMAP4.error("FETCH 2 failed: message unavailable")
        return real_fetch(self, uid)

    monkeypatch.setattr(imap_client.Folder, "fetch_many", refuse_the_batch)
    monkeypatch.setattr(imap_client.Folder, "fetch", refuse_the_second)
    result, lines = _poll(db, settings, imap_server.url(folder))
    assert result.tally.line() == "imported=2 threaded=0 quarantined=0 failed=1"
    assert "failed: fetch: FETCH 2 failed: message unavailable" in lines
    assert imap_server.flags(folder) == [{KEYWORD}, set(), {KEYWORD}]


# --- connections, TLS, errors -------------------------------------------------------------------------


def test_starttls_and_imaps_poll_over_tls(
    imap_server: ImapServer, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert imap_server.cert is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_server.cert))  # the default context trusts our test CA
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail())
    over_starttls, _ = _poll(db, settings, imap_server.url(folder, query="starttls=1"))
    assert over_starttls.errors == [] and over_starttls.tally.imported == 1
    imap_server.append(folder, mail(body="第二封"))
    over_imaps, lines = _poll(db, settings, imap_server.url(folder, scheme="imaps"))
    assert over_imaps.errors == [] and over_imaps.tally.imported == 1 and len(lines) == 1
    assert imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]


def test_a_server_we_do_not_trust_is_refused(imap_server: ImapServer, db: Database, settings: Settings) -> None:
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail())
    for url in (imap_server.url(folder, query="starttls=1"), imap_server.url(folder, scheme="imaps")):
        result, _ = _poll(db, settings, url)
        (error,) = result.errors
        assert "CERTIFICATE_VERIFY_FAILED" in error and PASSWORD not in error
    assert _count(db, Ticket) == 0 and imap_server.flags(folder) == [set()]


def test_a_wrong_password_or_a_dead_server_is_an_error_that_never_shows_the_password(
    imap_server: ImapServer, db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    folder = imap_server.new_folder(keywords=True)
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-Pass!42"
    result, _ = _poll(db, settings, imap_server.url(folder, password=wrong))
    (error,) = result.errors
    assert error.startswith(f"imap://support@help.example.com@127.0.0.1:{imap_server.port}/{folder}: ")
    dead = f"imap://u:{wrong}@127.0.0.1:{_closed_port()}/INBOX"
    (refused,) = _poll(db, settings, dead)[0].errors
    assert "cannot connect" in refused and "ConnectionRefusedError" in refused
    missing = _poll(db, settings, imap_server.url("no-such-folder"))[0].errors
    assert len(missing) == 1 and "cannot open the folder" in missing[0]
    for text in (
        error,
        refused,
        caplog.text,
        repr(parse_imap_url(dead)),
        repr(settings.model_copy(update={"imap_url": dead})),
    ):
        assert wrong not in text and PASSWORD not in text


def test_a_user_and_password_beyond_ascii_log_in_with_auth_plain(imap_server: ImapServer) -> None:
    from urllib.parse import quote

    url = f"imap://{quote(WIDE_USER)}:{quote(WIDE_PASSWORD)}@127.0.0.1:{imap_server.port}/INBOX"
    with open_folder(parse_imap_url(url)) as opened:
        assert opened.unmarked() == []


def _closed_port() -> int:
    return _free_port()


# --- IDLE, the job, the command line ---------------------------------------------------------------------


def test_idle_takes_a_new_mail_in_within_seconds(imap_server: ImapServer, db: Database, settings: Settings) -> None:
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail(body="在监听之前到达的邮件"))
    mailbox = parse_imap_url(imap_server.url(folder))
    stop = threading.Event()
    taken: list[str] = []
    thread = threading.Thread(
        target=imap.watch,
        args=(db, mailbox),
        kwargs={"settings": settings, "stop": stop, "on_mail": lambda source, outcome: taken.append(outcome.result)},
        daemon=True,
    )
    thread.start()
    try:
        _wait_until(lambda: taken == ["imported"])
        time.sleep(0.5)  # the watcher is in IDLE now
        imap_server.append(folder, mail(body="监听时到达的新邮件"))
        _wait_until(lambda: taken == ["imported", "imported"], seconds=10)
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive()
    assert _count(db, Ticket) == 2 and imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]


def _wait_until(condition: Any, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_mail_poll_job_is_registered_and_a_failing_mailbox_fails_its_run(
    imap_server: ImapServer, db: Database, settings: Settings
) -> None:
    from huiying import wiring

    wiring.install_jobs()
    (job,) = [j for j in registry.periodic_jobs() if j.name == imap.JOB]
    assert job.every.total_seconds() == 60 and job.function is imap.poll_job
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail())
    try:
        imap.configure(settings)  # no HUIYING_IMAP_URL: the job has nothing to do
        imap.poll_job(db)
        imap.configure(settings.model_copy(update={"imap_url": imap_server.url(folder)}))
        imap.poll_job(db)
        assert _count(db, Ticket) == 1 and imap_server.flags(folder) == [{KEYWORD}]
        imap.configure(settings.model_copy(update={"imap_url": imap_server.url(folder, password="nope")}))
        with pytest.raises(ImapError) as failed:
            imap.poll_job(db)
        assert "nope" not in str(failed.value)
    finally:
        imap.configure(settings)


def test_serve_polls_the_mailbox_by_itself_and_watches_it_with_idle(
    imap_server: ImapServer, db: Database, settings: Settings
) -> None:
    """`huiying serve` without a broker: its embedded runner runs the mail_poll job (due at
    start), and its IDLE watcher takes a mail that arrives while it runs within seconds."""
    from fastapi.testclient import TestClient

    from huiying.app import create_app

    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail(body="服务启动前到达"))
    serving = settings.model_copy(update={"imap_url": imap_server.url(folder), "embedded_jobs": True})
    try:
        with TestClient(create_app(serving, db)):
            _wait_until(lambda: _count(db, Ticket) == 1, seconds=20)
            imap_server.append(folder, mail(body="服务运行时到达"))
            _wait_until(lambda: _count(db, Ticket) == 2, seconds=20)
    finally:
        imap.configure(settings)
    assert imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]


def _huiying(tmp_path: Path, db: Database, *args: str, imap_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_DATABASE_URL": db.url}
    env.pop("HUIYING_IMAP_URL", None)
    if imap_url:
        env["HUIYING_IMAP_URL"] = imap_url
    return subprocess.run(
        [sys.executable, "-m", "huiying", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_huiying_mail_poll_prints_a_line_per_mail_and_the_totals_line(
    imap_server: ImapServer, db: Database, tmp_path: Path
) -> None:
    folder = imap_server.new_folder(keywords=True)
    first = new_id()
    imap_server.append(folder, mail(message_id=first), mail(body="补充", in_reply_to=first), GARBAGE)
    url = imap_server.url(folder)

    result = _huiying(tmp_path, db, "mail", "poll", imap_url=url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(NUMBER, lines[0]) and lines[1] == lines[0]
    assert lines[2].startswith("quarantined: ")
    assert lines[3] == "imported=1 threaded=1 quarantined=1 failed=0"

    imap_server.append(folder, mail(body="新的一封"))
    again = _huiying(tmp_path, db, "mail", "poll", "--show-source", imap_url=url)
    assert again.returncode == 0, again.stderr
    source, line = again.stdout.splitlines()[0].split("\t")
    assert source.endswith(";UID=4") and PASSWORD not in again.stdout and re.fullmatch(NUMBER, line)
    assert again.stdout.splitlines()[-1] == "imported=1 threaded=0 quarantined=0 failed=0"
    assert _huiying(tmp_path, db, "mail", "poll", imap_url=url).stdout.splitlines() == [
        "imported=0 threaded=0 quarantined=0 failed=0"
    ]

    unset = _huiying(tmp_path, db, "mail", "poll", imap_url=None)
    assert unset.returncode == 2 and "HUIYING_IMAP_URL is not set" in unset.stderr
    wrong = _huiying(tmp_path, db, "mail", "poll", imap_url=imap_server.url(folder, password="Bad-Pass-9"))
    assert wrong.returncode == 1 and wrong.stdout.splitlines() == ["imported=0 threaded=0 quarantined=0 failed=0"]
    assert "imap://support@help.example.com@" in wrong.stderr and "Bad-Pass-9" not in wrong.stderr + wrong.stdout


def test_huiying_mail_watch_takes_mail_as_it_arrives_until_stopped(
    imap_server: ImapServer, db: Database, tmp_path: Path
) -> None:
    import signal

    folder = imap_server.new_folder(keywords=True)
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_DATABASE_URL": db.url}
    env["HUIYING_IMAP_URL"] = imap_server.url(folder)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "huiying", "mail", "watch"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        imap_server.append(folder, mail(body="监听进程收到的邮件"))
        _wait_until(lambda: _count(db, Ticket) == 1, seconds=30)
    finally:
        watcher.send_signal(signal.SIGINT)
        output, _ = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, output
    assert f"watching imap://s***@help.example.com@127.0.0.1:{imap_server.port}/{folder}" in output  # logs mask
    assert PASSWORD not in output
    assert imap_server.flags(folder) == [{KEYWORD}]
