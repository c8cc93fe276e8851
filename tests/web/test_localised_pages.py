"""Every page a person reads, and every message a form answers with, is in their language.

The pages are rendered in zh-CN (the default) with a rich ticket — triage reasons, a timeline with
every kind of event, related links, attachments — plus the admin, audit, public and error pages
and the messages of refused forms. What a person reads is taken from each page (text, and the
placeholder / title / aria-label / alt attributes; not scripts, styles or `<code>`, which holds
identifiers an admin types, such as slugs), the content the test itself put in is removed
(ticket numbers, addresses, the user's words, file names, tags), and any remaining run of three
or more Latin letters that is not in ALLOWED fails the test: it is an untranslated string.
The same pages in English must not show Chinese beyond the same content.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, StaffLogin
from helpers import submit
from huiying.accounts import service as accounts
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM, platform_user
from huiying.kit.roles import Role
from huiying.macros import service as macros
from huiying.tickets import history
from huiying.tickets import service as tickets
from huiying.tickets.models import Ticket
from huiying.web.queues import QUEUES

# Words that are the same in both languages: product and protocol names, abbreviations.
ALLOWED = {"VIP", "App", "API", "CSV", "PDF", "SLA", "CSRF", "HTMX", "English"}

# Every kind of ticket event the timeline can show.
EVENT_KINDS = {
    "created",
    "triaged",
    "field_changed",
    "status_changed",
    "reply_added",
    "note_added",
    "user_message_added",
    "merged_into",
    "merged_from",
    "qa_reviewed",
    "target_frozen",
    "compliance_escalated",
    "compliance_alert_sent",
    "reply_delivered",
    "reply_not_sent",
}

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# What the test puts in: shown as entered, in any language.
CONTENT = [
    "iPhone 15 Pro",
    "iOS 18.1",
    "5.3.0",
    "DD202611230001",
    "LR8866",
    "u20001",
    "u20002",
    "screen.png",
    "receipt.pdf",
    "13912345678",
    "139****5678",
]


class _Reader(HTMLParser):
    """The text a person reads on a page."""

    SKIP = {"script", "style", "code", "textarea"}  # a textarea holds a value being edited
    READ_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        for name, value in attrs:
            if name in self.READ_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def readable_text(html: str) -> str:
    reader = _Reader()
    reader.feed(html)
    return "\n".join(p for p in (part.strip() for part in reader.parts) if p)


_KNOWN = [
    re.compile(r"HY\d{6}-\d{4,}"),  # ticket numbers
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # email addresses
    re.compile(r"https?://\S+"),  # links the user keeps (the portal link)
]


def leftovers(text: str, content: list[str]) -> list[str]:
    """Runs of 3+ Latin letters that are neither known content nor allowed words."""
    for pattern in _KNOWN:
        text = pattern.sub(" ", text)
    for item in sorted(content, key=len, reverse=True):
        text = text.replace(item, " ")
    return sorted({word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in ALLOWED})


def chinese_leftovers(text: str, content: list[str]) -> list[str]:
    for item in sorted(content, key=len, reverse=True):
        text = text.replace(item, " ")
    return sorted({run for run in re.findall(r"[\u4e00-\u9fff]+", text) if run != "中文"})


def web_login(
    client: TestClient, db: Database, *, email: str, role: Role, name: str, teams: list[str] | None = None
) -> None:
    with db.write() as session:
        accounts.create_user(
            session, email=email, password=PASSWORD, role=role, display_name=name, team_slugs=teams or []
        )
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def _upload(client: TestClient, name: str, body: bytes, kind: str) -> str:
    answer = client.post("/api/v1/attachments", files={"file": (name, body, kind)})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def rich_ticket(client: TestClient, db: Database, settings: Settings, admin: StaffLogin) -> dict[str, Any]:
    """A ticket with every part the ticket page shows, and every kind of event on its timeline."""
    shot, receipt = (
        _upload(client, "screen.png", PNG, "image/png"),
        _upload(client, "receipt.pdf", PDF, "application/pdf"),
    )
    body = {
        "channel": "app",
        "user_id": "u20001",
        "user_name": "小王",
        "contact": "13912345678",
        "title": "直播间卡顿，充值失败",
        "description": "看直播一直卡，直播间卡顿严重，画面不动。",
        "device": {"os": "iOS 18.1", "model": "iPhone 15 Pro"},
        "app_version": "5.3.0",
        "city": "杭州",
        "links": {"order_no": "DD202611230001", "room_id": "LR8866"},
        "attachments": [shot, receipt],
    }
    number = submit(client, body)["number"]
    duplicate = submit(client, {**body, "attachments": [], "title": "重复反馈", "description": "同一个问题，再报一次"})[
        "number"
    ]
    h = admin.headers
    with db.write() as session:
        accounts.create_user(
            session,
            email="zhang.wei@example.com",
            password=PASSWORD,
            role=Role.AGENT,
            display_name="张伟",
            team_slugs=["tech-support"],
        )
    patch = {
        "category": "technical",
        "subcategory": "stream-lag",
        "priority": "high",
        "team": "tech-support",
        "assignee": "zhang.wei@example.com",
        "tags": ["加急"],
        "vip": True,
        "title": "直播卡顿（已核实）",
    }
    for field, value in patch.items():
        answer = client.patch(f"/api/v1/tickets/{number}", json={field: value}, headers=h)
        assert answer.status_code == 200, answer.text
    for status in ["open", "pending", "open"]:
        assert (
            client.post(
                f"/api/v1/tickets/{number}/status", json={"status": status, "note": "跟进中"}, headers=h
            ).status_code
            == 200
        )
    assert client.post(
        f"/api/v1/tickets/{number}/replies", json={"body": "您好，我们正在排查。", "internal": False}, headers=h
    ).status_code in (200, 201)
    assert client.post(
        f"/api/v1/tickets/{number}/replies", json={"body": "已联系直播组。", "internal": True}, headers=h
    ).status_code in (200, 201)
    assert client.post(f"/api/v1/tickets/{duplicate}/merge", json={"into": number}, headers=h).status_code == 200
    with db.write() as session:
        ticket = session.query(Ticket).filter_by(number=number).one()
        tickets.add_user_message(session, ticket, body="现在还是卡。", actor=platform_user("u20001"), settings=settings)
    freeze = {"target_type": "live_room", "target_id": "LR8866", "reason": "违规直播", "ticket": number}
    answer = client.post("/api/v1/moderation/freezes", json=freeze, headers=h)
    assert answer.status_code == 201, answer.text
    for status in ["resolved"]:
        assert client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=h).status_code == 200
    with db.write() as session:
        accounts.create_user(session, email="qa@example.com", password=PASSWORD, role=Role.QA, display_name="质检员")
    qa = client.post("/api/v1/auth/token", json={"email": "qa@example.com", "password": PASSWORD}).json()[
        "access_token"
    ]
    answer = client.post(
        f"/api/v1/tickets/{number}/qa-reviews",
        json={"score": 90, "comment": "处理及时"},
        headers={"Authorization": f"Bearer {qa}"},
    )
    assert answer.status_code == 201, answer.text
    assert client.post(f"/api/v1/tickets/{number}/status", json={"status": "open"}, headers=h).status_code == 200
    # Events written by background jobs (which these tests do not run) are recorded as those jobs do.
    with db.write() as session:
        ticket = session.query(Ticket).filter_by(number=number).one()
        history.record(
            session,
            ticket=ticket,
            actor=SYSTEM,
            action="reply_delivered",
            data={"message_id": 1, "via": "app", "external_id": "x1"},
        )
        history.record(
            session,
            ticket=ticket,
            actor=SYSTEM,
            action="reply_not_sent",
            data={
                "message_id": 1,
                "channel": "email",
                "reason": "no_email_sender",
                "error": "no email sender configured",
            },
        )
        history.record(
            session,
            ticket=ticket,
            actor=SYSTEM,
            action="compliance_escalated",
            data={"reasons": ["privacy-leak"], "due": "2026-12-01T12:00:00+00:00", "team": "security"},
        )
        history.record(
            session,
            ticket=ticket,
            actor=SYSTEM,
            action="compliance_alert_sent",
            data={"webhook": True, "ticket": number},
        )
    closed = submit(client, {**body, "attachments": [], "title": "已处理的问题", "description": "登录不了"})["number"]
    for status in ["resolved", "closed"]:
        assert client.post(f"/api/v1/tickets/{closed}/status", json={"status": status}, headers=h).status_code == 200
    # Tags are labels, as agents and rules wrote them (also those changed since).
    timeline = client.get(f"/api/v1/tickets/{number}/timeline", headers=h).json()
    events = timeline["events"]
    tags = [tag for e in events if e.get("field") == "tags" for v in (e["old"], e["new"]) if v for tag in v.split(",")]
    # The words triage matched are quotes of the user's text.
    matched = [
        word.strip()
        for n in (number, closed)
        for line in (client.get(f"/api/v1/tickets/{n}", headers=h).json().get("triage") or {}).get("rules", [])
        for word in line.partition("]: ")[2].split(",")
    ]
    with db.read() as session:
        # The macro library holds replies in both languages (an English user gets an English one).
        macro_names = [m.name for m in macros.list_macros(session)]
    content = [
        *macro_names,
        *tags,
        *matched,
        "admin",  # the display name of the conftest's admin account
        "testclient",  # the client address the test client reports
        *CONTENT,
        *(str(v) for v in body.values() if isinstance(v, str)),
        "您好，我们正在排查。",
        "已联系直播组。",
        "现在还是卡。",
        "跟进中",
        "重复反馈",
        "同一个问题，再报一次",
        "已处理的问题",
        "登录不了",
        "直播卡顿（已核实）",
        "加急",
        "违规直播",
        "处理及时",
    ]
    return {"number": number, "duplicate": duplicate, "closed": closed, "content": content}


def _portal_token(client: TestClient, number: str, contact: str) -> str:
    page = client.get("/portal")
    answer = client.post(
        "/portal", data={"number": number, "contact": contact, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"]).rsplit("/", 1)[-1]


def _pages(client: TestClient, db: Database, data: dict[str, Any]) -> dict[str, str]:
    """Every page, rendered by `client` (logged in as an admin), by name."""
    number = data["number"]
    paths = {f"queue {q}": f"/tickets?queue={q}" for q in QUEUES}
    paths.update(
        {
            "filtered list": "/tickets?queue=all&q=%E5%8D%A1%E9%A1%BF&status=open&priority=high&sort=priority",
            "ticket": f"/tickets/{number}",
            "merged ticket": f"/tickets/{data['duplicate']}",
            "closed ticket": f"/tickets/{data['closed']}",
            "missing ticket": "/tickets/HY000000-0000",
            "admin": "/admin",
            **{f"admin {tab}": f"/admin/{tab}" for tab in ["teams", "staff", "categories", "macros", "triage", "jobs"]},
            "feedback form": "/feedback?user_id=u20002&os=iOS%2018.1&model=iPhone%2015%20Pro&app_version=5.3.0&channel=app",
            "portal lookup": "/portal",
        }
    )
    pages = {name: client.get(path).text for name, path in paths.items()}
    token = _portal_token(client, number, "13912345678")
    pages["portal ticket"] = client.get(f"/portal/t/{token}").text
    pages["feedback done"] = client.get(f"/feedback/done?t={token}").text
    missing = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    pages["missing page"] = missing.text
    return pages


def _other_pages(client: TestClient, db: Database, lang: str) -> dict[str, str]:
    """Pages of other readers: the login form, an auditor's audit log, a page a role may not open."""
    pages: dict[str, str] = {}
    anonymous = TestClient(client.app, raise_server_exceptions=False)
    anonymous.cookies.set("hy_lang", lang)
    pages["login"] = anonymous.get("/login").text
    form = anonymous.get("/login").text
    failed = anonymous.post(
        "/login", data={"email": "nobody@example.com", "password": "wrong password", "csrf_token": csrf_of(form)}
    )
    pages["login failed"] = failed.text
    auditor = TestClient(client.app, raise_server_exceptions=False)
    auditor.cookies.set("hy_lang", lang)
    web_login(auditor, db, email=f"auditor.{lang}@example.com", role=Role.AUDITOR, name="审计员甲")
    pages["audit"] = auditor.get("/audit?verify=1").text
    forbidden = auditor.get("/admin/teams", headers={"Accept": "text/html"})
    assert forbidden.status_code == 403 and forbidden.headers["content-type"].startswith("text/html")
    pages["forbidden"] = forbidden.text
    return pages


