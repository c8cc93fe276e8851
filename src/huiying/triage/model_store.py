"""Safe model files: a zip of JSON and .npy arrays (never pickle), validated on load."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from huiying.kit.files import write_atomically
from huiying.triage.classifier import JsonValue, TextClassifier
from huiying.triage.features import FeatureSettings, FeatureSpace, TermBlock

FORMAT_NAME = "huiying.triage.text-classifier"
FORMAT_VERSION = 1
# Caps against zip bombs and absurd files; a 77-class float16 model is well under 30 MB.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_CLASSES = 10_000

_MANIFEST = "model.json"
_WORD_TERMS = "word_terms.json"
_CHAR_TERMS = "char_terms.json"
# Array member -> dtypes it may have.
_ARRAYS: dict[str, tuple[str, ...]] = {
    "word_idf.npy": ("float32",),
    "char_idf.npy": ("float32",),
    "coef.npy": ("float16", "float32"),
    "intercept.npy": ("float32",),
}
_MEMBERS = frozenset({_MANIFEST, _WORD_TERMS, _CHAR_TERMS, *_ARRAYS})
# Fixed timestamp so the same model always gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class ModelFormatError(ValueError):
    """A model file that is corrupt, truncated, of another format, or hostile."""


def to_bytes(classifier: TextClassifier) -> bytes:
    """The model file of `classifier` as bytes."""
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "classes": list(classifier.classes),
        "temperature": classifier.temperature,
        "settings": dataclasses.asdict(classifier.features.settings),
        "metadata": classifier.metadata,
    }
    features = classifier.features
    arrays: dict[str, npt.NDArray[Any]] = {
        "word_idf.npy": features.word.idf,
        "char_idf.npy": features.char.idf,
        "coef.npy": classifier.coef,
        "intercept.npy": classifier.intercept,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _write(archive, _MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        _write(archive, _WORD_TERMS, json.dumps(list(features.word.terms)).encode())
        _write(archive, _CHAR_TERMS, json.dumps(list(features.char.terms)).encode())
        for name, array in arrays.items():
            npy = io.BytesIO()
            np.save(npy, np.ascontiguousarray(array), allow_pickle=False)
            _write(archive, name, npy.getvalue())
    return buffer.getvalue()


def save(classifier: TextClassifier, target: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write the model file to a path (atomically, via a temporary file) or a binary file."""
    data = to_bytes(classifier)
    if not isinstance(target, str | os.PathLike):
        target.write(data)
        return
    path = Path(target)
    write_atomically(path, data, prefix=f".{path.name}.")


def load(source: str | os.PathLike[str] | bytes | IO[bytes]) -> TextClassifier:
    """Read a model file from a path, bytes or a binary file; ModelFormatError if it is bad."""
    if isinstance(source, bytes | bytearray | memoryview):
        return from_bytes(bytes(source))
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ModelFormatError(f"model file larger than {MAX_FILE_BYTES} bytes")
        return from_bytes(path.read_bytes())
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ModelFormatError(f"model file larger than {MAX_FILE_BYTES} bytes")
    return from_bytes(data)


def from_bytes(data: bytes) -> TextClassifier:
    """Rebuild a classifier from model-file bytes, checking every member, type and shape."""
    if len(data) > MAX_FILE_BYTES:
        raise ModelFormatError(f"model file larger than {MAX_FILE_BYTES} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = _read_members(archive)
    except ModelFormatError:
        raise
    # Corrupt deflate data, encrypted members and odd compression methods each fail differently.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise ModelFormatError(f"not a readable model archive: {exc}") from exc
    manifest = _json_object(members[_MANIFEST], _MANIFEST)
    if manifest.get("format") != FORMAT_NAME or manifest.get("version") != FORMAT_VERSION:
        raise ModelFormatError("not a huiying triage model of a supported version")
    arrays = {name: _array(members[name], name, dtypes) for name, dtypes in _ARRAYS.items()}
    word_terms = _string_list(_json(members[_WORD_TERMS], _WORD_TERMS), _WORD_TERMS)
    char_terms = _string_list(_json(members[_CHAR_TERMS], _CHAR_TERMS), _CHAR_TERMS)
    classes = _string_list(manifest.get("classes"), "classes")
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise ModelFormatError(f"a model needs 2 to {MAX_CLASSES} classes")
    settings = _settings(manifest.get("settings"))
    temperature = manifest.get("temperature")
    if not isinstance(temperature, float) or not math.isfinite(temperature) or temperature <= 0:
        raise ModelFormatError("temperature must be a positive finite float")
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict):
        raise ModelFormatError("metadata must be an object")

    word_idf, char_idf = arrays["word_idf.npy"], arrays["char_idf.npy"]
    coef, intercept = arrays["coef.npy"], arrays["intercept.npy"]
    n_features = len(word_terms) + len(char_terms)
    expected = {
        "word_idf.npy": (len(word_terms),),
        "char_idf.npy": (len(char_terms),),
        "coef.npy": (n_features, len(classes)),
        "intercept.npy": (len(classes),),
    }
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise ModelFormatError(f"{name} has shape {arrays[name].shape}, expected {shape}")
    try:
        features = FeatureSpace(
            settings,
            TermBlock(tuple(word_terms), word_idf, settings.word_weight),
            TermBlock(tuple(char_terms), char_idf, settings.char_weight),
        )
        return TextClassifier(features, classes, coef, intercept, temperature, metadata)
    except ValueError as exc:
        raise ModelFormatError(f"inconsistent model: {exc}") from exc


