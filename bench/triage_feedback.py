"""The whole triage decision on our own written feedback (data/triage/eval/, docs/triage-data.md).

Rules only, models only and the two combined as the product runs them (default rules, starter
models, the settings' default thresholds), on the dev or the frozen test split: category,
sub-category, priority and sentiment with per-class precision/recall, the top confusions,
urgent recall and false-urgent rate, the share sent to a person, calibration error of each
starter model, and the latency of one decision.

Usage: python bench/triage_feedback.py [--split test|dev] [--calls N]
(also: python bench/triage.py --feedback test)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from huiying.config import Settings
from huiying.kit.text import warm_up
from huiying.triage import model_store
from huiying.triage.classifier import TextClassifier
from huiying.triage.default_rules import DEFAULT_RULES
from huiying.triage.engine import Given, LoadedModel, Triage, decide, urgent_probability, urgent_threshold
from huiying.triage.evaluation import binary_rates, evaluate, format_report
from huiying.triage.rules import RuleSet
from huiying.triage.scorecard import Row, Scorecard, score
from huiying.triage.starter import STARTER_TARGETS, load_starter

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "data" / "triage" / "eval"


def rows_of(split: str) -> list[dict[str, str]]:
    with (EVAL / f"{split}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


MODELS: Path | None = None  # --models: a directory of .hym files instead of the shipped starters


def starter(target: str) -> TextClassifier:
    return model_store.load(MODELS / f"{target}.hym") if MODELS else load_starter(target)


def deciders() -> dict[str, Callable[[str], Triage]]:
    """Rules only, models only, combined: each a text -> Triage function."""
    settings = Settings()
    rules = RuleSet.compile(DEFAULT_RULES)
    models = {t: LoadedModel(starter(t), 0, False) for t in STARTER_TARGETS}
    options = {"min_confidence": settings.triage_min_confidence, "model_trust": settings.triage_model_trust}
    given = Given(channel="app")

    def rules_only(text: str) -> Triage:
        return decide(text, rules=rules, models={}, given=given, **options)

    def models_only(text: str) -> Triage:
        return decide(text, rules=None, models=models, given=given, **options)

    def combined(text: str) -> Triage:
        return decide(text, rules=rules, models=models, given=given, **options)

    return {"rules only": rules_only, "models only": models_only, "combined": combined}


def indented(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def starter_figures(rows: Sequence[Row]) -> None:
    texts = [r["text"] for r in rows]
    for target in STARTER_TARGETS:
        model = starter(target)
        if target == "urgency":
            truth = [r["priority"] == "urgent" for r in rows]
            probabilities = [urgent_probability(p) for p in model.predict_many(texts)]
            threshold = urgent_threshold(LoadedModel(model, 0, False))
            rates = binary_rates(probabilities, truth, threshold)
            print(
                f"  urgency model alone (threshold {threshold:.3f}): recall {rates.recall:.3f}, "
                f"false urgent {rates.false_rate:.3f}, precision {rates.precision:.3f}"
            )
            labels = ["urgent" if t else "not_urgent" for t in truth]
        else:
            labels = [r["label"] if target == "category" else r[target] for r in rows]
        report = evaluate(model, texts, labels)
        print(
            f"  {target} model alone: accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}, "
            f"calibration error {report.calibration_error:.3f}"
        )


def latency(decider: Callable[[str], Triage], texts: Sequence[str], calls: int) -> tuple[float, float]:
    for text in texts[:50]:
        decider(text)
    timings = []
    for i in range(calls):
        started = time.perf_counter()
        decider(texts[i % len(texts)])
        timings.append(time.perf_counter() - started)
    p50, p99 = np.percentile(np.array(timings) * 1000.0, [50, 99])
    return float(p50), float(p99)


def report(split: str, calls: int) -> int:
    rows = rows_of(split)
    warm_up()
    print(
        f"== our written feedback, {split} split: {len(rows)} rows "
        f"({sum(r['lang'] == 'zh' for r in rows)} zh, {sum(r['lang'] == 'en' for r in rows)} en, "
        f"{sum(r['priority'] == 'urgent' for r in rows)} urgent)"
    )
    cards: dict[str, Scorecard] = {}
    chosen = deciders()
    for name, decider in chosen.items():
        cards[name] = card = score(rows, decider)
        print(f"  {name:<12} {card.summary()}")
        for lang in ("zh", "en"):
            sub = [r for r in rows if r["lang"] == lang]
            print(f"    {lang}: {score(sub, decider).summary()}")
    hard = [r for r in rows if r.get("hard_negative")]
    if hard:
        print(f"  hard negatives, combined: {score(hard, chosen['combined']).summary()}")
    starter_figures(rows)
    combined = cards["combined"]
    for title, part in (
        ("sub-category", combined.subcategory),
        ("category", combined.category),
        ("priority", combined.priority),
        ("sentiment", combined.sentiment),
    ):
        print(f"\n  combined, {title}:")
        print(indented(format_report(part)))
    texts = [r["text"] for r in rows]
    p50, p99 = latency(chosen["combined"], texts, calls)
    print(f"\n  one combined decision: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({calls} calls)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--models", type=Path, help="a directory of .hym files (default: the shipped starters)")
    args = parser.parse_args(argv)
    global MODELS
    MODELS = args.models
    return report(args.split, args.calls)


if __name__ == "__main__":
    sys.exit(main())
