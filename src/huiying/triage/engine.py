"""Deciding a ticket's category, priority, sentiment and language from rules and models. Pure.

How the two layers combine, per field:

1. A rule marked `override_model` decides (a privacy leak filed as a "suggestion" is still one).
2. A value given at intake (a user's chosen category, a priority set by staff) stays.
3. A model trained on this platform's own labels decides when it is confident
   (>= `model_trust`): it has learned this platform's language, a keyword list has not.
4. Otherwise a matching rule decides.
5. Otherwise the model's best guess, marked for a person (`needs_refinement`) when its
   confidence is below `min_confidence` — and always while the model is a starter model.

Starter models (trained on public data from other domains) never overrule a rule: their
confidence is calibrated on that data, not on this platform's feedback. Priority is never
lowered by a model: the most urgent of the rule's and a confident model's answer wins, and a
VIP is at least `high`.

A rule that asks for a person (`needs_refinement`) and sets a category asks about that category:
when the category was decided otherwise (the user's choice, a confident platform model) the
request lapses. Rules with no category of their own (self-harm, minors) always ask.

Urgency is its own decision (issue 19): `urgent` is what must not be missed, so a binary
urgent-or-not model (target `urgency`) with the threshold chosen on held-out data decides it,
with the rules as high-precision overrides on top. The four-level priority model then grades the
rest; its own "urgent" counts as `high` when an urgency model speaks (the binary model is the one
tuned for that call). Impact scope (`impact.assess`) raises a problem: many users with a core
technical function down is urgent, many users with anything else is one level up. Suggestions,
questions and "other" are never raised by it.

A starter model trained and calibrated on in-domain feedback (metadata `in_domain`) is trusted
like a platform model: its confidences were measured on this kind of text. Starters learned only
from other domains keep asking a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from huiying.tickets.enums import PRIORITY_RANK, Priority
from huiying.triage.classifier import Prediction, TextClassifier, predict_each
from huiying.triage.features import detect_language
from huiying.triage.impact import Impact, assess
from huiying.triage.rules import CompiledRules, RuleOutcome

TARGETS = ("category", "priority", "sentiment", "urgency")
URGENT, NOT_URGENT = "urgent", "not_urgent"
PRIORITY_VALUES = frozenset(p.value for p in Priority)
# Default categories where "many users" means the service itself is down (SPEC §2: core function down).
CORE_FUNCTIONS = frozenset(
    f"technical/{s}" for s in ("crash", "stream-lag", "login", "payment-failure", "bug", "performance")
)
# Feedback that impact scope never raises: a crowd that wants a feature is not an outage.
NOT_A_PROBLEM = ("suggestion", "other")


@dataclass(frozen=True)
class LoadedModel:
    classifier: TextClassifier
    version: int
    platform_trained: bool  # trained on this platform's labels (not a starter)

    @property
    def label(self) -> str:
        return f"{self.classifier.metadata.get('target', '?')}-v{self.version}"

    @property
    def trusted(self) -> bool:
        """Whether its confidence was measured on this kind of feedback: trained on the
        platform's labels, or a starter calibrated on in-domain held-out data."""
        return self.platform_trained or self.classifier.metadata.get("in_domain") is True


@dataclass(frozen=True)
class FieldDecision:
    value: str | None
    confidence: float
    source: str  # given | rule | model | impact | default
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "confidence": round(self.confidence, 3),
            "source": self.source,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Triage:
    category: FieldDecision
    priority: FieldDecision
    sentiment: FieldDecision
    language: FieldDecision
    needs_refinement: bool
    impact: Impact = field(default_factory=lambda: Impact("one"))
    tags: tuple[str, ...] = ()
    rule_reasons: tuple[str, ...] = field(default_factory=tuple)

    def category_pair(self) -> tuple[str | None, str | None]:
        if not self.category.value:
            return None, None
        category, _, subcategory = self.category.value.partition("/")
        return category, subcategory or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category.to_dict(),
            "priority": self.priority.to_dict(),
            "sentiment": self.sentiment.to_dict(),
            "language": self.language.to_dict(),
            "needs_refinement": self.needs_refinement,
            "impact": {"scope": self.impact.scope, "phrases": list(self.impact.phrases)},
            "tags": list(self.tags),
            "rules": list(self.rule_reasons),
        }


