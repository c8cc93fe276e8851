"""Benchmark: mails taken in per second by `huiying mail import`'s path (importer + batches of
mails to a COMMIT, service level, no subprocess), from an mbox of N generated messages and from a
folder of .eml files; p50 / p99 of a batch, and the CPU time per mail (which a busy machine
changes less than the rate). The mails are mixed: Chinese and English
feedback (the demo's samples), some replies to earlier ones (threaded), some with a PDF
attachment, a few auto-replies, spam and unreadable ones (quarantined). Triage on (the product's
default) and off. The rate of the first and the last tenth shows whether it falls as the tables
grow (Zammad's import falls from 6,000 to 180 tickets/s, #6226). bench/mail_poll.py measures the
same from an IMAP mailbox.

    .venv/bin/python bench/mail_import.py --db sqlite --mails 10000 --eml 2000
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from common import fresh_database

from huiying import wiring
from huiying.channels.email import importer
from huiying.channels.email import service as mail
from huiying.config import Settings
from huiying.db import Database
from huiying.demo.samples import SAMPLES
from huiying.kit import text as kit_text
from huiying.privacy import crypto
from huiying.triage import service as triage

PDF = b"%PDF-1.4\n" + bytes(random.Random(1).randrange(256) for _ in range(20_000))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def generate(count: int, *, seed: int = 7) -> list[bytes]:
    """`count` raw mails: 15 % replies, 10 % with a PDF, 2 % auto-replies, 1 % spam, 0.5 % junk."""
    rng = random.Random(seed)
    start = 1_764_633_600  # 2025-12-02 00:00 UTC: the mails spread over 60 days
    senders = [f"user{n}@example{n % 7}.com" for n in range(4000)]
    sent: list[str] = []
    mails = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.005:
            mails.append(b"\x00garbage that is no mail " + str(n).encode())
            continue
        sample = rng.choice(SAMPLES)
        message_id = f"bench.{n}.{rng.getrandbits(40):x}@mail.example.net"
        date = format_datetime(datetime.fromtimestamp(start + n * 517, tz=UTC))
        headers = [
            f"From: =?utf-8?b?{_b64('用户' + str(n))}?= <{rng.choice(senders)}>",
            "To: support@help.example.com",
            f"Date: {date}",
            f"Message-ID: <{message_id}>",
            "MIME-Version: 1.0",
        ]
        subject, body = sample.title, f"{sample.description}\n\n（第 {n} 封）"
        if sent and roll < 0.155:
            parent = rng.choice(sent)
            headers += [f"In-Reply-To: <{parent}>", f"References: <{parent}>"]
            subject, body = "Re: " + subject, f"补充一下：{body}\n\n在 2026年12月1日，客服 写道：\n> 请提供截图"
        elif roll < 0.175:
            headers.append("Auto-Submitted: auto-replied")
            subject = "自动回复：" + subject
        elif roll < 0.185:
            headers.append("X-Spam-Flag: YES")
        headers.append(f"Subject: =?utf-8?b?{_b64(subject)}?=")
        text = base64.encodebytes(body.encode()).decode()
        if 0.2 < roll < 0.3:
            headers.append('Content-Type: multipart/mixed; boundary="b"')
            raw = (
                "\r\n".join(headers)
                + "\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + text
                + '--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="截图.pdf"\r\n'
                + "Content-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(PDF).decode()
                + "--b--\r\n"
            ).encode()
        else:
            headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"]
            raw = ("\r\n".join(headers) + "\r\n\r\n" + text).encode()
        sent.append(message_id)
        mails.append(raw)
    return mails


def write_mbox(path: Path, mails: list[bytes]) -> None:
    with path.open("wb") as out:
        for raw in mails:
            body = raw.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
            out.write(b"From bench@example.com Wed Dec  2 10:00:00 2026\n" + body + b"\n\n")


def write_folder(folder: Path, mails: list[bytes]) -> None:
    for number, raw in enumerate(mails):
        (folder / f"{number // 500:03d}").mkdir(parents=True, exist_ok=True)
        (folder / f"{number // 500:03d}" / f"{number:06d}.eml").write_bytes(raw)


def run(kind: str, path: Path, workdir: Path, *, triage_on: bool) -> None:
    url = fresh_database(kind, workdir)
    db = Database(url)
    settings = Settings(database_url=url, data_dir=workdir / "var", secret_key="k" * 40, triage_enabled=triage_on)
    crypto.configure(settings.resolved_secret_key, settings.previous_secret_keys)
    wiring.install(settings)
    triage.configure(triage.TriageOptions.from_settings(settings))
    times: list[float] = []
    tally = mail.Tally()
    results: Counter[str] = Counter()
    started, cpu = time.perf_counter(), time.process_time()
    one = time.perf_counter()
    for _found, outcome in mail.import_many(db, importer.read_paths([path]), settings=settings):
        # A batch's mails come out together after its COMMIT: the time per mail is the batch's
        # time shared out, which is what a mail costs in a bulk import.
        now = time.perf_counter()
        times.append((now - one) * 1000)
        one = now
        tally.add(outcome)
        results[outcome.kind if outcome.result == "imported" else outcome.result] += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.dispose()
    size = mail.BATCH_SIZE
    batches = sorted(sum(times[start : start + size]) for start in range(0, len(times), size))
    p99 = batches[min(len(batches) - 1, int(0.99 * len(batches)))]
    tenth = max(1, len(times) // 10)
    first, last = tenth * 1000 / sum(times[:tenth]), tenth * 1000 / sum(times[-tenth:])
    print(
        f"{kind:10s} {path.name:10s} triage {'on ' if triage_on else 'off'}  {len(times) / elapsed:7.0f} mails/s "
        f"(first tenth {first:4.0f}/s, last tenth {last:4.0f}/s)   "
        f"a batch of {size}: p50 {statistics.median(batches):6.1f} ms  p99 {p99:6.1f} ms   "
        f"cpu {cpu * 1000 / len(times):4.1f} ms/mail   {tally.line()}"
    )
    print(f"{'':33s}{dict(results)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--mails", type=int, default=10_000, help="mails in the mbox")
    parser.add_argument("--eml", type=int, default=2_000, help=".eml files in the folder")
    parser.add_argument("--triage", choices=["on", "off", "both"], default="both")
    args = parser.parse_args()
    kit_text.warm_up()
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.triage]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mails = generate(args.mails)
        write_mbox(root / "inbox.mbox", mails)
        write_folder(root / "folder", generate(args.eml, seed=11))
        print(
            f"{args.mails} mails in an mbox ({(root / 'inbox.mbox').stat().st_size >> 20} MiB), {args.eml} .eml files"
        )
        for triage_on in modes:
            for source in (root / "inbox.mbox", root / "folder"):
                workdir = Path(tempfile.mkdtemp(dir=root))
                run(args.db, source, workdir, triage_on=triage_on)


if __name__ == "__main__":
    main()
