"""Attachments: typed by content, limited in size, stored under random names, served safely."""

from __future__ import annotations

import base64
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

from conftest import StaffLogin
from helpers import feedback, submit
from huiying.config import Settings

# A real 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(
    client: TestClient,
    content: bytes,
    filename: str,
    content_type: str = "application/octet-stream",
) -> Response:
    return client.post("/api/v1/attachments", files={"file": (filename, content, content_type)})


def test_a_screenshot_travels_with_the_feedback(app_client: TestClient, admin: StaffLogin) -> None:
    answer = upload(app_client, PNG, "截图 2026-11-23.png", "image/png")
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert stored["content_type"] == "image/png"
    assert stored["filename"] == "截图 2026-11-23.png"
    assert stored["size"] == len(PNG)

    number = submit(app_client, feedback(attachments=[stored["id"]]))["number"]
    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert [a["id"] for a in ticket["attachments"]] == [stored["id"]]

    image = app_client.get(stored["url"], headers=admin.headers)
    assert image.status_code == 200
    assert image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-disposition"].startswith("inline")
    assert "sandbox" in image.headers["content-security-policy"]


def test_files_are_only_served_to_staff(app_client: TestClient, admin: StaffLogin) -> None:
    stored = upload(app_client, PNG, "a.png").json()
    submit(app_client, feedback(attachments=[stored["id"]]))
    assert app_client.get(stored["url"]).status_code == 401
    # An uploaded file nobody has claimed yet is not served either.
    loose = upload(app_client, PNG, "b.png").json()
    assert app_client.get(loose["url"], headers=admin.headers).status_code == 404


def test_html_declared_as_an_image_is_served_as_text_download(app_client: TestClient, admin: StaffLogin) -> None:
    evil = b"<html><script>alert(document.cookie)</script></html>"
    stored = upload(app_client, evil, "photo.png", "image/png").json()
    assert stored["content_type"] == "text/plain"
    submit(app_client, feedback(attachments=[stored["id"]]))
    served = app_client.get(stored["url"], headers=admin.headers)
    assert served.headers["content-type"].startswith("text/plain")
    assert served.headers["content-disposition"].startswith("attachment")


def test_pdf_is_a_download_not_inline(app_client: TestClient, admin: StaffLogin) -> None:
    stored = upload(app_client, PDF, "invoice.pdf").json()
    assert stored["content_type"] == "application/pdf"
    submit(app_client, feedback(attachments=[stored["id"]]))
    served = app_client.get(stored["url"], headers=admin.headers)
    assert served.headers["content-disposition"].startswith("attachment")


def test_executables_and_unknown_binaries_are_refused(app_client: TestClient) -> None:
    for content, name in (
        (b"MZ\x90\x00\x03" + b"\x00" * 200, "setup.exe"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "a.png"),
        (bytes(range(256)) * 4, "x.bin"),
    ):
        answer = upload(app_client, content, name)
        assert answer.status_code == 415, name
        assert "allowed" in answer.json()["error"]["details"]


def test_path_traversal_in_the_name_is_only_a_label(app_client: TestClient, settings: Settings) -> None:
    stored = upload(app_client, PNG, "../../../../etc/passwd").json()
    assert stored["filename"] == "passwd"
    files = [p for p in Path(settings.attachments_dir).rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].resolve().is_relative_to(Path(settings.attachments_dir).resolve())
    windows = upload(app_client, PNG, "..\\..\\boot.ini").json()
    assert windows["filename"] == "boot.ini"


def test_empty_and_oversized_files_are_refused(app_client: TestClient, settings: Settings) -> None:
    assert upload(app_client, b"", "empty.txt").status_code == 422
    too_big = PNG + b"\x00" * (settings.max_attachment_bytes)
    answer = upload(app_client, too_big, "big.png")
    assert answer.status_code == 413
    assert not [p for p in Path(settings.attachments_dir).rglob("*") if p.is_file()]


def test_an_attachment_can_be_claimed_once(app_client: TestClient) -> None:
    stored = upload(app_client, PNG, "a.png").json()
    submit(app_client, feedback(attachments=[stored["id"]]))
    again = app_client.post("/api/v1/feedback", json=feedback(attachments=[stored["id"]]))
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "unknown_attachment"
    unknown = app_client.post("/api/v1/feedback", json=feedback(attachments=["0" * 32]))
    assert unknown.status_code == 422


def test_replies_carry_attachments(app_client: TestClient, admin: StaffLogin) -> None:
    number = submit(app_client)["number"]
    stored = app_client.post(
        "/api/v1/attachments",
        files={"file": ("guide.png", PNG, "image/png")},
        headers=admin.headers,
    ).json()
    reply = app_client.post(
        f"/api/v1/tickets/{number}/replies",
        json={"body": "请看截图", "attachments": [stored["id"]]},
        headers=admin.headers,
    )
    assert reply.status_code == 201
    assert [a["id"] for a in reply.json()["attachments"]] == [stored["id"]]
    listed = app_client.get(f"/api/v1/tickets/{number}/attachments", headers=admin.headers).json()
    assert [a["id"] for a in listed] == [stored["id"]]
