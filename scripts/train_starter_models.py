"""Train the starter triage models (category, priority, sentiment, urgency).

From our own written feedback (data/triage/train/written.jsonl, labelled by its writers) and
public labelled data through the human-written mapping tables below (see docs/triage-data.md
for sources, licences and why each mapping is what it is); nothing is labelled by the rules or
models under test. The confidences are calibrated on the dev part of the frozen evaluation set
(data/triage/eval/dev.jsonl), which also picks the urgency threshold; the test part is never
read here. Seeds are fixed, so a re-run gives the same predictions (the files differ only in
their `trained_at` time).

Inputs:
    data/triage/train/written.jsonl, data/triage/eval/dev.jsonl
    ../shared/data/banking77/{train,test}.csv            BANKING77, CC BY 4.0
    ../shared/data/chinese-reviews/online_shopping_10_cats.zip
    var/training-data/...                               scripts/fetch_training_data.py

Outputs (--out, default src/huiying/triage/starter/): category.hym, priority.hym,
sentiment.hym, urgency.hym (model_store format) and MODEL_CARD.md with the figures of this run.

Usage:
    python scripts/train_starter_models.py [--targets category,priority,sentiment,urgency]
        [--exclude SOURCE,...] [--compare-per-language] [--dry-run]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from huiying.demo.samples import SAMPLES
from huiying.triage import model_store
from huiying.triage.classifier import TextClassifier
from huiying.triage.engine import urgency_label, urgent_probability
from huiying.triage.evaluation import (
    EvaluationReport,
    binary_rates,
    choose_threshold,
    evaluate,
    evaluate_predictions,
    format_report,
    stratified_split_indices,
)
from huiying.triage.features import FeatureSettings

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240601
TEST_FRACTION = 0.2
TARGETS = ("category", "priority", "sentiment", "urgency")
# Our own written feedback (docs/triage-data.md): the training part, and the dev part of the frozen
# evaluation set, which calibrates the confidences and picks the urgency threshold. The test part
# is never read here.
WRITTEN = ROOT / "data" / "triage" / "train" / "written.jsonl"
DEV = ROOT / "data" / "triage" / "eval" / "dev.jsonl"
# The urgency model's own share of false urgents on dev; the rules' overrides add about one point
# more (dev split), and the aim for the whole decision is 5 % (issue 19).
MAX_FALSE_URGENT = 0.04
# Small vocabularies keep each model file at a few MB (they are committed to git); measured
# against the library defaults (60k + 120k) in docs/triage-data.md.
SETTINGS = FeatureSettings(word_max_features=30_000, char_max_features=60_000, min_df=2)


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str
    lang: str  # "zh" or "en"


# --- label mapping tables (human-written; docs/triage-data.md explains each choice) ------------

# BANKING77 intent -> "category/subcategory" (None: dropped from the category model).
BANKING77_CATEGORY: dict[str, str | None] = {
    # money taken or at risk through someone else: account security
    "compromised_card": "technical/account-security",
    "lost_or_stolen_card": "technical/account-security",
    "lost_or_stolen_phone": "technical/account-security",
    "card_payment_not_recognised": "technical/account-security",
    "cash_withdrawal_not_recognised": "technical/account-security",
    "direct_debit_payment_not_recognised": "technical/account-security",
    # a payment that failed, hangs or went through twice
    "transaction_charged_twice": "technical/payment-failure",
    "declined_card_payment": "technical/payment-failure",
    "pending_card_payment": "technical/payment-failure",
    "reverted_card_payment?": "technical/payment-failure",
    "declined_transfer": "technical/payment-failure",
    "failed_transfer": "technical/payment-failure",
    # getting in
    "passcode_forgotten": "technical/login",
    "pin_blocked": "technical/login",
    # a feature that does not work
    "card_not_working": "technical/bug",
    "contactless_not_working": "technical/bug",
    "virtual_card_not_working": "technical/bug",
    "unable_to_verify_identity": "technical/bug",
    # money back
    "request_refund": "commercial/refund",
    "Refund_not_showing_up": "commercial/refund",
    # topping up a balance (our 充值)
    "top_up_failed": "commercial/recharge",
    "pending_top_up": "commercial/recharge",
    "top_up_reverted": "commercial/recharge",
    "verify_top_up": "commercial/recharge",
    "automatic_top_up": "commercial/recharge",
    "top_up_limits": "commercial/recharge",
    "topping_up_by_card": "commercial/recharge",
    "top_up_by_cash_or_cheque": "commercial/recharge",
    "balance_not_updated_after_bank_transfer": "commercial/recharge",
    "balance_not_updated_after_cheque_or_cash_deposit": "commercial/recharge",
    # something sent by post
    "card_arrival": "commercial/delivery",
    "card_delivery_estimate": "commercial/delivery",
    # rules and why
    "age_limit": "suggestion/policy-question",
    "why_verify_identity": "suggestion/policy-question",
    "verify_source_of_funds": "suggestion/policy-question",
    "beneficiary_not_allowed": "suggestion/policy-question",
    # how do I ...
    "activate_my_card": "suggestion/question",
    "apple_pay_or_google_pay": "suggestion/question",
    "card_about_to_expire": "suggestion/question",
    "card_acceptance": "suggestion/question",
    "card_linking": "suggestion/question",
    "change_pin": "suggestion/question",
    "country_support": "suggestion/question",
    "disposable_card_limits": "suggestion/question",
    "edit_personal_details": "suggestion/question",
    "get_disposable_virtual_card": "suggestion/question",
    "get_physical_card": "suggestion/question",
    "getting_spare_card": "suggestion/question",
    "getting_virtual_card": "suggestion/question",
    "order_physical_card": "suggestion/question",
    "receiving_money": "suggestion/question",
    "supported_cards_and_currencies": "suggestion/question",
    "terminate_account": "suggestion/question",
    "transfer_into_account": "suggestion/question",
    "verify_my_identity": "suggestion/question",
    "visa_or_mastercard": "suggestion/question",
    "fiat_currency_support": "suggestion/question",
    "exchange_via_app": "suggestion/question",
    # dropped: bank-specific (fees, exchange rates, ATMs, bank transfers) with no counterpart
    "card_payment_fee_charged": None,
    "card_payment_wrong_exchange_rate": None,
    "cash_withdrawal_charge": None,
    "exchange_charge": None,
    "exchange_rate": None,
    "extra_charge_on_statement": None,
    "top_up_by_bank_transfer_charge": None,
    "top_up_by_card_charge": None,
    "transfer_fee_charged": None,
    "wrong_exchange_rate_for_cash_withdrawal": None,
    "atm_support": None,
    "card_swallowed": None,
    "declined_cash_withdrawal": None,
    "pending_cash_withdrawal": None,
    "wrong_amount_of_cash_received": None,
    "cancel_transfer": None,
    "pending_transfer": None,
    "transfer_not_received_by_recipient": None,
    "transfer_timing": None,
}

_URGENT = (
    "compromised_card lost_or_stolen_card lost_or_stolen_phone card_payment_not_recognised "
    "cash_withdrawal_not_recognised direct_debit_payment_not_recognised transaction_charged_twice"
)
_HIGH = (
    "declined_card_payment pending_card_payment reverted_card_payment? declined_transfer "
    "failed_transfer passcode_forgotten pin_blocked card_not_working contactless_not_working "
    "virtual_card_not_working unable_to_verify_identity Refund_not_showing_up top_up_failed "
    "pending_top_up top_up_reverted balance_not_updated_after_bank_transfer "
    "balance_not_updated_after_cheque_or_cash_deposit card_swallowed declined_cash_withdrawal "
    "pending_cash_withdrawal wrong_amount_of_cash_received transfer_not_received_by_recipient "
    "pending_transfer extra_charge_on_statement card_payment_wrong_exchange_rate "
    "wrong_exchange_rate_for_cash_withdrawal"
)
_MEDIUM = (
    "card_arrival card_delivery_estimate request_refund cancel_transfer verify_top_up "
    "card_payment_fee_charged transfer_fee_charged cash_withdrawal_charge exchange_charge "
    "top_up_by_card_charge top_up_by_bank_transfer_charge beneficiary_not_allowed "
    "terminate_account card_about_to_expire verify_source_of_funds"
)
# BANKING77 intent -> priority; every intent not listed above is a plain question: low.
BANKING77_PRIORITY: dict[str, str] = {
    **{intent: "low" for intent in BANKING77_CATEGORY},
    **{intent: "medium" for intent in _MEDIUM.split()},
    **{intent: "high" for intent in _HIGH.split()},
    **{intent: "urgent" for intent in _URGENT.split()},
}

# online_shopping_10_cats: goods sold online (the hotel reviews are not, and are dropped).
REVIEW_GOODS = ("书籍", "平板", "手机", "水果", "洗发水", "热水器", "蒙牛", "衣服", "计算机")
REVIEW_CATEGORY = {"0": "commercial/product-quality", "1": "other"}
REVIEW_PRIORITY = {"0": "medium", "1": "low"}
REVIEW_SENTIMENT = {"0": "negative", "1": "positive"}

# GoEmotions, Ekman grouping (anger = anger+annoyance+disapproval) -> sentiment.
GOEMOTIONS_SENTIMENT: dict[str, str | None] = {
    "anger": "angry",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
    "joy": "positive",
    "neutral": "neutral",
    "surprise": None,  # as often good news as bad
}
# CLUEmotionAnalysis2020 (Weibo) -> sentiment.
CLUEMOTION_SENTIMENT: dict[str, str | None] = {
    "anger": "angry",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
    "happiness": "positive",
    "like": "positive",
    "surprise": None,
}
# CrossWOZ user turns (booking hotels, restaurants, sights in Beijing): neutral requests.
CROSSWOZ_SENTIMENT = "neutral"

# At most this many examples per (source, label), drawn with the fixed seed.
CAPS: dict[str, int] = {
    "written": 100_000,
    "banking77": 1_500,
    "chinese-reviews": 2_500,
    "goemotions": 4_000,
    "cluemotion": 10_000,
    "crosswoz": 3_000,
}


# Per target, smaller caps for public sets whose labels cover only a corner of ours: beside a few
# thousand in-domain rows, 2,500 "positive review = other" rows teach the model that any praise
# or product talk is "other". Chosen on the dev split (docs/triage-data.md).
CAPS_BY_TARGET: dict[str, dict[str, int]] = {
    "category": {"banking77": 100, "chinese-reviews": 150},
    "priority": {"banking77": 100, "chinese-reviews": 150},
    "urgency": {"banking77": 600, "chinese-reviews": 800},
    "sentiment": {"goemotions": 800, "cluemotion": 800, "crosswoz": 600, "chinese-reviews": 800},
}


# --- loading ------------------------------------------------------------------------------------


class MissingSource(Exception):
    """A data set that is not on this machine."""


def _need(path: Path, hint: str) -> Path:
    if not path.exists():
        raise MissingSource(f"{path} not found: {hint}")
    return path


def banking77(shared: Path) -> Iterator[tuple[str, str]]:
    """(text, intent) of the train and test files (we split again, per target)."""
    for name in ("train.csv", "test.csv"):
        path = _need(shared / "banking77" / name, "BANKING77 belongs in shared/data/banking77/")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield row["text"].strip(), row["category"]


def chinese_reviews(shared: Path) -> Iterator[tuple[str, str, str]]:
    """(review, cat, label '0'/'1') of online_shopping_10_cats."""
    path = _need(
        shared / "chinese-reviews" / "online_shopping_10_cats.zip",
        "the reviews belong in shared/data/chinese-reviews/",
    )
    with zipfile.ZipFile(path) as archive, archive.open("online_shopping_10_cats.csv") as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig")):
            text = (row["review"] or "").replace("\ufeff", "").strip()
            if text:
                yield text, row["cat"], row["label"]


def written_rows(path: Path) -> Iterator[dict[str, str]]:
    """Rows of one of our written JSONL files (text, lang, label, priority, sentiment)."""
    with _need(path, "the written triage data belongs in data/triage/").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def written_label(target: str, row: dict[str, str]) -> str:
    """The label of `target` a written row carries (urgency: its priority, urgent or not)."""
    if target == "category":
        return row["label"]
    if target == "urgency":
        return urgency_label(row["priority"])
    return row[target]


def goemotions(extra: Path) -> Iterator[tuple[str, str]]:
    """(comment, Ekman label) of single-label GoEmotions rows (multi-label rows are dropped)."""
    base = extra / "goemotions" / "data" / "ekman"
    hint = "run scripts/fetch_training_data.py"
    labels = _need(base / "labels.txt", hint).read_text(encoding="utf-8").split()
    for name in ("train.tsv", "dev.tsv", "test.tsv"):
        for line in _need(base / name, hint).read_text(encoding="utf-8").splitlines():
            text, ids, _comment_id = line.split("\t")
            if "," not in ids:
                yield text.strip(), labels[int(ids)]


def cluemotion(extra: Path) -> Iterator[tuple[str, str]]:
    base = extra / "cluemotion" / "CLUEdataset" / "emotion"
    for name in ("valid.txt", "test.txt"):
        path = _need(base / name, "run scripts/fetch_training_data.py")
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                yield row["content"].strip(), row["label"]


def crosswoz(extra: Path) -> Iterator[str]:
    """User turns of the CrossWOZ validation and test dialogues."""
    base = extra / "crosswoz" / "data" / "crosswoz"
    for name in ("val.json.zip", "test.json.zip"):
        path = _need(base / name, "run scripts/fetch_training_data.py")
        with zipfile.ZipFile(path) as archive:
            dialogues = json.loads(archive.read(archive.namelist()[0]))
        for dialogue_id in sorted(dialogues):
            for message in dialogues[dialogue_id]["messages"]:
                if message["role"] == "usr" and len(message["content"].strip()) >= 6:
                    yield message["content"].strip()


def build_examples(target: str, shared: Path, extra: Path, exclude: set[str]) -> tuple[list[Example], dict[str, str]]:
    """Mapped, de-duplicated, capped examples of `target`, and what happened to each source."""
    loaders: dict[str, Callable[[], Iterable[Example]]] = {}

    def from_written() -> Iterator[Example]:
        for row in written_rows(WRITTEN):
            yield Example(row["text"], written_label(target, row), "written", row["lang"])

    if target in ("category", "priority", "urgency"):
        table = BANKING77_CATEGORY if target == "category" else BANKING77_PRIORITY
        review_table = REVIEW_CATEGORY if target == "category" else REVIEW_PRIORITY

        def as_target(label: str | None) -> str | None:
            return urgency_label(label) if target == "urgency" and label is not None else label

        def from_banking77() -> Iterator[Example]:
            for text, intent in banking77(shared):
                label = as_target(table[intent])  # KeyError: an intent the tables do not know
                if label is not None:
                    yield Example(text, label, "banking77", "en")

        def from_reviews() -> Iterator[Example]:
            for text, cat, flag in chinese_reviews(shared):
                label = as_target(review_table[flag])
                if cat in REVIEW_GOODS and label is not None:
                    yield Example(text, label, "chinese-reviews", "zh")

        loaders = {"written": from_written, "banking77": from_banking77, "chinese-reviews": from_reviews}
    elif target == "sentiment":

        def from_reviews_sentiment() -> Iterator[Example]:
            for text, _cat, flag in chinese_reviews(shared):
                yield Example(text, REVIEW_SENTIMENT[flag], "chinese-reviews", "zh")

        def from_goemotions() -> Iterator[Example]:
            for text, label in goemotions(extra):
                mapped = GOEMOTIONS_SENTIMENT[label]
                if mapped is not None:
                    yield Example(text, mapped, "goemotions", "en")

        def from_cluemotion() -> Iterator[Example]:
            for text, label in cluemotion(extra):
                mapped = CLUEMOTION_SENTIMENT[label]
                if mapped is not None:
                    yield Example(text, mapped, "cluemotion", "zh")

        def from_crosswoz() -> Iterator[Example]:
            for text in crosswoz(extra):
                yield Example(text, CROSSWOZ_SENTIMENT, "crosswoz", "zh")

        loaders = {
            "written": from_written,
            "chinese-reviews": from_reviews_sentiment,
            "goemotions": from_goemotions,
            "cluemotion": from_cluemotion,
            "crosswoz": from_crosswoz,
        }
    else:
        raise ValueError(f"unknown target {target}")

    status: dict[str, str] = {}
    examples: list[Example] = []
    seen: set[str] = set()
    for name, load in loaders.items():
        if name in exclude:
            status[name] = "excluded (--exclude)"
            continue
        groups: dict[str, list[Example]] = defaultdict(list)
        for example in load():
            key = example.text.casefold()
            if example.text and key not in seen:  # the same text twice would leak into the test
                seen.add(key)
                groups[example.label].append(example)
        rng = random.Random(f"{SEED}-{target}-{name}")  # noqa: S311 - sampling, not secrets
        kept = 0
        for label in sorted(groups):
            rows = groups[label]
            cap = CAPS_BY_TARGET.get(target, {}).get(name, CAPS[name])
            if len(rows) > cap:
                rows = rng.sample(rows, cap)
            examples.extend(rows)
            kept += len(rows)
        status[name] = f"{kept} examples"
    return examples, status


# --- training and evaluation --------------------------------------------------------------------


@dataclass
class Result:
    target: str
    path: Path | None
    n_train: int
    n_test: int
    report: EvaluationReport
    by_source: dict[str, EvaluationReport]
    by_lang: dict[str, EvaluationReport]
    demo: EvaluationReport | None
    dev: EvaluationReport | None
    status: dict[str, str]
    counts: dict[str, int]
    seconds: float
    size: int


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Stratified by label and source together, so every public source is in both parts. Our
    written rows all train: their held-out check is the frozen dev/test set, not a slice."""
    written = [e for e in examples if e.source == "written"]
    public = [e for e in examples if e.source != "written"]
    keys = [f"{e.label}|{e.source}" for e in public]
    train, test = stratified_split_indices(keys, test_fraction=TEST_FRACTION, seed=SEED)
    return written + [public[i] for i in train], [public[i] for i in test]


