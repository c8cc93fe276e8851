"""A real IMAP server on this machine for the polling tests: pymap (MIT, pure Python) with its
maildir back end, started as a process of its own on a free loopback port.

It speaks plain IMAP and STARTTLS (a self-signed certificate made here); `imaps://` is served
by a small TLS front that passes the bytes on to it. A folder made with `keywords=True` keeps
the `$HuiyingImported` keyword (a maildir's dovecot-keywords file lists it), one made without
keeps only the system flags — the `\\Seen` fallback of imap_client.py.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import select
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import _free_port
from huiying.channels.email.imap_client import KEYWORD, mailbox_name

USER = "support@help.example.com"
PASSWORD = "s3cret:p@ss/word%"  # every character a URL must escape
WIDE_USER = "客服"
WIDE_PASSWORD = "密码-s3cret"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "huiying test IMAP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "imap-cert.pem", folder / "imap-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _TlsFront(socketserver.ThreadingTCPServer):
    """Implicit TLS (imaps://) in front of the plain port: what a real IMAPS listener does."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, backend_port: int, context: ssl.SSLContext) -> None:
        self.backend_port = backend_port
        self.context = context
        super().__init__(("127.0.0.1", port), _Pipe)


class _Pipe(socketserver.BaseRequestHandler):
    server: _TlsFront

    def handle(self) -> None:
        try:
            tls = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us: it says so itself
        with tls, socket.create_connection(("127.0.0.1", self.server.backend_port)) as back:
            while True:
                ready = [tls] if tls.pending() else select.select([tls, back], [], [], 60)[0]
                if not ready:
                    return
                for side in ready:
                    data = side.recv(65536)
                    if not data:
                        return
                    (back if side is tls else tls).sendall(data)


@dataclass
class ImapServer:
    root: Path
    port: int = field(default_factory=_free_port)
    tls_port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    front: _TlsFront | None = None
    cert: Path | None = None

    @property
    def home(self) -> Path:
        return self.root / "mail" / "support"

    def start(self) -> None:
        from pysasl.hashing import BuiltinHash

        etc = self.root / "mail"
        for home in ("support", "wide"):
            for sub in ("cur", "new", "tmp"):
                (etc / home / sub).mkdir(parents=True, exist_ok=True)
        hashed = BuiltinHash()
        (etc / "pymap-etc-passwd").write_text(f"{USER}:::::support:\n{WIDE_USER}:::::wide:\n", encoding="utf-8")
        (etc / "pymap-etc-shadow").write_text(
            f"{USER}:{hashed.hash(PASSWORD)}\n{WIDE_USER}:{hashed.hash(WIDE_PASSWORD)}\n", encoding="utf-8"
        )
        self.cert, key = make_certificate(self.root)
        code = "from pymap.main import main; main()"
        args = ["--host", "127.0.0.1", "--port", str(self.port), "--cert", str(self.cert), "--key", str(key)]
        log = (self.root / "pymap.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args, "maildir", str(etc)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pymap did not start: {(self.root / 'pymap.log').read_text(errors='replace')}")
            time.sleep(0.1)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.front = _TlsFront(self.tls_port, self.port, context)
        threading.Thread(target=self.front.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.front is not None:
            self.front.shutdown()
            self.front.server_close()
            self.front = None
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    # --- what the tests use --------------------------------------------------------------------

    def url(self, folder: str, *, scheme: str = "imap", password: str = PASSWORD, query: str = "") -> str:
        port = self.tls_port if scheme == "imaps" else self.port
        auth = f"{quote(USER, safe='')}:{quote(password, safe='')}"
        return f"{scheme}://{auth}@127.0.0.1:{port}/{quote(folder, safe='')}" + (f"?{query}" if query else "")

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A plain connection of our own, logged in, as a person's mail program would be."""
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(f'"{USER}"', PASSWORD)
        try:
            yield connection
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                connection.logout()

    def new_folder(self, *, keywords: bool = True, name: str | None = None) -> str:
        """A folder of its own for one test: the mailbox outlives the tests, folders keep them apart."""
        name = name or f"t{uuid.uuid4().hex[:10]}"
        with self.client() as connection:
            status, data = connection.create(mailbox_name(name))
            assert status == "OK", data
        if keywords:
            # The maildir++ layout keeps folder X in .X.
            (self.folder_path(name) / "dovecot-keywords").write_text(f"0 {KEYWORD}\n")
        return name

    def folder_path(self, name: str) -> Path:
        return self.home / f".{name}"  # pymap keeps the decoded name: 已处理 arrived as &XfJZBHQG-

    def append(self, folder: str, *raws: bytes, flags: str | None = None) -> None:
        with self.client() as connection:
            for raw in raws:
                status, data = connection.append(mailbox_name(folder), flags, None, raw)
                assert status == "OK", data

    def clear_flags(self, folder: str) -> None:
        """Unmark every mail of the folder (as if our marks had never been made)."""
        with self.client() as connection:
            status, data = connection.select(mailbox_name(folder))
            assert status == "OK", data
            status, data = connection.uid("STORE", "1:*", "-FLAGS", f"({KEYWORD})")
            assert status == "OK", data

    def flags(self, folder: str) -> list[set[str]]:
        """Each mail's flags, in UID order (\\Recent left out: it is the session's, not the mail's)."""
        with self.client() as connection:
            status, data = connection.select(mailbox_name(folder), readonly=True)
            assert status == "OK", data
            if int(data[0] or 0) == 0:
                return []
            status, data = connection.uid("FETCH", "1:*", "(FLAGS)")
        found: list[tuple[int, set[str]]] = []
        for item in data:
            if not isinstance(item, bytes):
                continue
            text = item.decode()
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            inner = text.split("FLAGS (")[1].split(")")[0]
            found.append((uid, {flag for flag in inner.split() if flag != "\\Recent"}))
        return [flags for _, flags in sorted(found)]


def start_server(root: Path) -> ImapServer:
    server = ImapServer(root)
    server.start()
    return server


def environment_has_pymap() -> bool:
    try:
        import pymap  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = ["PASSWORD", "USER", "WIDE_PASSWORD", "WIDE_USER", "ImapServer", "environment_has_pymap", "start_server"]
