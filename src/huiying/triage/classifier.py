"""Text classifier for triage: TF-IDF features, a linear model and temperature-scaled confidence."""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from huiying.triage.features import FeatureSettings, FeatureSpace, shared_vocabulary

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
Algorithm = Literal["linear_svm", "logistic"]
FloatArray = npt.NDArray[np.float32]

ALGORITHMS: tuple[Algorithm, ...] = ("linear_svm", "logistic")
# Above this many coefficients (features x classes) the vocabularies are shrunk at training time,
# which keeps a float16 model file under about 18 MB whatever the number of classes.
MAX_COEFFICIENTS = 8_000_000
DEFAULT_C_GRID = (0.1, 0.3, 1.0)
_LOG_T_BOUNDS = (-6.0, 4.0)


@dataclass(frozen=True)
class Prediction:
    """A label, its confidence in [0, 1], and the best alternatives (label, probability)."""

    label: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]


class TextClassifier:
    """A fitted text classifier; predicts with numpy only, from arrays that model_store saves."""

    def __init__(
        self,
        features: FeatureSpace,
        classes: Sequence[str],
        coef: npt.NDArray[np.floating],
        intercept: npt.NDArray[np.floating],
        temperature: float,
        metadata: Mapping[str, JsonValue],
    ) -> None:
        classes = tuple(classes)
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError("classes must be at least two distinct labels")
        if not all(isinstance(c, str) for c in classes):
            raise ValueError("classes must be strings")
        if coef.shape != (features.n_features, len(classes)):
            raise ValueError(f"coef shape {coef.shape} != (n_features, n_classes)")
        if intercept.shape != (len(classes),):
            raise ValueError(f"intercept shape {intercept.shape} != (n_classes,)")
        if coef.dtype not in (np.float16, np.float32) or intercept.dtype != np.float32:
            raise ValueError("coef must be float16/float32 and intercept float32")
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise ValueError("coefficients must be finite")
        if not (math.isfinite(temperature) and temperature > 0.0):
            raise ValueError("temperature must be a positive finite number")
        self.features = features
        self._classes = classes
        # The stored dtype (float16 saves half the file) is the truth; scoring runs in float32.
        self.coef = coef
        self._coef32: FloatArray = coef.astype(np.float32)
        self.intercept: FloatArray = intercept
        self.temperature = float(temperature)
        self._metadata: dict[str, JsonValue] = dict(metadata)

    @property
    def classes(self) -> tuple[str, ...]:
        """The labels this classifier can answer, in column order."""
        return self._classes

    @property
    def metadata(self) -> dict[str, JsonValue]:
        """A copy of the training metadata (algorithm, n_train, trained_at, target, ...)."""
        return dict(self._metadata)

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        target: str = "category",
        algorithm: Algorithm = "linear_svm",
        c: float | None = None,
        c_grid: Sequence[float] = DEFAULT_C_GRID,
        class_weight: Literal["balanced"] | None = None,
        settings: FeatureSettings | None = None,
        coef_dtype: Literal["float16", "float32"] = "float16",
        calibration_folds: int = 3,
        seed: int = 0,
        extra_metadata: Mapping[str, JsonValue] | None = None,
    ) -> TextClassifier:
        """Fit features and a linear model; pick C and the temperature by cross-validation."""
        started = time.perf_counter()
        texts, labels = list(texts), list(labels)
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {algorithm!r}")
        if not all(isinstance(t, str) for t in texts) or not all(isinstance(label, str) for label in labels):
            raise ValueError("texts and labels must be strings")
        classes = tuple(sorted(set(labels)))
        if len(classes) < 2:
            raise ValueError("training needs at least two distinct labels")
        column = {label: i for i, label in enumerate(classes)}
        y = np.fromiter((column[label] for label in labels), dtype=np.int64, count=len(labels))
        settings = _fit_budget(settings or FeatureSettings(), len(classes))
        features, matrix = FeatureSpace.fit(texts, settings)

        candidates = [c] if c is not None else list(c_grid)
        if not candidates or any(not (v > 0) for v in candidates):
            raise ValueError("C values must be positive")
        folds = min(calibration_folds, int(np.bincount(y).min()))
        if folds >= 2:
            chosen_c, temperature, cv_accuracy = _cross_validate(
                algorithm, candidates, class_weight, matrix, y, folds, seed
            )
        else:
            # Too few examples per class to hold any back: keep raw scores.
            chosen_c, temperature, cv_accuracy = candidates[-1], 1.0, None
        model = _make_model(algorithm, chosen_c, class_weight, seed).fit(matrix, y)
        coef, intercept = _columns(model, len(classes))

        metadata: dict[str, JsonValue] = {
            "target": target,
            "algorithm": f"{algorithm}+temperature",
            "C": chosen_c,
            "class_weight": class_weight,
            "temperature": temperature,
            "cv_accuracy": cv_accuracy,
            "cv_folds": folds if folds >= 2 else 0,
            "n_train": len(texts),
            "n_classes": len(classes),
            "class_counts": {label: int(n) for label, n in sorted(Counter(labels).items())},
            "n_features": features.n_features,
            "n_word_features": features.word.size,
            "n_char_features": features.char.size,
            "coef_dtype": coef_dtype,
            "seed": seed,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_seconds": round(time.perf_counter() - started, 3),
        }
        metadata.update(extra_metadata or {})
        return cls(
            features,
            classes,
            coef.astype(coef_dtype),
            intercept.astype(np.float32),
            temperature,
            metadata,
        )

    def with_metadata(self, extra: Mapping[str, JsonValue]) -> TextClassifier:
        """The same model with `extra` added to its metadata."""
        return TextClassifier(
            self.features, self._classes, self.coef, self.intercept, self.temperature, {**self._metadata, **extra}
        )

    def recalibrated(self, texts: Sequence[str], labels: Sequence[str], **extra: JsonValue) -> TextClassifier:
        """The same model with its temperature fitted on held-out `texts` (labels it knows);
        e.g. a model trained mostly on other domains, calibrated on in-domain feedback."""
        column = {label: i for i, label in enumerate(self._classes)}
        rows = [(t, column[label]) for t, label in zip(texts, labels, strict=True) if label in column]
        if not rows:
            raise ValueError("no held-out row has a label this model knows")
        raw = np.vstack([self._raw(*self.features.transform_one(t)) for t, _ in rows])
        y = np.fromiter((c for _, c in rows), dtype=np.int64, count=len(rows))
        temperature = fit_temperature(raw, y)
        metadata = {**self._metadata, **extra, "temperature": temperature, "calibrated_on": len(rows)}
        return TextClassifier(self.features, self._classes, self.coef, self.intercept, temperature, metadata)

    def scores(self, text: str) -> npt.NDArray[np.float64]:
        """Class probabilities of `text`, in the order of `classes`."""
        return self._probabilities(*self.features.transform_one(text))

    def _raw(self, indices: npt.NDArray[np.int32], values: FloatArray) -> npt.NDArray[np.float64]:
        raw: npt.NDArray[np.float64] = (values @ self._coef32[indices] + self.intercept).astype(np.float64)
        return raw

    def _probabilities(self, indices: npt.NDArray[np.int32], values: FloatArray) -> npt.NDArray[np.float64]:
        logits = self._raw(indices, values) / self.temperature
        logits -= logits.max()
        exp = np.exp(logits)
        probabilities: npt.NDArray[np.float64] = exp / exp.sum()
        return probabilities

    def predict(self, text: str, *, top_k: int = 3) -> Prediction:
        """The most probable label of `text`, its probability, and the `top_k` best labels."""
        return self._prediction(self.scores(text), top_k)

    def _prediction(self, probabilities: npt.NDArray[np.float64], top_k: int) -> Prediction:
        order = np.argsort(-probabilities, kind="stable")[: max(1, top_k)]
        alternatives = tuple((self._classes[i], float(probabilities[i])) for i in order)
        return Prediction(alternatives[0][0], alternatives[0][1], alternatives)

    def predict_many(self, texts: Sequence[str], *, top_k: int = 3) -> list[Prediction]:
        """`predict` for each text (row by row, so results equal single predictions exactly)."""
        return [self.predict(text, top_k=top_k) for text in texts]