def dev_set(target: str) -> tuple[list[str], list[str]]:
    """The dev part of the frozen evaluation set, labelled for `target` (empty without it)."""
    if not DEV.exists():
        return [], []
    rows = list(written_rows(DEV))
    return [r["text"] for r in rows], [written_label(target, r) for r in rows]


def calibrated_in_domain(classifier: TextClassifier, target: str) -> tuple[TextClassifier, EvaluationReport | None]:
    """The temperature refitted on the dev split (in-domain feedback), the urgency threshold
    chosen there, and the dev figures; unchanged when there is no dev split."""
    texts, labels = dev_set(target)
    if not texts:
        return classifier, None
    classifier = classifier.recalibrated(texts, labels, in_domain=True)
    if target == "urgency":
        probabilities = [urgent_probability(p) for p in classifier.predict_many(texts)]
        truth = [label == "urgent" for label in labels]
        threshold = choose_threshold(probabilities, truth, max_false_rate=MAX_FALSE_URGENT)
        rates = binary_rates(probabilities, truth, threshold)
        classifier = classifier.with_metadata(
            {
                "urgent_threshold": round(threshold, 4),
                "dev_urgent_recall": round(rates.recall, 4),
                "dev_false_urgent_rate": round(rates.false_rate, 4),
            }
        )
        print(f"  dev: urgent threshold {threshold:.3f} recall {rates.recall:.3f} false {rates.false_rate:.3f}")
    report = evaluate(classifier, texts, labels)
    print(
        f"  dev (in domain): accuracy={report.accuracy:.3f} macro_f1={report.macro_f1:.3f} "
        f"ece={report.calibration_error:.3f} n={report.n}"
    )
    return classifier, report


