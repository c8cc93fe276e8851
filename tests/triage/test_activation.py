"""When a trained model may replace the active one (activation.judge), as a table."""

from __future__ import annotations

from huiying.triage.activation import MIN_HELD_OUT, MIN_PER_CLASS, judge, trainable
from huiying.triage.evaluation import EvaluationReport, evaluate_predictions


def report(n: int, correct: int) -> EvaluationReport:
    truth = ["a"] * n
    return evaluate_predictions(truth, ["a"] * correct + ["b"] * (n - correct))


def test_trainable_leaves_rare_classes_out_and_names_them() -> None:
    keep, left_out = trainable(["a"] * MIN_PER_CLASS + ["b"] * (MIN_PER_CLASS - 1) + ["c"] * 30)
    assert keep == {"a", "c"}
    assert left_out == {"b": MIN_PER_CLASS - 1}


def test_a_tiny_held_out_set_does_not_activate_however_good() -> None:
    # The probe: 24 labels, 6 held out, a perfect score against a starter that scores 0.
    verdict = judge(
        new=report(6, 6), current=report(6, 0), new_classes="abc", current_classes="abc", left_out={}, tolerance=0.005
    )
    assert not verdict.activate
    assert f"held-out set of 6 rows (needs {MIN_HELD_OUT})" in verdict.note()


def test_fewer_classes_than_the_active_model_is_refused_unless_accepted() -> None:
    args = {"new": report(100, 90), "current": report(100, 50), "left_out": {}, "tolerance": 0.005}
    refused = judge(new_classes=("a", "b"), current_classes=("a", "b", "c", "d"), **args)
    assert not refused.activate
    assert "answers 2 of the active model's 4 classes, missing c, d" in refused.note()
    accepted = judge(new_classes=("a", "b"), current_classes=("a", "b", "c", "d"), allow_fewer_classes=True, **args)
    assert accepted.activate
    assert "missing c, d (accepted)" in accepted.note()
    assert not accepted.note().startswith("activated by force")


def test_worse_on_the_held_out_rows_is_refused_and_force_says_what_it_overrode() -> None:
    args = {"new_classes": "ab", "current_classes": "ab", "left_out": {}, "tolerance": 0.005}
    worse = judge(new=report(100, 70), current=report(100, 80), **args)
    assert not worse.activate
    assert "worse than the active model" in worse.note()
    forced = judge(new=report(100, 70), current=report(100, 80), force=True, **args)
    assert forced.activate
    assert forced.note().startswith("activated by force despite: worse than the active model")


def test_a_good_candidate_activates_with_rare_classes_noted() -> None:
    verdict = judge(
        new=report(100, 90),
        current=report(100, 85),
        new_classes="ab",
        current_classes="ab",
        left_out={"z": 3},
        tolerance=0.005,
    )
    assert verdict.activate
    assert verdict.note() == f"classes with fewer than {MIN_PER_CLASS} labels left out: z (3)"
