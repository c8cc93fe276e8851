"""Ordered routing rules: "when these facts hold, send the ticket there". Pure: no database.

A rule is plain data (`to_dict` / `validate_rule` round-trip through JSON):
    {"id", "name", "enabled", "when": {...conditions...}, "then": {...actions...}, "stop"}

Conditions (all that are set must hold; a list means "any of these"):
    category, subcategory, priority, channel, language, special_group — lists of values;
    keywords — any of them in the title or description (substring in lower-case NFKC form, so
    Chinese needs no word boundaries); vip — true/false; user_id_prefix — any of these prefixes;
    fields_present — ticket fields the app filled in (`links.order_id`, `device_os`, `city`, ...);
    local_time — "22:00-08:00", the platform's local time of day (a range may wrap midnight).
Actions: team (slug), priority, tags, assignee (email or staff id), assignment_mode
    (manual|round_robin|least_loaded|skill), sla_policy (slug), notify (team slugs whose
    supervisors are alerted). `stop` ends evaluation after this rule fires.

Merging: rules are tried in order; for each single-valued action the first rule that fired and
set it wins; tags and notify are the union. Conditions read the facts as given (a rule that
sets priority does not change what later rules see), so the outcome never depends on which
rule set what first — only on the order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

PRIORITIES = ("urgent", "high", "medium", "low")
ASSIGNMENT_MODES = ("manual", "round_robin", "least_loaded", "skill")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")
_FIELD = re.compile(r"[a-z_]{1,32}(\.[A-Za-z0-9_-]{1,64})?")
_TIME_RANGE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_LIST_CONDITIONS = ("category", "subcategory", "priority", "channel", "language", "special_group")
_CONDITIONS = (*_LIST_CONDITIONS, "keywords", "vip", "user_id_prefix", "fields_present", "local_time")
_ACTIONS = ("team", "priority", "tags", "assignee", "assignee_role", "assignment_mode", "sla_policy", "notify")
_SINGLE_ACTIONS = ("team", "priority", "assignee", "assignee_role", "assignment_mode", "sla_policy")
# Whom automatic assignment looks for first ("urgent → a senior agent"); anyone of the team's
# pool when nobody of that role can take it.
ASSIGNEE_ROLES = ("senior", "supervisor")
_FIELDS = ("id", "name", "enabled", "when", "then", "stop", "description")
MAX_VALUES = 200
MAX_KEYWORD_CHARS = 64


class RoutingRuleError(ValueError):
    """A rule that cannot be used; says which rule, which field and why."""

    def __init__(self, message: str, *, rule_id: str | None = None, field: str | None = None):
        where = " ".join(p for p in (f"rule {rule_id!r}" if rule_id else "", field or "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.rule_id = rule_id
        self.field = field


def match_form(text: str) -> str:
    """Lower-case NFKC with single spaces: what keywords and text are compared in."""
    form = text.lower() if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text).lower()
    return " ".join(form.split())


@dataclass(frozen=True)
class Conditions:
    category: tuple[str, ...] = ()
    subcategory: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    special_group: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # in match form
    vip: bool | None = None
    user_id_prefix: tuple[str, ...] = ()
    fields_present: tuple[str, ...] = ()
    local_time: tuple[time, time] | None = None


@dataclass(frozen=True)
class Actions:
    team: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    assignee_role: str | None = None
    assignment_mode: str | None = None
    sla_policy: str | None = None
    notify: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _SINGLE_ACTIONS if getattr(self, k) is not None}
        out.update({k: list(getattr(self, k)) for k in ("tags", "notify") if getattr(self, k)})
        return out


@dataclass(frozen=True)
class RoutingRule:
    id: str
    name: str
    when: Conditions = Conditions()
    then: Actions = Actions()
    enabled: bool = True
    stop: bool = False
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; `validate_rule` turns it back into an equal rule."""
        when: dict[str, Any] = {}
        for name in (*_LIST_CONDITIONS, "keywords", "user_id_prefix", "fields_present"):
            if getattr(self.when, name):
                when[name] = list(getattr(self.when, name))
        if self.when.vip is not None:
            when["vip"] = self.when.vip
        if self.when.local_time is not None:
            start, end = self.when.local_time
            when["local_time"] = f"{start:%H:%M}-{end:%H:%M}"
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "stop": self.stop,
            "when": when,
            "then": self.then.to_dict(),
        }


@dataclass(frozen=True)
class Facts:
    """What rules look at, taken from a ticket by the service."""

    category: str | None = None
    subcategory: str | None = None
    priority: str = "medium"
    channel: str = "web"
    text: str = ""  # title and description in match form (see `facts_text`)
    vip: bool = False
    special_group: str | None = None
    language: str | None = None
    user_id: str | None = None
    fields: frozenset[str] = frozenset()
    local_time: time = time(12, 0)


def facts_text(title: str, description: str) -> str:
    return match_form(f"{title}\n{description}")


