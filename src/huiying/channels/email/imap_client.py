"""The IMAP side of polling, with the standard library's imaplib: a mailbox URL parsed, a folder
opened, the mails not taken in yet listed, one fetched, one marked taken, IDLE waited on.

It knows nothing of tickets or the database (channels/email/imap.py does the polling). A mail
is marked with the keyword `$HuiyingImported` where the folder keeps keywords (PERMANENTFLAGS
lists `\\*` or the keyword) and with `\\Seen` where it does not; the choice is the folder's, so
it is the same at every poll and a marked mail is never listed again. Fetching uses BODY.PEEK[]:
reading a mail does not mark it, only `mark` does, which the poller calls after its commit.

The password is kept out of every text this module makes: `Mailbox.display` and its repr omit
it, and errors name the mailbox by `display`.
"""

from __future__ import annotations

import base64
import imaplib
import ipaddress
import itertools
import re
import select
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlsplit

KEYWORD = "$HuiyingImported"
SEEN = "\\Seen"
TIMEOUT_SECONDS = 30.0
_TRUE = {"1", "true", "yes", "on"}
_tags = itertools.count(1)

# What a broken connection, a refusing server or a TLS failure raise: the mailbox's poll stops
# (the mails done so far stay done) and the next one starts afresh.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, imaplib.IMAP4.error, EOFError)
CONNECT_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, ValueError)  # ValueError: a bad TLS set-up


class ImapError(Exception):
    """The mailbox cannot be polled now (the message names it without its password)."""


@dataclass(frozen=True)
class Mailbox:
    """One mailbox to poll: `imap[s]://user:pass@host:port/FOLDER[?starttls=1][&move=FOLDER]`."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    implicit_tls: bool = False  # imaps://
    starttls: bool = False  # imap://…?starttls=1
    move_to: str | None = None  # after marking, move the mail there (?move=Processed)

    @property
    def display(self) -> str:
        """The URL without the password, for logs, errors and a mail's `source`."""
        scheme = "imaps" if self.implicit_tls else "imap"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{quote(self.username, safe='@')}@{host}:{self.port}/{quote(self.folder, safe='')}"

    def source(self, uid_validity: str, uid: str) -> str:
        """Where one mail came from, as an RFC 5092 IMAP URL (it goes in `mail_messages.source`)."""
        return f"{self.display};UIDVALIDITY={uid_validity}/;UID={uid}"[:255]


def parse_imap_url(url: str) -> Mailbox:
    """HUIYING_IMAP_URL (CONTRACT.md) as a Mailbox; ValueError, without the password, when wrong.

    Plain `imap://` without STARTTLS would send the password in clear: it is for a server on
    this machine (tests), or anywhere with `?insecure=1`.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("imap", "imaps"):
        raise ValueError("HUIYING_IMAP_URL must start with imap:// or imaps://")
    if not parts.hostname:
        raise ValueError("HUIYING_IMAP_URL has no host")
    if not parts.username or parts.password is None:
        raise ValueError("HUIYING_IMAP_URL needs the mailbox's user and password: imaps://user:pass@host/INBOX")
    query = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "").lower() in _TRUE
    if scheme == "imaps" and starttls:
        raise ValueError("HUIYING_IMAP_URL: imaps:// is already TLS; starttls=1 is for imap://")
    insecure = query.get("insecure", "").lower() in _TRUE
    if scheme == "imap" and not starttls and not insecure and not _is_loopback(parts.hostname):
        raise ValueError(
            "HUIYING_IMAP_URL: plain imap:// sends the password in clear; use imaps://, "
            "imap://…?starttls=1, or add insecure=1"
        )
    try:
        port = parts.port or (993 if scheme == "imaps" else 143)
    except ValueError as exc:
        raise ValueError("HUIYING_IMAP_URL has a bad port") from exc
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return Mailbox(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username),
        password=unquote(parts.password),
        folder=folder,
        implicit_tls=scheme == "imaps",
        starttls=starttls,
        move_to=query.get("move") or None,
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mailbox_name(name: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 §5.1.3): 已处理 too."""
    encoded: list[str] = []
    wide: list[str] = []

    def flush() -> None:
        if wide:
            chunk = base64.b64encode("".join(wide).encode("utf-16-be")).decode().rstrip("=")
            encoded.append("&" + chunk.replace("/", ",") + "-")
            wide.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            wide.append(char)
    flush()
    text = "".join(encoded)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    """A server's answer (bytes or a list of them) as one short line."""
    if isinstance(data, list):
        data = b" ".join(item if isinstance(item, bytes) else str(item).encode() for item in data)
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return str(data)[:300]


