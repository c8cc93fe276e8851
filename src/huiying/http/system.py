"""Liveness, readiness and metrics for monitoring."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from huiying.http.deps import DB, AppSettings
from huiying.http.errors import ErrorBody, error_response

router = APIRouter(tags=["system"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up. Async and touching nothing: it answers on the event loop even when every
    request thread is waiting for a database that hangs."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorBody, "description": "a dependency is down"}})
def readyz(db: DB, settings: AppSettings) -> JSONResponse:
    """The database (and the broker, in distributed mode) answer."""
    checks: dict[str, str] = {}
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    if settings.broker_url:
        from huiying.worker.celery_app import broker_reachable

        checks["broker"] = "ok" if broker_reachable(settings.broker_url) else "error: unreachable"
    if all(value == "ok" for value in checks.values()):
        return JSONResponse({"status": "ok", "checks": checks})
    return error_response(503, "not_ready", "a dependency is not reachable", checks)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "metrics",
        }
    },
)
def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
