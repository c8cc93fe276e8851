"""Evaluation figures against hand-computed examples, report format, splits and activation rule."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from huiying.triage.evaluation import (
    ClassMetrics,
    Confusion,
    EvaluationReport,
    evaluate,
    evaluate_predictions,
    format_report,
    is_not_worse,
    stratified_split,
    stratified_split_indices,
)

# (true, predicted, accuracy, macro_f1, per-class (precision, recall, f1, support), confusions)
CASES = [
    pytest.param(
        list("aaabbc"),
        list("aabbcc"),
        4 / 6,
        (0.8 + 0.5 + 2 / 3) / 3,
        {"a": (1.0, 2 / 3, 0.8, 3), "b": (0.5, 0.5, 0.5, 2), "c": (0.5, 1.0, 2 / 3, 1)},
        [("a", "b", 1), ("b", "c", 1)],
        id="three-classes",
    ),
    pytest.param(
        ["a", "a"],
        ["a", "x"],
        0.5,
        (2 / 3 + 0.0) / 2,
        {"a": (1.0, 0.5, 2 / 3, 2), "x": (0.0, 0.0, 0.0, 0)},
        [("a", "x", 1)],
        id="label-only-predicted",
    ),
    pytest.param(
        ["a", "b", "b"],
        ["a", "b", "b"],
        1.0,
        1.0,
        {"a": (1.0, 1.0, 1.0, 1), "b": (1.0, 1.0, 1.0, 2)},
        [],
        id="perfect",
    ),
    pytest.param(
        ["a", "a", "a", "b"],
        ["b", "b", "b", "a"],
        0.0,
        0.0,
        {"a": (0.0, 0.0, 0.0, 3), "b": (0.0, 0.0, 0.0, 1)},
        [("a", "b", 3), ("b", "a", 1)],
        id="all-wrong",
    ),
]


@pytest.mark.parametrize(("true", "predicted", "accuracy", "macro_f1", "per_class", "confusions"), CASES)
def test_figures_match_hand_computation(
    true: list[str],
    predicted: list[str],
    accuracy: float,
    macro_f1: float,
    per_class: dict[str, tuple[float, float, float, int]],
    confusions: list[tuple[str, str, int]],
) -> None:
    report = evaluate_predictions(true, predicted)
    assert report.n == len(true)
    assert report.accuracy == pytest.approx(accuracy)
    assert report.macro_f1 == pytest.approx(macro_f1)
    assert set(report.per_class) == set(per_class)
    for label, (precision, recall, f1, support) in per_class.items():
        metrics = report.per_class[label]
        assert metrics.precision == pytest.approx(precision)
        assert metrics.recall == pytest.approx(recall)
        assert metrics.f1 == pytest.approx(f1)
        assert metrics.support == support
    assert [(c.true_label, c.predicted_label, c.count) for c in report.confusions] == confusions


def test_confusions_are_sorted_and_capped() -> None:
    true = ["a"] * 5 + ["b"] * 3 + ["c"] * 2
    predicted = ["b"] * 2 + ["c"] * 3 + ["a"] * 3 + ["a"] * 2
    report = evaluate_predictions(true, predicted, top_confusions=2)
    assert report.confusions == (Confusion("a", "c", 3), Confusion("b", "a", 3))


@dataclass(frozen=True)
class _Label:
    label: str
    confidence: float = 1.0


class _Echo:
    """Predicts the first word of each text, so the expected figures are known."""

    def predict_many(self, texts: Sequence[str]) -> list[_Label]:
        return [_Label(text.split()[0]) for text in texts]


def test_evaluate_uses_the_classifier() -> None:
    report = evaluate(_Echo(), ["a x", "b y", "a z"], ["a", "a", "a"])
    assert report.accuracy == pytest.approx(2 / 3)
    assert report.confusions == (Confusion("a", "b", 1),)
    with pytest.raises(ValueError, match="length"):
        evaluate(_Echo(), ["a"], ["a", "b"])


def test_empty_input_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing"):
        evaluate_predictions([], [])


@pytest.mark.parametrize(
    ("true", "predicted", "last_line"),
    [
        (list("aaabbc"), list("aabbcc"), "accuracy=0.667 macro_f1=0.656 n=6"),
        (["x"] * 3, ["x"] * 3, "accuracy=1.000 macro_f1=1.000 n=3"),
        (["x", "y"], ["y", "x"], "accuracy=0.000 macro_f1=0.000 n=2"),
    ],
)
def test_format_report_last_line(true: list[str], predicted: list[str], last_line: str) -> None:
    text = format_report(evaluate_predictions(true, predicted))
    lines = text.splitlines()
    assert lines[-1] == last_line
    assert re.fullmatch(r"accuracy=\d\.\d{3} macro_f1=\d\.\d{3} n=\d+", lines[-1])
    assert not text.endswith("\n")


def test_format_report_lists_classes_and_confusions() -> None:
    text = format_report(evaluate_predictions(list("aaabbc"), list("aabbcc")))
    assert "  a -> b: 1" in text
    assert re.search(r"^b\s+0\.500\s+0\.500\s+0\.500\s+2$", text, re.MULTILINE)


def _labels() -> list[str]:
    return ["a"] * 50 + ["b"] * 30 + ["c"] * 10 + ["d"] * 2 + ["e"]


def test_split_is_deterministic_and_seed_dependent() -> None:
    labels = _labels()
    first = stratified_split_indices(labels, test_fraction=0.2, seed=7)
    assert first == stratified_split_indices(labels, test_fraction=0.2, seed=7)
    assert first != stratified_split_indices(labels, test_fraction=0.2, seed=8)


def test_split_is_stratified_and_complete() -> None:
    labels = _labels()
    train, test = stratified_split_indices(labels, test_fraction=0.2, seed=3)
    assert sorted(train + test) == list(range(len(labels)))
    assert not set(train) & set(test)
    counts = Counter(labels[i] for i in test)
    assert counts == {"a": 10, "b": 6, "c": 2, "d": 1}  # "e" has one row: it stays in train
    assert train == sorted(train)


def test_split_keeps_texts_with_their_labels() -> None:
    labels = _labels()
    texts = [f"{label}-{i}" for i, label in enumerate(labels)]
    split = stratified_split(texts, labels, test_fraction=0.3, seed=1)
    assert len(split.test_texts) + len(split.train_texts) == len(texts)
    for text, label in zip(split.test_texts, split.test_labels, strict=True):
        assert text.startswith(label + "-")
    with pytest.raises(ValueError):
        stratified_split(texts, labels, test_fraction=1.0)


def _report(accuracy: float, macro_f1: float, n: int = 100) -> EvaluationReport:
    return EvaluationReport(n, accuracy, macro_f1, {"a": ClassMetrics(1, 1, 1, n)}, ())


@pytest.mark.parametrize(
    ("new", "old", "tolerance", "expected"),
    [
        ((0.90, 0.88), (0.90, 0.88), 0.0, True),
        ((0.91, 0.89), (0.90, 0.88), 0.0, True),
        ((0.897, 0.88), (0.90, 0.88), 0.005, True),
        ((0.89, 0.88), (0.90, 0.88), 0.005, False),
        ((0.95, 0.80), (0.90, 0.88), 0.01, False),
        ((0.899, 0.879), (0.90, 0.88), 0.0, False),
    ],
)
def test_is_not_worse(new: tuple[float, float], old: tuple[float, float], tolerance: float, expected: bool) -> None:
    assert is_not_worse(_report(*new), _report(*old), tolerance=tolerance) is expected


def test_is_not_worse_needs_the_same_set() -> None:
    with pytest.raises(ValueError, match="different sets"):
        is_not_worse(_report(0.9, 0.9, n=100), _report(0.9, 0.9, n=99))
