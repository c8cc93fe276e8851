"""What the pages say about stored things, in the reader's language: events of the timeline, the
reasons triage gave, field values (names rather than slugs), and refused requests.

The event log, triage and the services keep machine words (`field_changed`, `rule stream-lag`,
`technical`, English error messages with a code) because the API and the audit trail need them
stable; a page turns them into sentences here, so no template shows one raw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from huiying.errors import HuiyingError
from huiying.web import i18n

Names = Mapping[str, tuple[str, str]]

# "自伤/自杀风险 Self-harm risk": a name written as Chinese, a space, then English.
_BILINGUAL = re.compile(r"^(?P<zh>[^A-Za-z]*[\u4e00-\u9fff][^A-Za-z]*?)\s+(?P<en>[A-Za-z].*)$")
# RuleMatch.reason: "Name [rule-id]: keyword, keyword".
_RULE_REASON = re.compile(r"^(?P<name>.*) \[(?P<id>[^\]]+)\](?:: (?P<evidence>.*))?$")
_MODEL_REASON = re.compile(r"^(?P<target>[a-z_]+)-v(?P<version>\d+)")

# Reasons triage writes in English, by the text it writes (huiying.triage.engine).
_TRIAGE_REASONS = {
    "chosen at intake": "reason.given",
    "set at intake": "reason.given_priority",
    "no signal": "reason.no_signal",
    "no clear signal": "reason.no_clear_signal",
    "no rule matched and no model": "reason.nothing",
    "character classes": "reason.script",
}
_LANGUAGE_NAMES = {"zh": "language.zh", "en": "language.en", "other": "language.other"}


def bilingual(name: str, language: str) -> str:
    """The reader's half of a name written "中文 English"; other names as they are."""
    match = _BILINGUAL.match(name.strip())
    if not match:
        return name
    return match.group("zh").strip() if language == "zh" else match.group("en").strip()


