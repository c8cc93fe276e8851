"""Text helpers shared by search and triage: normalisation and jieba segmentation.

Chinese has no spaces, so both the search index and the triage features work on words cut by
jieba's dictionary and HMM, run by rjieba (jieba-rs, about 15x less CPU than the Python jieba).
Index and query use the same cut (search mode), so every token a query yields is also a token of
a document that contains the query text. Search also reduces English words to their
Snowball stem, at index and query time alike, so "crash" finds "crashes"; triage reads the
unstemmed words its models were trained on.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from types import ModuleType

import snowballstemmer

_init_lock = threading.Lock()
_rjieba: ModuleType | None = None

# A token worth indexing has at least one letter, digit or CJK character.
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
# The words that get an English stem (jieba keeps a run of Latin letters as one token).
_ENGLISH_WORD = re.compile(r"[a-z]+")
# A Snowball stemmer keeps state while it works: one at a time.
_stemmer = snowballstemmer.stemmer("english")
_stem_lock = threading.Lock()


def warm_up() -> ModuleType:
    """Load the dictionary now (rjieba reads it on import, ~0.3 s) instead of in the first request."""
    global _rjieba
    if _rjieba is None:
        with _init_lock:
            if _rjieba is None:
                import rjieba

                _rjieba = rjieba
    return _rjieba


# The stored search terms of tickets (and the starter models' vocabularies) were cut by the
# Python jieba 0.42; rjieba cuts Chinese the same but treats a few things its own way. Where the
# two differ, we do what jieba does, so old index and new queries keep meeting (see _search_cut):
# - jieba's blocks: Han U+4E00..U+9FD5 with ASCII letters, digits and "+#&._%-"; every other
#   character is a token of its own (rjieba counts rarer Han, e.g. U+3400.., as Chinese).
_JIEBA_BLOCK = re.compile(r"([\u4e00-\u9fd5a-zA-Z0-9+#&\._%\-]+)")
_JIEBA_SPACE = re.compile(r"(\r\n|\s)")
# - an ASCII run outside the dictionary: rjieba keeps "60-70", "5.2.0", "re-add" whole; jieba's
#   HMM stage splits them into "60" "-" "70" (and "5.2" "." "0").
_ASCII_RUN = re.compile(r"[a-zA-Z0-9+#&._%\-]{2,}")
_JIEBA_ASCII_PIECE = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
# Text without these characters is cut by rjieba exactly as by jieba (no need to go block by block).
_DIVERGES = re.compile(r"[+#&._%\-\u3400-\u4dbf\u9fd6-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def _search_cut(text: str) -> list[str]:
    """jieba.cut_for_search(text) (HMM on), computed by rjieba."""
    rjieba = warm_up()
    if not _DIVERGES.search(text):
        return list(rjieba.cut_for_search(text))
    tokens: list[str] = []
    for i, block in enumerate(_JIEBA_BLOCK.split(text)):
        if not block:
            continue
        if i % 2 == 0:  # between blocks: whitespace as it is, anything else one character at a time
            for piece in _JIEBA_SPACE.split(block):
                tokens.extend((piece,) if _JIEBA_SPACE.match(piece) else piece)
        elif not _DIVERGES.search(block):
            tokens.extend(rjieba.cut_for_search(block))
        else:
            tokens.extend(_search_words(rjieba, block))
    return tokens


def _search_words(rjieba: ModuleType, block: str) -> list[str]:
    """Search mode as jieba does it: before each word of 3+ characters, its dictionary 2-grams,
    and before one of 4+, its dictionary 3-grams."""
    tokens: list[str] = []
    has_word = rjieba.has_word
    for cut in rjieba.cut(block):
        words = _JIEBA_ASCII_PIECE.split(cut) if _ASCII_RUN.fullmatch(cut) and not has_word(cut) else (cut,)
        for word in filter(None, words):
            n = len(word)
            if n > 2:
                tokens.extend(g for g in (word[i : i + 2] for i in range(n - 1)) if has_word(g))
            if n > 3:
                tokens.extend(g for g in (word[i : i + 3] for i in range(n - 2)) if has_word(g))
            tokens.append(word)
    return tokens


def normalise(text: str) -> str:
    """NFKC (full-width to half-width letters and digits) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=256)
def _segment(normalised: str) -> tuple[str, ...]:
    return tuple(token for token in (t.strip() for t in _search_cut(normalised)) if token and _WORDLIKE.search(token))


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
