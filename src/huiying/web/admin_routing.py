"""The routing-rules admin page: the ordered rules in words, a JSON editor checked by
`routing.rules` (the error next to the field it names), enable/disable, up/down, delete, and a
dry run on recent tickets before saving. Thin: every change goes through `routing.service`
(audited there); admin.py includes this router ahead of its `/admin/{tab}` catch-all."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.db import Database
from huiying.errors import Forbidden, HuiyingError, InvalidInput
from huiying.http.deps import DB
from huiying.routing import service as routing
from huiying.web import i18n
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)

_LIST_CONDITIONS = ("category", "subcategory", "priority", "channel", "language", "special_group")


def _require(page: StaffPage) -> None:
    if not access.has(page.actor, Permission.CONFIG_MANAGE):
        raise Forbidden("your role may not open this page")


def describe(body: dict[str, Any], language: str) -> tuple[str, str]:
    """A stored rule's conditions and actions in words, for the list (the editor shows JSON)."""
    t = i18n.translator(language)
    sep = "、" if language == "zh" else ", "
    when: dict[str, Any] = body.get("when") or {}
    then: dict[str, Any] = body.get("then") or {}
    parts = []
    for name in (*_LIST_CONDITIONS, "keywords", "user_id_prefix", "fields_present"):
        if when.get(name):
            parts.append(t(f"routing.when.{name}", values=sep.join(str(v) for v in when[name])))
    if when.get("vip") is not None:
        parts.append(t("routing.when.vip_yes" if when["vip"] else "routing.when.vip_no"))
    if when.get("local_time"):
        parts.append(t("routing.when.local_time", values=when["local_time"]))
    actions = []
    for name in ("team", "priority", "assignee", "assignment_mode", "sla_policy"):
        if then.get(name):
            actions.append(t(f"routing.then.{name}", value=then[name]))
    for name in ("tags", "notify"):
        if then.get(name):
            actions.append(t(f"routing.then.{name}", value=sep.join(then[name])))
    joiner = "；" if language == "zh" else "; "
    return joiner.join(parts) or t("routing.when.always"), joiner.join(actions)


def _editor(body: dict[str, Any]) -> dict[str, Any]:
    """A rule as the form shows it: conditions and actions as indented JSON."""
    return {
        **body,
        "when_json": json.dumps(body.get("when") or {}, ensure_ascii=False, indent=2),
        "then_json": json.dumps(body.get("then") or {}, ensure_ascii=False, indent=2),
    }


def _context(session: Session, language: str) -> dict[str, Any]:
    rows = routing.list_rules(session)
    return {
        "tab": "routing",
        "routing_rules": [(row, _editor(row.body), *describe(row.body, language)) for row in rows],
    }


@router.get("/admin/routing", response_class=HTMLResponse)
def routing_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    _require(page)
    with db.read() as session:
        context = _context(session, i18n.language_of(request))
    return render(request, "admin_routing.html", page=page, **context)


def _rule_from_form(form: Any) -> dict[str, Any]:
    """The posted rule; JSON that does not parse is refused naming its box."""
    body: dict[str, Any] = {
        "id": str(form.get("id", "")).strip(),
        "name": str(form.get("name", "")).strip(),
        "description": str(form.get("description", "")).strip(),
        "enabled": form.get("enabled") == "on",
        "stop": form.get("stop") == "on",
    }
    for box in ("when", "then"):
        text = str(form.get(box, "")).strip() or "{}"
        try:
            body[box] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                code="invalid_rule",
                details={"field": box},
            ) from exc
    return body


def _field_of(exc: HuiyingError) -> str:
    """Which box of the editor an error belongs next to: id, name, when, then, or the form."""
    details = exc.details if isinstance(exc.details, dict) else {}
    field = str(details.get("field") or "")
    head = field.split(".", 1)[0]
    return head if head in ("id", "name", "description", "when", "then") else "form"


def _redisplay(
    request: Request, db: Database, page: StaffPage, form: Any, *, is_new: bool, **extra: Any
) -> HTMLResponse:
    """The page again with the posted draft in the editor (a refusal or a dry run beside it)."""
    draft = {
        "id": str(form.get("id", "")),
        "name": str(form.get("name", "")),
        "description": str(form.get("description", "")),
        "enabled": form.get("enabled") == "on",
        "stop": form.get("stop") == "on",
        "when_json": str(form.get("when", "")),
        "then_json": str(form.get("then", "")),
    }
    with db.read() as session:
        context = _context(session, i18n.language_of(request))
    status = 422 if extra.get("rule_error") else 200
    return render(
        request,
        "admin_routing.html",
        status_code=status,
        page=page,
        draft=draft,
        draft_is_new=is_new,
        **context,
        **extra,
    )


@router.post("/admin/routing/rules", response_class=HTMLResponse)
def save_or_test(request: Request, db: DB, page: Page) -> Response:
    """Save a rule (new or changed) or, with the "test" button, try it on recent tickets first."""
    _require(page)
    form = request.state.form
    is_new = form.get("is_new") == "1"
    try:
        body = _rule_from_form(form)
        if form.get("action") == "test":
            with db.read() as session:
                tried, hits = routing.test_rule(session, body)
            result = {"tried": tried, "matched": len(hits), "hits": hits[:20]}
            return _redisplay(request, db, page, form, is_new=is_new, test_result=result)
        with db.write() as session:
            routing.save_rule(session, body, actor=page.actor, create=is_new)
    except HuiyingError as exc:
        return _redisplay(
            request, db, page, form, is_new=is_new, rule_error={"field": _field_of(exc), "message": str(exc)}
        )
    return RedirectResponse("/admin/routing?notice=done", status_code=303)


def _change(db: Database, change: Callable[[Session], object]) -> RedirectResponse:
    try:
        with db.write() as session:
            change(session)
    except HuiyingError as exc:
        return RedirectResponse(f"/admin/routing?{urlencode({'error': refused(exc)})}", status_code=303)
    return RedirectResponse("/admin/routing?notice=done", status_code=303)


@router.post("/admin/routing/rules/{rule_id}/{action}")
def rule_action(rule_id: str, action: str, request: Request, db: DB, page: Page) -> Response:
    """One button on a listed rule: enable, disable, up, down or delete."""
    _require(page)

    def apply(session: Session) -> None:
        if action in ("enable", "disable"):
            row = routing.get_rule(session, rule_id)
            routing.save_rule(session, {**row.body, "enabled": action == "enable"}, actor=page.actor)
        elif action in ("up", "down"):
            ids = [row.id for row in routing.list_rules(session)]
            routing.get_rule(session, rule_id)
            at = ids.index(rule_id)
            other = at - 1 if action == "up" else at + 1
            if 0 <= other < len(ids):
                ids[at], ids[other] = ids[other], ids[at]
                routing.reorder(session, ids, actor=page.actor)
        elif action == "delete":
            routing.delete_rule(session, rule_id, actor=page.actor)
        else:
            raise InvalidInput(f"unknown action {action!r}", code="invalid_action")

    return _change(db, apply)
