"""Admin-editable keyword and pattern rules for triage, matched in one pass over the text.

A `Rule` says "when the text contains these words (and not those), set these fields". Rules are
plain data: `Rule.to_dict()` / `validate_rule(dict)` round-trip through JSON, so they can live in
a database row and be edited in a form. `RuleSet.compile(rules)` builds one multi-pattern matcher
over every keyword of every enabled rule; `CompiledRules.evaluate(text)` then scans the text once
and returns every rule that matched, with the words that made it match, and one merged decision
per field.

Matching
  * Text and keywords are compared in one normal form: NFKC (full-width letters, digits and
    punctuation become half-width), lower case, curly quotes made straight, runs of white space
    made one space (none at either end). So "ＶＩＰ" matches "vip" and "can’t log in" matches
    "can't log in".
  * Keywords are substrings. At an edge that is a Latin letter or digit a keyword matches only
    at a word boundary, so "bad" does not match "badge" and "315" does not match a phone number
    "13152345678"; a trailing "*" lifts the end boundary, so "crash*" matches "crashes". Chinese
    has no word boundaries: "闪退" matches anywhere.
  * A rule fires when (any `any_of` keyword or any `patterns` regex matches) and every `all_of`
    group matches and no `none_of` keyword occurs anywhere in the text and, if `channels` is set,
    the ticket came in through one of them. An `all_of` entry may list alternatives separated by
    "|": "充值|打赏|top up" is one group that any of its words satisfies. A rule may have only
    `all_of` groups; then they alone decide.
  * `none_of` vetoes the whole rule; use it for phrases that look like a trigger but mean the
    opposite ("没有闪退", "会不会泄露"). Split a rule in two when a veto word must only cancel some
    of its triggers.

Regular expressions
  Python's `re` has no match time-out, so patterns are limited to a syntax that cannot blow up:
  at most 200 characters; no back-references or conditionals; no quantifier inside a quantified
  group ("(a+)+"); no alternation inside a repeated group ("(a|ab)*"); at most one unbounded
  quantifier ("*", "+", "{n,}"); bounded repeats up to {0,50}; and the quantifiers together must
  stay cheap (the product of their sizes, an unbounded one counting 2,001, at most 4,002: so one
  "+" with one "?", or ".{0,50}" twice, but not ".{0,50}" three times). Patterns run on the
  normalised text (lower case) and only on its first 2,000 characters, so the worst case of any
  accepted pattern stays in the tens of milliseconds.
  Prefer keywords: they cost nothing extra, each pattern is one more scan.

Merging
  category+subcategory: the matching rule with the highest `weight` (ties: override_model, then
  the longer matched text, then the earlier rule). priority: the most urgent. sentiment: the
  strongest (angry > negative > positive > neutral). tags: the union. needs_refinement: any
  rule without a category, plus the rule that decided the category — a catch-all ("主播") that
  lost the category to a specific rule asked a person about a category nobody chose.
  Each decision names the rule that made it and carries that rule's `override_model` flag: the
  caller lets such a decision win over the learned model even when the model is confident.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from huiying.kit.text import normalise

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
Taxonomy = Mapping[str, Collection[str]]
Backend = Literal["auto", "aho-corasick", "regex"]

PRIORITIES: tuple[str, ...] = ("urgent", "high", "medium", "low")  # most urgent first
SENTIMENTS: tuple[str, ...] = ("angry", "negative", "positive", "neutral")  # strongest first
_PRIORITY_RANK = {value: rank for rank, value in enumerate(PRIORITIES)}
_SENTIMENT_RANK = {value: rank for rank, value in enumerate(SENTIMENTS)}

MAX_KEYWORD_CHARS = 64
MAX_KEYWORDS = 500  # per list of one rule
MAX_ALTERNATIVES = 50  # per all_of group
MAX_PATTERNS = 10
MAX_PATTERN_CHARS = 200
MAX_PATTERN_TEXT = 2_000  # patterns only see this many characters of the normalised text
MAX_TEXT_CHARS = 20_000  # keywords only see this many characters of the raw text
MAX_TAGS = 16
MAX_CHANNELS = 16
MAX_WEIGHT = 1_000
MAX_RULES = 10_000
_MAX_BOUNDED_REPEAT = 50
_MAX_UNBOUNDED = 1
# Worst-case backtracking of one search start is about the product of (max + 1) over the
# quantifiers, an unbounded one counting as the text length; this caps it (one "+" and one "?").
_MAX_REPEAT_COST = 2 * (MAX_PATTERN_TEXT + 1)

_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_QUOTES = (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'))
_FIELDS = (
    "id",
    "name",
    "description",
    "enabled",
    "any_of",
    "all_of",
    "none_of",
    "patterns",
    "channels",
    "category",
    "subcategory",
    "priority",
    "sentiment",
    "tags",
    "needs_refinement",
    "override_model",
    "weight",
)


class RuleError(ValueError):
    """A rule that cannot be used; the message says which rule, which field and why."""

    def __init__(self, message: str, *, rule_id: str | None = None, field: str | None = None):
        where = " ".join(part for part in (f"rule {rule_id!r}" if rule_id else "", field or "") if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.rule_id = rule_id
        self.field = field
        self.reason = message


def match_form(text: str) -> str:
    """The normal form that keywords and text are compared in (see the module docstring)."""
    # kit.text.normalise (NFKC, lower case), skipping the NFKC pass when it would change nothing.
    form = text.lower() if unicodedata.is_normalized("NFKC", text) else normalise(text)
    for curly, straight in _QUOTES:
        if curly in form:
            form = form.replace(curly, straight)
    return " ".join(form.split())


# --- rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One admin-editable rule; constructing it checks everything but the taxonomy."""

    id: str
    name: str
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    category: str | None = None
    subcategory: str | None = None
    priority: str | None = None
    sentiment: str | None = None
    tags: tuple[str, ...] = ()
    needs_refinement: bool = False
    override_model: bool = False
    weight: int = 0
    enabled: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        _check_rule(self)

    def to_dict(self) -> dict[str, JsonValue]:
        """A JSON-ready dict; `validate_rule` turns it back into an equal Rule."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "any_of": list(self.any_of),
            "all_of": list(self.all_of),
            "none_of": list(self.none_of),
            "patterns": list(self.patterns),
            "channels": list(self.channels),
            "category": self.category,
            "subcategory": self.subcategory,
            "priority": self.priority,
            "sentiment": self.sentiment,
            "tags": list(self.tags),
            "needs_refinement": self.needs_refinement,
            "override_model": self.override_model,
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, taxonomy: Taxonomy | None = None) -> Rule:
        """Same as `validate_rule`."""
        return validate_rule(data, taxonomy=taxonomy)


def validate_rule(data: Mapping[str, object], *, taxonomy: Taxonomy | None = None) -> Rule:
    """A Rule from a dict (as stored or posted by the editor), or RuleError saying what is wrong.

    Unknown keys are refused (a typo would otherwise silently do nothing). With `taxonomy`
    ({category slug: subcategory slugs}) the category and subcategory must exist in it.
    """
    if not isinstance(data, Mapping):
        raise RuleError("a rule must be a JSON object")
    raw_id = data.get("id")
    rule_id = raw_id if isinstance(raw_id, str) else None
    unknown = sorted(str(key) for key in data if key not in _FIELDS)
    if unknown:
        raise RuleError(f"unknown field(s) {', '.join(unknown)}", rule_id=rule_id)
    for required in ("id", "name"):
        if required not in data:
            raise RuleError("is required", rule_id=rule_id, field=required)
    values: dict[str, Any] = {}
    for name in ("id", "name", "description"):
        if name in data:
            values[name] = _string(data[name], rule_id, name)
    for name in ("category", "subcategory", "priority", "sentiment"):
        if name in data and data[name] is not None:
            values[name] = _string(data[name], rule_id, name) or None
    for name in ("any_of", "all_of", "none_of", "patterns", "channels", "tags"):
        if name in data and data[name] is not None:
            values[name] = _string_list(data[name], rule_id, name)
    for name in ("enabled", "needs_refinement", "override_model"):
        if name in data:
            if not isinstance(data[name], bool):
                raise RuleError("must be true or false", rule_id=rule_id, field=name)
            values[name] = data[name]
    if "weight" in data:
        weight = data["weight"]
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise RuleError("must be an integer", rule_id=rule_id, field="weight")
        values["weight"] = weight
    rule = Rule(**values)
    if taxonomy is not None:
        check_taxonomy(rule, taxonomy)
    return rule


def check_taxonomy(rule: Rule, taxonomy: Taxonomy) -> None:
    """RuleError unless the rule's category (and subcategory) exist in `taxonomy`."""
    if rule.category is None:
        return
    if rule.category not in taxonomy:
        raise RuleError(f"unknown category {rule.category!r}", rule_id=rule.id, field="category")
    if rule.subcategory is not None and rule.subcategory not in taxonomy[rule.category]:
        raise RuleError(
            f"{rule.category!r} has no subcategory {rule.subcategory!r}",
            rule_id=rule.id,
            field="subcategory",
        )