_UID = re.compile(rb"UID (\d+)", re.IGNORECASE)


class Folder:
    """A logged-in connection with the mailbox's folder selected (read-write)."""

    def __init__(self, mailbox: Mailbox, connection: imaplib.IMAP4) -> None:
        self.mailbox = mailbox
        self._imap = connection
        self.capabilities = frozenset(str(c).upper() for c in connection.capabilities)
        untagged = connection.untagged_responses
        self.uid_validity = _text(untagged.get("UIDVALIDITY", [b"0"])[-1])
        permanent = untagged.get("PERMANENTFLAGS")
        flags = _text(permanent[-1]).lower() if permanent else None
        # No PERMANENTFLAGS: RFC 3501 says every flag is permanent.
        self.marker = KEYWORD if flags is None or "\\*" in flags or KEYWORD.lower() in flags else SEEN

    @property
    def can_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def unmarked(self) -> list[str]:
        """UIDs of the folder's mails not marked yet, oldest first."""
        criteria = ("UNDELETED", "UNKEYWORD", KEYWORD) if self.marker == KEYWORD else ("UNDELETED", "UNSEEN")
        status, data = self._imap.uid("SEARCH", *criteria)
        if status != "OK":
            raise ImapError(f"{self.mailbox.display}: SEARCH failed: {_text(data)}")
        found = b" ".join(d for d in data if isinstance(d, bytes)).split()
        return [uid.decode() for uid in sorted(found, key=int)]

    def fetch(self, uid: str) -> bytes | None:
        """The mail's raw bytes, without marking it seen; None when it is gone (expunged)."""
        status, data = self._imap.uid("FETCH", uid, "(BODY.PEEK[])")
        if status != "OK":
            raise imaplib.IMAP4.error(f"FETCH {uid} failed: {_text(data)}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and b"BODY[]" in item[0].upper():
                return bytes(item[1])
        return None

    def fetch_many(self, uids: list[str]) -> dict[str, bytes]:
        """Several mails' raw bytes in one round trip (a remote server costs one per command),
        by UID; a mail gone meanwhile is left out. imaplib.IMAP4.error when the server refuses
        the command: the caller then fetches them one by one to find the mail it refuses."""
        if len(uids) == 1:
            raw = self.fetch(uids[0])
            return {uids[0]: raw} if raw is not None else {}
        status, data = self._imap.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
        if status != "OK":
            raise imaplib.IMAP4.error(f"FETCH {uids[0]}:{uids[-1]} failed: {_text(data)}")
        found: dict[str, bytes] = {}
        for number, item in enumerate(data):
            if not (isinstance(item, tuple) and len(item) == 2 and b"BODY[]" in item[0].upper()):
                continue
            # The UID comes before the literal or, with some servers, in the line after it.
            after = data[number + 1] if number + 1 < len(data) else b""
            match = _UID.search(item[0]) or _UID.search(after if isinstance(after, bytes) else b"")
            if match is not None:
                found[match.group(1).decode()] = bytes(item[1])
        return found

    def mark_many(self, uids: list[str]) -> None:
        """`mark` for several mails in one command (and one move), after their commit."""
        if len(uids) == 1:
            self.mark(uids[0])
            return
        status, data = self._imap.uid("STORE", ",".join(uids), "+FLAGS.SILENT", f"({self.marker})")
        if status != "OK":
            raise imaplib.IMAP4.error(f"STORE {uids[0]}:{uids[-1]} failed: {_text(data)}")
        if self.mailbox.move_to:
            self._move(",".join(uids), self.mailbox.move_to)

    def mark(self, uid: str) -> None:
        """Mark the mail taken (and move it where the URL says); after its commit, never before."""
        status, data = self._imap.uid("STORE", uid, "+FLAGS.SILENT", f"({self.marker})")
        if status != "OK":
            raise imaplib.IMAP4.error(f"STORE {uid} failed: {_text(data)}")
        if self.mailbox.move_to:
            self._move(uid, self.mailbox.move_to)

    def _move(self, uid: str, target: str) -> None:
        name = mailbox_name(target)
        if "MOVE" in self.capabilities:
            status, data = self._imap.uid("MOVE", uid, name)
        else:  # COPY, then delete this copy only (UIDPLUS), never other mails marked deleted
            status, data = self._imap.uid("COPY", uid, name)
            if status == "OK":
                status, data = self._imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
            if status == "OK" and "UIDPLUS" in self.capabilities:
                status, data = self._imap.uid("EXPUNGE", uid)
        if status != "OK":
            raise imaplib.IMAP4.error(f"moving {uid} to {target} failed: {_text(data)}")

    def wait(self, *, seconds: float, stop: threading.Event) -> bool:
        """IDLE (RFC 2177) until the server reports new mail, `seconds` pass or `stop` is set;
        True when it reported some. The caller polls after every wait, so a report that arrives
        together with the server's "+" and stays in imaplib's buffer costs one wait, nothing more."""
        imap = self._imap
        tag = f"HY{next(_tags)}".encode()
        imap.send(tag + b" IDLE\r\n")
        news = False
        while not (line := imap.readline()).startswith(b"+"):
            if not line or line.startswith(tag + b" "):
                raise ImapError(f"{self.mailbox.display}: IDLE refused: {_text(line)}")
            news = self._idle_line(line) or news
        sock = imap.sock
        end = time.monotonic() + seconds
        while not news and not stop.is_set() and (left := end - time.monotonic()) > 0:
            buffered = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if buffered or select.select([sock], [], [], min(1.0, left))[0]:
                news = self._idle_line(imap.readline())
        imap.send(b"DONE\r\n")
        while not (line := imap.readline()).startswith(tag + b" "):
            news = self._idle_line(line) or news
        if not line[len(tag) + 1 :].upper().startswith(b"OK"):
            raise ImapError(f"{self.mailbox.display}: IDLE ended with {_text(line)}")
        return news

    def _idle_line(self, line: bytes) -> bool:
        if not line:
            raise ImapError(f"{self.mailbox.display}: the server closed the connection")
        if line.upper().startswith(b"* BYE"):
            raise ImapError(f"{self.mailbox.display}: the server said goodbye: {_text(line)}")
        words = line.upper().split()
        return len(words) >= 3 and words[0] == b"*" and words[2] in (b"EXISTS", b"RECENT")

    def forget_responses(self) -> None:
        """Drop the untagged answers imaplib keeps (flag updates, EXISTS) on a long-lived connection."""
        self._imap.untagged_responses.clear()


@contextmanager
def open_folder(mailbox: Mailbox, *, ssl_context: ssl.SSLContext | None = None) -> Iterator[Folder]:
    """Connect (TLS as the URL says), log in, select the folder read-write; log out at the end.
    Raises ImapError, naming the mailbox without its password, when any step fails."""
    context = ssl_context or ssl.create_default_context()
    try:
        connection = _connect(mailbox, context)
    except CONNECT_ERRORS as exc:
        raise ImapError(f"{mailbox.display}: cannot connect: {type(exc).__name__}: {exc}"[:500]) from None
    try:
        try:
            _login(connection, mailbox)
            _refresh_capabilities(connection)
            status, data = connection.select(mailbox_name(mailbox.folder))
        except CONNECTION_ERRORS as exc:
            raise ImapError(f"{mailbox.display}: {type(exc).__name__}: {exc}"[:500]) from None
        if status != "OK":
            raise ImapError(f"{mailbox.display}: cannot open the folder: {_text(data)}")
        yield Folder(mailbox, connection)
    finally:
        _logout(connection)


def _connect(mailbox: Mailbox, context: ssl.SSLContext) -> imaplib.IMAP4:
    if mailbox.implicit_tls:
        return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT_SECONDS)
    connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    if mailbox.starttls:
        try:
            connection.starttls(ssl_context=context)  # refuses if the server lacks STARTTLS: never plain
        except BaseException:
            _logout(connection)
            raise
    return connection


def _login(connection: imaplib.IMAP4, mailbox: Mailbox) -> None:
    user, password = mailbox.username, mailbox.password
    if user.isascii() and password.isascii():
        connection.login(_quoted(user), password)  # imaplib quotes the password, not the user
        return
    if "AUTH=PLAIN" not in {str(c).upper() for c in connection.capabilities}:
        raise ImapError(f"{mailbox.display}: a non-ASCII user or password needs AUTH=PLAIN, which the server lacks")
    connection.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())


def _refresh_capabilities(connection: imaplib.IMAP4) -> None:
    """Servers announce more after login (IDLE, MOVE): imaplib keeps only the greeting's list."""
    status, data = connection.capability()
    if status == "OK" and data and isinstance(data[-1], bytes):
        connection.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def _logout(connection: imaplib.IMAP4) -> None:
    try:
        connection.logout()
    except CONNECTION_ERRORS:
        with suppress(OSError):
            connection.shutdown()
