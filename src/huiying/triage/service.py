"""Triage in the product: triaging new tickets, learning from corrections, training and
activating model versions, and the rules admins edit.

A reaction to ticket events (tickets knows nothing about triage). Rules and active models are
kept compiled/loaded per process and re-read when they change (checked every few seconds), so
intake pays only for the decision itself.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from huiying import events, jobs
from huiying.audit import service as audit
from huiying.categories import service as categories
from huiying.config import Settings
from huiying.db import Database
from huiying.errors import InvalidInput, NotFound
from huiying.kit.actor import Actor, ActorType
from huiying.kit.clock import utcnow
from huiying.kit.text import document
from huiying.tickets import history, intake, service
from huiying.tickets.enums import Priority
from huiying.tickets.models import Ticket
from huiying.triage import model_store
from huiying.triage.activation import MIN_PER_CLASS, Verdict, judge, trainable
from huiying.triage.classifier import TextClassifier
from huiying.triage.default_rules import default_rule_dicts
from huiying.triage.engine import (
    TARGETS,
    URGENT,
    Given,
    LoadedModel,
    Triage,
    decide,
    urgency_label,
    urgent_probability,
)
from huiying.triage.evaluation import (
    EvaluationReport,
    binary_rates,
    choose_threshold,
    evaluate,
    stratified_split,
)
from huiying.triage.models import ModelVersion, TriageLabel, TriageRule
from huiying.triage.rules import CompiledRules, Rule, RuleError, RuleSet, load_rules, validate_rule
from huiying.triage.starter import load_starter

log = logging.getLogger(__name__)

TRIAGE = Actor(type=ActorType.BOT, name="triage")
REFRESH_SECONDS = 5.0
MIN_LABELS = 20
# The share of non-urgent tickets an urgency model may call urgent (issue 19's aim: 5 %).
MAX_FALSE_URGENT = 0.05


def triage_text(ticket: Ticket) -> str:
    """What triage reads: the same text search indexed (jieba has already cut it)."""
    return document(ticket.title, ticket.description)


def taxonomy(session: Session) -> dict[str, frozenset[str]]:
    return {node.slug: frozenset(c.slug for c in node.children) for node in categories.tree(session)}


# --- the per-process runtime: compiled rules and loaded models ----------------------------------


@dataclass
class _Loaded:
    stamp: tuple[Any, ...]
    rules: CompiledRules | None
    models: dict[str, LoadedModel]
    checked: float


_runtime: weakref.WeakKeyDictionary[Engine, _Loaded] = weakref.WeakKeyDictionary()
_starters: dict[str, TextClassifier] = {}
_lock = threading.Lock()


def _stamp(session: Session) -> tuple[Any, ...]:
    rules = session.execute(select(func.count(), func.max(TriageRule.updated_at))).one()
    active = tuple(session.scalars(select(ModelVersion.id).where(ModelVersion.active).order_by(ModelVersion.id)))
    return (*rules, active)


def _starter(target: str) -> TextClassifier:
    if target not in _starters:
        _starters[target] = load_starter(target)
    return _starters[target]


def starter_metadata(target: str) -> dict[str, Any]:
    return dict(_starter(target).metadata)


def _load(session: Session, stamp: tuple[Any, ...]) -> _Loaded:
    rows = list(session.scalars(select(TriageRule).order_by(TriageRule.position, TriageRule.id)))
    rules: list[Rule] = []
    known = taxonomy(session)
    for row in rows:
        try:
            rules.append(validate_rule(row.body, taxonomy=known))
        except RuleError as exc:  # e.g. its category was deactivated since: skip, say why
            log.warning("triage rule %s skipped: %s", row.id, exc)
    compiled = RuleSet.compile(rules) if rules else None
    models: dict[str, LoadedModel] = {}
    for target in TARGETS:
        row = session.scalar(select(ModelVersion).where(ModelVersion.target == target, ModelVersion.active))
        if row is not None:
            models[target] = LoadedModel(model_store.from_bytes(row.data), row.version, True)
        else:
            models[target] = LoadedModel(_starter(target), 0, False)
    return _Loaded(stamp, compiled, models, time.monotonic())


def runtime(session: Session) -> _Loaded:
    """This process's rules and models for the session's database, re-read when they changed."""
    engine = session.get_bind().engine
    loaded = _runtime.get(engine)
    if loaded is not None and time.monotonic() - loaded.checked < REFRESH_SECONDS:
        return loaded
    stamp = _stamp(session)
    with _lock:
        loaded = _runtime.get(engine)
        if loaded is None or loaded.stamp != stamp:
            loaded = _load(session, stamp)
            _runtime[engine] = loaded
        loaded.checked = time.monotonic()
    return loaded


def forget_runtime(session: Session) -> None:
    _runtime.pop(session.get_bind().engine, None)


# --- triaging a new ticket ------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageOptions:
    """What the settings say about triage. The app hands them in at wiring time (`configure`),
    so `create_app(settings)` decides, not the process environment."""

    enabled: bool = Settings.model_fields["triage_enabled"].default
    min_confidence: float = Settings.model_fields["triage_min_confidence"].default
    model_trust: float = Settings.model_fields["triage_model_trust"].default

    @classmethod
    def from_settings(cls, settings: Settings) -> TriageOptions:
        return cls(settings.triage_enabled, settings.triage_min_confidence, settings.triage_model_trust)


_options = TriageOptions()


def configure(options: TriageOptions) -> None:
    """Install this process's triage options (wiring.install does, from the app's settings)."""
    global _options
    _options = options


def options() -> TriageOptions:
    return _options


def assess(session: Session, text: str, *, given: Given) -> Triage:
    """What triage would decide for `text` (no ticket is touched)."""
    loaded = runtime(session)
    return decide(
        text,
        rules=loaded.rules,
        models=loaded.models,
        given=given,
        min_confidence=_options.min_confidence,
        model_trust=_options.model_trust,
    )


def triage_ticket(session: Session, ticket: Ticket, *, given: Given) -> Triage:
    """Decide and apply: category, priority, sentiment, language, tags, the default team — as one
    change by the `triage` actor, plus a `triaged` event that holds the reasons."""
    with session.no_autoflush:  # one flush at commit, not one per lookup
        result = assess(session, triage_text(ticket), given=given)
        category, subcategory = result.category_pair()
        needs_refinement = result.needs_refinement
        known = categories.active_by_slug(session)
        node = known.get(category or "")
        if category and (node is None or (subcategory and subcategory not in {c.slug for c in node.children})):
            # A model label the taxonomy no longer has: leave the choice to a person.
            category, subcategory, needs_refinement = ticket.category, ticket.subcategory, True
        elif not category:
            category, subcategory = ticket.category, ticket.subcategory
        # Route only what triage is sure of; the rest waits, unrouted, for a person to refine.
        team = None if needs_refinement else service.category_team(session, category, subcategory)
        service.classify(
            session,
            ticket,
            service.Classification(
                category=category,
                subcategory=subcategory,
                needs_refinement=needs_refinement,
                priority=Priority(result.priority.value or ticket.priority),
                sentiment=result.sentiment.value,
                language=result.language.value,
                add_tags=result.tags,
                team=team,
            ),
            actor=TRIAGE,
        )
        ticket.triage = result.to_dict()
        history.record(session, ticket=ticket, actor=TRIAGE, action="triaged", data=result.to_dict())
    return result


def _on_created(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.TicketCreated)
    if not _options.enabled:
        return
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is None:
        return
    given = Given(
        category=_label_of(ticket) if "category" in event.given else None,
        priority=ticket.priority if "priority" in event.given else None,
        vip=ticket.vip,
        channel=ticket.channel,
    )
    triage_ticket(session, ticket, given=given)


# --- learning from people ---------------------------------------------------------------------------


def _label_of(ticket: Ticket) -> str | None:
    if not ticket.category:
        return None
    return f"{ticket.category}/{ticket.subcategory}" if ticket.subcategory else ticket.category


def _on_changed(session: Session, event: events.Event) -> None:
    """A person set the category or priority: keep it as a training label."""
    assert isinstance(event, events.TicketChanged)
    if event.actor_type != ActorType.STAFF.value:
        return
    changed = set(event.changes)
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    confirmed = changed == {"needs_refinement"} and event.changes["needs_refinement"][1] is False
    if changed & {"category", "subcategory"} or confirmed:
        add_label(
            session,
            target="category",
            text=triage_text(ticket),
            label=_label_of(ticket),
            source="confirmation" if confirmed else "correction",
            ticket=ticket,
        )
    if "priority" in changed:
        add_label(
            session,
            target="priority",
            text=triage_text(ticket),
            label=ticket.priority,
            source="correction",
            ticket=ticket,
        )


def add_label(
    session: Session,
    *,
    target: str,
    text: str,
    label: str | None,
    source: str,
    ticket: Ticket | None = None,
    actor: Actor | None = None,
) -> None:
    if not label or not text.strip():
        return
    session.add(
        TriageLabel(
            target=target,
            text=text[:8000],
            label=label[:100],
            source=source,
            ticket_id=ticket.id if ticket else None,
            created_by_id=actor.staff_id if actor else None,
            created_at=utcnow(),
        )
    )


def install() -> None:
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.TicketChanged, _on_changed)


# --- training, evaluating, activating --------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    version: int
    activated: bool
    note: str  # why it was not activated, or what was accepted
    new: EvaluationReport
    current: EvaluationReport
    current_label: str
    n_train: int


def labelled_examples(session: Session, target: str) -> list[tuple[str, str]]:
    """Every stored label of `target`; a text labelled twice keeps its latest label. Urgency
    learns from the priority labels: urgent, or not."""
    source = "priority" if target == "urgency" else target
    latest: dict[str, str] = {}
    for text, label in session.execute(
        select(TriageLabel.text, TriageLabel.label).where(TriageLabel.target == source).order_by(TriageLabel.id)
    ):
        latest[text] = label
    if target == "urgency":
        return [(text, urgency_label(label)) for text, label in latest.items()]
    return list(latest.items())


def active_model(session: Session, target: str) -> LoadedModel:
    if target not in TARGETS:
        raise InvalidInput(f"target must be one of {', '.join(TARGETS)}", code="invalid_target")
    return runtime(session).models[target]


@dataclass(frozen=True)
class _Candidate:
    """A trained, measured model not stored yet."""

    target: str
    model: TextClassifier
    verdict: Verdict
    metadata: dict[str, Any]
    new: EvaluationReport
    current: EvaluationReport
    current_label: str
    n_train: int


@dataclass(frozen=True)
class _TrainOptions:
    seed: int = 0
    tolerance: float = 0.005  # how much worse on the held-back rows still counts as not worse
    force: bool = False
    allow_fewer_classes: bool = False


@dataclass(frozen=True)
class _Labels:
    """All that training reads: the active model, the usable labels, the classes left out."""

    current: LoadedModel
    usable: dict[str, str]
    left_out: dict[str, int]


def _gather(session: Session, target: str, extra: Iterable[tuple[str, str]]) -> _Labels:
    """The active model and every usable label (plus `extra`)."""
    current = active_model(session, target)
    examples = dict(labelled_examples(session, target))
    if target == "urgency":
        extra = ((text, urgency_label(label)) for text, label in extra)
    examples.update((text, label) for text, label in extra if text.strip() and label.strip())
    keep, left_out = trainable(examples.values())
    usable = {text: label for text, label in examples.items() if label in keep}
    if len(usable) < MIN_LABELS or len(keep) < 2:
        raise InvalidInput(
            f"too few labels to train {target}: {len(usable)} usable in {len(keep)} classes "
            f"(need {MIN_LABELS} in 2+ classes, {MIN_PER_CLASS}+ per class)",
            code="too_few_labels",
        )
    return _Labels(current, usable, left_out)


def _fit(target: str, labels: _Labels, options: _TrainOptions) -> _Candidate:
    """Train and compare on the same held-back 20%. CPU only: no session, no transaction."""
    current, usable, seed = labels.current, labels.usable, options.seed
    split = stratified_split(list(usable), list(usable.values()), test_fraction=0.2, seed=seed)
    started = time.perf_counter()
    model = TextClassifier.train(
        split.train_texts,
        split.train_labels,
        target=target,
        seed=seed,
        extra_metadata={"source": "platform", "labels": len(usable)},
    )
    seconds = time.perf_counter() - started
    extra: dict[str, Any] = {}
    if target == "urgency":
        model, extra = _with_urgent_threshold(model, split.test_texts, split.test_labels)
    new_report = evaluate(model, split.test_texts, split.test_labels)
    current_report = evaluate(current.classifier, split.test_texts, split.test_labels)
    verdict = judge(
        new=new_report,
        current=current_report,
        new_classes=model.classes,
        current_classes=current.classifier.classes,
        left_out=labels.left_out,
        tolerance=options.tolerance,
        force=options.force,
        allow_fewer_classes=options.allow_fewer_classes,
    )
    metadata: dict[str, Any] = {
        **model.metadata,
        **extra,
        "n_train": len(split.train_texts),
        "n_test": len(split.test_texts),
        "accuracy": round(new_report.accuracy, 4),
        "macro_f1": round(new_report.macro_f1, 4),
        "calibration_error": round(new_report.calibration_error or 0.0, 4),
        "left_out": labels.left_out,
        "training_seconds": round(seconds, 2),
        "compared_with": {
            "model": current.label,
            "accuracy": round(current_report.accuracy, 4),
            "macro_f1": round(current_report.macro_f1, 4),
        },
    }
    return _Candidate(
        target=target,
        model=model,
        verdict=verdict,
        metadata=metadata,
        new=new_report,
        current=current_report,
        current_label=current.label,
        n_train=len(split.train_texts),
    )


def _with_urgent_threshold(
    model: TextClassifier, texts: list[str], labels: list[str]
) -> tuple[TextClassifier, dict[str, Any]]:
    """The urgency model with the P(urgent) threshold that keeps false urgents within
    MAX_FALSE_URGENT on the held-back rows, and its recall there."""
    probabilities = [urgent_probability(p) for p in model.predict_many(texts)]
    truth = [label == URGENT for label in labels]
    if not any(truth) or all(truth):
        return model, {}
    threshold = choose_threshold(probabilities, truth, max_false_rate=MAX_FALSE_URGENT)
    rates = binary_rates(probabilities, truth, threshold)
    figures = {
        "urgent_threshold": round(threshold, 4),
        "urgent_recall": round(rates.recall, 4),
        "false_urgent_rate": round(rates.false_rate, 4),
    }
    return model.with_metadata(figures), figures


def _store(session: Session, candidate: _Candidate, *, actor: Actor) -> TrainResult:
    """Store the candidate as the next version (active if it earned it), audited."""
    target, metadata = candidate.target, candidate.metadata
    version = int(session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.target == target)) or 0) + 1
    activated = candidate.verdict.activate
    if activated:
        session.execute(update(ModelVersion).where(ModelVersion.target == target).values(active=False))
    row = ModelVersion(
        target=target,
        version=version,
        data=model_store.to_bytes(candidate.model),
        metadata_=metadata,
        active=activated,
        note=candidate.verdict.note()[:2000],
        created_at=utcnow(),
        created_by=actor.name[:100],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="triage.model_trained",
        object_type="model",
        object_id=f"{target}-v{version}",
        after={
            "activated": activated,
            "note": candidate.verdict.note(),
            **{k: metadata[k] for k in ("accuracy", "macro_f1", "calibration_error", "n_train")},
        },
    )
    forget_runtime(session)
    return TrainResult(
        version,
        activated,
        candidate.verdict.note(),
        candidate.new,
        candidate.current,
        candidate.current_label,
        candidate.n_train,
    )


def train(
    session: Session,
    *,
    target: str,
    extra: Iterable[tuple[str, str]] = (),
    actor: Actor,
    seed: int = 0,
    tolerance: float = 0.005,
    force: bool = False,
    allow_fewer_classes: bool = False,
) -> TrainResult:
    """Train a new version on every label (plus `extra`), compare it with the active version on
    the same held-back 20%, and activate it only if `activation.judge` allows (or `force`) — all
    inside the caller's transaction. The job and the CLI use `train_outside_write` instead."""
    options = _TrainOptions(seed, tolerance, force, allow_fewer_classes)
    return _store(session, _fit(target, _gather(session, target, extra), options), actor=actor)


