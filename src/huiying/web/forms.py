"""Every web form is cleaned as the JSON API cleans its bodies (kit/strings.py): no NUL or other
control characters, valid UTF-8, in every field and file name, before a handler sees it.

PostgreSQL refuses a NUL in text, so an uncleaned `%00` in any form field was a 500. The web
routers use `CleanFormRoute`, whose requests hand out only cleaned form data: `request.form()`,
the `Form()`/`File()` parameters built from it and `request.state.form` all see the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile

from huiying.kit.strings import clean


class CleanFormRequest(Request):
    """A request whose parsed form holds cleaned keys, values and file names."""

    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        # Starlette's `form()` parses through here once and keeps the result in `_form`.
        if self._form is None:
            parsed = await super()._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
            self._form = FormData([(clean(key), _cleaned(value)) for key, value in parsed.multi_items()])
        return self._form


def _cleaned(value: UploadFile | str) -> UploadFile | str:
    if isinstance(value, str):
        return clean(value)
    if value.filename is not None:
        value.filename = clean(value.filename)
    return value


class CleanFormRoute(APIRoute):
    """A route whose handler and dependencies get a `CleanFormRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def clean_form_handler(request: Request) -> Response:
            return await handler(CleanFormRequest(request.scope, request.receive))

        return clean_form_handler