@dataclass(frozen=True)
class Wording:
    """Everything a page needs to put stored values into words; one per rendered page."""

    language: str
    categories: Names = field(default_factory=dict)
    teams: Names = field(default_factory=dict)
    staff: Mapping[str, str] = field(default_factory=dict)  # email -> display name

    @property
    def t(self) -> Callable[..., str]:
        return i18n.translator(self.language)

    def _pick(self, names: Names, slug: str | None) -> str:
        if not slug:
            return "—"
        pair = names.get(slug)
        return (pair[0] if self.language == "zh" else pair[1]) if pair else slug

    # --- values -------------------------------------------------------------------------------
    def category(self, value: str | None) -> str:
        """A category, or "category/subcategory", by name."""
        if not value:
            return self.t("ticket.no_category")
        parent, _, child = value.partition("/")
        return self._pick(self.categories, parent) + (f" · {self._pick(self.categories, child)}" if child else "")

    def team(self, slug: str | None) -> str:
        return self._pick(self.teams, slug) if slug else self.t("ticket.no_team")

    def person(self, email: str | None) -> str:
        return self.staff.get(email, email) if email else self.t("ticket.unassigned")

    def link_kind(self, kind: str) -> str:
        key = f"link.{kind}"
        return self.t(key) if key in i18n.MESSAGES else kind

    def value(self, field_name: str | None, value: str | None) -> str:
        """A field's stored value as a reader says it."""
        if value is None or value == "":
            return "∅"
        if field_name in ("status",):
            return self.t(f"status.{value}") if f"status.{value}" in i18n.MESSAGES else value
        if field_name == "priority":
            return self.t(f"priority.{value}") if f"priority.{value}" in i18n.MESSAGES else value
        if field_name == "sentiment":
            return self.t(f"sentiment.{value}") if f"sentiment.{value}" in i18n.MESSAGES else value
        if field_name == "category":
            return self.category(value)
        if field_name == "subcategory":
            return self._pick(self.categories, value)
        if field_name == "team":
            return self.team(value)
        if field_name == "assignee":
            return self.person(value)
        if field_name == "language":
            return self.t(_LANGUAGE_NAMES.get(value, "language.other"))
        if field_name == "channel":
            return self.t(f"channel.{value}") if f"channel.{value}" in i18n.MESSAGES else value
        if field_name == "special_group":
            key = f"special_group.{value}"
            return self.t(key) if key in i18n.MESSAGES else value
        if field_name == "sla_policy":
            key = f"sla_policy.{value}"
            return self.t(key) if key in i18n.MESSAGES else value
        if field_name == "sla_note":  # written "中文 / English" by the sla package
            return value.split(" / ")[0 if self.language == "zh" else -1]
        if value in ("true", "false"):
            return self.t(f"value.{value}")
        return value

    def field_name(self, name: str | None) -> str:
        key = f"field.{name}"
        return self.t(key) if key in i18n.MESSAGES else (name or "")

    # --- the timeline -------------------------------------------------------------------------
    def actor(self, event: Any) -> str:
        """Who did it: a staff member's name, the platform user, triage, the system."""
        kind, name = event.actor_type, event.actor
        if kind == "user":
            return self.t("actor.anonymous") if name == "anonymous" else self.t("actor.user", id=name)
        if kind in ("bot", "system"):
            key = f"actor.{name}"
            return self.t(key) if key in i18n.MESSAGES else self.t(f"actor.{kind}")
        return str(name)

    def event(self, event: Any) -> str:
        """What happened, as a sentence without the actor (the page shows who, then this)."""
        action, data = event.action, event.data or {}
        if action == "field_changed":
            return self.t(
                "event.field_changed",
                field=self.field_name(event.field),
                old=self.value(event.field, event.old),
                new=self.value(event.field, event.new),
            )
        if action == "status_changed":
            return self.t(
                "event.status_changed", old=self.value("status", event.old), new=self.value("status", event.new)
            )
        if action == "merged_into":
            return self.t("event.merged_into", number=data.get("into", ""))
        if action == "merged_from":
            return self.t("event.merged_from", number=data.get("from", ""))
        if action == "qa_reviewed":
            return self.t("event.qa_reviewed", score=data.get("score", ""))
        if action == "target_frozen":
            kind = str(data.get("target_type", ""))
            label = self.t(f"freeze.{kind}") if f"freeze.{kind}" in i18n.MESSAGES else kind
            return self.t("event.target_frozen", target=label, id=data.get("target_id", ""))
        if action == "triaged":
            return self.t("event.triaged", category=self.category((data.get("category") or {}).get("value")))
        if action == "compliance_escalated":
            return self.t("event.compliance_escalated", team=self.team(data.get("team")))
        if action == "routed":
            return self.routed(data)
        if action in ("notice_delivered", "notice_not_sent", "notice_failed"):
            channel = str(data.get("channel") or "")
            reason = self.delivery_reason(data.get("reason"), data.get("error"))
            return self.t(
                f"event.{action}",
                kind=self.notice_kind(str(data.get("kind") or "")),
                channel=self.delivery_channel(channel),
                reason=reason,
                error=str(data.get("error") or ""),
            )
        if action == "survey_answered":
            answer = self.t(f"survey.csat.{data.get('csat')}")
            if data.get("nps") is not None:
                answer += f" · NPS {data['nps']}"
            if data.get("comment"):
                answer += f" — {data['comment']}"
            return self.t("event.survey_answered", answer=answer)
        if action == "mail_not_acknowledged":
            return self.t("event.mail_not_acknowledged", days=data.get("days", ""))
        if action in ("reply_delivered", "reply_not_sent", "reply_failed"):
            channel = str(data.get("channel") or data.get("via") or "")
            if action == "reply_delivered" and channel == "portal":
                return self.t("event.reply_published")
            reason = self.delivery_reason(data.get("reason"), data.get("error"))
            error = str(data.get("error") or "")
            return self.t(f"event.{action}", channel=self.delivery_channel(channel), reason=reason, error=error)
        key = f"event.{action}"
        return self.t(key) if key in i18n.MESSAGES else self.t("event.other")

    def routed(self, data: Mapping[str, Any]) -> str:
        """Why the ticket is where it is: each rule that fired, in the sentence routing wrote in
        the reader's language when it ran (team names as they were then)."""
        key = "zh" if self.language == "zh" else "en"
        said = []
        for rule in data.get("rules") or []:
            sentence = str(rule.get(key) or rule.get("name") or rule.get("id") or "")
            name = str(rule.get("name") or "")
            if " / " in name:  # shipped names are "中文 / English": the reader's half only
                zh, en = name.split(" / ", 1)
                sentence = sentence.replace(name, zh.strip() if key == "zh" else en.strip())
            if sentence:
                said.append(sentence)
        if not said:
            return self.t("event.routed_none")
        return self.t("event.routed", rules=("；" if key == "zh" else "; ").join(said))

    # --- deliveries of a public reply ------------------------------------------------------
    def delivery_channel(self, channel: str) -> str:
        key = f"delivery.channel.{channel}"
        return self.t(key) if key in i18n.MESSAGES else self.t("delivery.channel.other")

    def notice_kind(self, kind: str) -> str:
        key = f"notice.kind.{kind}"
        return self.t(key) if key in i18n.MESSAGES else self.t("notice.kind.other")

    def delivery_reason(self, reason: object, error: object) -> str:
        """Why nothing was sent, in the reader's words when the code is known."""
        key = f"delivery.reason.{reason}"
        return self.t(key) if key in i18n.MESSAGES else str(error or "")

    def delivery(self, row: Any) -> str:
        """What became of one delivery: queued / sent (published) / failed (why) / not sent (why)."""
        error = str(row.error or "")
        if row.status == "sent":
            return self.t("delivery.published") if row.channel == "portal" else self.t("delivery.sent")
        if row.status == "failed":
            return self.t("delivery.failed", error=error)
        if row.status == "suppressed":
            return self.t("delivery.suppressed", reason=self.delivery_reason(row.reason, row.error))
        return self.t("delivery.retrying", error=error) if error else self.t("delivery.queued")

    # --- triage's reasons ---------------------------------------------------------------------
    def decision_value(self, name: str, value: str | None) -> str:
        if name == "category":
            return self.category(value)
        if name == "language":
            return self.t(_LANGUAGE_NAMES.get(value or "", "language.other"))
        return self.value(name, value) if value else "—"

    def reason(self, decision: Mapping[str, Any], rules: list[str]) -> str:
        """Why triage decided a field: the rule by its name, the model by its version, or the
        fallback it took."""
        source, text = str(decision.get("source") or ""), str(decision.get("reason") or "")
        base, marker, _ = text.partition("; VIP at least high")
        suffix = self.t("reason.vip") if marker else ""
        if source == "rule" and base.startswith("rule "):
            rule_id = base[len("rule ") :]
            return self.t("reason.rule", name=self.rule_name(rule_id, rules)) + suffix
        if source == "model":
            match = _MODEL_REASON.match(base)
            if match:
                version = int(match.group("version"))
                label = self.t("reason.starter") if version == 0 else self.t("reason.model", version=version)
                return label + suffix
        key = _TRIAGE_REASONS.get(base)
        if key:
            return self.t(key) + suffix
        return self.t(f"reason.source.{source}") if f"reason.source.{source}" in i18n.MESSAGES else base

    def rule_name(self, rule_id: str, rules: list[str]) -> str:
        for line in rules:
            match = _RULE_REASON.match(line)
            if match and match.group("id") == rule_id:
                return bilingual(match.group("name"), self.language)
        return rule_id

    def rule_line(self, line: str) -> str:
        """A matched rule: its name in the reader's language and the words that matched."""
        match = _RULE_REASON.match(line)
        if not match:
            return line
        name = bilingual(match.group("name"), self.language)
        evidence = match.group("evidence")
        return self.t("reason.rule_matched", name=name, words=evidence) if evidence else name

    # --- refused requests ---------------------------------------------------------------------
    def error(self, exc: HuiyingError) -> str:
        """A refused request in the reader's language (the API keeps the English message)."""
        return error_text(exc, self.language)


