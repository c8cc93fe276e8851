"""Model files: exact round trips, and refusal of corrupt, truncated or hostile files."""

from __future__ import annotations

import io
import json
import pickle
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiying.triage.classifier import TextClassifier
from huiying.triage.model_store import (
    ModelFormatError,
    from_bytes,
    load,
    save,
    to_bytes,
)

EXAMPLES = {
    "angry": ["太差劲了，气死我了！", "This is outrageous, I am furious!", "垃圾服务，再也不买了"],
    "positive": ["非常满意，谢谢你们", "Great service, thank you so much", "很好用，五星好评"],
    "neutral": ["请问什么时候发货", "When does the shop open?", "我想咨询一下发票"],
}
PROBES = [
    "气死我了，垃圾",
    "thank you, great",
    "发票怎么开",
    "",
    "完全无关的一句话 unrelated words",
    "ＦＵＬＬ　ＷＩＤＴＨ　ｔｅｘｔ",
]


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    texts = [t for examples in EXAMPLES.values() for t in examples]
    labels = [label for label, examples in EXAMPLES.items() for _ in examples]
    return TextClassifier.train(texts, labels, target="sentiment", extra_metadata={"k": [1, "二"]})


@pytest.fixture(scope="module")
def data(model: TextClassifier) -> bytes:
    return to_bytes(model)


def _same_predictions(a: TextClassifier, b: TextClassifier) -> None:
    assert a.classes == b.classes
    for text in PROBES:
        assert a.predict(text, top_k=3) == b.predict(text, top_k=3)
        assert np.array_equal(a.scores(text), b.scores(text))


def test_round_trip_bytes_is_exact(model: TextClassifier, data: bytes) -> None:
    loaded = from_bytes(data)
    _same_predictions(model, loaded)
    assert loaded.metadata == model.metadata
    assert loaded.metadata["k"] == [1, "二"]
    assert loaded.temperature == model.temperature
    assert loaded.features.settings == model.features.settings


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("垃圾服务太好了谢发票 thankyougreatfurious!，。1"), max_size=40))
def test_round_trip_is_exact_for_any_text(model: TextClassifier, data: bytes, text: str) -> None:
    loaded = from_bytes(data)
    prediction = loaded.predict(text)
    assert prediction == model.predict(text)
    assert 0.0 <= prediction.confidence <= 1.0