@dataclass(frozen=True)
class Fired:
    rule_id: str
    name: str
    applied: dict[str, Any]  # the actions of this rule that decided something
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome(Actions):
    """The actions merged over every rule that fired (first one per action wins, tags and
    notify add up), with the rules in order and the one that stopped the list."""

    fired: tuple[Fired, ...] = ()
    stopped_by: str | None = None


# --- validation -----------------------------------------------------------------------------------


def _strings(value: object, rule_id: str | None, name: str, *, slug: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise RoutingRuleError("must be a list of strings", rule_id=rule_id, field=name)
    items = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(items) > MAX_VALUES:
        raise RoutingRuleError(f"at most {MAX_VALUES} values", rule_id=rule_id, field=name)
    for item in items:
        if slug and not _SLUG.fullmatch(item):
            raise RoutingRuleError(
                f"{item!r} is not a slug (lower-case letters, digits, '_' or '-')", rule_id=rule_id, field=name
            )
        if len(item) > MAX_KEYWORD_CHARS * 2:
            raise RoutingRuleError(f"{item[:20]!r}… is too long", rule_id=rule_id, field=name)
    return items


def _slug(value: object, rule_id: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise RoutingRuleError(f"{value!r} is not a slug", rule_id=rule_id, field=name)
    return value


def parse_time_range(value: str, *, rule_id: str | None = None) -> tuple[time, time]:
    found = _TIME_RANGE.fullmatch(value.replace(" ", "").replace("–", "-")) if isinstance(value, str) else None
    if not found:
        raise RoutingRuleError("must look like 22:00-08:00", rule_id=rule_id, field="when.local_time")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if (h1, m1) == (h2, m2):
        raise RoutingRuleError("an empty range: start and end are equal", rule_id=rule_id, field="when.local_time")
    return time(h1, m1), time(h2, m2)


def _conditions(data: object, rid: str | None) -> Conditions:
    if data is None:
        return Conditions()
    if not isinstance(data, Mapping):
        raise RoutingRuleError("must be an object", rule_id=rid, field="when")
    unknown = sorted(str(k) for k in data if k not in _CONDITIONS)
    if unknown:
        raise RoutingRuleError(f"unknown condition(s) {', '.join(unknown)}", rule_id=rid, field="when")
    values: dict[str, Any] = {}
    for name in _LIST_CONDITIONS:
        if data.get(name) is not None:
            values[name] = _strings(data[name], rid, f"when.{name}", slug=name != "language")
    for value in values.get("priority", ()):
        if value not in PRIORITIES:
            raise RoutingRuleError(f"unknown priority {value!r}", rule_id=rid, field="when.priority")
    if data.get("keywords") is not None:
        words = tuple(dict.fromkeys(match_form(w) for w in _strings(data["keywords"], rid, "when.keywords")))
        if any(len(w) > MAX_KEYWORD_CHARS for w in words):
            raise RoutingRuleError(
                f"a keyword is longer than {MAX_KEYWORD_CHARS} characters", rule_id=rid, field="when.keywords"
            )
        values["keywords"] = words
    if data.get("user_id_prefix") is not None:
        values["user_id_prefix"] = _strings(data["user_id_prefix"], rid, "when.user_id_prefix")
    if data.get("fields_present") is not None:
        present = _strings(data["fields_present"], rid, "when.fields_present")
        for name in present:
            if not _FIELD.fullmatch(name):
                raise RoutingRuleError(
                    f"{name!r} is not a field (e.g. city, device_os, links.order_id)",
                    rule_id=rid,
                    field="when.fields_present",
                )
        values["fields_present"] = present
    if data.get("vip") is not None:
        if not isinstance(data["vip"], bool):
            raise RoutingRuleError("must be true or false", rule_id=rid, field="when.vip")
        values["vip"] = data["vip"]
    if data.get("local_time"):
        values["local_time"] = parse_time_range(data["local_time"], rule_id=rid)
    return Conditions(**values)


def _choice(data: Mapping[str, Any], name: str, choices: tuple[str, ...], rid: str | None) -> str | None:
    """An action that takes one of a few values (None when not set)."""
    value = data.get(name) or None
    if value is not None and value not in choices:
        label = name.replace("_", " ")
        raise RoutingRuleError(
            f"unknown {label} {value!r} (one of {', '.join(choices)})", rule_id=rid, field=f"then.{name}"
        )
    return None if value is None else str(value)


def _actions(data: object, rid: str | None) -> Actions:
    if not isinstance(data, Mapping):
        raise RoutingRuleError("must be an object", rule_id=rid, field="then")
    unknown = sorted(str(k) for k in data if k not in _ACTIONS)
    if unknown:
        raise RoutingRuleError(f"unknown action(s) {', '.join(unknown)}", rule_id=rid, field="then")
    values: dict[str, Any] = {}
    for name in ("team", "sla_policy"):
        values[name] = _slug(data.get(name), rid, f"then.{name}")
    values["priority"] = _choice(data, "priority", PRIORITIES, rid)
    values["assignment_mode"] = _choice(data, "assignment_mode", ASSIGNMENT_MODES, rid)
    values["assignee_role"] = _choice(data, "assignee_role", ASSIGNEE_ROLES, rid)
    assignee = data.get("assignee") or None
    if assignee is not None and (
        not isinstance(assignee, str | int) or isinstance(assignee, bool) or len(str(assignee)) > 254
    ):
        raise RoutingRuleError("must be an email or a staff id", rule_id=rid, field="then.assignee")
    values["assignee"] = str(assignee) if assignee is not None else None
    # Tags are free labels as on tickets (Chinese ones included); notify names team slugs.
    if data.get("tags") is not None:
        values["tags"] = _strings(data["tags"], rid, "then.tags")
    if data.get("notify") is not None:
        values["notify"] = _strings(data["notify"], rid, "then.notify", slug=True)
    actions = Actions(**values)
    if not actions.to_dict():
        raise RoutingRuleError(
            "does nothing: set a team, priority, tag, assignee, assignee role, assignment mode, SLA policy or notify",
            rule_id=rid,
            field="then",
        )
    return actions


def validate_rule(data: object) -> RoutingRule:
    """A rule from a dict (stored or posted), or RoutingRuleError saying what is wrong.
    Unknown keys are refused: a typo would otherwise silently match everything."""
    if not isinstance(data, Mapping):
        raise RoutingRuleError("a rule must be a JSON object")
    raw_id = data.get("id")
    rid = raw_id if isinstance(raw_id, str) else None
    unknown = sorted(str(k) for k in data if k not in _FIELDS)
    if unknown:
        raise RoutingRuleError(f"unknown field(s) {', '.join(unknown)}", rule_id=rid)
    if rid is None or not _ID.fullmatch(rid):
        raise RoutingRuleError(
            "id must be 1-64 characters: lower-case letters, digits, '.', '_' or '-'", rule_id=rid, field="id"
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise RoutingRuleError("name must be 1-120 characters", rule_id=rid, field="name")
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        raise RoutingRuleError("description must be text of at most 2,000 characters", rule_id=rid, field="description")
    flags = {}
    for flag, default in (("enabled", True), ("stop", False)):
        value = data.get(flag, default)
        if not isinstance(value, bool):
            raise RoutingRuleError("must be true or false", rule_id=rid, field=flag)
        flags[flag] = value
    return RoutingRule(
        id=rid,
        name=name.strip(),
        description=description,
        when=_conditions(data.get("when"), rid),
        then=_actions(data.get("then"), rid),
        **flags,
    )


def load_rules(data: Iterable[object]) -> list[RoutingRule]:
    """Validated rules in order; RoutingRuleError on the first bad one or a repeated id."""
    rules = [validate_rule(item) for item in data]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RoutingRuleError("the id is used by two rules", rule_id=rule.id, field="id")
        seen.add(rule.id)
    return rules


# --- evaluation -----------------------------------------------------------------------------------


def in_range(moment: time, span: tuple[time, time]) -> bool:
    """Start inclusive, end exclusive; a range whose end is before its start wraps midnight."""
    start, end = span
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def matches(when: Conditions, facts: Facts) -> tuple[bool, tuple[str, ...]]:
    """Whether every set condition holds, and the keywords that matched (if any)."""
    for name in ("category", "subcategory", "priority", "channel", "language", "special_group"):
        wanted = getattr(when, name)
        if wanted and getattr(facts, name) not in wanted:
            return False, ()
    if when.vip is not None and facts.vip != when.vip:
        return False, ()
    if when.user_id_prefix and not (facts.user_id and facts.user_id.startswith(when.user_id_prefix)):
        return False, ()
    if when.fields_present and not all(name in facts.fields for name in when.fields_present):
        return False, ()
    if when.local_time is not None and not in_range(facts.local_time, when.local_time):
        return False, ()
    found: tuple[str, ...] = ()
    if when.keywords:
        found = tuple(word for word in when.keywords if word in facts.text)
        if not found:
            return False, ()
    return True, found


def evaluate(rules: Sequence[RoutingRule], facts: Facts) -> Outcome:
    """Try the enabled rules in order and merge what fired (module docstring)."""
    decided: dict[str, Any] = {}
    tags: dict[str, None] = {}
    notify: dict[str, None] = {}
    fired: list[Fired] = []
    stopped_by = None
    for rule in rules:
        if not rule.enabled:
            continue
        ok, words = matches(rule.when, facts)
        if not ok:
            continue
        applied: dict[str, Any] = {}
        for name in _SINGLE_ACTIONS:
            value = getattr(rule.then, name)
            if value is not None and name not in decided:
                decided[name] = applied[name] = value
        new_tags = [t for t in rule.then.tags if t not in tags]
        if new_tags:
            applied["tags"] = new_tags
            tags.update(dict.fromkeys(new_tags))
        new_notify = [t for t in rule.then.notify if t not in notify]
        if new_notify:
            applied["notify"] = new_notify
            notify.update(dict.fromkeys(new_notify))
        fired.append(Fired(rule.id, rule.name, applied, words))
        if rule.stop:
            stopped_by = rule.id
            break
    return Outcome(fired=tuple(fired), tags=tuple(tags), notify=tuple(notify), stopped_by=stopped_by, **decided)
