"""What a client's connection goes through when the answer is an error, against real uvicorn:
a 500 leaves a kept-alive connection usable, and a client that sends a too-large body in full
before it reads (urllib, requests, http.client) still reads the 413."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest

from conftest import LiveServer
from huiying.config import MIB


def _connection(live_server: LiveServer) -> http.client.HTTPConnection:
    address = urlsplit(live_server.base_url)
    return http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)


def _fails() -> None:
    raise RuntimeError("a bug in a handler")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_500_keeps_the_connection_usable(live_server: LiveServer) -> None:
    live_server.app.add_api_route("/api/v1/test-only/fails", _fails)
    connection = _connection(live_server)
    connection.request("GET", "/api/v1/test-only/fails")
    failed = connection.getresponse()
    body = json.loads(failed.read())
    assert failed.status == 500
    assert body["error"]["code"] == "internal_error"
    assert failed.getheader("x-content-type-options") == "nosniff"  # security headers on a 500 too
    assert failed.getheader("x-frame-options") == "DENY"
    assert (failed.getheader("connection") or "").lower() != "close"
    socket_used = connection.sock
    connection.request("GET", "/healthz")
    after = connection.getresponse()
    assert after.status == 200, after.read()
    after.read()
    assert connection.sock is socket_used  # the same kept-alive connection, not a new one
    connection.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_500_on_a_page_carries_the_security_headers(live_server: LiveServer) -> None:
    live_server.app.add_api_route("/test-only/page-fails", _fails, include_in_schema=False)
    connection = _connection(live_server)
    connection.request("GET", "/test-only/page-fails", headers={"accept": "text/html"})
    failed = connection.getresponse()
    failed.read()
    assert failed.status == 500
    assert failed.getheader("x-content-type-options") == "nosniff"
    assert failed.getheader("referrer-policy") == "same-origin"
    if (failed.getheader("content-type") or "").startswith("text/html"):
        assert "frame-ancestors 'none'" in (failed.getheader("content-security-policy") or "")
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    connection.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_failing_error_handler_still_answers_500(live_server: LiveServer) -> None:
    def broken_handler(request: object, exc: Exception) -> None:
        raise RuntimeError("the error page itself fails")

    live_server.app.add_api_route("/api/v1/test-only/fails", _fails)
    live_server.app.exception_handlers[Exception] = broken_handler
    connection = _connection(live_server)
    connection.request("GET", "/api/v1/test-only/fails")
    failed = connection.getresponse()
    assert failed.status == 500
    assert json.loads(failed.read())["error"]["code"] == "internal_error"
    assert failed.getheader("x-content-type-options") == "nosniff"
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    connection.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_client_that_waits_for_100_continue_gets_the_413_at_once(live_server: LiveServer) -> None:
    address = urlsplit(live_server.base_url)
    with socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), timeout=30) as sock:
        sock.sendall(
            b"POST /api/v1/feedback HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {3 * MIB}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]  # no "100 Continue": the body is not wanted


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_body_sent_in_full_before_reading_gets_its_413(live_server: LiveServer) -> None:
    body = b'{"description": "' + b"x" * (3 * MIB) + b'"}'
    connection = _connection(live_server)
    # http.client writes the whole body before it reads a byte of the answer, as urllib does.
    connection.request("POST", "/api/v1/feedback", body=body, headers={"content-type": "application/json"})
    answer = connection.getresponse()
    assert answer.status == 413
    assert json.loads(answer.read())["error"]["code"] == "payload_too_large"
    connection.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_chunked_body_over_the_limit_gets_its_413(live_server: LiveServer) -> None:
    chunks = [b'{"description": "'] + [b"x" * 65536] * 48 + [b'"}']  # 3 MiB, no Content-Length
    connection = _connection(live_server)
    connection.request(
        "POST",
        "/api/v1/feedback",
        body=iter(chunks),
        headers={"content-type": "application/json"},
        encode_chunked=True,
    )
    answer = connection.getresponse()
    assert answer.status == 413
    assert json.loads(answer.read())["error"]["code"] == "payload_too_large"
    connection.close()
