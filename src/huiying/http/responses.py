"""JSON answers serialised once, by pydantic's own serializer.

Endpoints still declare `response_model` for the OpenAPI document, but return a ready
Response: FastAPI would otherwise validate the model a second time and encode it again, on
an extra thread-pool hop for every synchronous endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_json

from huiying.kit.files import SERVE_HEADERS, ServedFile

_list_adapters: dict[type[BaseModel], TypeAdapter[list[BaseModel]]] = {}


def json_model(model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def json_data(data: Any) -> Response:
    """Plain data (dicts, lists, strings, numbers, datetimes) as pydantic would write a model
    holding it: the same bytes, without building the model first (see present.list_item)."""
    return Response(to_json(data), media_type="application/json")


def json_models(models: Sequence[BaseModel], model_type: type[BaseModel]) -> Response:
    adapter = _list_adapters.get(model_type)
    if adapter is None:
        adapter = _list_adapters[model_type] = TypeAdapter(list[model_type])  # type: ignore[valid-type]
    return Response(adapter.dump_json(list(models)), media_type="application/json")


def file_response(file: ServedFile, *, cache: bool = False) -> FileResponse:
    """A stored attachment: typed from its content, inline only when harmless, sandboxed."""
    headers = dict(SERVE_HEADERS)
    if cache:
        headers["Cache-Control"] = "private, max-age=3600"
    return FileResponse(
        file.path,
        media_type=file.media_type,
        filename=file.filename,
        content_disposition_type="inline" if file.inline else "attachment",
        headers=headers,
    )
