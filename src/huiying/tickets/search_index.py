"""Rebuilding the stored search terms of every ticket, after the way they are cut changed.

The FTS5 table (SQLite) follows `tickets.search_tokens` through its triggers and the GIN index
(PostgreSQL) is an expression over it, so writing the column is the whole re-index.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, bindparam, column, select, table, update

from huiying.kit.text import document, search_tokens

# Only the columns needed, as plain table constructs: a migration runs this against the schema
# of its own revision, not the current models.
_tickets = table("tickets", column("id"), column("title"), column("description"), column("search_tokens"))


def reindex(connection: Connection, *, batch: int = 500, tokens_of: Callable[[str], str] = search_tokens) -> int:
    """Recompute `search_tokens` of every ticket (`tokens_of` its text) in batches of `batch`;
    returns how many changed."""
    changed = 0
    last_id = 0
    while True:
        rows = connection.execute(
            select(_tickets.c.id, _tickets.c.title, _tickets.c.description, _tickets.c.search_tokens)
            .where(_tickets.c.id > last_id)
            .order_by(_tickets.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        last_id = rows[-1].id
        updates = [
            {"row_id": row.id, "tokens": tokens}
            for row in rows
            if (tokens := tokens_of(document(row.title, row.description))) != row.search_tokens
        ]
        if updates:
            connection.execute(
                update(_tickets).where(_tickets.c.id == bindparam("row_id")).values(search_tokens=bindparam("tokens")),
                updates,
            )
            changed += len(updates)
