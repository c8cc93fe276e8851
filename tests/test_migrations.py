"""Migrations: up, down and up again on both back ends, and the models match the schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from conftest import postgres_url, scratch_database
from huiying import migrate
from huiying.db import make_engine
from huiying.models import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id_suffix: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL tests skipped: set HUIYING_TEST_DATABASE_URL to run them")
    with scratch_database(base, f"{worker_id_suffix}_migrations_{uuid.uuid4().hex[:6]}") as url:
        yield url


def test_upgrade_matches_the_models_then_downgrade_and_upgrade_again(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current(engine) is not None
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": migrate.include_object}
            )
            differences = compare_metadata(context, metadata)
        assert differences == [], differences

        migrate.downgrade(engine, "base")
        leftover = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()

        migrate.upgrade(engine)
        assert "tickets" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_search_index_exists_on_each_back_end(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        migrate.upgrade(engine)
        inspector = inspect(engine)
        if engine.dialect.name == "sqlite":
            assert "tickets_fts" in inspector.get_table_names()
        else:
            names = {index["name"] for index in inspector.get_indexes("tickets")}
            assert "ix_tickets_search_words" in names
    finally:
        engine.dispose()
