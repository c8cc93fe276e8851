"""TextClassifier, features and language detection on a tiny bilingual toy set."""

from __future__ import annotations

import csv
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiying.triage.classifier import MAX_COEFFICIENTS, TextClassifier, _fit_budget
from huiying.triage.evaluation import evaluate, stratified_split
from huiying.triage.features import (
    MAX_TEXT_CHARS,
    FeatureSettings,
    FeatureSpace,
    build_union,
    char_terms,
    detect_language,
    word_terms,
)
from shared_data import shared_data_dir

TOY: dict[str, list[str]] = {
    "refund": [
        "I want my money back for this order",
        "Please refund the payment, the item was broken",
        "How long does a refund take to reach my card?",
        "Refund me, I returned the parcel last week",
        "I was charged twice, give me my money back",
        "Cancel the order and refund the money",
        "我要退款，东西坏了",
        "申请退款，钱什么时候退回来",
        "退款怎么还没到账",
        "重复扣款了，请退钱给我",
        "取消订单并退款",
        "退货以后退款要多久",
    ],
    "delivery": [
        "My parcel has not arrived yet",
        "Where is my package? The delivery is late",
        "The courier lost my shipment",
        "Tracking number shows no update on the delivery",
        "When will my order be shipped?",
        "The package was delivered to the wrong address",
        "快递到现在还没到",
        "物流一直不更新，包裹在哪里",
        "什么时候发货",
        "快递员把包裹送错地址了",
        "我的包裹丢了",
        "物流太慢了，等了一个星期",
    ],
    "login": [
        "I forgot my password and cannot log in",
        "The login page says my account is locked",
        "Reset password email never arrives",
        "I cannot sign in to my account",
        "Two-factor code is not accepted when I log in",
        "My account was logged out and the password does not work",
        "忘记密码了，登录不了",
        "账号被锁定，无法登录",
        "收不到重置密码的邮件",
        "登录的时候验证码一直错误",
        "账户登录不上去",
        "密码不对，进不了账号",
    ],
}

HELD_OUT = [
    ("Please give me a refund for the broken headphones", "refund"),
    ("the money still has not come back to my card after the refund", "refund"),
    ("耳机坏了，我要退款", "refund"),
    ("my package is late and the tracking shows nothing", "delivery"),
    ("包裹三天了还没到，物流没有更新", "delivery"),
    ("I can't log in, the password reset does not work", "login"),
    ("密码忘了，账号登录不了", "login"),
]


def _toy() -> tuple[list[str], list[str]]:
    texts = [text for examples in TOY.values() for text in examples]
    labels = [label for label, examples in TOY.items() for _ in examples]
    return texts, labels


@pytest.fixture(scope="module")
def toy_model() -> TextClassifier:
    texts, labels = _toy()
    return TextClassifier.train(texts, labels, target="toy-category")


@pytest.mark.parametrize(("text", "label"), HELD_OUT)
def test_predicts_held_out_sentences(toy_model: TextClassifier, text: str, label: str) -> None:
    assert toy_model.predict(text).label == label


def test_prediction_shape(toy_model: TextClassifier) -> None:
    prediction = toy_model.predict("我要退款", top_k=3)
    assert 0.0 <= prediction.confidence <= 1.0
    assert prediction.alternatives[0] == (prediction.label, prediction.confidence)
    assert [label for label, _ in prediction.alternatives] != []
    probabilities = [p for _, p in prediction.alternatives]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0)  # three classes, top 3 = all of them
    assert len(toy_model.predict("我要退款", top_k=1).alternatives) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        prediction.label = "other"  # type: ignore[misc]


def test_clear_text_is_more_confident_than_gibberish(toy_model: TextClassifier) -> None:
    clear = toy_model.predict("I want a refund, give me my money back").confidence
    gibberish = toy_model.predict("zxqv wkpj 嘁嗵").confidence
    assert clear > 0.9
    assert gibberish < 0.75
    assert clear > gibberish


def test_predict_many_equals_predict(toy_model: TextClassifier) -> None:
    texts = [text for text, _ in HELD_OUT]
    assert toy_model.predict_many(texts) == [toy_model.predict(t) for t in texts]


def test_only_the_start_of_a_long_text_counts(toy_model: TextClassifier) -> None:
    head = ("我要退款，东西坏了。" * 400)[:MAX_TEXT_CHARS]
    tail = "快递丢了，物流不更新，密码登录不了。" * 500
    assert toy_model.predict(head + tail) == toy_model.predict(head)
    assert toy_model.predict(head + tail).label == "refund"


def test_metadata(toy_model: TextClassifier) -> None:
    meta = toy_model.metadata
    assert meta["target"] == "toy-category"
    assert meta["n_train"] == 36
    assert meta["algorithm"] == "linear_svm+temperature"
    assert meta["n_features"] == toy_model.features.n_features
    assert meta["n_word_features"] == toy_model.features.word.size
    trained_at = datetime.fromisoformat(str(meta["trained_at"]))
    assert trained_at.utcoffset() is not None
    assert abs((datetime.now(UTC) - trained_at).total_seconds()) < 600
    assert toy_model.classes == ("delivery", "login", "refund")
    meta["target"] = "changed"
    assert toy_model.metadata["target"] == "toy-category"