def subset_report(test: Sequence[Example], predicted: Sequence[str], field: str, value: str) -> EvaluationReport | None:
    """The figures of the held-out rows whose `field` ("source" or "lang") is `value`."""
    pairs = [(e.label, p) for e, p in zip(test, predicted, strict=True) if getattr(e, field) == value]
    if not pairs:
        return None
    return evaluate_predictions([t for t, _ in pairs], [p for _, p in pairs])


def demo_labels(target: str) -> tuple[list[str], list[str]]:
    """The hand-written demo tickets (src/huiying/demo/samples.py) as an out-of-domain check."""
    texts = [f"{s.title}\n{s.description}" for s in SAMPLES]
    if target == "category":
        labels = [f"{s.category}/{s.subcategory}" if s.subcategory else s.category for s in SAMPLES]
    elif target == "priority":
        labels = [s.priority for s in SAMPLES]
    else:
        return [], []
    return texts, labels


def train_target(target: str, shared: Path, extra: Path, exclude: set[str], out: Path | None) -> Result:
    started = time.perf_counter()
    examples, status = build_examples(target, shared, extra, exclude)
    train, test = split(examples)
    print(f"\n=== {target}: {len(train)} train / {len(test)} held out ===", flush=True)
    for name, line in status.items():
        print(f"  {name}: {line}")
    classifier = TextClassifier.train(
        [e.text for e in train],
        [e.label for e in train],
        target=target,
        algorithm="linear_svm",
        class_weight="balanced",
        settings=SETTINGS,
        seed=SEED % 2**31,
        extra_metadata={
            "starter": True,
            "sources": {name: line for name, line in status.items()},
            "split_seed": SEED,
            "test_fraction": TEST_FRACTION,
            "card": "huiying/triage/starter/MODEL_CARD.md",
        },
    )
    classifier, dev_report = calibrated_in_domain(classifier, target)
    predicted = [p.label for p in classifier.predict_many([e.text for e in test])]
    report = evaluate_predictions([e.label for e in test], predicted)
    by_source = {
        name: r
        for name in sorted({e.source for e in test})
        if (r := subset_report(test, predicted, "source", name)) is not None
    }
    by_lang = {lang: r for lang in ("zh", "en") if (r := subset_report(test, predicted, "lang", lang)) is not None}
    texts, labels = demo_labels(target)
    demo = evaluate(classifier, texts, labels) if texts else None
    print(format_report(report))
    for name, sub in {**by_source, **by_lang}.items():
        print(f"  {name}: accuracy={sub.accuracy:.3f} macro_f1={sub.macro_f1:.3f} n={sub.n}")
    if demo is not None:
        print(f"  demo tickets (hand-written, out of domain): accuracy={demo.accuracy:.3f} n={demo.n}")
    size = 0
    path = None
    if out is not None:
        path = out / f"{target}.hym"
        model_store.save(classifier, path)
        size = path.stat().st_size
        print(f"  wrote {path} ({size / 1e6:.2f} MB)")
    return Result(
        target,
        path,
        len(train),
        len(test),
        report,
        by_source,
        by_lang,
        demo,
        dev_report,
        status,
        dict(sorted(Counter(e.label for e in train).items())),
        time.perf_counter() - started,
        size,
    )


