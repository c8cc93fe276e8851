"""Hostile input on EVERY route: each API operation of the OpenAPI document and each web form
(every POST route of the web routers), as an authenticated admin (with the CSRF token for web
forms) and anonymously, on both back ends. NUL bytes, control characters, deep nesting, huge
numbers, wrong types, tampered cursors, overlong strings, broken UTF-8 and broken multipart:
nothing may answer 5xx. Every failure is collected and reported at once.

Where test_schemathesis.py explores valid-looking requests from the schema, this walk sends the
same fixed, nasty values everywhere, web forms included (which have no schema).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from conftest import PASSWORD, StaffLogin
from helpers import submit
from huiying.accounts import service as accounts
from huiying.channels import codes as code_senders
from huiying.channels.base import Delivered
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.web.forms import CleanFormRoute

NUL = "nul\x00byte"
CONTROL = "ctl\x01\x08\x1b[31m\x7f\x9f"
OVERLONG = "长" * 60_000
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"
RTL = "\u202egnp.exe"
SQL = "' OR '1'='1'; --"


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


CURSORS = [
    _cursor({"id": 10**30}),
    _cursor({"id": True}),
    _cursor({"id": 1, "due": {}}),
    _cursor({"id": 1, "rank": "x"}),
    "!!!not-base64!!!",
]
# Values for one JSON field: wrong types, extremes, hostile strings.
JSON_VALUES: list[Any] = [NUL, OVERLONG, 10**30, True, {}]
# Values for query parameters and form fields (text on the wire); cursors go to `cursor`.
TEXT_VALUES = [NUL, CONTROL, "x" * 5_000, SQL, "99999999999999999999999999999999", "-9223372036854775809"]
# The anonymous walks: most routes refuse them before reading anything, so fewer values.
FEW_JSON_VALUES: list[Any] = [NUL, 10**30, {}]
FEW_TEXT_VALUES = [NUL, "99999999999999999999999999999999"]
# Whole JSON bodies: not an object, nested 40 and 900 deep, broken UTF-8, not JSON.
RAW_BODIES = [
    b"null",
    b'"a string"',
    b"1e999999",
    b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}",
    b"[" * 900 + b"]" * 900,
    b'{"x": "\xff\xfe broken utf-8"}',
    b"\x00\x01\x02",
    b"{" * 5000,
]
PATH_VALUES = [NUL, "x" * 3000, "99999999999999999999999999999999", "..%2F..%2Fetc"]
SKIP_AS_ADMIN = {("POST", "/api/v1/auth/logout"), ("POST", "/logout")}  # would end the walk's login


class Walk:
    """Sends requests and notes every 5xx (and every request that breaks the connection)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.failures: list[str] = []
        self.sent = 0

    def send(self, method: str, url: str, label: str, **kwargs: Any) -> None:
        self.sent += 1
        try:
            answer = self.client.request(method, url, follow_redirects=False, **kwargs)
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            return  # the client itself refuses to send it
        if answer.status_code >= 500:
            self.failures.append(f"{method} {url[:120]} [{label}] -> {answer.status_code}: {answer.text[:200]}")


