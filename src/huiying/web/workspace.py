"""The agent workspace pages (queues, ticket list, ticket page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from huiying.web.auth import Page, render

router = APIRouter(include_in_schema=False)


@router.get("/tickets", response_class=HTMLResponse)
def ticket_list(request: Request, page: Page) -> HTMLResponse:
    return render(request, "tickets.html", page=page)