def train_outside_write(
    db: Database,
    *,
    target: str,
    extra: Iterable[tuple[str, str]] = (),
    actor: Actor,
    seed: int = 0,
    tolerance: float = 0.005,
    force: bool = False,
    allow_fewer_classes: bool = False,
) -> TrainResult:
    """`train`, with the training outside any write transaction: read the labels, train and
    compare with no transaction open (on SQLite a write held that long blocks intake), then store
    the version in one short write. A model activated meanwhile by someone else is simply
    superseded, as if the two had run one after the other."""
    with db.read() as session:
        labels = _gather(session, target, extra)
    candidate = _fit(target, labels, _TrainOptions(seed, tolerance, force, allow_fewer_classes))
    with db.write() as session:
        return _store(session, candidate, actor=actor)


def activate(session: Session, *, target: str, version: int, actor: Actor) -> None:
    """Make `version` the active model of `target`; version 0 is the built-in starter model."""
    if target not in TARGETS:
        raise InvalidInput(f"target must be one of {', '.join(TARGETS)}", code="invalid_target")
    if (
        version != 0
        and session.scalar(
            select(ModelVersion.id).where(ModelVersion.target == target, ModelVersion.version == version)
        )
        is None
    ):
        raise NotFound(f"no {target} model version {version}", code="unknown_model")
    session.execute(
        update(ModelVersion).where(ModelVersion.target == target).values(active=ModelVersion.version == version)
    )
    audit.record(
        session, actor=actor, action="triage.model_activated", object_type="model", object_id=f"{target}-v{version}"
    )
    forget_runtime(session)