def predict_each(classifiers: Sequence[TextClassifier], text: str, *, top_k: int = 3) -> list[Prediction]:
    """`predict(text)` of each classifier, equal to calling it; classifiers with the same feature
    settings cut the text once and look its terms up in one shared vocabulary."""
    groups: dict[FeatureSettings, list[int]] = {}
    for i, classifier in enumerate(classifiers):
        groups.setdefault(classifier.features.settings, []).append(i)
    predictions: dict[int, Prediction] = {}
    for members in groups.values():
        rows = shared_vocabulary(tuple(classifiers[i].features for i in members)).rows(text)
        for i, (indices, values) in zip(members, rows, strict=True):
            classifier = classifiers[i]
            predictions[i] = classifier._prediction(classifier._probabilities(indices, values), top_k)
    return [predictions[i] for i in range(len(classifiers))]


def _fit_budget(settings: FeatureSettings, n_classes: int) -> FeatureSettings:
    """Shrink max_features so features x classes stays under MAX_COEFFICIENTS."""
    total = settings.word_max_features + settings.char_max_features
    if total * n_classes <= MAX_COEFFICIENTS:
        return settings
    scale = MAX_COEFFICIENTS / (total * n_classes)
    return dataclasses.replace(
        settings,
        word_max_features=max(1, int(settings.word_max_features * scale)),
        char_max_features=max(1, int(settings.char_max_features * scale)),
    )