def test_round_trip_path_and_file_objects(model: TextClassifier, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.hym"
    save(model, path)
    assert path.read_bytes() == data  # same model, same bytes
    assert [p.name for p in tmp_path.iterdir()] == ["model.hym"]  # no temporary file left
    _same_predictions(model, load(path))
    _same_predictions(model, load(str(path)))
    _same_predictions(model, load(data))
    buffer = io.BytesIO()
    save(model, buffer)
    buffer.seek(0)
    _same_predictions(model, load(buffer))


def test_coefficients_are_float16_by_default(model: TextClassifier, data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        header = archive.read("coef.npy")[:128]
    assert b"'<f2'" in header
    assert model.coef.dtype == np.float16


def test_load_is_fast(data: bytes) -> None:
    started = time.perf_counter()
    from_bytes(data)
    assert time.perf_counter() - started < 1.0


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _manifest_edit(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], None]:
    def apply(members: dict[str, bytes]) -> None:
        manifest = json.loads(members["model.json"])
        edit(manifest)
        members["model.json"] = json.dumps(manifest).encode()

    return apply


class _Boom:
    """Unpickling this would create a file: the loader must never get that far."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


def _coef(members: dict[str, bytes]) -> np.ndarray:
    return np.load(io.BytesIO(members["coef.npy"]), allow_pickle=False)


MUTATIONS: dict[str, Callable[[dict[str, bytes]], None]] = {
    "extra pickle member": lambda m: m.update({"model.pkl": pickle.dumps({"a": 1})}),
    "missing member": lambda m: m.pop("intercept.npy"),
    "object array": lambda m: m.update({"coef.npy": _npy(np.array([{"a": 1}], dtype=object))}),
    "float64 coef": lambda m: m.update({"coef.npy": _npy(_coef(m).astype(np.float64))}),
    "int coef": lambda m: m.update({"coef.npy": _npy(_coef(m).astype(np.int32))}),
    "big-endian coef": lambda m: m.update({"coef.npy": _npy(_coef(m).astype(">f2"))}),
    "transposed coef": lambda m: m.update({"coef.npy": _npy(_coef(m).T.copy())}),
    "too few rows": lambda m: m.update({"coef.npy": _npy(_coef(m)[:-1])}),
    "nan coef": lambda m: m.update({"coef.npy": _npy(_coef(m) * np.float16("nan"))}),
    "npz instead of npy": lambda m: m.update({"coef.npy": _npz()}),
    "truncated npy": lambda m: m.update({"coef.npy": m["coef.npy"][:-10]}),
    "header asks for terabytes": lambda m: m.update({"intercept.npy": _huge_npy()}),
    "idf wrong length": lambda m: m.update({"word_idf.npy": _npy(np.ones(2, np.float32))}),
    "vocabulary not strings": lambda m: m.update({"word_terms.json": b"[1, 2, 3]"}),
    "duplicate terms": lambda m: m.update(
        {"word_terms.json": json.dumps(["x"] * len(json.loads(m["word_terms.json"]))).encode()}
    ),
    "vocabulary invalid json": lambda m: m.update({"char_terms.json": b'["a", '}),
    "manifest not object": lambda m: m.update({"model.json": b"[]"}),
    "manifest NaN": lambda m: m.update(
        {"model.json": m["model.json"].replace(b'"temperature": ', b'"temperature": NaN, "x": ')}
    ),
    "wrong format": _manifest_edit(lambda d: d.update(format="sklearn-pickle")),
    "future version": _manifest_edit(lambda d: d.update(version=99)),
    "classes not strings": _manifest_edit(lambda d: d.update(classes=[1, 2, 3])),
    "duplicate classes": _manifest_edit(lambda d: d.update(classes=["a", "a", "b"])),
    "one class": _manifest_edit(lambda d: d.update(classes=["a"])),
    "negative temperature": _manifest_edit(lambda d: d.update(temperature=-1.0)),
    "unknown setting": _manifest_edit(lambda d: d["settings"].update(evil=1)),
    "bad setting value": _manifest_edit(lambda d: d["settings"].update(min_df="1")),
    "metadata not object": _manifest_edit(lambda d: d.update(metadata="x")),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_hostile_members_are_refused(data: bytes, mutation: str) -> None:
    members = _members(data)
    MUTATIONS[mutation](members)
    with pytest.raises(ModelFormatError):
        from_bytes(_zip(members))


def test_unmodified_rezip_still_loads(data: bytes, model: TextClassifier) -> None:
    """The mutation helpers themselves work: without a mutation the file loads."""
    _same_predictions(model, from_bytes(_zip(_members(data))))


def test_pickle_payload_is_never_unpickled(data: bytes, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    members = _members(data)
    members["coef.npy"] = _npy(np.array([_Boom(str(marker))], dtype=object))
    with pytest.raises(ModelFormatError):
        from_bytes(_zip(members))
    members = _members(data)
    members["model.json"] = pickle.dumps(_Boom(str(marker)))
    with pytest.raises(ModelFormatError):
        from_bytes(_zip(members))
    assert not marker.exists()


def _huge_npy() -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + bytes(12)


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, a=np.ones(3, np.float16))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],
        lambda d: d[:-1],
        lambda d: b"",
        lambda d: b"not a zip at all",
        lambda d: pickle.dumps({"coef": [1, 2]}),
        lambda d: d[:200] + bytes(200) + d[400:],
    ],
    ids=["half", "last-byte", "empty", "text", "pickle", "zeroed-block"],
)
def test_corrupt_files_are_refused(data: bytes, damage: Callable[[bytes], bytes]) -> None:
    with pytest.raises(ModelFormatError):
        from_bytes(damage(data))


def test_corrupt_file_on_disk(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "broken.hym"
    path.write_bytes(data[:-100])
    with pytest.raises(ModelFormatError):
        load(path)