def list_models(session: Session) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.target, ModelVersion.version.desc())))


# --- rules admins edit ------------------------------------------------------------------------------


def list_rules(session: Session) -> list[TriageRule]:
    return list(session.scalars(select(TriageRule).order_by(TriageRule.position, TriageRule.id)))


def save_rule(session: Session, body: dict[str, Any], *, actor: Actor) -> Rule:
    """Create or replace a rule after checking it (and its category against the taxonomy)."""
    try:
        rule = validate_rule(body, taxonomy=taxonomy(session))
    except RuleError as exc:
        raise InvalidInput(str(exc), code="invalid_rule", details={"field": exc.field}) from exc
    row = session.get(TriageRule, rule.id)
    before = row.body if row else None
    if row is None:
        position = int(session.scalar(select(func.max(TriageRule.position))) or 0) + 1
        row = TriageRule(id=rule.id, position=position)
        session.add(row)
    row.body = rule.to_dict()
    row.updated_at = utcnow()
    row.updated_by_id = actor.staff_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="triage.rule_saved",
        object_type="rule",
        object_id=rule.id,
        before=before,
        after=row.body,
    )
    forget_runtime(session)
    return rule


def delete_rule(session: Session, rule_id: str, *, actor: Actor) -> None:
    row = session.get(TriageRule, rule_id)
    if row is None:
        raise NotFound(f"no rule {rule_id!r}", code="unknown_rule")
    audit.record(
        session, actor=actor, action="triage.rule_deleted", object_type="rule", object_id=rule_id, before=row.body
    )
    session.delete(row)
    forget_runtime(session)