def dump_rules(rules: Iterable[Rule]) -> list[dict[str, JsonValue]]:
    """JSON-ready dicts of `rules`, in order."""
    return [rule.to_dict() for rule in rules]


def load_rules(data: Iterable[Mapping[str, object]], *, taxonomy: Taxonomy | None = None) -> list[Rule]:
    """Validated rules from dicts; RuleError on the first bad one or on a repeated id."""
    rules = [validate_rule(item, taxonomy=taxonomy) for item in data]
    _check_unique(rules)
    return rules


def _string(value: object, rule_id: str | None, name: str) -> str:
    if not isinstance(value, str):
        raise RuleError("must be a string", rule_id=rule_id, field=name)
    return value


def _string_list(value: object, rule_id: str | None, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise RuleError("must be a list of strings", rule_id=rule_id, field=name)
    return tuple(value)


def _check_unique(rules: Sequence[Rule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleError("the id is used by two rules", rule_id=rule.id, field="id")
        seen.add(rule.id)


def _check_rule(rule: Rule) -> None:
    """Everything about one rule that needs no taxonomy."""
    rid = rule.id if isinstance(rule.id, str) else None
    if not isinstance(rule.id, str) or not _ID.fullmatch(rule.id):
        raise RuleError(
            "id must be 1-64 characters: lower-case letters, digits, '.', '_' or '-'",
            rule_id=rid,
            field="id",
        )
    if not isinstance(rule.name, str) or not rule.name.strip() or len(rule.name) > 120:
        raise RuleError("name must be 1-120 characters", rule_id=rid, field="name")
    if not isinstance(rule.description, str) or len(rule.description) > 2_000:
        raise RuleError("description must be at most 2,000 characters", rule_id=rid)
    for name in ("any_of", "all_of", "none_of", "patterns", "channels", "tags"):
        value = getattr(rule, name)
        if not isinstance(value, tuple) or not all(isinstance(item, str) for item in value):
            raise RuleError("must be a tuple of strings", rule_id=rid, field=name)
    for name in ("any_of", "none_of"):
        keywords = getattr(rule, name)
        if len(keywords) > MAX_KEYWORDS:
            raise RuleError(f"at most {MAX_KEYWORDS} keywords", rule_id=rid, field=name)
        for index, keyword in enumerate(keywords):
            _parse_keyword(keyword, rid, f"{name}[{index}]")
    if len(rule.all_of) > MAX_KEYWORDS:
        raise RuleError(f"at most {MAX_KEYWORDS} groups", rule_id=rid, field="all_of")
    for index, group in enumerate(rule.all_of):
        alternatives = group.split("|")
        if len(alternatives) > MAX_ALTERNATIVES:
            raise RuleError(f"at most {MAX_ALTERNATIVES} alternatives", rule_id=rid, field=f"all_of[{index}]")
        for alternative in alternatives:
            _parse_keyword(alternative, rid, f"all_of[{index}]")
    if len(rule.patterns) > MAX_PATTERNS:
        raise RuleError(f"at most {MAX_PATTERNS} patterns", rule_id=rid, field="patterns")
    for index, pattern in enumerate(rule.patterns):
        check_pattern(pattern, rule_id=rid, field=f"patterns[{index}]")
    if not (rule.any_of or rule.patterns or rule.all_of):
        raise RuleError("needs at least one keyword (any_of or all_of) or pattern", rule_id=rid, field="any_of")
    for name, limit in (("channels", MAX_CHANNELS), ("tags", MAX_TAGS)):
        values = getattr(rule, name)
        if len(values) > limit:
            raise RuleError(f"at most {limit} entries", rule_id=rid, field=name)
        for value in values:
            if not _SLUG.fullmatch(value):
                raise RuleError(
                    f"{value!r} is not a slug (1-32 lower-case letters, digits, '_' or '-')",
                    rule_id=rid,
                    field=name,
                )
    for name in ("category", "subcategory"):
        value = getattr(rule, name)
        if value is not None and (not isinstance(value, str) or not _SLUG.fullmatch(value)):
            raise RuleError(f"{value!r} is not a slug", rule_id=rid, field=name)
    if rule.subcategory is not None and rule.category is None:
        raise RuleError("a subcategory needs its category", rule_id=rid, field="subcategory")
    if rule.priority is not None and rule.priority not in _PRIORITY_RANK:
        raise RuleError(
            f"unknown priority {rule.priority!r} (one of {', '.join(PRIORITIES)})",
            rule_id=rid,
            field="priority",
        )
    if rule.sentiment is not None and rule.sentiment not in _SENTIMENT_RANK:
        raise RuleError(
            f"unknown sentiment {rule.sentiment!r} (one of {', '.join(SENTIMENTS)})",
            rule_id=rid,
            field="sentiment",
        )
    for name in ("enabled", "needs_refinement", "override_model"):
        if not isinstance(getattr(rule, name), bool):
            raise RuleError("must be true or false", rule_id=rid, field=name)
    if not isinstance(rule.weight, int) or isinstance(rule.weight, bool):
        raise RuleError("must be an integer", rule_id=rid, field="weight")
    if not -MAX_WEIGHT <= rule.weight <= MAX_WEIGHT:
        raise RuleError(f"must be between -{MAX_WEIGHT} and {MAX_WEIGHT}", rule_id=rid, field="weight")
    has_action = rule.category or rule.priority or rule.sentiment or rule.tags or rule.needs_refinement
    if not has_action:
        raise RuleError(
            "does nothing: set a category, priority, sentiment, tag or needs_refinement",
            rule_id=rid,
        )


# --- keywords ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Keyword:
    """A keyword in match form, with the word-boundary checks its Latin edges need."""

    text: str
    needs_start: bool
    needs_end: bool


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _parse_keyword(raw: str, rule_id: str | None, where: str) -> _Keyword:
    prefix = raw.endswith("*")
    body = raw[:-1] if prefix else raw
    if "*" in body or "|" in body:
        raise RuleError(
            f"{raw!r}: '*' is only allowed at the end and '|' only between all_of alternatives",
            rule_id=rule_id,
            field=where,
        )
    text = match_form(body).strip()
    if not text:
        raise RuleError("empty keyword", rule_id=rule_id, field=where)
    if len(text) > MAX_KEYWORD_CHARS:
        raise RuleError(f"{raw!r} is longer than {MAX_KEYWORD_CHARS} characters", rule_id=rule_id, field=where)
    return _Keyword(text, _is_word_char(text[0]), _is_word_char(text[-1]) and not prefix)


# --- regular expressions -------------------------------------------------------------------------


def _re_internals() -> tuple[ModuleType, ModuleType]:
    # The parser behind `re` (public as sre_parse until 3.11, which deprecated that name).
    return importlib.import_module("re._parser"), importlib.import_module("re._constants")


def check_pattern(pattern: str, *, rule_id: str | None = None, field: str = "patterns") -> None:
    """RuleError unless `pattern` compiles and stays within the safe syntax (module docstring)."""
    if not isinstance(pattern, str) or not pattern:
        raise RuleError("empty pattern", rule_id=rule_id, field=field)
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(f"pattern longer than {MAX_PATTERN_CHARS} characters", rule_id=rule_id, field=field)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"bad regular expression {pattern!r}: {exc}", rule_id=rule_id, field=field) from exc
    parser, constants = _re_internals()
    try:
        parsed = parser.parse(pattern)
    except re.error as exc:  # pragma: no cover - compile() above already failed for these
        raise RuleError(f"bad regular expression: {exc}", rule_id=rule_id, field=field) from exc
    counts = {"cost": 1, "unbounded": 0}
    problem = _scan_pattern(parsed, constants, counts, inside_repeat=False)
    if problem is None and counts["unbounded"] > _MAX_UNBOUNDED:
        problem = "more than one unbounded quantifier ('*', '+', '{n,}')"
    if problem is None and counts["cost"] > _MAX_REPEAT_COST:
        problem = "too many or too wide quantifiers together (e.g. '.{0,50}' three times)"
    if problem is not None:
        raise RuleError(f"unsafe pattern {pattern!r}: {problem}", rule_id=rule_id, field=field)


def _scan_pattern(
    items: Iterable[tuple[Any, Any]], c: ModuleType, counts: dict[str, int], *, inside_repeat: bool
) -> str | None:
    """The first reason `items` (a parsed pattern) is unsafe, or None; counts quantifiers."""
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}
    for op, av in items:
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return "back-references and conditionals are not allowed"
        if op in repeats:
            _low, high, sub = av
            if high == c.MAXREPEAT:
                counts["unbounded"] += 1
                counts["cost"] *= MAX_PATTERN_TEXT + 1
            elif high > _MAX_BOUNDED_REPEAT:
                return f"a repeat above {{{_MAX_BOUNDED_REPEAT}}}"
            else:
                counts["cost"] *= high + 1
            if inside_repeat and high > 1:
                return "a quantifier inside a quantified group"
            nested = _scan_pattern(sub, c, counts, inside_repeat=inside_repeat or high > 1)
            if nested is not None:
                return nested
        elif op is c.BRANCH:
            if inside_repeat:
                return "alternation ('|') inside a repeated group"
            for branch in av[1]:
                nested = _scan_pattern(branch, c, counts, inside_repeat=inside_repeat)
                if nested is not None:
                    return nested
        elif op is c.SUBPATTERN:
            nested = _scan_pattern(av[-1], c, counts, inside_repeat=inside_repeat)
            if nested is not None:
                return nested
        elif op in (c.ASSERT, c.ASSERT_NOT):
            nested = _scan_pattern(av[1], c, counts, inside_repeat=inside_repeat)
            if nested is not None:
                return nested
        elif op is getattr(c, "ATOMIC_GROUP", None):
            nested = _scan_pattern(av, c, counts, inside_repeat=inside_repeat)
            if nested is not None:
                return nested
    return None


# --- matchers ------------------------------------------------------------------------------------


class _Matcher:
    """Finds which of a fixed list of keywords occur in a text, in one pass."""

    name = "base"

    def __init__(self, keywords: Sequence[_Keyword]) -> None:
        self.keywords = tuple(keywords)

    def find(self, text: str) -> set[int]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _accept(self, ids: Iterable[int], text: str, start: int, end: int) -> Iterator[int]:
        """The ids whose boundary rules hold for an occurrence at text[start:end]."""
        start_ok = start == 0 or not _is_word_char(text[start - 1])
        end_ok = end == len(text) or not _is_word_char(text[end])
        for index in ids:
            keyword = self.keywords[index]
            if (start_ok or not keyword.needs_start) and (end_ok or not keyword.needs_end):
                yield index


def _grouped(keywords: Sequence[_Keyword]) -> dict[str, list[int]]:
    """Keyword ids by their text (one text can be both a whole-word and a prefix keyword)."""
    by_text: dict[str, list[int]] = {}
    for index, keyword in enumerate(keywords):
        by_text.setdefault(keyword.text, []).append(index)
    return by_text


def _load_ahocorasick() -> ModuleType | None:
    try:
        return importlib.import_module("ahocorasick")
    except ImportError:
        return None


class _AhoCorasickMatcher(_Matcher):
    """pyahocorasick's automaton: time linear in the text, whatever the number of keywords."""

    name = "aho-corasick"

    def __init__(self, keywords: Sequence[_Keyword], module: ModuleType) -> None:
        super().__init__(keywords)
        self._automaton: Any = None
        by_text = _grouped(self.keywords)
        if by_text:
            automaton = module.Automaton()
            for text, ids in by_text.items():
                # Keywords with no Latin edge (most Chinese ones) need no boundary check.
                free = not any(self.keywords[i].needs_start or self.keywords[i].needs_end for i in ids)
                automaton.add_word(text, (len(text), tuple(ids), free))
            automaton.make_automaton()
            self._automaton = automaton

    def find(self, text: str) -> set[int]:
        found: set[int] = set()
        if self._automaton is None or not text:
            return found
        for last, (length, ids, free) in self._automaton.iter(text):
            if free:
                found.update(ids)
            else:
                found.update(self._accept(ids, text, last + 1 - length, last + 1))
        return found


class _RegexMatcher(_Matcher):
    """One alternation regex in a look-ahead, tried at every position; no extra dependency.

    At each position the look-ahead yields the longest keyword starting there; every other
    keyword starting there is a prefix of that one, so `_prefixes` completes the set.
    """

    name = "regex"

    def __init__(self, keywords: Sequence[_Keyword]) -> None:
        super().__init__(keywords)
        by_text = _grouped(self.keywords)
        texts = sorted(by_text, key=lambda t: (-len(t), t))
        self._regex = re.compile("(?=(" + "|".join(map(re.escape, texts)) + "))") if texts else None
        # For each keyword text, every keyword text that is a prefix of it (itself included).
        self._prefixes: dict[str, tuple[tuple[int, tuple[int, ...]], ...]] = {
            text: tuple(
                (size, tuple(by_text[text[:size]])) for size in range(len(text), 0, -1) if text[:size] in by_text
            )
            for text in texts
        }

    def find(self, text: str) -> set[int]:
        found: set[int] = set()
        if self._regex is None or not text:
            return found
        for match in self._regex.finditer(text):
            start = match.start()
            for length, ids in self._prefixes[match.group(1)]:
                found.update(self._accept(ids, text, start, start + length))
        return found


def _make_matcher(keywords: Sequence[_Keyword], backend: Backend) -> _Matcher:
    if backend not in ("auto", "aho-corasick", "regex"):
        raise ValueError(f"unknown matcher backend {backend!r}")
    module = _load_ahocorasick() if backend != "regex" else None
    if module is not None:
        return _AhoCorasickMatcher(keywords, module)
    if backend == "aho-corasick":
        raise RuntimeError("the aho-corasick backend needs the pyahocorasick package")
    return _RegexMatcher(keywords)


# --- outcome -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleMatch:
    """One rule that matched, and the words (as written in the rule) that made it match."""

    rule_id: str
    name: str
    keywords: tuple[str, ...]
    pattern_hits: tuple[str, ...]
    weight: int
    override_model: bool

    @property
    def reason(self) -> str:
        """A line for the ticket timeline: `Name [id]: 闪退, crash*`."""
        evidence = ", ".join((*self.keywords, *self.pattern_hits))
        return f"{self.name} [{self.rule_id}]: {evidence}" if evidence else f"{self.name} [{self.rule_id}]"

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "rule_id": self.rule_id,
            "name": self.name,
            "keywords": list(self.keywords),
            "pattern_hits": list(self.pattern_hits),
            "weight": self.weight,
            "override_model": self.override_model,
        }


