"""The triage decision's results, pinned: the starter models' answers and whole decisions on a
few tickets. A faster path (issue 17: rjieba, one shared vocabulary look-up) must give the same
labels and confidences. Re-pinned when the starter models were retrained on our written
feedback (issue 19); re-pin only with new model files, never to make a code change pass."""

from __future__ import annotations

import numpy as np
import pytest

from huiying.triage.classifier import TextClassifier, predict_each
from huiying.triage.default_rules import DEFAULT_RULES
from huiying.triage.engine import Given, LoadedModel, decide
from huiying.triage.features import FeatureSettings, SharedVocabulary
from huiying.triage.rules import RuleSet
from huiying.triage.starter import STARTER_TARGETS, load_starter

CRASH = "更新到最新版本以后，每次点进直播间App就直接闪退，重启手机也没用。机型是华为Mate 60，已经卸载重装过两次了。"
PHONE = "我换了手机号码，想把账号绑定的手机号改成新的，在设置里没找到入口。"
UPDATE = "Since the update to 5.2.0 the app closes every time I tap on Matches. iPhone 13, iOS 17.4. Reinstalling did not help."
SCAM = "This profile uses photos of a famous model and asked me for gift cards after two days of chatting."
SUFFIX = "（第0次）"

# text -> {target: (best label, its probability)} of the starter models
MODEL_PINS = {
    CRASH + SUFFIX: {
        "category": ("technical/crash", 0.9997),
        "priority": ("high", 0.9224),
        "sentiment": ("negative", 0.9066),
        "urgency": ("not_urgent", 0.9802),
    },
    PHONE + SUFFIX: {
        "category": ("suggestion/question", 0.9626),
        "priority": ("low", 0.7052),
        "sentiment": ("neutral", 0.7219),
        "urgency": ("not_urgent", 0.774),
    },
    UPDATE + SUFFIX: {
        "category": ("technical/crash", 0.9967),
        "priority": ("high", 0.7902),
        "sentiment": ("neutral", 0.5385),
        "urgency": ("not_urgent", 0.9586),
    },
    SCAM + SUFFIX: {
        "category": ("content/fake-profile", 0.9979),
        "priority": ("medium", 0.7553),
        "sentiment": ("negative", 0.7203),
        "urgency": ("not_urgent", 0.9961),
    },
    "怎么修改绑定的手机号": {
        "category": ("suggestion/question", 0.9957),
        "priority": ("low", 0.9244),
        "sentiment": ("neutral", 0.7147),
        "urgency": ("not_urgent", 0.5477),
    },
    "Great app, thank you": {
        "category": ("other", 0.9944),
        "priority": ("low", 0.9752),
        "sentiment": ("positive", 0.9992),
        "urgency": ("not_urgent", 0.9857),
    },
}

# text -> (category, its source, priority, its source, sentiment, its source, needs_refinement)
DECISION_PINS = {
    CRASH + SUFFIX: ("technical/crash", "model", "high", "model", "negative", "model", False),
    PHONE + SUFFIX: ("suggestion/question", "model", "low", "model", "neutral", "model", False),
    UPDATE + SUFFIX: ("technical/crash", "model", "high", "model", "neutral", "model", False),
    SCAM + SUFFIX: ("content/fake-profile", "model", "medium", "model", "negative", "model", False),
    "怎么修改绑定的手机号": ("suggestion/question", "model", "low", "model", "neutral", "model", False),
    "Great app, thank you": ("other", "model", "low", "model", "positive", "model", False),
}


@pytest.fixture(scope="module")
def starters() -> dict[str, TextClassifier]:
    return {target: load_starter(target) for target in STARTER_TARGETS}


@pytest.mark.parametrize("text", list(MODEL_PINS))
def test_starter_models_answer_as_pinned(starters: dict[str, TextClassifier], text: str) -> None:
    for target, (label, confidence) in MODEL_PINS[text].items():
        prediction = starters[target].predict(text)
        assert prediction.label == label, target
        assert prediction.confidence == pytest.approx(confidence, abs=1e-4), target


@pytest.mark.parametrize("text", list(MODEL_PINS))
def test_predict_each_equals_predict(starters: dict[str, TextClassifier], text: str) -> None:
    classifiers = list(starters.values())
    assert predict_each(classifiers, text) == [c.predict(text) for c in classifiers]


def test_shared_vocabulary_rows_equal_each_space(starters: dict[str, TextClassifier]) -> None:
    spaces = [c.features for c in starters.values()]
    shared = SharedVocabulary(spaces)
    for text in [*MODEL_PINS, "", "全新的词 completely unseen zzqx"]:
        for space, (indices, values) in zip(spaces, shared.rows(text), strict=True):
            own_indices, own_values = space.transform_one(text)
            assert np.array_equal(indices, own_indices)
            assert np.array_equal(values, own_values)
            assert np.all(np.diff(indices) > 0)  # CSR order, no column twice


def test_shared_vocabulary_needs_one_setting(starters: dict[str, TextClassifier]) -> None:
    with pytest.raises(ValueError, match="same settings"):
        SharedVocabulary([])
    toy = TextClassifier.train(["好", "坏", "很好", "很坏"], ["p", "n", "p", "n"], settings=FeatureSettings(min_df=1))
    with pytest.raises(ValueError, match="same settings"):
        SharedVocabulary([toy.features, starters["category"].features])
    # predict_each groups classifiers by settings instead
    assert predict_each([toy, starters["category"]], "很好") == [
        toy.predict("很好"),
        starters["category"].predict("很好"),
    ]


@pytest.mark.parametrize("text", list(DECISION_PINS))
def test_decisions_as_pinned(starters: dict[str, TextClassifier], text: str) -> None:
    models = {target: LoadedModel(classifier, 0, False) for target, classifier in starters.items()}
    result = decide(text, rules=RuleSet.compile(DEFAULT_RULES), models=models, given=Given(channel="app"))
    got = (
        result.category.value,
        result.category.source,
        result.priority.value,
        result.priority.source,
        result.sentiment.value,
        result.sentiment.source,
        result.needs_refinement,
    )
    assert got == DECISION_PINS[text]
    for target, decision in (
        ("category", result.category),
        ("priority", result.priority),
        ("sentiment", result.sentiment),
    ):
        if decision.source == "model":  # the model's own answer, confidence and all
            label, confidence = MODEL_PINS[text][target]
            assert (decision.value, decision.confidence) == (label, pytest.approx(confidence, abs=1e-4))