def _compact(exc: HuiyingError) -> dict[str, Any]:
    """A refusal small enough for a redirect's query string: its code, HTTP status and the
    plain details a message needs (no long lists but the allowed statuses)."""
    details = exc.details if isinstance(exc.details, dict) else {}
    kept = {
        k: v
        for k, v in details.items()
        if isinstance(v, (str, int)) or (k == "allowed" and exc.code == "illegal_transition")
    }
    if isinstance(details.get("unknown"), list):  # the names a person typed wrong, e.g. macro variables
        kept["unknown"] = ", ".join(str(v) for v in details["unknown"][:10])
    return {"c": exc.code, "s": exc.status_code, "d": kept}


def refused(exc: HuiyingError) -> str:
    """The `?error=` of a redirect after a refused form: the page says it in the reader's language."""
    return "!" + json.dumps(_compact(exc), separators=(",", ":"), ensure_ascii=False)


def refused_bulk(ok: int, failures: list[tuple[str, HuiyingError]]) -> str:
    """The `?error=` after a bulk action some tickets refused (the first five reasons)."""
    reasons = [[number, _compact(exc)] for number, exc in failures[:5]]
    return "!" + json.dumps({"bulk": ok, "n": len(failures), "r": reasons}, separators=(",", ":"), ensure_ascii=False)