def _make_model(
    algorithm: Algorithm, c: float, class_weight: Literal["balanced"] | None, seed: int
) -> LinearSVC | LogisticRegression:
    """An unfitted scikit-learn linear model."""
    if algorithm == "linear_svm":
        return LinearSVC(C=c, class_weight=class_weight, random_state=seed, max_iter=5000)
    return LogisticRegression(C=c, class_weight=class_weight, random_state=seed, max_iter=2000)


def _as_matrix(decision: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Binary models give one score column; make it two symmetric columns."""
    scores = np.asarray(decision, dtype=np.float64)
    if scores.ndim == 1:
        return np.column_stack([-scores / 2.0, scores / 2.0])
    return scores


def _columns(
    model: LinearSVC | LogisticRegression, n_classes: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Coefficients as (n_features, n_classes) and intercepts, binary models expanded."""
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64).reshape(-1)
    if n_classes == 2 and coef.shape[0] == 1:
        coef = np.vstack([-coef / 2.0, coef / 2.0])
        intercept = np.array([-intercept[0] / 2.0, intercept[0] / 2.0])
    return coef.T.copy(), intercept


def _cross_validate(
    algorithm: Algorithm,
    candidates: Sequence[float],
    class_weight: Literal["balanced"] | None,
    matrix: sp.csr_matrix,
    y: npt.NDArray[np.int64],
    folds: int,
    seed: int,
) -> tuple[float, float, float]:
    """Best C by out-of-fold accuracy, and the temperature fitted on its out-of-fold scores."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    best: tuple[float, float, npt.NDArray[np.float64]] | None = None
    for c in candidates:
        model = _make_model(algorithm, c, class_weight, seed)
        decision = cross_val_predict(model, matrix, y, cv=splitter, method="decision_function")
        scores = _as_matrix(decision)
        accuracy = float((scores.argmax(axis=1) == y).mean())
        if best is None or accuracy > best[1]:
            best = (c, accuracy, scores)
    assert best is not None
    chosen_c, accuracy, scores = best
    return chosen_c, fit_temperature(scores, y), accuracy


def fit_temperature(scores: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> float:
    """The T minimising the negative log-likelihood of softmax(scores / T) on held-out rows."""
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-log_softmax(scores / math.exp(log_t), axis=1)[rows, y].mean())

    result = minimize_scalar(nll, bounds=_LOG_T_BOUNDS, method="bounded")
    return float(math.exp(float(result.x)))