@dataclass(frozen=True)
class Decision:
    """A priority or sentiment set by rules, the rule that decided it, and its override flag."""

    value: str
    rule_id: str
    override_model: bool

    def to_dict(self) -> dict[str, JsonValue]:
        return {"value": self.value, "rule_id": self.rule_id, "override_model": self.override_model}


@dataclass(frozen=True)
class CategoryDecision:
    """Category and subcategory (decided together), the deciding rule, and its override flag."""

    category: str
    subcategory: str | None
    rule_id: str
    override_model: bool

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "category": self.category,
            "subcategory": self.subcategory,
            "rule_id": self.rule_id,
            "override_model": self.override_model,
        }


@dataclass(frozen=True)
class TagDecision:
    """A tag and every matching rule that adds it."""

    tag: str
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class RuleOutcome:
    """Every matching rule (in rule order) and the merged decision per field."""

    matches: tuple[RuleMatch, ...] = ()
    category: CategoryDecision | None = None
    priority: Decision | None = None
    sentiment: Decision | None = None
    tags: tuple[TagDecision, ...] = ()
    refinement_rule_ids: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    @property
    def needs_refinement(self) -> bool:
        """Whether any matching rule asks a person to refine the classification."""
        return bool(self.refinement_rule_ids)

    @property
    def tag_names(self) -> tuple[str, ...]:
        return tuple(tag.tag for tag in self.tags)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(match.rule_id for match in self.matches)

    def reasons(self) -> list[str]:
        """One line per matching rule, for the ticket timeline."""
        return [match.reason for match in self.matches]

    def to_dict(self) -> dict[str, JsonValue]:
        """JSON-ready form, e.g. for an event payload."""
        return {
            "matches": [match.to_dict() for match in self.matches],
            "category": self.category.to_dict() if self.category else None,
            "priority": self.priority.to_dict() if self.priority else None,
            "sentiment": self.sentiment.to_dict() if self.sentiment else None,
            "tags": {tag.tag: list(tag.rule_ids) for tag in self.tags},
            "needs_refinement": self.needs_refinement,
            "refinement_rule_ids": list(self.refinement_rule_ids),
        }


