"""The admins' wording of the notices: read (theirs, else the default) and changed, with an audit entry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.audit import service as audit
from huiying.errors import InvalidInput, NotFound
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.locale import Language
from huiying.notices import wording
from huiying.notices.models import NoticeTemplate


@dataclass(frozen=True)
class Wording:
    """One kind's words in one language, and whether an admin changed them."""

    kind: str
    language: Language
    texts: wording.Texts
    custom: bool


def template_for(session: Session, kind: str, language: Language) -> wording.Texts | None:
    """The admins' words for `kind` in `language`, or None where the default stands."""
    row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == kind, NoticeTemplate.language == language))
    return wording.Texts(row.subject, row.body, row.short) if row else None


def all_wordings(session: Session) -> list[Wording]:
    """Every kind in both languages, in the order of wording.KINDS."""
    rows = {(r.kind, r.language): r for r in session.scalars(select(NoticeTemplate))}
    found: list[Wording] = []
    for kind in wording.KINDS:
        for language in wording.LANGUAGES:
            row = rows.get((kind, language))
            texts = wording.Texts(row.subject, row.body, row.short) if row else wording.default(kind, language)
            found.append(Wording(kind, language, texts, custom=row is not None))
    return found


def _check_key(kind: str, language: str) -> Language:
    if kind not in wording.KINDS:
        raise NotFound(f"no notice {kind!r}", code="unknown_notice", details={"kinds": list(wording.KINDS)})
    if language not in wording.LANGUAGES:
        raise NotFound(f"no language {language!r}", code="unknown_language", details={"languages": ["zh-CN", "en"]})
    return "en" if language == "en" else "zh-CN"


def save(session: Session, *, kind: str, language: str, texts: wording.Texts, actor: Actor) -> Wording:
    """Replace the words of `kind` in `language`; 422 naming each problem (an unknown placeholder…)."""
    chosen = _check_key(kind, language)
    problems = [p for name in wording.FIELDS for p in wording.problems(getattr(texts, name), field=name)]
    if problems:
        raise InvalidInput("; ".join(problems), code="bad_template", details={"problems": problems})
    row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == kind, NoticeTemplate.language == chosen))
    before = {"subject": row.subject, "body": row.body, "short": row.short} if row else None
    if row is None:
        row = NoticeTemplate(kind=kind, language=chosen)
        session.add(row)
    row.subject, row.body, row.short = texts.subject, texts.body, texts.short
    row.updated_by, row.updated_at = actor.staff_id, utcnow()
    session.flush()
    after = {"subject": texts.subject, "body": texts.body, "short": texts.short}
    audit.record(
        session,
        actor=actor,
        action="notice_template.saved",
        object_type="notice_template",
        object_id=f"{kind}.{chosen}",
        before=before,
        after=after,
    )
    return Wording(kind, chosen, texts, custom=True)


def reset(session: Session, *, kind: str, language: str, actor: Actor) -> Wording:
    """Go back to the default words of `kind` in `language` (nothing to reset is no error)."""
    chosen = _check_key(kind, language)
    row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == kind, NoticeTemplate.language == chosen))
    if row is not None:
        before = {"subject": row.subject, "body": row.body, "short": row.short}
        session.delete(row)
        audit.record(
            session,
            actor=actor,
            action="notice_template.reset",
            object_type="notice_template",
            object_id=f"{kind}.{chosen}",
            before=before,
        )
    return Wording(kind, chosen, wording.default(kind, chosen), custom=False)