@dataclass(frozen=True)
class RuleTestHit:
    number: str
    title: str
    keywords: tuple[str, ...]
    current: dict[str, str | None]
    would_set: dict[str, Any]


def test_rule(session: Session, body: dict[str, Any], *, recent: int = 300) -> tuple[int, list[RuleTestHit]]:
    """Try a rule on the most recent tickets before saving it: which would it match, and what
    would it set there? Returns how many tickets were tried and the hits."""
    try:
        rule = validate_rule(body, taxonomy=taxonomy(session))
    except RuleError as exc:
        raise InvalidInput(str(exc), code="invalid_rule", details={"field": exc.field}) from exc
    compiled = RuleSet.compile([rule])
    tickets = list(session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(recent)))
    hits = []
    for ticket in tickets:
        outcome = compiled.evaluate(triage_text(ticket), channel=ticket.channel)
        if not outcome.matched:
            continue
        would: dict[str, Any] = {}
        if outcome.category:
            would["category"] = "/".join(p for p in (outcome.category.category, outcome.category.subcategory) if p)
        if outcome.priority:
            would["priority"] = outcome.priority.value
        if outcome.sentiment:
            would["sentiment"] = outcome.sentiment.value
        if outcome.tag_names:
            would["tags"] = list(outcome.tag_names)
        hits.append(
            RuleTestHit(
                ticket.number,
                ticket.title,
                outcome.matches[0].keywords,
                {"category": _label_of(ticket), "priority": ticket.priority, "sentiment": ticket.sentiment},
                would,
            )
        )
    return len(tickets), hits