def test_logistic_and_binary() -> None:
    texts, labels = _toy()
    binary = ["refund" if label == "refund" else "not_refund" for label in labels]
    model = TextClassifier.train(texts, binary, algorithm="logistic", c=10.0, coef_dtype="float32")
    assert model.coef.shape == (model.features.n_features, 2)
    assert model.predict("退款还没到账，请退钱").label == "refund"
    assert model.predict("快递丢了").label == "not_refund"


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["x", "x"], "two distinct"),
        (["a", "b"], ["x"], "length"),
        (["a", "b"], ["x", 1], "strings"),
    ],
)
def test_train_rejects_bad_input(texts: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TextClassifier.train(texts, labels)


def test_tiny_classes_skip_calibration() -> None:
    model = TextClassifier.train(["退款", "快递"], ["refund", "delivery"])
    assert model.temperature == 1.0
    assert model.predict("我要退款").label == "refund"


def test_feature_space_matches_sklearn() -> None:
    texts, _ = _toy()
    settings = FeatureSettings(word_weight=0.8)
    space, matrix = FeatureSpace.fit(texts, settings)
    ours = space.transform([*texts, "completely new words 全新的词"]).toarray()
    reference = build_union(settings).fit(texts).transform(texts).toarray()
    np.testing.assert_allclose(ours[:-1], reference, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(matrix.toarray(), reference, rtol=1e-5, atol=1e-6)
    # A row of the word block is l2-normalised, then weighted.
    word_part = ours[0, : space.word.size]
    assert np.linalg.norm(word_part) == pytest.approx(0.8, rel=1e-5)


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("银行卡", {"银", "银行", "银行卡", "行卡"}, {"银行卡 "}),
        ("Card", {" c", "ca", " card", "card "}, {"Ca", "c", " card "}),
        ("ＡＢ", {" ab ", "ab", " a"}, set()),
        ("卡card", {"卡", " card", "card "}, {"卡c", "卡 "}),
        ("go", {" go ", " g", "go"}, {" go  "}),
    ],
)
def test_char_terms(text: str, present: set[str], absent: set[str]) -> None:
    terms = set(char_terms(text, FeatureSettings()))
    assert present <= terms
    assert not absent & terms


def test_char_terms_follow_settings() -> None:
    wide = set(char_terms("Card 银行卡", FeatureSettings(latin_ngram_max=6, cjk_ngram_min=2)))
    assert {" card ", "银行", "银行卡"} <= wide
    assert "银" not in wide


def test_word_terms_include_bigrams() -> None:
    terms = word_terms("card not arrived", FeatureSettings(word_ngram_max=2))
    assert terms == ["card", "not", "arrived", "card not", "not arrived"]
    assert word_terms("card not", FeatureSettings(word_ngram_max=1)) == ["card", "not"]


def test_budget_shrinks_vocabulary_for_many_classes() -> None:
    settings = FeatureSettings(word_max_features=60_000, char_max_features=120_000)
    assert _fit_budget(settings, 10) == settings
    shrunk = _fit_budget(settings, 200)
    assert (shrunk.word_max_features + shrunk.char_max_features) * 200 <= MAX_COEFFICIENTS
    assert shrunk.word_max_features < settings.word_max_features


def test_settings_validate() -> None:
    with pytest.raises(ValueError, match="not an int"):
        FeatureSettings(cjk_ngram_min=3, cjk_ngram_max=2).validate()
    with pytest.raises(ValueError, match="weight"):
        FeatureSettings(char_weight=0.0).validate()


@pytest.mark.parametrize(
    ("text", "language", "min_confidence"),
    [
        ("我的快递还没到，怎么办？", "zh", 0.9),
        ("我的iPhone 15屏幕坏了", "zh", 0.5),
        ("My card has not arrived yet", "en", 0.9),
        ("Order for 王伟 is late, please check", "en", 0.5),
        ("hello", "en", 0.5),
        ("Je voudrais annuler ma commande s'il vous plaît", "other", 0.5),
        ("Ich habe mein Passwort vergessen und kann mich nicht anmelden", "other", 0.5),
        ("Mi pedido no ha llegado todavía", "other", 0.5),
        ("Мой заказ не пришёл", "other", 0.9),
        ("注文した商品がまだ届きません", "other", 0.5),
        ("주문한 상품이 아직 도착하지 않았습니다", "other", 0.9),
        ("12345 !!!", "other", 0.0),
        ("", "other", 0.0),
    ],
)
def test_detect_language(text: str, language: str, min_confidence: float) -> None:
    detected, confidence = detect_language(text)
    assert detected == language
    assert min_confidence <= confidence <= 1.0


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_detect_language_always_answers(text: str) -> None:
    language, confidence = detect_language(text)
    assert language in {"zh", "en", "other"}
    assert 0.0 <= confidence <= 1.0


def test_detect_language_empty_has_no_confidence() -> None:
    assert detect_language("  ...  ") == ("other", 0.0)


SHARED = shared_data_dir()
BANKING = SHARED / "banking77" if SHARED else Path("banking77")


def test_small_banking77_sample() -> None:
    if not (BANKING / "train.csv").exists():
        pytest.skip("BANKING77 not found: set HUIYING_SHARED_DATA to the shared data folder")
    with (BANKING / "train.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle)]
    keep = sorted({row["category"] for row in rows})[:8]
    rows = [row for row in rows if row["category"] in keep]
    split = stratified_split([r["text"] for r in rows], [r["category"] for r in rows], test_fraction=0.3, seed=1)
    model = TextClassifier.train(split.train_texts, split.train_labels, c=1.0)
    report = evaluate(model, split.test_texts, split.test_labels)
    assert report.accuracy > 0.8, report
