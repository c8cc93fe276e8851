"""The taxonomy, public: feedback forms show it as a picker."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from huiying.categories import service
from huiying.http.deps import DB

router = APIRouter(prefix="/api/v1", tags=["intake"])


class CategoryOut(BaseModel):
    slug: str
    name_zh: str
    name_en: str
    subcategories: list[CategoryOut] = []


@router.get("/categories", response_model=list[CategoryOut])
def categories(db: DB) -> list[CategoryOut]:
    with db.read() as session:
        return [
            CategoryOut(
                slug=node.slug,
                name_zh=node.name_zh,
                name_en=node.name_en,
                subcategories=[CategoryOut(slug=c.slug, name_zh=c.name_zh, name_en=c.name_en) for c in node.children],
            )
            for node in service.tree(session)
        ]
