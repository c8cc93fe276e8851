"""The routing-rules admin page over HTTP: it renders the rules in words, a bad rule comes back
with its error next to the field, a saved rule is listed, buttons reorder, disable and delete,
the dry run counts matches, and a non-admin is refused."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from conftest import PASSWORD
from helpers import feedback, submit
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.routing import service as routing
from huiying.web.admin_routing import describe


def web_login(client: TestClient, db: Database, *, email: str, role: Role, name: str) -> None:
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=role, display_name=name, team_slugs=[])
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def _ids(db: Database) -> list[str]:
    with db.read() as session:
        return [row.id for row in routing.list_rules(session)]


def _post(client: TestClient, token: str, **fields: str) -> object:
    data = {"csrf_token": token, "enabled": "on", "is_new": "1", **fields}
    return client.post("/admin/routing/rules", data=data, follow_redirects=False)


def test_the_page_lists_saves_tests_and_refuses(app_client: TestClient, db: Database) -> None:
    submit(app_client, feedback(title="直播间卡顿", description="直播间一直卡顿"))
    web_login(app_client, db, email="boss@example.com", role=Role.ADMIN, name="Boss")
    page = app_client.get("/admin/routing")
    assert page.status_code == 200, page.text
    token = csrf_of(page.text)
    shipped = _ids(db)
    assert shipped and all(f'data-rule="{rule_id}"' in page.text for rule_id in shipped)

    bad = _post(app_client, token, id="lag", name="卡顿", when='{"keywords": ["卡顿"]}', then='{"priority": "soon"}')
    assert bad.status_code == 422
    assert 'id="rule-error"' in bad.text and "unknown priority" in bad.text
    assert "lag" not in _ids(db)
    broken = _post(app_client, token, id="lag", name="卡顿", when="{keywords", then="{}")
    assert broken.status_code == 422 and "not JSON" in broken.text

    tried = _post(
        app_client, token, id="lag", name="卡顿", when='{"keywords": ["卡顿"]}', then='{"tags": ["lag"]}', action="test"
    )
    assert tried.status_code == 200 and 'id="rule-test"' in tried.text
    assert "lag" not in _ids(db)
    with db.read() as session:
        assert routing.test_rule(
            session, {"id": "x", "name": "x", "when": {"keywords": ["卡顿"]}, "then": {"tags": ["lag"]}}
        )[1]

    saved = _post(app_client, token, id="lag", name="卡顿", when='{"keywords": ["卡顿"]}', then='{"tags": ["lag"]}')
    assert saved.status_code == 303, saved.text
    assert _ids(db)[-1] == "lag"
    listed = app_client.get("/admin/routing").text
    assert 'data-rule="lag"' in listed and "标题或描述含 卡顿" in listed

    assert app_client.post("/admin/routing/rules/lag/up", data={"csrf_token": token}).status_code == 200
    assert _ids(db)[-2:] == ["lag", shipped[-1]]
    app_client.post("/admin/routing/rules/lag/disable", data={"csrf_token": token})
    with db.read() as session:
        assert routing.get_rule(session, "lag").body["enabled"] is False
    app_client.post("/admin/routing/rules/lag/delete", data={"csrf_token": token})
    assert "lag" not in _ids(db)
    no_csrf = app_client.post("/admin/routing/rules/" + shipped[0] + "/delete", data={}, follow_redirects=False)
    assert no_csrf.status_code in (400, 403) and shipped[0] in _ids(db)


def test_a_non_admin_is_refused(app_client: TestClient, db: Database) -> None:
    web_login(app_client, db, email="agent@example.com", role=Role.AGENT, name="Agent")
    assert app_client.get("/admin/routing").status_code == 403


def test_rules_in_words() -> None:
    body = {"when": {"vip": True, "channel": ["app", "web"]}, "then": {"team": "vip-lane", "tags": ["a", "b"]}}
    assert describe(body, "zh") == ("渠道为 app、web；VIP 用户", "分派到 vip-lane；加标签 a、b")
    assert describe(body, "en") == ("channel is app, web; a VIP", "route to vip-lane; tag a, b")
    assert describe({"when": {}, "then": {"priority": "high"}}, "en") == ("every ticket", "priority high")
    assert json.loads(json.dumps(body)) == body
