"""The starter models a fresh install triages with: category, priority, sentiment and urgency.

Trained by scripts/train_starter_models.py from public labelled data; what they can and cannot
do is in MODEL_CARD.md beside this file. The files are model_store archives (`<target>.hym`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from huiying.triage import model_store
from huiying.triage.classifier import TextClassifier
from huiying.triage.engine import LoadedModel

STARTER_TARGETS: tuple[str, ...] = ("category", "priority", "sentiment", "urgency")


def starter_path(target: str) -> Path:
    """Path of the shipped model file of `target` (ValueError for an unknown target)."""
    if target not in STARTER_TARGETS:
        raise ValueError(f"no starter model for {target!r} (one of {', '.join(STARTER_TARGETS)})")
    return Path(str(resources.files(__name__).joinpath(f"{target}.hym")))


def load_starter(target: str) -> TextClassifier:
    """The shipped starter model of `target`, loaded and checked by model_store."""
    return model_store.load(starter_path(target))


def starter_models() -> dict[str, LoadedModel]:
    """Every starter model as the engine takes them: what a fresh install decides with."""
    return {target: LoadedModel(load_starter(target), 0, False) for target in STARTER_TARGETS}