def compare_per_language(target: str, shared: Path, extra: Path, exclude: set[str]) -> None:
    """One model per language against the joint model, on the same held-out rows."""
    examples, _status = build_examples(target, shared, extra, exclude)
    train, test = split(examples)
    joint = TextClassifier.train(
        [e.text for e in train],
        [e.label for e in train],
        class_weight="balanced",
        settings=SETTINGS,
        seed=SEED % 2**31,
    )
    for lang in ("zh", "en"):
        part_train = [e for e in train if e.lang == lang]
        part_test = [e for e in test if e.lang == lang]
        if len({e.label for e in part_train}) < 2 or not part_test:
            continue
        own = TextClassifier.train(
            [e.text for e in part_train],
            [e.label for e in part_train],
            class_weight="balanced",
            settings=SETTINGS,
            seed=SEED % 2**31,
        )
        texts, labels = [e.text for e in part_test], [e.label for e in part_test]
        a, b = evaluate(joint, texts, labels), evaluate(own, texts, labels)
        print(
            f"{target} {lang}: joint accuracy={a.accuracy:.3f} macro_f1={a.macro_f1:.3f} | "
            f"{lang}-only accuracy={b.accuracy:.3f} macro_f1={b.macro_f1:.3f} (n={a.n})"
        )


CARD_TEXT = """# Starter triage models

Four small text classifiers a fresh install uses on day one, before it has any tickets of its
own to learn from: **category** (`category.hym`), **priority** (`priority.hym`),
**sentiment** (`sentiment.hym`) and **urgency** (`urgency.hym`: urgent or not, with the
threshold chosen on held-out data). Each is one joint zh-CN + English model: jieba words and
character n-grams as TF-IDF, a linear SVM, temperature-scaled confidences
(`huiying.triage.classifier`). The files are in the safe `huiying.triage.model_store` format
(a zip of JSON and .npy arrays, never pickle); load them with
`huiying.triage.starter.load_starter("category")`.

Generated by `scripts/train_starter_models.py` (the figures below are from the run that wrote
the files); the data, licences and label mappings are in `docs/triage-data.md`.

## Labels

- category: every `category/subcategory` slug of the default taxonomy, and `other`.
- priority: urgent, high, medium, low. urgency: urgent, not_urgent.
- sentiment: angry, negative, neutral, positive.

## Training data and attribution

- **Our own written feedback** (`data/triage/train/written.jsonl`, in this repository): 3,000+
  texts as users of a dating app, a live-streaming app and a shop write them, each labelled
  with sub-category, priority and sentiment by its writer, who saw neither the rules nor the
  models (docs/triage-data.md says how it was made). All of it trains every model. The
  confidences are then calibrated (temperature) on the **dev** part of our frozen evaluation
  set, which also picks the urgency threshold; its **test** part is never read here
  (`bench/triage_feedback.py` reports it). The models are marked `in_domain`: the product
  trusts their confidence like a platform-trained model's.
- **BANKING77** (github.com/PolyAI-LDN/task-specific-datasets): category, priority and
  urgency, English. CC BY 4.0. Casanueva et al., "Efficient Intent Detection with Dual Sentence
  Encoders", NLP4ConvAI 2020.
- **online_shopping_10_cats** (github.com/SophonPlus/ChineseNlpCorpus): category, priority,
  urgency and sentiment, Chinese. No licence file; published for research use. SophonPlus
  ChineseNlpCorpus.
- **GoEmotions**, Ekman grouping (github.com/google-research/google-research, grouping by
  github.com/monologg/GoEmotions-pytorch): sentiment, English. Apache-2.0 (both repositories).
  Demszky et al., "GoEmotions: A Dataset of Fine-Grained Emotions", ACL 2020.
- **CLUEmotionAnalysis2020**, validation and test split (github.com/CLUEbenchmark/
  CLUEmotionAnalysis2020): sentiment, Chinese. No licence file. Li, Long, Lu and Li, "Emotion
  Corpus Construction Based on Selection from Hashtags", LREC 2016.
- **CrossWOZ**, user turns of the validation and test dialogues (github.com/thu-coai/CrossWOZ):
  Chinese "neutral" for sentiment. Apache-2.0. Zhu et al., "CrossWOZ: A Large-Scale Chinese
  Cross-Domain Task-Oriented Dialogue Dataset", TACL 2020.

The public sets are capped per label (`CAPS_BY_TARGET`) so that they add English and
vocabulary without drowning the in-domain rows; the caps were chosen on the dev split. Two
Chinese sets carry no licence file. The project ships weights trained on the online-shopping
reviews as its data README allows; CLUEmotion is in the same position and is used the same
way. If that is not acceptable, retrain without it: `--exclude cluemotion`.

## Held-out evaluation

Per-source and per-language figures are on the held-out rows of that source or language. Their
macro-F1 averages over every label that was either true or predicted there, so a source with
only two true labels (e.g. the reviews: positive/negative) shows a low macro-F1 whenever the
model answers a third label; read the accuracy there.

{{METRICS}}

## Known weaknesses

- The written feedback was written by a small number of writers; a platform's own users will
  write in ways they did not think of. The figures on our frozen test split
  (`bench/triage_feedback.py`) are the honest ones, and even they come from the same kind of
  writer as the training rows. Retrain on the platform's own labels as soon as there are
  enough (`huiying triage train`; the activation checks say when).
- **Sentiment** is the weakest: the line between "negative" and "angry" is one writers draw
  differently. The default rules catch demands and threats (12315, 曝光, "refund me now!").
- Public-set rows differ in style from feedback, so some of what the models learn is "which
  data set does this look like"; the held-out figures of the public sources below overstate
  accuracy on real tickets.
- Texts are cut at 4,000 characters (`features.MAX_TEXT_CHARS`).

## Retraining

    python scripts/fetch_training_data.py      # GoEmotions, CLUEmotion, CrossWOZ into var/
    python scripts/train_starter_models.py     # writes the four .hym files and this card

Fixed seeds: a re-run on the same data gives the same predictions (the files differ only in
their `trained_at` time).
"""


