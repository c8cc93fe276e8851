"""Urgency as its own decision: a binary model with a threshold chosen on held-out data, the
rules as overrides, and the four-level priority model grading the rest."""

from __future__ import annotations

import pytest

from huiying.triage.classifier import TextClassifier
from huiying.triage.engine import Given, LoadedModel, decide, urgent_probability, urgent_threshold
from huiying.triage.evaluation import binary_rates, choose_threshold, expected_calibration_error
from huiying.triage.rules import Rule, RuleSet

URGENT_TEXTS = [f"钱被转走了 账号被盗 第{i}次" for i in range(20)]
CALM_TEXTS = [f"想问一下 怎么改昵称 第{i}次" for i in range(20)]


@pytest.fixture(scope="module")
def urgency() -> TextClassifier:
    return TextClassifier.train(
        URGENT_TEXTS + CALM_TEXTS, ["urgent"] * 20 + ["not_urgent"] * 20, target="urgency", seed=0
    )


@pytest.fixture(scope="module")
def priority() -> TextClassifier:
    # A four-level model that calls the calm texts urgent: the urgency model must overrule it.
    return TextClassifier.train(URGENT_TEXTS + CALM_TEXTS, ["high"] * 20 + ["urgent"] * 20, target="priority", seed=0)


def test_the_threshold_comes_from_the_model(urgency: TextClassifier) -> None:
    text = "钱被转走了 账号被盗"
    # A softer temperature (as held-out calibration gives) so P(urgent) is not exactly 1.
    softer = urgency.recalibrated(
        ["钱被转走了", "怎么改昵称", "被盗 想问一下", "转走 昵称"], ["urgent", "not_urgent"] * 2
    )
    p = urgent_probability(softer.predict(text))
    assert 0.5 < p < 1.0
    strict = LoadedModel(softer.with_metadata({"urgent_threshold": (p + 1.0) / 2}), 1, True)
    lenient = LoadedModel(softer.with_metadata({"urgent_threshold": p / 2}), 1, True)
    assert urgent_threshold(strict) > p > urgent_threshold(lenient)
    assert decide(text, rules=None, models={"urgency": lenient}, given=Given()).priority.value == "urgent"
    assert decide(text, rules=None, models={"urgency": strict}, given=Given()).priority.value == "medium"


def test_a_threshold_outside_0_1_falls_back_to_one_half(urgency: TextClassifier) -> None:
    assert urgent_threshold(LoadedModel(urgency.with_metadata({"urgent_threshold": 7}), 1, True)) == 0.5


def test_the_priority_models_urgent_is_high_when_an_urgency_model_says_no(
    urgency: TextClassifier, priority: TextClassifier
) -> None:
    calm = "想问一下 怎么改昵称"
    models = {"priority": LoadedModel(priority, 1, True)}
    assert priority.predict(calm).label == "urgent"
    assert decide(calm, rules=None, models=models, given=Given(), min_confidence=0.0).priority.value == "urgent"
    models["urgency"] = LoadedModel(urgency, 1, True)
    graded = decide(calm, rules=None, models=models, given=Given(), min_confidence=0.0).priority
    assert graded.value == "high" and "not urgent" in graded.reason


def test_an_urgent_rule_overrides_the_urgency_model(urgency: TextClassifier) -> None:
    rules = RuleSet.compile([Rule(id="minor", name="minor", any_of=("我才14岁",), priority="urgent")])
    text = "想问一下 我才14岁"
    models = {"urgency": LoadedModel(urgency.with_metadata({"urgent_threshold": 0.99}), 1, True)}
    result = decide(text, rules=rules, models=models, given=Given())
    assert result.priority.value == "urgent" and result.priority.source == "rule"


def test_choose_threshold_keeps_false_yeses_within_the_limit() -> None:
    probabilities = [0.95, 0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2, 0.1]
    truth = [True, True, False, True, True, False, False, True, False, False]
    threshold = choose_threshold(probabilities, truth, max_false_rate=0.2)
    rates = binary_rates(probabilities, truth, threshold)
    # 0.6 lets four of five yeses through; 0.55 would call a second of the five noes urgent
    # (0.4 > 0.2). Half-way between the two:
    assert threshold == pytest.approx(0.575)
    assert (rates.recall, rates.false_rate, rates.precision) == (0.8, 0.2, 0.8)
    assert choose_threshold(probabilities, truth, max_false_rate=0.0) == pytest.approx(0.85)
    assert choose_threshold([0.9, 0.1], [False, True], max_false_rate=0.0) == 1.0


def test_a_perfect_separation_gets_a_threshold_between_the_two_groups() -> None:
    threshold = choose_threshold([1.0, 0.99, 1e-30, 2e-30], [True, True, False, False], max_false_rate=0.05)
    assert threshold == pytest.approx(0.495)


def test_calibration_error() -> None:
    assert expected_calibration_error([0.9] * 10, [True] * 9 + [False]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0] * 4, [True, False, True, False]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        expected_calibration_error([], [])