def _from_compact(data: Mapping[str, Any]) -> HuiyingError:
    exc = HuiyingError("", details=data.get("d") or {}, code=str(data.get("c") or "internal_error"))
    exc.status_code = int(data.get("s") or 500)
    return exc


def flash_error(value: str, language: str) -> str:
    """The error notice of a page: a catalogue key, a refusal from `refused`, or text that is
    already in the reader's language."""
    if value in i18n.MESSAGES:
        return i18n.translator(language)(value)
    if not value.startswith("!"):
        return value
    try:
        data = json.loads(value[1:])
        if "bulk" in data:
            separator = "；" if language == "zh" else "; "
            reasons = separator.join(f"{n} {error_text(_from_compact(c), language)}" for n, c in data["r"])
            return i18n.translator(language)(
                "bulk.partly", ok=int(data["bulk"]), failed=int(data["n"]), reasons=reasons
            )
        return error_text(_from_compact(data), language)
    except (ValueError, TypeError, KeyError, AttributeError):
        return i18n.translator(language)("err.other")


def _status_list(t: Callable[..., str], values: Any) -> str:
    return "、".join(t(f"status.{v}") for v in values or [])


def error_text(exc: HuiyingError, language: str) -> str:
    """The message of a domain error for a page: by its code (and details), else by its kind."""
    t = i18n.translator(language)
    details = _compact(exc)["d"] if isinstance(exc.details, dict) else {}
    if exc.code == "illegal_transition" and "from" in details:
        if details.get("to") == "merged":
            return t("err.merge_by_merging")
        allowed = details.get("allowed")
        return t(
            "err.illegal_transition",
            current=t(f"status.{details['from']}"),
            target=t(f"status.{details['to']}"),
            allowed=_status_list(t, allowed) if allowed else t("err.final"),
        )
    key = f"err.{exc.code}"
    if key in i18n.MESSAGES:
        try:
            return t(key, **{k: v for k, v in details.items() if isinstance(v, (str, int))})
        except (KeyError, IndexError):
            pass  # details without what the message names: say it by its kind instead
    return t(f"err.status.{exc.status_code}") if f"err.status.{exc.status_code}" in i18n.MESSAGES else t("err.other")


def validation_text(exc: ValidationError, language: str) -> str:
    """A form's refused fields by their labels, each with what is wrong in plain words."""
    t = i18n.translator(language)
    parts = []
    for error in exc.errors()[:3]:
        name = next((str(p) for p in error["loc"] if isinstance(p, str)), "")
        label = t(f"field.{name}") if f"field.{name}" in i18n.MESSAGES else t("field.other")
        kind = str(error.get("type", ""))
        if kind in ("missing", "string_too_short", "too_short") or "empty" in kind:
            problem = t("invalid.empty")
        elif kind in ("string_too_long", "too_long"):
            problem = t("invalid.too_long")
        else:
            problem = t("invalid.format")
        parts.append(t("invalid.field", field=label, problem=problem))
    return "；".join(parts) if language == "zh" else "; ".join(parts)
