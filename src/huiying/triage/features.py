"""Chinese-aware text features for triage: jieba words and character n-grams, as TF-IDF."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import repeat

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from huiying.kit.text import normalise, segment

FloatArray = npt.NDArray[np.float32]
IndexArray = npt.NDArray[np.int32]

# Only the start of a very long text is read: the subject and first paragraphs carry the
# intent, and this bounds the time one pasted log or mail thread can take (jieba ~3 ms/1k chars).
MAX_TEXT_CHARS = 4000

# Han ideographs (BMP blocks and the compatibility block); kana and hangul are not Chinese.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Runs of letters and digits that are not Han: Latin words, numbers, other scripts.
_NON_CJK_WORD = re.compile(r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@dataclass(frozen=True)
class FeatureSettings:
    """How text becomes terms; stored with a model so loading rebuilds the same analyzers."""

    word_ngram_max: int = 2
    cjk_ngram_min: int = 1
    cjk_ngram_max: int = 3
    latin_ngram_min: int = 2
    latin_ngram_max: int = 5
    word_max_features: int = 60_000
    char_max_features: int = 120_000
    min_df: int = 1
    word_weight: float = 1.0
    char_weight: float = 1.0

    def validate(self) -> None:
        """Raise ValueError when a setting is out of its sane range."""
        ranges = [
            (self.word_ngram_max, 1, 3),
            (self.cjk_ngram_min, 1, 5),
            (self.cjk_ngram_max, self.cjk_ngram_min, 5),
            (self.latin_ngram_min, 1, 8),
            (self.latin_ngram_max, self.latin_ngram_min, 8),
            (self.word_max_features, 1, 10_000_000),
            (self.char_max_features, 1, 10_000_000),
            (self.min_df, 1, 1_000_000),
        ]
        for value, low, high in ranges:
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"feature setting {value!r} not an int in [{low}, {high}]")
        for weight in (self.word_weight, self.char_weight):
            if not isinstance(weight, float) or not 0.0 < weight <= 100.0:
                raise ValueError(f"feature weight {weight!r} not a float in (0, 100]")


def word_terms(text: str, settings: FeatureSettings) -> list[str]:
    """jieba words of `text` plus word n-grams up to `word_ngram_max`, joined by a space."""
    words = segment(text[:MAX_TEXT_CHARS])
    terms = list(words)
    for n in range(2, settings.word_ngram_max + 1):
        # zip of shifted copies, joined in C: a per-call hot spot on long tickets.
        terms.extend(map(" ".join, zip(*(words[i:] for i in range(n)), strict=False)))
    return terms


def char_terms(text: str, settings: FeatureSettings) -> list[str]:
    """Character n-grams: plain n-grams inside Han runs, space-padded n-grams of other words."""
    clean = normalise(text[:MAX_TEXT_CHARS])
    terms: list[str] = []
    for run in _CJK.findall(clean):
        for n in range(settings.cjk_ngram_min, settings.cjk_ngram_max + 1):
            terms.extend(run[i : i + n] for i in range(len(run) - n + 1))
    low, high = settings.latin_ngram_min, settings.latin_ngram_max
    for word in _NON_CJK_WORD.findall(clean):
        padded = f" {word} "
        size = len(padded)
        # Like sklearn's char_wb: a word shorter than n still counts once, as the whole word.
        for n in range(low, high + 1):
            if size <= n:
                terms.append(padded)
                break
            terms.extend(padded[i : i + n] for i in range(size - n + 1))
    return terms


def build_union(settings: FeatureSettings) -> FeatureUnion:
    """An unfitted scikit-learn FeatureUnion of the word and the character TF-IDF vectorizers."""
    settings.validate()
    word = TfidfVectorizer(
        analyzer=partial(word_terms, settings=settings),
        sublinear_tf=True,
        min_df=settings.min_df,
        max_features=settings.word_max_features,
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        analyzer=partial(char_terms, settings=settings),
        sublinear_tf=True,
        min_df=settings.min_df,
        max_features=settings.char_max_features,
        dtype=np.float32,
    )
    return FeatureUnion(
        [("word", word), ("char", char)],
        transformer_weights={"word": settings.word_weight, "char": settings.char_weight},
    )


@dataclass(frozen=True, eq=False)
class TermBlock:
    """One fitted TF-IDF block: its terms in column order, their idf, and the block weight."""

    terms: tuple[str, ...]
    idf: FloatArray
    weight: float

    @property
    def size(self) -> int:
        """Number of columns of this block."""
        return len(self.terms)


class FeatureSpace:
    """Fitted features that turn text into a TF-IDF row with numpy only (no sklearn objects)."""

    def __init__(self, settings: FeatureSettings, word: TermBlock, char: TermBlock) -> None:
        settings.validate()
        for block in (word, char):
            if block.idf.shape != (block.size,) or block.idf.dtype != np.float32:
                raise ValueError("idf must be float32 with one value per term")
        self.settings = settings
        self.word = word
        self.char = char
        self._word_index = {term: i for i, term in enumerate(word.terms)}
        self._char_index = {term: i for i, term in enumerate(char.terms)}
        if len(self._word_index) != word.size or len(self._char_index) != char.size:
            raise ValueError("duplicate terms in a vocabulary")
        self._own: SharedVocabulary | None = None

    @classmethod
    def fit(cls, texts: Sequence[str], settings: FeatureSettings) -> tuple[FeatureSpace, sp.csr_matrix]:
        """Fit vocabularies and idf on `texts`; return the space and the training matrix."""
        union = build_union(settings)
        matrix = sp.csr_matrix(union.fit_transform(texts), dtype=np.float32)
        blocks = []
        for name, vectorizer in union.transformer_list:
            vocabulary: dict[str, int] = vectorizer.vocabulary_
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            weight = settings.word_weight if name == "word" else settings.char_weight
            idf = np.asarray(vectorizer.idf_, dtype=np.float32)
            blocks.append(TermBlock(tuple(terms), idf, weight))
        return cls(settings, blocks[0], blocks[1]), matrix

    @property
    def n_features(self) -> int:
        """Total number of columns (word block first, then character block)."""
        return self.word.size + self.char.size

    def transform_one(self, text: str) -> tuple[IndexArray, FloatArray]:
        """Column indices and TF-IDF values of `text` (each block l2-normalised, then weighted)."""
        if self._own is None:
            self._own = SharedVocabulary((self,))
        return self._own.rows(text)[0]

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """A CSR matrix with one TF-IDF row per text, equal to transform_one row by row."""
        indptr = [0]
        all_idx: list[IndexArray] = []
        all_val: list[FloatArray] = []
        for text in texts:
            idx, val = self.transform_one(text)
            all_idx.append(idx)
            all_val.append(val)
            indptr.append(indptr[-1] + len(idx))
        indices = np.concatenate(all_idx) if all_idx else np.zeros(0, np.int32)
        data = np.concatenate(all_val) if all_val else np.zeros(0, np.float32)
        shape = (len(indptr) - 1, self.n_features)
        return sp.csr_matrix((data, indices, np.asarray(indptr)), shape=shape)


# The three triage models read the same ticket one after the other, with the same settings:
# cut it into terms and count them once.
@lru_cache(maxsize=64)
def _counted_word_terms(text: str, settings: FeatureSettings) -> tuple[tuple[str, ...], FloatArray]:
    return _counted(word_terms(text, settings))


@lru_cache(maxsize=64)
def _counted_char_terms(text: str, settings: FeatureSettings) -> tuple[tuple[str, ...], FloatArray]:
    return _counted(char_terms(text, settings))


def _counted(terms: list[str]) -> tuple[tuple[str, ...], FloatArray]:
    counts = Counter(terms)
    return tuple(counts), np.fromiter(counts.values(), dtype=np.float32, count=len(counts))


class SharedVocabulary:
    """Feature spaces with the same settings that read a text with one look-up per term.

    A look-up in a vocabulary of 10^5 terms costs a few cache misses (~0.7 us per term here, most
    of a prediction); the three triage models would look each term up three times. The union of
    their vocabularies is looked up once and mapped to each space's columns with numpy."""

    def __init__(self, spaces: Sequence[FeatureSpace]) -> None:
        if not spaces or any(space.settings != spaces[0].settings for space in spaces):
            raise ValueError("a shared vocabulary needs spaces with the same settings")
        self.spaces = tuple(spaces)
        self.settings = spaces[0].settings
        if len(spaces) == 1:  # its own vocabulary: union ids are its columns
            space = spaces[0]
            self._word_ids, self._char_ids = space._word_index, space._char_index
            self._columns = [np.append(np.arange(space.n_features, dtype=np.int32), np.int32(-1))]
        else:
            self._word_ids, self._char_ids = {}, {}
            for space in spaces:
                for term in space.word.terms:
                    self._word_ids.setdefault(term, len(self._word_ids))
                for term in space.char.terms:
                    self._char_ids.setdefault(term, len(self._char_ids))
            self._columns = [self._column_map(space) for space in spaces]
        self._unknown = len(self._word_ids) + len(self._char_ids)  # its column is -1 in every space
        self._idf = [np.concatenate([space.word.idf, space.char.idf]) for space in spaces]

    def _column_map(self, space: FeatureSpace) -> IndexArray:
        columns = np.full(len(self._word_ids) + len(self._char_ids) + 1, -1, dtype=np.int32)
        word = np.fromiter(map(self._word_ids.__getitem__, space.word.terms), dtype=np.int64, count=space.word.size)
        char = np.fromiter(map(self._char_ids.__getitem__, space.char.terms), dtype=np.int64, count=space.char.size)
        columns[word] = np.arange(space.word.size, dtype=np.int32)
        columns[char + len(self._word_ids)] = np.arange(space.word.size, space.n_features, dtype=np.int32)
        return columns

    def rows(self, text: str) -> list[tuple[IndexArray, FloatArray]]:
        """Per space, in order: column indices and TF-IDF values of `text`, sorted by column as in
        a CSR row (each block: sublinear tf x idf, l2-normalised, then weighted)."""
        words, word_counts = _counted_word_terms(text, self.settings)
        chars, char_counts = _counted_char_terms(text, self.settings)
        n_word, unknown = len(self._word_ids), self._unknown
        # Look-ups run in C (map + fromiter); terms no space knows get the `unknown` id.
        ids = np.empty(len(words) + len(chars), dtype=np.int64)
        ids[: len(words)] = np.fromiter(map(self._word_ids.get, words, repeat(unknown)), np.int64, len(words))
        ids[len(words) :] = np.fromiter(map(self._char_ids.get, chars, repeat(unknown - n_word)), np.int64, len(chars))
        ids[len(words) :] += n_word
        tf = np.log(np.concatenate([word_counts, char_counts])) + np.float32(1.0)
        rows = []
        for space, column_map, idf in zip(self.spaces, self._columns, self._idf, strict=True):
            columns = column_map[ids]
            known = columns >= 0
            columns = columns[known]
            # Sorted columns: the word block first, then the character block, each in CSR order.
            order = np.argsort(columns, kind="stable")
            columns = columns[order]
            values = tf[known][order] * idf[columns]
            split = int(np.searchsorted(columns, space.word.size))
            for block, part in ((space.word, values[:split]), (space.char, values[split:])):
                norm = float(np.sqrt(np.dot(part, part)))
                if norm > 0.0:
                    part *= np.float32(block.weight / norm)
            rows.append((columns, values))
        return rows


