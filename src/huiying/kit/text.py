"""Text helpers shared by search and triage: normalisation and jieba segmentation.

Chinese has no spaces, so both the search index and the triage features work on words cut by
jieba. Index and query use the same cut (search mode), so every token a query yields is also a
token of a document that contains the query text. Search also reduces English words to their
Snowball stem, at index and query time alike, so "crash" finds "crashes"; triage reads the
unstemmed words its models were trained on.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

import jieba
import snowballstemmer

jieba.setLogLevel(logging.WARNING)

_init_lock = threading.Lock()
_initialised = False

# A token worth indexing has at least one letter, digit or CJK character.
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
# The words that get an English stem (jieba keeps a run of Latin letters as one token).
_ENGLISH_WORD = re.compile(r"[a-z]+")
# A Snowball stemmer keeps state while it works: one at a time.
_stemmer = snowballstemmer.stemmer("english")
_stem_lock = threading.Lock()


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) instead of during the first request."""
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if not _initialised:
            jieba.initialize()
            _initialised = True


def normalise(text: str) -> str:
    """NFKC (full-width to half-width letters and digits) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=256)
def _segment(normalised: str) -> tuple[str, ...]:
    warm_up()
    return tuple(
        token for token in (t.strip() for t in jieba.cut_for_search(normalised)) if token and _WORDLIKE.search(token)
    )


def segment(text: str) -> list[str]:
    """Words of `text` for indexing and querying: jieba search mode, no punctuation or blanks.
    Cached: intake indexes a ticket and three triage models read it, all within moments."""
    return list(_segment(normalise(text)))


def document(title: str | None, description: str) -> str:
    """A ticket as one text, for search and triage alike (so it is segmented once): the
    description, with the title in front when the title says something the description does not."""
    if title and title.rstrip("…") not in description:
        return f"{title}\n{description}"
    return description


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    with _stem_lock:
        return str(_stemmer.stemWord(word))


def search_terms(text: str) -> list[str]:
    """The words of `text` as search indexes and matches them: `segment`, with English words
    reduced to their Snowball stem ("crashes", "crashing" -> "crash"); others as they are."""
    return [_stem(token) if _ENGLISH_WORD.fullmatch(token) else token for token in segment(text)]


def search_tokens(text: str) -> str:
    """One space-separated string of the search terms of `text`, as stored for full-text search."""
    return " ".join(search_terms(text))