def _write(archive: zipfile.ZipFile, name: str, payload: bytes) -> None:
    """Add one deflated member with a fixed timestamp."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, payload)


def _read_members(archive: zipfile.ZipFile) -> dict[str, bytes]:
    """The expected members' bytes; anything missing, extra, duplicated or oversized is refused."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(names) != len(set(names)) or set(names) != _MEMBERS:
        extra = sorted(set(names) - _MEMBERS)
        missing = sorted(_MEMBERS - set(names))
        raise ModelFormatError(f"unexpected archive members {extra}, missing {missing}")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_MEMBER_BYTES or total > MAX_MEMBER_BYTES:
            raise ModelFormatError(f"member {info.filename} too large when unpacked")
    # ZipExtFile stops at the declared size and checks the CRC, so a lying header fails here.
    return {info.filename: archive.read(info) for info in infos}


def _json(payload: bytes, name: str) -> object:
    """Parsed JSON of a member."""
    try:
        value: object = json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFormatError(f"{name} is not valid JSON: {exc}") from exc
    return value


def _no_constant(token: str) -> float:
    """Refuse NaN and Infinity, which Python's json accepts but JSON does not."""
    raise ModelFormatError(f"non-standard JSON constant {token}")


def _json_object(payload: bytes, name: str) -> dict[str, JsonValue]:
    """Parsed JSON that must be an object."""
    value = _json(payload, name)
    if not isinstance(value, dict):
        raise ModelFormatError(f"{name} must hold a JSON object")
    return value


def _string_list(value: object, name: str) -> list[str]:
    """A JSON list of strings, or ModelFormatError."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ModelFormatError(f"{name} must be a list of strings")
    return value


def _array(payload: bytes, name: str, dtypes: tuple[str, ...]) -> npt.NDArray[Any]:
    """A finite numeric .npy array of an allowed dtype whose size matches its header; no pickle."""
    stream = io.BytesIO(payload)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ModelFormatError(f"{name}: unsupported .npy version {version}")
    except (ValueError, OSError, EOFError) as exc:
        raise ModelFormatError(f"{name} is not a plain .npy array: {exc}") from exc
    if dtype.name not in dtypes or not dtype.isnative:
        raise ModelFormatError(f"{name} has dtype {dtype.str}, expected one of {dtypes}")
    # Check the size before allocating anything, so a header cannot ask for terabytes.
    count = math.prod(shape)
    if count * dtype.itemsize != len(payload) - stream.tell():
        raise ModelFormatError(f"{name}: shape {shape} does not match its data size")
    flat = np.frombuffer(payload, dtype=dtype, count=count, offset=stream.tell())
    array = flat.reshape(shape, order="F" if fortran else "C").copy()
    if not np.isfinite(array).all():
        raise ModelFormatError(f"{name} holds NaN or infinite values")
    return array


def _settings(value: object) -> FeatureSettings:
    """FeatureSettings from JSON, with exactly the known fields and valid values."""
    if not isinstance(value, Mapping):
        raise ModelFormatError("settings must be an object")
    fields = {field.name for field in dataclasses.fields(FeatureSettings)}
    if set(value) != fields:
        raise ModelFormatError(f"settings fields {sorted(value)} != {sorted(fields)}")
    try:
        settings = FeatureSettings(**value)
        settings.validate()
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"bad feature settings: {exc}") from exc
    return settings
