"""Benchmark of the triage classifier against a plain TF-IDF + LogisticRegression baseline.

Data sets (read from --data, default /work/shared/data, never copied into the repo):
  banking77     BANKING77 (PolyAI, CC BY 4.0), official train/test split, 77 intents
  zh-sentiment  online_shopping_10_cats (SophonPlus/ChineseNlpCorpus, research use), label 0/1,
                stratified 80/20 split with a fixed seed
  zh-topic      the same reviews, cat (10 product categories), stratified 80/20 split

Usage: python bench/triage.py [--only banking77 ...] [--limit N] [--data DIR]
       python bench/triage.py --feedback test     (our written feedback: bench/triage_feedback.py)
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from huiying.kit.text import segment, warm_up
from huiying.triage.classifier import TextClassifier
from huiying.triage.evaluation import (
    evaluate,
    evaluate_predictions,
    expected_calibration_error,
    format_report,
    stratified_split,
)
from huiying.triage.model_store import load, save

SEED = 0
Dataset = tuple[list[str], list[str], list[str], list[str]]


def load_banking77(data: Path) -> Dataset:
    """The official BANKING77 train and test files."""

    def read(name: str) -> tuple[list[str], list[str]]:
        with (data / "banking77" / name).open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return [r["text"] for r in rows], [r["category"] for r in rows]

    train_x, train_y = read("train.csv")
    test_x, test_y = read("test.csv")
    return train_x, train_y, test_x, test_y


def load_reviews(data: Path, column: str) -> Dataset:
    """Chinese reviews with `column` as the label, split 80/20 stratified by a fixed seed."""
    path = data / "chinese-reviews" / "online_shopping_10_cats.zip"
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        with archive.open(name) as raw:
            rows = list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig")))
    rows = [r for r in rows if r["review"] and r["review"].strip()]
    split = stratified_split([r["review"] for r in rows], [r[column] for r in rows], test_fraction=0.2, seed=SEED)
    return split.train_texts, split.train_labels, split.test_texts, split.test_labels


DATASETS: dict[str, Callable[[Path], Dataset]] = {
    "banking77": load_banking77,
    "zh-sentiment": lambda data: load_reviews(data, "label"),
    "zh-topic": lambda data: load_reviews(data, "cat"),
}


def limit(texts: list[str], labels: list[str], n: int | None) -> tuple[list[str], list[str]]:
    """A seeded random subset of at most n rows."""
    if n is None or n >= len(texts):
        return texts, labels
    keep = sorted(np.random.default_rng(SEED).permutation(len(texts))[:n].tolist())
    return [texts[i] for i in keep], [labels[i] for i in keep]


@dataclass
class Result:
    name: str
    n_train: int
    n_test: int
    base_acc: float
    base_f1: float
    base_seconds: float
    acc: float
    f1: float
    train_seconds: float
    size_mb: float
    load_ms: float
    p50_ms: float
    p99_ms: float
    p50_300_ms: float
    p99_300_ms: float


def baseline(dataset: Dataset) -> tuple[float, float, float]:
    """Default TfidfVectorizer on jieba-joined text + default LogisticRegression."""
    train_x, train_y, test_x, test_y = dataset
    started = time.perf_counter()
    vectorizer = TfidfVectorizer()
    matrix = vectorizer.fit_transform([" ".join(segment(t)) for t in train_x])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = LogisticRegression().fit(matrix, train_y)
    seconds = time.perf_counter() - started
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        print("  baseline: LogisticRegression hit its default max_iter (not converged)")
    predicted = model.predict(vectorizer.transform([" ".join(segment(t)) for t in test_x]))
    report = evaluate_predictions(test_y, [str(p) for p in predicted])
    return report.accuracy, report.macro_f1, seconds


def latencies(model: TextClassifier, texts: list[str], calls: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds of single predict() calls over `texts`, cycled."""
    for text in texts[:50]:
        model.predict(text)
    timings = []
    for i in range(calls):
        text = texts[i % len(texts)]
        started = time.perf_counter()
        model.predict(text)
        timings.append(time.perf_counter() - started)
    p50, p99 = np.percentile(np.array(timings) * 1000.0, [50, 99])
    return float(p50), float(p99)


def tickets_of(texts: list[str], size: int = 300, count: int = 200) -> list[str]:
    """Texts of about `size` characters, made by joining consecutive test texts."""
    tickets: list[str] = []
    current = ""
    for text in texts:
        current = f"{current} {text}".strip()
        if len(current) >= size:
            tickets.append(current[:size])
            current = ""
            if len(tickets) == count:
                break
    return tickets or [(" ".join(texts))[:size]]


