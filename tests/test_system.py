"""Health, readiness, metrics, and the error format for paths and methods that do not exist."""

from __future__ import annotations

from fastapi.testclient import TestClient

from helpers import submit


def test_healthz_and_readyz(app_client: TestClient) -> None:
    assert app_client.get("/healthz").json() == {"status": "ok"}
    ready = app_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def test_metrics_count_requests_by_route(app_client: TestClient) -> None:
    submit(app_client)
    text = app_client.get("/metrics").text
    assert 'huiying_http_requests_total{method="POST",route="/api/v1/feedback",status="201"}' in text


def test_unknown_paths_and_methods_answer_json_errors(app_client: TestClient) -> None:
    missing = app_client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = app_client.delete("/api/v1/feedback")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_openapi_lists_the_contract_paths(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/feedback",
        "/api/v1/tickets",
        "/api/v1/tickets/{number}",
        "/api/v1/tickets/{number}/status",
        "/api/v1/tickets/{number}/replies",
        "/api/v1/tickets/{number}/timeline",
        "/api/v1/attachments",
    ):
        assert path in paths, path


def test_categories_are_public_and_bilingual(app_client: TestClient) -> None:
    tree = app_client.get("/api/v1/categories").json()
    assert [c["slug"] for c in tree] == [
        "technical",
        "content",
        "commercial",
        "suggestion",
        "other",
    ]
    technical = tree[0]
    assert technical["name_zh"] == "技术类" and technical["name_en"] == "Technical"
    assert "payment-failure" in [s["slug"] for s in technical["subcategories"]]