# --- model card ---------------------------------------------------------------------------------


def card_table(report: EvaluationReport) -> list[str]:
    lines = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label, m in report.per_class.items():
        lines.append(f"| {label} | {m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} | {m.support} |")
    return lines


def write_card(results: Sequence[Result], out: Path, template: str) -> None:
    sections = []
    for r in results:
        rows = [
            f"### {r.target} (`{r.path.name if r.path else '-'}`, {r.size / 1e6:.2f} MB)",
            "",
            f"Trained on {r.n_train} examples, evaluated on {r.n_test} held-out examples "
            f"(stratified by label and source, seed {SEED}, {TEST_FRACTION:.0%}).",
            "",
            f"**Held out: accuracy {r.report.accuracy:.3f}, macro-F1 {r.report.macro_f1:.3f}.**",
            "",
            *[
                f"- {name}: accuracy {s.accuracy:.3f}, macro-F1 {s.macro_f1:.3f} (n={s.n})"
                for name, s in {**r.by_source, **r.by_lang}.items()
            ],
        ]
        if r.dev is not None:
            rows.append(
                f"- **the dev part of our frozen evaluation set** (in domain, not trained on; the "
                f"confidences are calibrated on it): accuracy {r.dev.accuracy:.3f}, macro-F1 "
                f"{r.dev.macro_f1:.3f}, calibration error {r.dev.calibration_error or 0:.3f} (n={r.dev.n})"
            )
        if r.demo is not None:
            rows.append(
                f"- the {r.demo.n} hand-written demo tickets (`huiying.demo.samples`, out of "
                f"domain, not training data): accuracy {r.demo.accuracy:.3f}"
            )
        rows += ["", *card_table(r.report), "", f"Training examples per label: {r.counts}", ""]
        sections.append("\n".join(rows))
    card = template.replace("{{METRICS}}", "\n".join(sections).rstrip())
    (out / "MODEL_CARD.md").write_text(card, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--extra-data", type=Path, default=ROOT / "var" / "training-data")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "huiying" / "triage" / "starter")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--exclude", default="", help="sources to leave out, comma-separated")
    parser.add_argument("--compare-per-language", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="train and evaluate, write nothing")
    parser.add_argument("--written", type=Path, help="our written training rows (JSONL)")
    parser.add_argument("--dev", type=Path, help="the dev split that calibrates (JSONL)")
    args = parser.parse_args(argv)
    global WRITTEN, DEV
    WRITTEN, DEV = args.written or WRITTEN, args.dev or DEV
    targets = [t for t in args.targets.split(",") if t]
    exclude = {s for s in args.exclude.split(",") if s}
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets {sorted(unknown)}")
    random.seed(SEED)
    try:
        if args.compare_per_language:
            for target in targets:
                compare_per_language(target, args.shared_data, args.extra_data, exclude)
            return 0
        out = None if args.dry_run else args.out
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        results = [train_target(t, args.shared_data, args.extra_data, exclude, out) for t in targets]
    except MissingSource as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if out is not None and set(targets) == set(TARGETS):
        write_card(results, out, CARD_TEXT)
        print(f"wrote {out / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