def ensure_default_rules(session: Session) -> int:
    """Seed the shipped rules into an empty rule table."""
    if session.scalar(select(TriageRule.id).limit(1)) is not None:
        return 0
    rules = load_rules(default_rule_dicts())
    for position, rule in enumerate(rules):
        session.add(TriageRule(id=rule.id, body=rule.to_dict(), position=position, updated_at=utcnow()))
    session.flush()
    return len(rules)


TRAIN_JOB = "triage_train"


def register_jobs() -> None:
    jobs.register(TRAIN_JOB, train_job)


def queue_training(session: Session, *, target: str, actor: Actor) -> None:
    """Retrain `target` in the background, after this transaction commits."""
    if target not in TARGETS:
        raise InvalidInput(f"unknown target {target!r}")
    jobs.enqueue(session, TRAIN_JOB, {"target": target, "by": actor.name})


def train_job(db: Database, payload: dict[str, Any]) -> None:
    """Job: retrain `payload["target"]` from every stored label (queued from the admin page)."""
    actor = Actor(type=ActorType.STAFF, name=str(payload.get("by", "admin"))[:100])
    try:
        train_outside_write(db, target=str(payload["target"]), actor=actor)
    except InvalidInput as exc:  # too few labels: recorded, not retried
        with db.write() as session:
            audit.record(
                session,
                actor=actor,
                action="triage.training_skipped",
                object_type="model",
                object_id=str(payload["target"]),
                after={"reason": exc.message},
            )