@dataclass(frozen=True)
class Given:
    """What intake already knows (None: nothing)."""

    category: str | None = None  # "category" or "category/subcategory"
    priority: str | None = None
    vip: bool = False
    channel: str | None = None


def _model_decision(model: LoadedModel, prediction: Prediction) -> FieldDecision:
    return FieldDecision(
        prediction.label, prediction.confidence, "model", f"{model.label} ({prediction.confidence:.2f})"
    )


def _category(
    outcome: RuleOutcome,
    model: LoadedModel | None,
    prediction: Prediction | None,
    given: Given,
    *,
    min_confidence: float,
    model_trust: float,
) -> tuple[FieldDecision, bool]:
    """The category decision and whether a person should refine it."""
    rule = outcome.category
    rule_value = (
        f"{rule.category}/{rule.subcategory}" if rule and rule.subcategory else (rule.category if rule else None)
    )
    rule_reason = f"rule {rule.rule_id}" if rule else ""
    if rule and rule.override_model:
        return FieldDecision(rule_value, 1.0, "rule", rule_reason), False
    if given.category:
        return FieldDecision(given.category, 1.0, "given", "chosen at intake"), False
    if model and prediction and model.trusted and prediction.confidence >= model_trust:
        return _model_decision(model, prediction), False
    if rule:
        return FieldDecision(rule_value, 0.9, "rule", rule_reason), False
    if model and prediction:
        # A starter model learned from other domains (banking queries, product reviews): when no
        # rule matched, its guess is only a suggestion until this platform trains its own model.
        unsure = prediction.confidence < min_confidence or not model.trusted
        return _model_decision(model, prediction), unsure
    return FieldDecision(None, 0.0, "default", "no rule matched and no model"), True


def _more_urgent(a: str, b: str) -> str:
    return a if PRIORITY_RANK[Priority(a)] <= PRIORITY_RANK[Priority(b)] else b


def _raised(level: str) -> str:
    """One level more urgent (urgent stays urgent)."""
    rank = max(0, PRIORITY_RANK[Priority(level)] - 1)
    return next(p.value for p, r in PRIORITY_RANK.items() if r == rank)


def urgency_label(priority: str) -> str:
    """The urgency model's label of a priority label: urgent, or not."""
    return URGENT if priority == URGENT else NOT_URGENT


def urgent_probability(prediction: Prediction) -> float:
    """P(urgent) of an urgency model's prediction (binary: both classes are alternatives)."""
    return next((p for label, p in prediction.alternatives if label == URGENT), 0.0)


def urgent_threshold(model: LoadedModel) -> float:
    """The P(urgent) from which the model says urgent, chosen on held-out data at training."""
    value = model.classifier.metadata.get("urgent_threshold")
    return float(value) if isinstance(value, int | float) and 0.0 < value < 1.0 else 0.5