@lru_cache(maxsize=4)
def shared_vocabulary(spaces: tuple[FeatureSpace, ...]) -> SharedVocabulary:
    """The shared vocabulary of these spaces (by identity), built once: ~0.2 s for the starters.
    A few recent sets are kept (one per database a process serves, a set replaced on retraining)."""
    return SharedVocabulary(spaces)


# --- language detection -------------------------------------------------------------------------

_KANA_RANGE = ("\u3040", "\u30ff")
_KANA = re.compile(r"[\u3040-\u30ff]+")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# Function words: frequent, short, and (mostly) not English words; enough to tell English
# from other Latin-script languages in a ticket-sized text.
_ENGLISH = (
    "the a an is are was were to of and in on for my i you it not this that with have has be "
    "do does can why what how me we your please from at did will am there when where "
    "but or if they he she been get got would could should"
)
_OTHER_LATIN = (
    "le la les des est et une je vous pas pour avec dans sur mon ma ne que qui du au ce "
    "der das und ist nicht ich ein eine mit zu dem mein bitte auf sich wir "
    "el los las y por para con una mi pero muy está esta es del lo "
    "il di che è per non sono ho della gli "
    "os não um com meu uma você "
    "het een niet ik van met zijn"
)
_ENGLISH_WORDS = frozenset(_ENGLISH.split())
_OTHER_LATIN_WORDS = frozenset(_OTHER_LATIN.split())