def calibration(model: TextClassifier, texts: list[str], labels: list[str]) -> str:
    """Expected calibration error and what a 0.8 confidence threshold would keep."""
    predictions = model.predict_many(texts)
    confidence = np.array([p.confidence for p in predictions])
    correct = np.array([p.label == y for p, y in zip(predictions, labels, strict=True)])
    ece = expected_calibration_error(confidence.tolist(), correct.tolist())
    kept = confidence >= 0.8
    kept_acc = correct[kept].mean() if kept.any() else float("nan")
    return (
        f"ECE={ece:.3f}; confidence>=0.8 keeps {kept.mean():.1%} of tickets "
        f"at accuracy {kept_acc:.3f}, sends {1 - kept.mean():.1%} to a human"
    )


def run(name: str, dataset: Dataset, calls: int) -> Result:
    """Baseline and TextClassifier figures for one data set."""
    train_x, train_y, test_x, test_y = dataset
    print(f"== {name}: n_train={len(train_x)} n_test={len(test_x)}", flush=True)
    base_acc, base_f1, base_seconds = baseline(dataset)
    print(f"  baseline accuracy={base_acc:.3f} macro_f1={base_f1:.3f} ({base_seconds:.1f}s)")

    started = time.perf_counter()
    model = TextClassifier.train(train_x, train_y, target=name)
    train_seconds = time.perf_counter() - started
    meta = model.metadata
    print(
        f"  trained in {train_seconds:.1f}s: C={meta['C']} T={model.temperature:.4f} "
        f"cv_accuracy={meta['cv_accuracy']} features={meta['n_word_features']}w"
        f"+{meta['n_char_features']}c"
    )
    report = evaluate(model, test_x, test_y)
    print("  " + format_report(report).splitlines()[-1])
    print("  " + calibration(model, test_x, test_y))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.hym"
        save(model, path)
        size_mb = path.stat().st_size / 1e6
        load_times = []
        for _ in range(3):
            started = time.perf_counter()
            loaded = load(path)
            load_times.append(time.perf_counter() - started)
    sample = test_x[:300]
    if loaded.predict_many(sample) != model.predict_many(sample):
        print("  ERROR: loaded model predicts differently", file=sys.stderr)
    p50, p99 = latencies(loaded, test_x, calls)
    p50_300, p99_300 = latencies(loaded, tickets_of(test_x), calls)
    print(
        f"  model {size_mb:.2f} MB, load {statistics.median(load_times) * 1000:.0f} ms, "
        f"predict p50/p99 {p50:.2f}/{p99:.2f} ms, 300-char tickets {p50_300:.2f}/{p99_300:.2f} ms",
        flush=True,
    )
    return Result(
        name,
        len(train_x),
        len(test_x),
        base_acc,
        base_f1,
        base_seconds,
        report.accuracy,
        report.macro_f1,
        train_seconds,
        size_mb,
        statistics.median(load_times) * 1000,
        p50,
        p99,
        p50_300,
        p99_300,
    )


def table(results: list[Result]) -> str:
    """The compact summary table."""
    header = (
        f"{'data set':<13} {'n_train':>7} {'n_test':>6} | {'base acc':>8} {'base F1':>7} "
        f"{'base s':>6} | {'acc':>5} {'F1':>5} {'train s':>7} {'MB':>5} {'load ms':>7} "
        f"{'p50 ms':>6} {'p99 ms':>6} {'300ch p50/p99':>13}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<13} {r.n_train:>7} {r.n_test:>6} | {r.base_acc:>8.3f} {r.base_f1:>7.3f} "
            f"{r.base_seconds:>6.1f} | {r.acc:>5.3f} {r.f1:>5.3f} {r.train_seconds:>7.1f} "
            f"{r.size_mb:>5.2f} {r.load_ms:>7.0f} {r.p50_ms:>6.2f} {r.p99_ms:>6.2f} "
            f"{f'{r.p50_300_ms:.2f}/{r.p99_300_ms:.2f}':>13}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--only", action="append", choices=sorted(DATASETS))
    parser.add_argument("--limit", type=int, help="at most N train and N test rows per set")
    parser.add_argument("--calls", type=int, default=1000, help="predict() calls timed")
    parser.add_argument(
        "--feedback",
        choices=("dev", "test"),
        help="instead: the whole decision on our written feedback (bench/triage_feedback.py)",
    )
    args = parser.parse_args()
    if args.calls < 1:
        parser.error("--calls must be positive")
    if args.feedback:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import triage_feedback

        return triage_feedback.main(["--split", args.feedback, "--calls", str(args.calls)])
    warm_up()
    results = []
    for name in args.only or list(DATASETS):
        try:
            train_x, train_y, test_x, test_y = DATASETS[name](args.data)
        except FileNotFoundError as exc:
            print(f"== {name}: skipped, data not found ({exc.filename})")
            continue
        train_x, train_y = limit(train_x, train_y, args.limit)
        test_x, test_y = limit(test_x, test_y, args.limit)
        results.append(run(name, (train_x, train_y, test_x, test_y), args.calls))
    if results:
        print()
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