def _priority(
    outcome: RuleOutcome,
    category: str | None,
    impact: Impact,
    models: dict[str, LoadedModel],
    predictions: dict[str, Prediction],
    given: Given,
    *,
    min_confidence: float,
    model_trust: float,
) -> FieldDecision:
    if given.priority:
        return FieldDecision(given.priority, 1.0, "given", "set at intake")
    candidates: list[FieldDecision] = []
    model, prediction = models.get("priority"), predictions.get("priority")
    # A rule's urgent always counts (the high-precision overrides), and so does a rule marked
    # override_model; other rules' levels only grade what a calibrated, confident priority
    # model has no firm view on, as for the category.
    sure = bool(model and prediction and model.trusted and prediction.confidence >= model_trust)
    rule = outcome.priority
    if rule and (rule.value == URGENT or rule.override_model or not sure):
        candidates.append(FieldDecision(rule.value, 1.0, "rule", f"rule {rule.rule_id}"))
    urgency, said = models.get("urgency"), predictions.get("urgency")
    if urgency and said and (p := urgent_probability(said)) >= urgent_threshold(urgency):
        candidates.append(FieldDecision(URGENT, p, "model", f"{urgency.label} ({p:.2f})"))
    if model and prediction and prediction.confidence >= min_confidence and prediction.label in PRIORITY_VALUES:
        graded = _model_decision(model, prediction)
        if graded.value == URGENT and urgency is not None:
            graded = FieldDecision(Priority.HIGH.value, graded.confidence, "model", f"{graded.reason}; not urgent")
        candidates.append(graded)
    decision = FieldDecision(Priority.MEDIUM.value, 0.5, "default", "no signal")
    for candidate in candidates:
        assert candidate.value is not None
        if decision.source == "default" or _more_urgent(candidate.value, decision.value or "medium") == candidate.value:
            decision = candidate
    assert decision.value is not None
    if impact.many and not (category or "").startswith(NOT_A_PROBLEM):
        raised = URGENT if category in CORE_FUNCTIONS else _raised(decision.value)
        if raised != decision.value:
            decision = FieldDecision(raised, decision.confidence, "impact", f"{decision.reason}; {impact.reason()}")
    if given.vip and decision.value and _more_urgent(decision.value, Priority.HIGH.value) == Priority.HIGH.value:
        decision = FieldDecision(Priority.HIGH.value, 1.0, decision.source, f"{decision.reason}; VIP at least high")
    return decision


def _sentiment(
    outcome: RuleOutcome,
    model: LoadedModel | None,
    prediction: Prediction | None,
    *,
    min_confidence: float,
    model_trust: float,
) -> FieldDecision:
    rule = outcome.sentiment
    if rule and rule.override_model:
        return FieldDecision(rule.value, 1.0, "rule", f"rule {rule.rule_id}")
    if model and prediction and prediction.confidence >= model_trust and model.trusted:
        return _model_decision(model, prediction)
    if rule:
        return FieldDecision(rule.value, 0.9, "rule", f"rule {rule.rule_id}")
    if model and prediction and prediction.confidence >= min_confidence:
        return _model_decision(model, prediction)
    return FieldDecision("neutral", 0.5, "default", "no clear signal")


def decide(
    text: str,
    *,
    rules: CompiledRules | None,
    models: dict[str, LoadedModel],
    given: Given,
    min_confidence: float = 0.4,
    model_trust: float = 0.5,
) -> Triage:
    """Everything triage decides about `text`."""
    outcome = rules.evaluate(text, channel=given.channel) if rules is not None else RuleOutcome()
    # One cut and one vocabulary look-up per term for all the models (same results as predict).
    predictions = dict(zip(models, predict_each([m.classifier for m in models.values()], text), strict=True))
    category, low_confidence = _category(
        outcome,
        models.get("category"),
        predictions.get("category"),
        given,
        min_confidence=min_confidence,
        model_trust=model_trust,
    )
    impact = assess(text)
    priority = _priority(
        outcome,
        category.value,
        impact,
        models,
        predictions,
        given,
        min_confidence=min_confidence,
        model_trust=model_trust,
    )
    sentiment = _sentiment(
        outcome,
        models.get("sentiment"),
        predictions.get("sentiment"),
        min_confidence=min_confidence,
        model_trust=model_trust,
    )
    refinement = set(outcome.refinement_rule_ids)
    if outcome.category and category.source != "rule":
        refinement.discard(outcome.category.rule_id)
    language, confidence = detect_language(text)
    return Triage(
        category=category,
        priority=priority,
        sentiment=sentiment,
        language=FieldDecision(language, confidence, "model", "character classes"),
        needs_refinement=low_confidence or bool(refinement),
        impact=impact,
        tags=outcome.tag_names,
        rule_reasons=tuple(outcome.reasons()),
    )
