"""Evaluation of triage classifiers: accuracy, macro-F1, per-class figures, confusions, splits."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class _Labelled(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def confidence(self) -> float: ...


class Predictor(Protocol):
    """Anything with predict_many, such as TextClassifier."""

    def predict_many(self, texts: Sequence[str]) -> Sequence[_Labelled]: ...


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall and F1 of one label, and how many true examples it has."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Confusion:
    """How often a true label was predicted as another one."""

    true_label: str
    predicted_label: str
    count: int


@dataclass(frozen=True)
class EvaluationReport:
    """The figures of one classifier on one labelled set."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: Mapping[str, ClassMetrics]
    confusions: tuple[Confusion, ...]
    # Expected calibration error of the confidences (None when only labels were compared).
    calibration_error: float | None = None


@dataclass(frozen=True)
class Split:
    """A train part and a held-back test part of a labelled set."""

    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]


def evaluate(
    classifier: Predictor,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    top_confusions: int = 10,
) -> EvaluationReport:
    """Predict every text and compare with `labels`."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    predictions = classifier.predict_many(list(texts))
    predicted = [p.label for p in predictions]
    report = evaluate_predictions(labels, predicted, top_confusions=top_confusions)
    correct = [p == t for p, t in zip(predicted, labels, strict=True)]
    ece = expected_calibration_error([p.confidence for p in predictions], correct)
    return dataclasses.replace(report, calibration_error=ece)


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], *, bins: int = 10) -> float:
    """How far confidence is from accuracy, weighted over `bins` equal-width confidence bins:
    0 means "90 % sure" is right 90 % of the time."""
    if len(confidences) != len(correct):
        raise ValueError("confidences and outcomes differ in length")
    if not confidences:
        raise ValueError("nothing to measure")
    conf = np.clip(np.asarray(confidences, dtype=np.float64), 0.0, 1.0)
    hit = np.asarray(correct, dtype=np.float64)
    which = np.minimum((conf * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += float(members.sum()) * abs(float(conf[members].mean()) - float(hit[members].mean()))
    return total / len(conf)


@dataclass(frozen=True)
class BinaryRates:
    """A yes/no decision against the truth: recall of the yeses, and the false-yes rate."""

    recall: float
    false_rate: float  # of the true noes, the share said yes
    precision: float
    positives: int
    negatives: int


def binary_rates(probabilities: Sequence[float], truth: Sequence[bool], threshold: float) -> BinaryRates:
    """The rates of saying yes when probability >= threshold."""
    said = np.asarray(probabilities, dtype=np.float64) >= threshold
    true = np.asarray(truth, dtype=bool)
    positives, negatives = int(true.sum()), int((~true).sum())
    hits, false = int((said & true).sum()), int((said & ~true).sum())
    return BinaryRates(
        recall=hits / positives if positives else 0.0,
        false_rate=false / negatives if negatives else 0.0,
        precision=hits / (hits + false) if hits + false else 0.0,
        positives=positives,
        negatives=negatives,
    )


def choose_threshold(probabilities: Sequence[float], truth: Sequence[bool], *, max_false_rate: float) -> float:
    """The threshold with the most recall whose false-yes rate stays within `max_false_rate`:
    half-way between the lowest probability it lets through and the next one below, so a new
    text a hair under a held-out one is not decided by the rounding. Choose it on held-out
    data, never on the set the figures are reported on."""
    if len(probabilities) != len(truth) or not probabilities:
        raise ValueError("need as many outcomes as probabilities, at least one")
    candidates = sorted({float(p) for p in probabilities}, reverse=True)
    best: int | None = None
    best_recall = -1.0
    for i, candidate in enumerate(candidates):
        rates = binary_rates(probabilities, truth, candidate)
        if rates.false_rate > max_false_rate:
            break
        if rates.recall > best_recall:
            best, best_recall = i, rates.recall
    if best is None:  # even the most probable row is a false yes: say yes to nothing seen
        return 1.0
    below = candidates[best + 1] if best + 1 < len(candidates) else 0.0
    return (candidates[best] + below) / 2


def evaluate_predictions(
    true_labels: Sequence[str],
    predicted_labels: Sequence[str],
    *,
    top_confusions: int = 10,
) -> EvaluationReport:
    """Figures from true and predicted labels; macro-F1 averages over every label seen."""
    if len(true_labels) != len(predicted_labels):
        raise ValueError("true and predicted labels differ in length")
    if not true_labels:
        raise ValueError("nothing to evaluate")
    pairs = Counter(zip(true_labels, predicted_labels, strict=True))
    support = Counter(true_labels)
    predicted_count = Counter(predicted_labels)
    per_class: dict[str, ClassMetrics] = {}
    # Like scikit-learn: a label only predicted (never true) still counts, with recall 0.
    for label in sorted(set(support) | set(predicted_count)):
        hits = pairs[(label, label)]
        precision = hits / predicted_count[label] if predicted_count[label] else 0.0
        recall = hits / support[label] if support[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassMetrics(precision, recall, f1, support[label])
    correct = sum(count for (true, pred), count in pairs.items() if true == pred)
    confusions = sorted(
        (Confusion(true, pred, count) for (true, pred), count in pairs.items() if true != pred),
        key=lambda c: (-c.count, c.true_label, c.predicted_label),
    )
    return EvaluationReport(
        n=len(true_labels),
        accuracy=correct / len(true_labels),
        macro_f1=sum(m.f1 for m in per_class.values()) / len(per_class),
        per_class=per_class,
        confusions=tuple(confusions[:top_confusions]),
    )


def format_report(report: EvaluationReport) -> str:
    """A plain-text report; its last line is `accuracy=0.xxx macro_f1=0.xxx n=N`."""
    width = max([5, *(len(label) for label in report.per_class)])
    lines = [f"{'label':<{width}}  precision  recall     f1  support"]
    for label, m in report.per_class.items():
        lines.append(f"{label:<{width}}  {m.precision:9.3f}  {m.recall:6.3f}  {m.f1:5.3f}  {m.support:7d}")
    if report.confusions:
        lines.append("top confusions (true -> predicted: count):")
        lines.extend(f"  {c.true_label} -> {c.predicted_label}: {c.count}" for c in report.confusions)
    lines.append(f"accuracy={report.accuracy:.3f} macro_f1={report.macro_f1:.3f} n={report.n}")
    return "\n".join(lines)


def stratified_split_indices(
    labels: Sequence[str], *, test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Train and test row indices, each label split in the same proportion, fixed by `seed`."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be between 0 and 1")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        shuffled = [rows[i] for i in rng.permutation(len(rows))]
        # Every label with two or more rows keeps at least one row on each side.
        n_test = min(len(rows) - 1, max(1, round(len(rows) * test_fraction)))
        test.extend(shuffled[:n_test])
        train.extend(shuffled[n_test:])
    return sorted(train), sorted(test)


def stratified_split(
    texts: Sequence[str], labels: Sequence[str], *, test_fraction: float = 0.2, seed: int = 0
) -> Split:
    """`stratified_split_indices` applied to texts and labels (original order kept)."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    train, test = stratified_split_indices(labels, test_fraction=test_fraction, seed=seed)
    return Split(
        [texts[i] for i in train],
        [labels[i] for i in train],
        [texts[i] for i in test],
        [labels[i] for i in test],
    )


def is_not_worse(new: EvaluationReport, old: EvaluationReport, *, tolerance: float = 0.005) -> bool:
    """Whether `new` is within `tolerance` of `old` on both accuracy and macro-F1.

    Both reports must come from the same held-out set, or the comparison means nothing.
    """
    if new.n != old.n:
        raise ValueError(f"reports of different sets (n={new.n} vs n={old.n})")
    if not 0.0 <= tolerance < 1.0:
        raise ValueError("tolerance must be in [0, 1)")
    return new.accuracy >= old.accuracy - tolerance and new.macro_f1 >= old.macro_f1 - tolerance
