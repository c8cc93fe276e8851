"""Our written triage data (docs/triage-data.md): the evaluation split is frozen, big enough
for the aims of issue 19, and shares no text with the training rows."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from huiying.categories.defaults import DEFAULT_CATEGORIES
from huiying.kit.text import normalise

DATA = Path(__file__).resolve().parents[2] / "data" / "triage"
MANIFEST = json.loads((DATA / "MANIFEST.json").read_text(encoding="utf-8"))
LABELS = {"other"} | {f"{p.slug}/{c.slug}" for p, children in DEFAULT_CATEGORIES for c in children}


def rows(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def key(text: str) -> str:
    return "".join(normalise(text).split())


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_the_files_are_the_frozen_ones(name: str) -> None:
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == MANIFEST["files"][name]["sha256"], (
        f"{name} changed after the split was frozen: the test split must never be edited or re-split"
    )


def test_the_evaluation_set_is_as_big_and_varied_as_issue_19_asks() -> None:
    evaluation = rows("eval/dev.jsonl") + rows("eval/test.jsonl")
    langs = Counter(r["lang"] for r in evaluation)
    assert langs["zh"] >= 800 and langs["en"] >= 100
    per_label = Counter(r["label"] for r in evaluation)
    assert set(per_label) == LABELS
    assert min(per_label.values()) >= 25, per_label.most_common()[-3:]
    assert sum(r["priority"] == "urgent" for r in evaluation) >= 150
    assert sum(1 for r in evaluation if r.get("hard_negative")) >= 50
    assert {r["sentiment"] for r in evaluation} == {"angry", "negative", "neutral", "positive"}


def test_no_text_is_in_two_places() -> None:
    dev = {key(r["text"]) for r in rows("eval/dev.jsonl")}
    test = {key(r["text"]) for r in rows("eval/test.jsonl")}
    train = {key(r["text"]) for r in rows("train/written.jsonl")}
    assert not dev & test
    assert not (dev | test) & train


def test_every_label_is_in_both_evaluation_splits() -> None:
    for name in ("eval/dev.jsonl", "eval/test.jsonl"):
        assert {r["label"] for r in rows(name)} == LABELS, name
