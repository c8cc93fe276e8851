"""HTML mail made safe (nh3) and turned into clean text (inscriptis, Apache-2.0).

`sanitize` keeps what a mail reader shows and drops what runs or hides: scripts, styles, the
document head and its title, event handlers, `javascript:` links. Inline images keep their
`cid:` sources so a viewer can map them to the mail's attachments.
"""

from __future__ import annotations

import html as html_entities
import re

import nh3
from inscriptis import get_text  # type: ignore[import-untyped]  # no py.typed

from huiying.kit.strings import clean

# Removed with everything inside them, not only the tags.
_DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "template", "noscript", "object", "iframe"}
_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}
_TRAILING_SPACE = re.compile(r"[ \t\u3000]+$", re.MULTILINE)
_BLANK_RUN = re.compile(r"\n{3,}")
# html5ever (inside nh3) slows down with the square of the nesting depth: 50,000 nested <div>
# take ten seconds. Deeper HTML is built to stall us, and is read without its markup.
MAX_NESTING = 2000
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
# Tags that never nest: void elements, and those the next one of their kind closes.
_FLAT_TAGS = {"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "embed", "source", "track"}
_FLAT_TAGS |= {"param", "p", "li", "td", "th", "tr", "option", "dt", "dd", "tbody", "thead"}
_BLOCK_TAG = re.compile(r"</?(?:p|div|tr|li|h[1-6]|table|blockquote)\b[^>]*>", re.IGNORECASE)
_ANY_TAG_BUT_BR = re.compile(r"<(?!br\b)/?[a-zA-Z!][^>]*>", re.IGNORECASE)


def sanitize(html: str) -> str:
    """The HTML without anything that runs, loads code or styles the page around it."""
    html = clean(html)
    if _nesting(html) > MAX_NESTING:
        html = _flattened(html)
    return nh3.clean(
        html,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def to_text(html: str, *, sanitized: bool = False) -> str:
    """The text a reader sees in `html` (sanitised first unless `sanitized`), tidied: no
    trailing spaces, at most one blank line in a row. Never raises."""
    safe = html if sanitized else sanitize(html)
    if not safe.strip():
        return ""
    try:
        text = str(get_text(safe))
    except Exception:  # noqa: BLE001 - lxml refuses some markup; the words still count
        text = html_entities.unescape(nh3.clean(safe, tags=set()))
    return tidy(text)


def tidy(text: str) -> str:
    """Text with LF line ends, no trailing spaces and at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _BLANK_RUN.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip("\n")


def _nesting(html: str) -> int:
    """How deep the tags nest (stopping once past MAX_NESTING), counted on the tags alone."""
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _FLAT_TAGS:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            break
    return deepest


def _flattened(html: str) -> str:
    """Only the text and line breaks of `html`, scripts and styles dropped."""
    for tag in ("script", "style", "head"):
        html = _without_element(html, tag)
    return _ANY_TAG_BUT_BR.sub("", _BLOCK_TAG.sub("<br>", html))


def _without_element(html: str, tag: str) -> str:
    """`html` without the `tag` elements and their content, in one pass; an element left open
    runs to the end."""
    opening = re.compile(rf"<{tag}[\s/>]", re.IGNORECASE)
    closing = re.compile(rf"</{tag}\s*>", re.IGNORECASE)
    pieces: list[str] = []
    position = 0
    while start := opening.search(html, position):
        pieces.append(html[position : start.start()])
        end = closing.search(html, start.end())
        position = end.end() if end else len(html)
    pieces.append(html[position:])
    return "".join(pieces)