# --- compiled rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    """A rule with its keyword ids and compiled patterns."""

    order: int
    rule: Rule
    any_ids: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    none_ids: tuple[int, ...]
    patterns: tuple[re.Pattern[str], ...]
    channels: frozenset[str]
    keyword_raw: Mapping[int, str] = field(default_factory=dict)


class CompiledRules:
    """Enabled rules behind one multi-keyword matcher; build with `RuleSet.compile`."""

    def __init__(self, rules: Iterable[Rule], *, backend: Backend = "auto") -> None:
        all_rules = list(rules)
        if len(all_rules) > MAX_RULES:
            raise RuleError(f"at most {MAX_RULES} rules")
        for rule in all_rules:
            if not isinstance(rule, Rule):
                raise TypeError("RuleSet.compile takes Rule objects (see validate_rule)")
        _check_unique(all_rules)
        keywords: list[_Keyword] = []
        ids: dict[_Keyword, int] = {}

        def keyword_id(raw: str) -> int:
            keyword = _parse_keyword(raw, None, "")
            if keyword not in ids:
                ids[keyword] = len(keywords)
                keywords.append(keyword)
            return ids[keyword]

        compiled: list[_Compiled] = []
        for order, rule in enumerate(r for r in all_rules if r.enabled):
            raw_of: dict[int, str] = {}
            any_ids = []
            for raw in rule.any_of:
                index = keyword_id(raw)
                any_ids.append(index)
                raw_of.setdefault(index, raw)
            groups = []
            for group in rule.all_of:
                group_ids = []
                for raw in group.split("|"):
                    index = keyword_id(raw)
                    group_ids.append(index)
                    raw_of.setdefault(index, raw.strip())
                groups.append(tuple(group_ids))
            compiled.append(
                _Compiled(
                    order=order,
                    rule=rule,
                    any_ids=tuple(any_ids),
                    groups=tuple(groups),
                    none_ids=tuple(keyword_id(raw) for raw in rule.none_of),
                    patterns=tuple(re.compile(p, re.IGNORECASE) for p in rule.patterns),
                    channels=frozenset(rule.channels),
                    keyword_raw=raw_of,
                )
            )
        self._rules = tuple(compiled)
        self._matcher = _make_matcher(keywords, backend)
        # Which rules a found keyword can set off: any_of keywords, or the first all_of group of a
        # rule that has neither any_of nor patterns. Pattern rules are always tried.
        triggers: dict[int, list[int]] = {}
        always: list[int] = []
        for position, item in enumerate(self._rules):
            if item.patterns:
                always.append(position)
            trigger_ids = item.any_ids or (item.groups[0] if not item.patterns else ())
            for index in set(trigger_ids):
                triggers.setdefault(index, []).append(position)
        self._triggers = {index: tuple(positions) for index, positions in triggers.items()}
        self._always = tuple(always)

    @property
    def backend(self) -> str:
        """'aho-corasick' or 'regex': the matcher in use."""
        return self._matcher.name

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The enabled rules, in order."""
        return tuple(item.rule for item in self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def evaluate(self, text: str, *, channel: str | None = None) -> RuleOutcome:
        """Every rule matching `text` (arriving via `channel`) and the merged decisions.

        A rule restricted to channels never matches when `channel` is None.
        """
        form = match_form(text[:MAX_TEXT_CHARS])
        found = self._matcher.find(form)
        candidates = set(self._always)
        for index in found:
            candidates.update(self._triggers.get(index, ()))
        pattern_text = form[:MAX_PATTERN_TEXT]
        matches: list[tuple[_Compiled, RuleMatch, int]] = []
        for position in sorted(candidates):
            item = self._rules[position]
            if item.channels and channel not in item.channels:
                continue
            if any(index in found for index in item.none_ids):
                continue
            if not all(any(index in found for index in group) for group in item.groups):
                continue
            any_hits = [index for index in item.any_ids if index in found]
            pattern_hits = []
            for pattern in item.patterns:
                hit = pattern.search(pattern_text)
                if hit is not None:
                    pattern_hits.append(hit.group(0)[:50])
            if (item.any_ids or item.patterns) and not (any_hits or pattern_hits):
                continue
            group_hits = [index for group in item.groups for index in group if index in found]
            hit_ids = list(dict.fromkeys([*any_hits, *group_hits]))
            keywords = tuple(item.keyword_raw[index] for index in hit_ids)
            specificity = sum(len(self._matcher.keywords[i].text) for i in hit_ids) + sum(
                len(hit) for hit in pattern_hits
            )
            rule = item.rule
            match = RuleMatch(rule.id, rule.name, keywords, tuple(pattern_hits), rule.weight, rule.override_model)
            matches.append((item, match, specificity))
        return _merge(matches)


def _merge(matches: Sequence[tuple[_Compiled, RuleMatch, int]]) -> RuleOutcome:
    """One decision per field from the matching rules (see the module docstring)."""
    category: CategoryDecision | None = None
    priority: Decision | None = None
    sentiment: Decision | None = None
    best_category: tuple[int, bool, int, int] | None = None
    best_priority: tuple[int, bool, int, int] | None = None
    best_sentiment: tuple[int, bool, int, int] | None = None
    tags: dict[str, list[str]] = {}
    refine: list[Rule] = []
    for item, _match, specificity in matches:
        rule = item.rule
        if rule.category is not None:
            key = (rule.weight, rule.override_model, specificity, -item.order)
            if best_category is None or key > best_category:
                best_category = key
                category = CategoryDecision(rule.category, rule.subcategory, rule.id, rule.override_model)
        if rule.priority is not None:
            key = (-_PRIORITY_RANK[rule.priority], rule.override_model, rule.weight, -item.order)
            if best_priority is None or key > best_priority:
                best_priority = key
                priority = Decision(rule.priority, rule.id, rule.override_model)
        if rule.sentiment is not None:
            key = (-_SENTIMENT_RANK[rule.sentiment], rule.override_model, rule.weight, -item.order)
            if best_sentiment is None or key > best_sentiment:
                best_sentiment = key
                sentiment = Decision(rule.sentiment, rule.id, rule.override_model)
        for tag in rule.tags:
            tags.setdefault(tag, []).append(rule.id)
        if rule.needs_refinement:
            refine.append(rule)
    # A category rule's request for a person is about its category: it lapses when another won.
    winner = category.rule_id if category else None
    return RuleOutcome(
        matches=tuple(match for _item, match, _s in matches),
        category=category,
        priority=priority,
        sentiment=sentiment,
        tags=tuple(TagDecision(tag, tuple(ids)) for tag, ids in tags.items()),
        refinement_rule_ids=tuple(r.id for r in refine if r.category is None or r.id == winner),
    )


class RuleSet:
    """Entry point: `RuleSet.compile(rules)`."""

    @staticmethod
    def compile(rules: Iterable[Rule], *, backend: Backend = "auto") -> CompiledRules:
        """Compile the enabled `rules` (repeated ids are refused).

        backend: "auto" uses pyahocorasick when installed and the regex matcher otherwise;
        both find exactly the same keywords.
        """
        return CompiledRules(rules, backend=backend)