def _form_errors(client: TestClient, data: dict[str, Any]) -> dict[str, str]:
    """The pages that refused forms answer with (redirects followed)."""
    number, closed = data["number"], data["closed"]
    out: dict[str, str] = {}
    form = client.get("/feedback")
    token = csrf_of(form.text)
    out["feedback: empty description"] = client.post("/feedback", data={"description": "", "csrf_token": token}).text
    out["feedback: unknown subcategory"] = client.post(
        "/feedback",
        data={"description": "闪退", "category": "technical", "subcategory": "no-such", "csrf_token": token},
    ).text
    out["feedback: file type"] = client.post(
        "/feedback",
        data={"description": "闪退", "csrf_token": token},
        files={"files": ("a.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 20, "application/octet-stream")},
    ).text
    ticket_page = client.get(f"/tickets/{number}").text
    staff = csrf_of(ticket_page)
    out["status: refused move"] = client.post(
        f"/tickets/{number}/status", data={"status": "new", "csrf_token": staff}
    ).text
    out["status: unknown"] = client.post(
        f"/tickets/{number}/status", data={"status": "bogus", "csrf_token": staff}
    ).text
    out["reply: empty"] = client.post(f"/tickets/{number}/reply", data={"body": " ", "csrf_token": staff}).text
    out["reply: closed"] = client.post(f"/tickets/{closed}/reply", data={"body": "还在吗", "csrf_token": staff}).text
    out["update: unknown subcategory"] = client.post(
        f"/tickets/{number}/update", data={"subcategory": "technical:no-such", "csrf_token": staff}
    ).text
    out["merge: itself"] = client.post(f"/tickets/{number}/merge", data={"into": number, "csrf_token": staff}).text
    out["merge: missing"] = client.post(
        f"/tickets/{number}/merge", data={"into": "HY000000-0000", "csrf_token": staff}
    ).text
    out["bulk: none"] = client.post("/tickets-bulk", data={"action": "assign_me", "csrf_token": staff}).text
    out["bulk: refused"] = client.post(
        "/tickets-bulk", data={"action": "status", "value": "new", "numbers": [number, closed], "csrf_token": staff}
    ).text
    out["admin: bad team slug"] = client.post(
        "/admin/teams", data={"slug": "Bad Slug", "name_zh": "坏", "name_en": "x", "csrf_token": staff}
    ).text
    out["admin: team exists"] = client.post(
        "/admin/teams", data={"slug": "tech-support", "name_zh": "重复", "name_en": "x", "csrf_token": staff}
    ).text
    out["admin: weak password"] = client.post(
        "/admin/staff", data={"email": "new@example.com", "role": "agent", "password": "short", "csrf_token": staff}
    ).text
    out["admin: bad email"] = client.post(
        "/admin/staff",
        data={"email": "not-an-address", "role": "agent", "password": "a long password", "csrf_token": staff},
    ).text
    out["admin: macro variable"] = client.post(
        "/admin/macros", data={"name": "测试", "body": "您好 {{ nonsense }}", "language": "zh", "csrf_token": staff}
    ).text
    out["admin: category slug"] = client.post(
        "/admin/categories", data={"slug": "Bad Slug", "name_zh": "坏", "name_en": "x", "csrf_token": staff}
    ).text
    lookup = client.get("/portal")
    out["portal: not found"] = client.post(
        "/portal", data={"number": "HY000000-0000", "contact": "13900000000", "csrf_token": csrf_of(lookup.text)}
    ).text
    token = _portal_token(client, number, "13912345678")
    portal = client.get(f"/portal/t/{token}").text
    out["portal: confirm an open ticket"] = client.post(
        f"/portal/t/{token}/confirm", data={"csrf_token": csrf_of(portal)}
    ).text
    out["csrf"] = client.post(f"/tickets/{number}/status", data={"status": "pending", "csrf_token": "forged"}).text
    return out


def _timeline_kinds(html: str) -> set[str]:
    return set(re.findall(r'data-event="([a-z_]+)"', html))


@pytest.fixture
def rich(
    app_client: TestClient, db: Database, settings: Settings, admin: StaffLogin, triage_on: None
) -> dict[str, Any]:
    data = rich_ticket(app_client, db, settings, admin)
    web_login(app_client, db, email="chief@example.com", role=Role.ADMIN, name="李主管")
    return data


def test_every_page_in_chinese_has_no_untranslated_string(
    app_client: TestClient, db: Database, rich: dict[str, Any]
) -> None:
    pages = _pages(app_client, db, rich) | _other_pages(app_client, db, "zh")
    found = {name: leftovers(readable_text(html), rich["content"]) for name, html in pages.items()}
    untranslated = {name: words for name, words in found.items() if words}
    assert not untranslated, f"English in the zh-CN pages: {untranslated}"
    assert _timeline_kinds(pages["ticket"]) >= EVENT_KINDS, "the rich ticket lacks some kinds of event"


def test_every_form_error_in_chinese_is_translated(app_client: TestClient, db: Database, rich: dict[str, Any]) -> None:
    answers = _form_errors(app_client, rich)
    for name, html in answers.items():
        assert 'class="flash flash-error"' in html or 'class="error"' in html or 'role="alert"' in html, (
            f"{name}: no error shown"
        )
    typed = [*rich["content"], "a.exe", "nonsense"]  # what the forms were sent
    found = {name: leftovers(readable_text(html), typed) for name, html in answers.items()}
    untranslated = {name: words for name, words in found.items() if words}
    assert not untranslated, f"English in the zh-CN form errors: {untranslated}"


def test_the_same_pages_in_english(app_client: TestClient, db: Database, rich: dict[str, Any]) -> None:
    app_client.get("/tickets?lang=en")  # the choice is kept in a cookie
    pages = _pages(app_client, db, rich) | _other_pages(app_client, db, "en")
    answers = _form_errors(app_client, rich)
    content = [*rich["content"], "小王", "张伟", "李主管", "审计员甲", "质检员", "杭州"]
    found = {name: chinese_leftovers(readable_text(html), content) for name, html in (pages | answers).items()}
    untranslated = {name: runs for name, runs in found.items() if runs}
    assert not untranslated, f"Chinese in the English pages: {untranslated}"
    assert 'lang="en"' in pages["ticket"] and "Timeline" in pages["ticket"]
