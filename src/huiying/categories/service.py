"""Read and check the taxonomy; seed the defaults."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from huiying.categories.defaults import DEFAULT_CATEGORIES
from huiying.categories.models import Category
from huiying.errors import InvalidInput


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
            tuple(
                CategoryNode(c.slug, c.name_zh, c.name_en, c.default_team)
                for c in children.get(row.id, [])
            ),
        )
        for row in rows
        if row.parent_id is None
    ]


# Intake checks every ticket's category; the taxonomy changes rarely, so each process keeps it
# for a few seconds (and drops it at once when it edits it itself).
CACHE_SECONDS = 10.0
_cache: weakref.WeakKeyDictionary[Engine, tuple[float, dict[str, CategoryNode]]] = (
    weakref.WeakKeyDictionary()
)


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