def detect_language(text: str) -> tuple[str, float]:
    """('zh' | 'en' | 'other', confidence in [0, 1]) from scripts and common function words."""
    clean = normalise(text)
    # The three classes are disjoint ranges: count each with one regex pass, not a loop per char.
    han = sum(map(len, _CJK.findall(clean)))
    kana = sum(map(len, _KANA.findall(clean)))
    hangul = len(_HANGUL.findall(clean))
    words = [w for w in _LETTER_RUN.findall(clean) if not _CJK.search(w)]
    words = [w for w in words if not any(_KANA_RANGE[0] <= c <= _KANA_RANGE[1] for c in w)]
    words = [w for w in words if not _HANGUL.search(w)]
    latin = [w for w in words if all(c.isascii() or "\u00c0" <= c <= "\u024f" for c in w)]
    latin_words = len(latin)
    other_words = len(words) - latin_words
    # One Han character weighs about as much as one alphabetic word.
    total = han + kana + hangul + latin_words + other_words
    if total == 0:
        return "other", 0.0
    if han + kana >= max(hangul, latin_words, other_words):
        # Japanese mixes Han with kana; Chinese never uses kana.
        if kana > 0.1 * (han + kana):
            return "other", (han + kana) / total
        return "zh", han / total
    if latin_words >= max(hangul, other_words):
        share = latin_words / total
        english = sum(1 for w in latin if w in _ENGLISH_WORDS)
        foreign = sum(1 for w in latin if w in _OTHER_LATIN_WORDS)
        accented = sum(1 for w in latin if not w.isascii())
        if foreign > english or (accented * 4 > latin_words and english == 0):
            return "other", share
        if english == 0 and latin_words >= 4:
            # A longer Latin text without a single English function word is likely not English.
            return "en", share * 0.6
        return "en", share
    return "other", (hangul + other_words) / total
