"""Benchmark: mails taken in per second by an IMAP poll (`huiying mail poll`'s path) from a
mailbox of N messages on a real IMAP server on this machine (pymap, the tests' server): fetched
with BODY.PEEK[], taken in 50 to a commit, each marked after its commit. The mails are
bench/mail_import.py's mix. Prints the rate for the first and the last tenth as well: a rate
that falls as the mailbox grows (Zammad's #6226) would show there.

    .venv/bin/python bench/mail_poll.py --mails 2000

pymap (pure Python, in memory-ish maildir) is the test server, not a production one: its
APPEND and SEARCH slow down as a folder grows, and at 10,000 mails its answers took longer than
the client's 10 s timeout here. The figure is what Huiying's side costs against it; a real
server (Dovecot) answers far faster.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1] / "tests"), str(Path(__file__).parents[1] / "tests/channels/email")]

from common import fresh_database  # noqa: E402
from imap_server import start_server  # noqa: E402
from mail_import import generate  # noqa: E402

from huiying import wiring  # noqa: E402
from huiying.channels.email import imap  # noqa: E402
from huiying.channels.email.service import ImportOutcome  # noqa: E402
from huiying.config import Settings  # noqa: E402
from huiying.db import Database  # noqa: E402
from huiying.kit import text as kit_text  # noqa: E402
from huiying.privacy import crypto  # noqa: E402
from huiying.triage import service as triage  # noqa: E402

APPEND_CHUNK = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--mails", type=int, default=10_000)
    args = parser.parse_args()
    kit_text.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = start_server(root / "imap")
        try:
            folder = server.new_folder(keywords=True)
            mails = generate(args.mails)
            for start in range(0, len(mails), APPEND_CHUNK):
                server.append(folder, *mails[start : start + APPEND_CHUNK])
            url = fresh_database(args.db, root)
            db = Database(url)
            settings = Settings(
                database_url=url, data_dir=root / "var", secret_key="k" * 40, imap_url=server.url(folder)
            )
            crypto.configure(settings.resolved_secret_key, settings.previous_secret_keys)
            wiring.install(settings)
            triage.configure(triage.TriageOptions.from_settings(settings))
            stamps: list[float] = []

            def on_mail(_source: str, _outcome: ImportOutcome) -> None:
                stamps.append(time.perf_counter())

            started, cpu = time.perf_counter(), time.process_time()
            result = imap.poll(db, imap.mailboxes(settings), settings=settings, on_mail=on_mail)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            db.dispose()
        finally:
            server.stop()
    if result.errors or len(stamps) < 2:
        print(f"the poll took {len(stamps)} mails before it stopped: {result.errors}")
        return
    tenth = max(1, len(stamps) // 10)
    first = tenth / (stamps[tenth - 1] - started)
    last = tenth / (stamps[-1] - stamps[-tenth - 1])
    print(
        f"{args.db:10s} IMAP mailbox of {args.mails}: {len(stamps) / elapsed:5.0f} mails/s "
        f"(first tenth {first:4.0f}/s, last tenth {last:4.0f}/s)   cpu {cpu * 1000 / len(stamps):4.1f} ms/mail "
        f"(this process; the IMAP server runs in another)   {result.tally.line()}"
    )


if __name__ == "__main__":
    main()
