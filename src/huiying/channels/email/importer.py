"""Mail from files for `huiying mail import`: .eml files, mbox files and folders of them.

`read_paths(paths)` yields one `Found` per mail, in order: each PATH as given; a folder's files
recursively in sorted order (mail files only: `.eml`, `.mbox`, `.mbx`, and every file of a
Maildir's `cur` and `new`; hidden files are skipped, and so are READMEs and licences). A file
is an mbox when it says so by its extension, or when it starts with a "From " line and holds
more than one mail; otherwise it is one mail. A path that cannot be read yields a `Found` with
`error` set instead of stopping. No database here: the caller takes each mail in (service.import_one).
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAIL_SUFFIXES = {".eml", ".mbox", ".mbx"}
MBOX_SUFFIXES = {".mbox", ".mbx"}
MAILDIR_FOLDERS = {"cur", "new"}  # Maildir names its files "<time>.<unique>.<host>:2,<flags>"
# A second mbox separator: a line "From <sender> <date>" after a blank line.
_NEXT_FROM = re.compile(rb"\n\n?From \S+ ")


@dataclass(frozen=True)
class Found:
    source: str  # the file, or "<mbox>#<n>" for the n-th mail of an mbox (from 1)
    raw: bytes = b""
    error: str | None = None


def read_paths(paths: Iterable[Path]) -> Iterator[Found]:
    for path in paths:
        if path.is_dir():
            yield from _folder(path)
        elif path.is_file():
            yield from read_file(path)
        else:
            yield Found(str(path), error="no such file or folder")


def _folder(folder: Path) -> Iterator[Found]:
    try:
        entries = sorted(folder.rglob("*"))
    except OSError as exc:
        yield Found(str(folder), error=f"cannot read the folder: {exc.strerror or exc}")
        return
    for path in entries:
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        mail_file = path.suffix.lower() in MAIL_SUFFIXES or path.parent.name in MAILDIR_FOLDERS
        if not hidden and mail_file and path.is_file():
            yield from read_file(path)


def read_file(path: Path) -> Iterator[Found]:
    """The mails of one file: one for an .eml, each of an mbox."""
    try:
        if path.suffix.lower() in MBOX_SUFFIXES or (path.suffix.lower() != ".eml" and _looks_like_mbox(path)):
            yield from _mbox(path)
        else:
            yield Found(str(path), path.read_bytes())
    except OSError as exc:
        yield Found(str(path), error=f"cannot read: {exc.strerror or exc}")


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    return head.startswith(b"From ") and _NEXT_FROM.search(head) is not None


def _mbox(path: Path) -> Iterator[Found]:
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), 1):
            source = f"{path}#{number}"
            try:
                yield Found(source, box.get_bytes(key))
            except (OSError, KeyError) as exc:
                yield Found(source, error=f"cannot read this mail of the mbox: {exc}")
    finally:
        box.close()
