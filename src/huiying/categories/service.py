"""Read and check the taxonomy; seed the defaults."""

from __future__ import annotations

import re
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from huiying.audit import service as audit
from huiying.categories.defaults import DEFAULT_CATEGORIES
from huiying.categories.models import Category
from huiying.errors import Conflict, InvalidInput, NotFound
from huiying.kit.actor import Actor

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


@dataclass(frozen=True)
class CategoryNode:
    slug: str
    name_zh: str
    name_en: str
    default_team: str | None
    children: tuple[CategoryNode, ...] = ()


def tree(session: Session, *, include_inactive: bool = False) -> list[CategoryNode]:
    """Categories with their sub-categories, in display order."""
    query = select(Category).order_by(Category.position, Category.id)
    if not include_inactive:
        query = query.where(Category.active.is_(True))
    rows = list(session.scalars(query))
    children: dict[int, list[Category]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    return [
        CategoryNode(
            row.slug,
            row.name_zh,
            row.name_en,
            row.default_team,
            tuple(CategoryNode(c.slug, c.name_zh, c.name_en, c.default_team) for c in children.get(row.id, [])),
        )
        for row in rows
        if row.parent_id is None
    ]


# Intake checks every ticket's category; the taxonomy changes rarely, so each process keeps it
# for a few seconds (and drops it at once when it edits it itself).
CACHE_SECONDS = 10.0
_cache: weakref.WeakKeyDictionary[Engine, tuple[float, dict[str, CategoryNode]]] = weakref.WeakKeyDictionary()


def active_by_slug(session: Session) -> dict[str, CategoryNode]:
    """The active categories by slug, from a short-lived per-process cache."""
    engine = session.get_bind().engine
    cached = _cache.get(engine)
    now = time.monotonic()
    if cached is None or cached[0] < now:
        cached = (now + CACHE_SECONDS, {node.slug: node for node in tree(session)})
        _cache[engine] = cached
    return cached[1]


def forget_cached(session: Session) -> None:
    """Drop this process's cached taxonomy (after an edit)."""
    _cache.pop(session.get_bind().engine, None)


def check(session: Session, category: str | None, subcategory: str | None) -> None:
    """Raise InvalidInput unless the pair names an active category and one of its children."""
    if category is None:
        if subcategory is not None:
            raise InvalidInput("a subcategory needs its category", code="unknown_category")
        return
    nodes = active_by_slug(session)
    node = nodes.get(category)
    if node is None:
        raise InvalidInput(
            f"unknown category {category!r}",
            code="unknown_category",
            details={"allowed": sorted(nodes)},
        )
    if subcategory is not None and subcategory not in {c.slug for c in node.children}:
        raise InvalidInput(
            f"unknown subcategory {subcategory!r} of {category!r}",
            code="unknown_category",
            details={"allowed": [c.slug for c in node.children]},
        )


def ensure_defaults(session: Session) -> int:
    """Create the default taxonomy on an empty table; returns how many rows were created."""
    if session.scalar(select(Category.id).limit(1)) is not None:
        return 0
    created = 0
    for position, (parent, children) in enumerate(DEFAULT_CATEGORIES):
        row = Category(
            slug=parent.slug,
            name_zh=parent.name_zh,
            name_en=parent.name_en,
            default_team=parent.default_team,
            position=position,
        )
        session.add(row)
        session.flush()
        created += 1
        for child_position, child in enumerate(children):
            session.add(
                Category(
                    slug=child.slug,
                    parent_id=row.id,
                    name_zh=child.name_zh,
                    name_en=child.name_en,
                    default_team=child.default_team,
                    position=child_position,
                )
            )
            created += 1
    session.flush()
    forget_cached(session)
    return created


def _row(session: Session, slug: str, parent_id: int | None) -> Category | None:
    query = select(Category).where(Category.slug == slug)
    query = query.where(Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id)
    return session.scalar(query)


def find(session: Session, slug: str, parent: str | None = None) -> Category:
    """A category (or, with `parent`, one of its sub-categories), active or not."""
    parent_row = find(session, parent) if parent else None
    row = _row(session, slug, parent_row.id if parent_row else None)
    if row is None:
        raise NotFound(f"no category {slug!r}", code="unknown_category")
    return row


def create(
    session: Session,
    *,
    slug: str,
    name_zh: str,
    name_en: str,
    parent: str | None,
    default_team: str | None,
    actor: Actor,
) -> Category:
    """A new category, or a sub-category of `parent`."""
    if not _SLUG.match(slug):
        raise InvalidInput("a slug is lower-case letters, digits and dashes", code="invalid_slug")
    parent_row = find(session, parent) if parent else None
    if _row(session, slug, parent_row.id if parent_row else None) is not None:
        raise Conflict(f"{slug!r} exists already", code="category_exists")
    siblings = session.scalar(
        select(func.count())
        .select_from(Category)
        .where(Category.parent_id.is_(None) if parent_row is None else Category.parent_id == parent_row.id)
    )
    row = Category(
        slug=slug,
        parent_id=parent_row.id if parent_row else None,
        name_zh=name_zh,
        name_en=name_en,
        default_team=default_team or None,
        position=int(siblings or 0),
    )
    session.add(row)
    session.flush()
    forget_cached(session)
    audit.record(
        session,
        actor=actor,
        action="category.created",
        object_type="category",
        object_id=f"{parent}/{slug}" if parent else slug,
        after={"name_zh": name_zh, "name_en": name_en, "default_team": default_team},
    )
    return row


def update(
    session: Session,
    row: Category,
    *,
    actor: Actor,
    name_zh: str | None = None,
    name_en: str | None = None,
    default_team: str | None = None,
    active: bool | None = None,
) -> Category:
    wanted: dict[str, Any] = {"name_zh": name_zh, "name_en": name_en, "active": active}
    changes = {field: value for field, value in wanted.items() if value is not None}
    if default_team is not None:
        changes["default_team"] = default_team or None  # "" clears it
    if audit.apply_changes(
        session, row, changes, actor=actor, action="category.updated", object_type="category", object_id=row.slug
    ):
        forget_cached(session)
    return row


def names(session: Session) -> dict[str, tuple[str, str]]:
    """Display names by slug (categories and sub-categories), active or not."""
    return {row.slug: (row.name_zh, row.name_en) for row in session.scalars(select(Category))}


def inactive(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).where(Category.active.is_(False))))