# --- The API, from its own OpenAPI document ---------------------------------------------------


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _plausible(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A simple value of the schema's type, so one hostile field at a time gets past the rest."""
    schema = _resolve(schema, spec)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [_resolve(s, spec) for s in schema[key]]
            return _plausible(next((s for s in options if s.get("type") != "null"), options[0]), spec)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: _plausible(sub, spec) for name, sub in props.items() if name in schema.get("required", [])}
    return {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": []}.get(str(kind), "x")


def _path(template: str, params: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: quote(params.get(m.group(1), "x"), safe=""), template)


def _api_requests(
    spec: dict[str, Any], path_values: dict[str, str], *, few: bool = False
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(method, url, label, request arguments) for every operation and hostile value."""
    text_values = FEW_TEXT_VALUES if few else TEXT_VALUES
    json_values = FEW_JSON_VALUES if few else JSON_VALUES
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            method = method.upper()
            url = _path(template, path_values)
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                values = [*text_values, *CURSORS] if parameter["name"] == "cursor" else text_values
                for value in values:
                    if parameter["in"] == "query":
                        yield method, url, f"query {parameter['name']}", {"params": {parameter["name"]: value}}
                    if parameter["in"] == "header" and value.isprintable() and value.isascii():
                        yield method, url, f"header {parameter['name']}", {"headers": {parameter["name"]: value}}
            for parameter in parameters:
                if parameter["in"] == "path":
                    for value in PATH_VALUES:
                        hostile = _path(template, {**path_values, parameter["name"]: value})
                        yield method, hostile, f"path {parameter['name']}", {}
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = _resolve(content["application/json"]["schema"], spec)
                base = _plausible(schema, spec)
                for raw in RAW_BODIES:
                    yield method, url, f"raw body {raw[:12]!r}", {"content": raw, "headers": _json}
                for name in schema.get("properties", {}):
                    for value in json_values:
                        body = json.dumps({**base, name: value}).encode()
                        yield method, url, f"field {name}={str(value)[:16]!r}", {"content": body, "headers": _json}
            if "multipart/form-data" in content:
                yield from _multipart_requests(method, url, few=few)


_json = {"content-type": "application/json"}


# Multipart bodies a parser must survive: no closing boundary, another boundary, none at all,
# a part header that is not UTF-8.
BROKEN_MULTIPART = [
    b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc',
    b"--abc\r\n\r\n--abc--",
    b"garbage",
    b'--xyz\r\nContent-Disposition: form-data; name="\xff\xfe"\r\n\r\n\xff\r\n--xyz--\r\n',
]
FILE_NAMES = (NUL, "x" * 5000, RTL, "../../../etc/passwd", "a\r\nContent-Type: text/html")


def _multipart_requests(method: str, url: str, *, few: bool = False) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    for name in FILE_NAMES[:1] if few else FILE_NAMES:
        yield method, url, f"file name {name[:12]!r}", {"files": {"file": (name, png, "image/png")}}
    for body in BROKEN_MULTIPART:
        headers = {"content-type": "multipart/form-data" + ("" if body == b"garbage" else "; boundary=xyz")}
        yield method, url, f"broken multipart {body[:12]!r}", {"content": body, "headers": headers}


# --- The web forms ------------------------------------------------------------------------------


def _routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or route
        children = getattr(inner, "routes", None)
        if children is not None and children is not routes:
            yield from _routes(children)


def _web_posts(app: Any) -> Iterator[APIRoute]:
    """Every POST route of the web routers (they are not in the OpenAPI document)."""
    for route in _routes(app.routes):
        if not route.include_in_schema and "POST" in route.methods:
            yield route


def web_form_routes(app: Any) -> list[tuple[str, list[str]]]:
    """Every web form's path, with its declared form fields."""
    found = {route.path: [field.alias for field in route.dependant.body_params] for route in _web_posts(app)}
    return sorted(found.items())


def test_every_web_form_is_cleaned_before_its_handler(app_client: TestClient) -> None:
    """A web router made without `route_class=CleanFormRoute` would let NUL bytes through."""
    routes = list(_web_posts(app_client.app))
    assert len(routes) > 15
    assert [r.path for r in routes if not isinstance(r, CleanFormRoute)] == []


# Fields that handlers read from the parsed form themselves (request.state.form), not as Form().
UNDECLARED_FIELDS = [
    "category",
    "subcategory",
    "priority",
    "team",
    "assignee",
    "tags",
    "vip",
    "title",
    "numbers",
    "action",
    "value",
    "back",
    "email",
    "password",
    "role",
    "display_name",
    "teams",
    "active",
    "name",
    "pattern",
    "target",
    "label",
    "version",
]


def _web_requests(
    routes: list[tuple[str, list[str]]], path_values: dict[str, str], csrf: str, *, few: bool = False
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for template, declared in routes:
        url = _path(template, path_values)
        fields = [f for f in dict.fromkeys([*declared, *UNDECLARED_FIELDS]) if f not in ("csrf_token", "files")]
        for value in FEW_TEXT_VALUES if few else [*TEXT_VALUES, ZERO_WIDTH, RTL, "1e999", "x" * 25_000]:
            form = {name: value for name in fields}
            yield "POST", url, f"form={value[:16]!r}", {"data": {**form, "csrf_token": csrf}}
        yield "POST", url, "empty form", {"data": {"csrf_token": csrf}}
        yield (
            "POST",
            url,
            "repeated fields",
            {"content": f"csrf_token={csrf}&" + "&".join(f"{f}=a&{f}=b" for f in fields), "headers": _form},
        )
        yield (
            "POST",
            url,
            "broken utf-8",
            {
                "content": f"csrf_token={csrf}&".encode() + b"&".join(f.encode() + b"=%FF%FE\xff\xc3" for f in fields),
                "headers": _form,
            },
        )
        yield "POST", url, "NUL in names", {"content": f"csrf_token={csrf}&a%00b=1&%00=%00".encode(), "headers": _form}
        files = {"files": ("a\x00b.png", b"\x89PNG\r\n\x1a\n", "image/png")}
        yield "POST", url, "multipart", {"data": {**{f: NUL for f in fields}, "csrf_token": csrf}, "files": files}
        for method, _, label, kwargs in _multipart_requests("POST", url, few=True):
            yield method, url, label, kwargs
        for name in re.findall(r"\{([^}]+)\}", template):
            for value in PATH_VALUES[:2] if few else PATH_VALUES:
                yield (
                    "POST",
                    _path(template, {**path_values, name: value}),
                    f"path {name}",
                    {"data": {"csrf_token": csrf}},
                )


_form = {"content-type": "application/x-www-form-urlencoded"}


class QuietSender:
    """Takes the portal's one-time codes (SMS and mail) so that route is walked to its end."""

    name = "walk"

    def send_code(self, *, to: str, code: str, language: str) -> Delivered:
        return Delivered(external_id="walk")


@pytest.fixture
def senders() -> Iterator[None]:
    for kind in ("sms", "email"):
        code_senders.register(kind, QuietSender())
    yield
    for kind in ("sms", "email"):
        code_senders.register(kind, None)


def _token_of(html: str, pattern: str) -> str:
    found = re.search(pattern, html)
    assert found, pattern
    return found.group(1)


@pytest.mark.usefixtures("senders")
def test_no_hostile_input_on_any_route_is_a_5xx(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    app = app_client.app
    created = submit(app_client)
    number = created["number"]
    portal_token = created["portal_url"].rstrip("/").rsplit("/", 1)[-1]
    with db.write() as session:
        accounts.create_user(session, email="walk-staff@example.com", password=PASSWORD, role=Role.AGENT)
        accounts.create_user(session, email="walk-web@example.com", password=PASSWORD, role=Role.ADMIN)
    path_values = {
        "number": number,
        "token": portal_token,
        "slug": "general",
        "email": "walk-staff@example.com",
        "attachment_id": "0" * 32,
    }

    # A web session for the admin: the login form's token, then the session's CSRF token.
    web = TestClient(app, raise_server_exceptions=False)
    login_token = _token_of(web.get("/login").text, r'name="csrf_token" value="([^"]+)"')
    logged_in = web.post(
        "/login",
        data={"email": "walk-web@example.com", "password": PASSWORD, "csrf_token": login_token},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303, logged_in.text[:300]
    staff_csrf = _token_of(web.get("/tickets").text, r'data-csrf="([^"]+)"')
    # Anonymous: the public forms' double-submit token (cookie and field).
    anonymous = TestClient(app, raise_server_exceptions=False)
    public_csrf = _token_of(anonymous.get("/feedback").text, r'name="csrf_token" value="([^"]+)"')

    spec = app_client.get("/openapi.json").json()
    api_admin = TestClient(app, raise_server_exceptions=False, headers=admin.headers)
    api_anonymous = TestClient(app, raise_server_exceptions=False)
    forms = web_form_routes(app)
    assert len(spec["paths"]) > 30 and len(forms) > 15, (len(spec["paths"]), forms)

    walks = []
    with ExitStack() as stack:
        for client in (api_admin, api_anonymous, web, anonymous):
            stack.enter_context(client)  # one event loop per client, not one per request
        for client, requests in (
            (api_admin, _api_requests(spec, path_values)),
            (api_anonymous, _api_requests(spec, path_values, few=True)),
            (web, _web_requests(forms, path_values, staff_csrf)),
            (anonymous, _web_requests(forms, path_values, public_csrf, few=True)),
        ):
            walk = Walk(client)
            for method, url, label, kwargs in requests:
                if client in (api_admin, web) and (method, url.split("?")[0]) in SKIP_AS_ADMIN:
                    continue
                walk.send(method, url, label, **kwargs)
            walks.append(walk)
        # Still logged in at the end, so every request above was the admin's own.
        assert web.get("/tickets", follow_redirects=False).status_code == 200
        assert api_admin.get("/api/v1/me").status_code == 200
        # Last, what the walk skipped so far: logging out, with hostile values.
        final = Walk(web)
        final.send("POST", "/logout", "logout", data={"csrf_token": staff_csrf, "next": NUL})
        final.send("POST", "/api/v1/auth/logout", "logout", headers=admin.headers, content=RAW_BODIES[-1])
        walks.append(final)

    failures = [f for walk in walks for f in walk.failures]
    assert sum(walk.sent for walk in walks) > 1500
    assert failures == [], f"{len(failures)} answers were 5xx:\n" + "\n".join(failures[:60])
