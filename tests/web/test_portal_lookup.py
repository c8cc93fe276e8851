"""The portal's number + contact form (issue 16, item 18): it asks for what it needs, and every
answer is this HTML page in the visitor's language — never raw JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from helpers import feedback, submit


def _csrf(client: TestClient) -> str:
    page = client.get("/portal")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def test_the_form_does_not_call_the_contact_optional(app_client: TestClient) -> None:
    zh = app_client.get("/portal").text
    en = app_client.get("/portal?lang=en").text
    assert "可选" not in zh and "optional" not in en.lower()
    assert 'name="contact" required' in zh


@pytest.mark.parametrize(
    "fields",
    [{"number": "HY261123-0001"}, {"contact": "13812345678"}, {"number": "  ", "contact": " "}, {}],
    ids=["no-contact", "no-number", "blank", "nothing"],
)
def test_a_missing_field_is_answered_on_the_page_in_the_visitors_language(
    app_client: TestClient, fields: dict[str, str]
) -> None:
    token = _csrf(app_client)
    zh = app_client.post("/portal", data={**fields, "csrf_token": token})
    assert zh.status_code == 422
    assert zh.headers["content-type"].startswith("text/html")
    assert "请填写工单号和提交时留下的联系方式" in zh.text
    assert 'id="lookup-form"' in zh.text
    en = app_client.post("/portal?lang=en", data={**fields, "csrf_token": token})
    assert en.status_code == 422 and en.headers["content-type"].startswith("text/html")
    assert "Enter the ticket number and the contact you gave" in en.text


def test_an_overlong_field_is_a_not_found_page_not_json(app_client: TestClient) -> None:
    token = _csrf(app_client)
    answer = app_client.post("/portal", data={"number": "HY" + "9" * 80, "contact": "1" * 400, "csrf_token": token})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "没有找到匹配的工单" in answer.text


def test_number_and_contact_open_the_ticket(app_client: TestClient) -> None:
    number = submit(app_client, feedback(contact="13812345678"))["number"]
    token = _csrf(app_client)
    answer = app_client.post("/portal", data={"number": number, "contact": "138 1234 5678", "csrf_token": token})
    assert answer.status_code == 200 and number in answer.text
