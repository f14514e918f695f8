"""The migrations on a scratch database of their own: up, down to nothing, up again, and in step with the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import shared.models.idempotency  # noqa: F401  (registers the table)
import shared.models.sync_state  # noqa: F401
import shared.models.table  # noqa: F401
from shared.config import normalize_database_url
from tests.support.database import alembic_config

APP_TABLES = {"tasks", "idempotency_keys", "lists", "sync_state"}


@pytest.fixture
def scratch_url(direct_database_url: str) -> Iterator[str]:
    """A new, empty database next to the test database; dropped afterwards."""
    admin_url = make_url(normalize_database_url(direct_database_url))
    name = f"{admin_url.database}_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def scratch_engine(scratch_url: str) -> Iterator[Engine]:
    engine = create_engine(scratch_url)
    yield engine
    engine.dispose()


def user_relations(engine: Engine) -> set[tuple[str, str]]:
    """Every table, index, sequence, view and type in the public schema, besides Alembic's own table."""
    with engine.connect() as connection:
        relations = connection.execute(
            text(
                "SELECT c.relkind::text, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname NOT IN ('alembic_version', 'alembic_version_pkc')"
            )
        ).all()
        types = connection.execute(
            text(
                "SELECT 'type', t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0"
            )
        ).all()
    return {(kind, name) for kind, name in [*relations, *types]}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def test_upgrade_head_creates_the_tables_at_the_head_revision(scratch_url, scratch_engine):
    command.upgrade(alembic_config(scratch_url), "head")
    assert set(inspect(scratch_engine).get_table_names()) == APP_TABLES | {"alembic_version"}
    assert current_revision(scratch_engine) == head_revision(scratch_url)


def test_there_is_a_single_head(scratch_url):
    assert len(ScriptDirectory.from_config(alembic_config(scratch_url)).get_heads()) == 1


def test_downgrade_base_leaves_nothing_behind(scratch_url, scratch_engine):
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert set(inspect(scratch_engine).get_table_names()) <= {"alembic_version"}
    assert user_relations(scratch_engine) == set()
    assert current_revision(scratch_engine) is None


def test_upgrade_after_downgrade_works_again(scratch_url, scratch_engine):
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    created = user_relations(scratch_engine)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert user_relations(scratch_engine) == created
    assert current_revision(scratch_engine) == head_revision(scratch_url)


def test_upgrade_head_twice_is_a_no_op(scratch_url, scratch_engine):
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    created = user_relations(scratch_engine)
    command.upgrade(config, "head")
    assert user_relations(scratch_engine) == created


def test_the_migrated_schema_matches_the_models(scratch_url, scratch_engine):
    command.upgrade(alembic_config(scratch_url), "head")
    with scratch_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_the_migrated_schema_has_every_index_the_models_declare(scratch_url, scratch_engine):
    command.upgrade(alembic_config(scratch_url), "head")
    inspector = inspect(scratch_engine)
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in APP_TABLES:
            continue
        declared = {index.name for index in table.indexes}
        assert declared <= {index["name"] for index in inspector.get_indexes(table.name)}


def test_the_migrated_schema_enforces_the_models_check_constraints(scratch_url, scratch_engine):
    command.upgrade(alembic_config(scratch_url), "head")
    inspector = inspect(scratch_engine)
    for table in SQLModel.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        assert {c["name"] for c in inspector.get_check_constraints(table.name)} == declared, table.name
    assert "tasks_title_length" in {c.name for c in SQLModel.metadata.tables["tasks"].constraints}


def test_the_offline_sql_of_every_migration_renders(scratch_url, capsys):
    config = alembic_config(scratch_url)
    command.upgrade(config, "head", sql=True)
    command.downgrade(config, "head:base", sql=True)
    output = capsys.readouterr().out
    assert "CREATE TABLE tasks" in output
    assert "DROP TABLE tasks" in output
