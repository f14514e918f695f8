"""The SQL that migration 0002 installs: fractional indexing identical to the reference package,
and the write trigger (change counter, manual-order keys, live list and parent, tombstones),
on a database whose default collation is locale-aware (en_US), where byte-order keys break."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import fractional_indexing
import psycopg2
import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from shared.config import normalize_database_url
from tests.support.database import alembic_config

LOCALE_CLAUSES = (
    "LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'",
    "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
)


@pytest.fixture(scope="module")
def en_us_url(direct_database_url: str) -> Iterator[str]:
    """A migrated database created with an en_US collation (libc where the locale exists, else ICU)."""
    admin_url = make_url(normalize_database_url(direct_database_url))
    name = f"{admin_url.database}_en_us_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    created = False
    with admin.connect() as connection:
        for clause in LOCALE_CLAUSES:
            try:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 {clause}'))
                created = True
                break
            except DBAPIError:
                continue
    if not created:
        admin.dispose()
        pytest.fail("no en_US collation on this server: run scripts/ensure_locale.sh as root (make test does)")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def sql(en_us_url: str) -> Iterator[psycopg2.extensions.cursor]:
    connection = psycopg2.connect(make_url(en_us_url).render_as_string(hide_password=False).replace("+psycopg2", ""))
    connection.autocommit = True
    yield connection.cursor()
    connection.close()


def scalar(cursor: psycopg2.extensions.cursor, query: str, *args: object) -> object:
    cursor.execute(query, args)
    row = cursor.fetchone()
    assert row is not None
    return row[0]


def test_the_database_collation_is_locale_aware(sql: psycopg2.extensions.cursor) -> None:
    assert scalar(sql, "SELECT 'Zz' < 'a0'") is False
    assert scalar(sql, "SELECT 'Zz' < 'a0' COLLATE \"C\"") is True


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60))
def test_key_between_matches_the_reference_package(sql: psycopg2.extensions.cursor, steps: list) -> None:
    keys: list[str] = []
    for where, at_edge in steps:
        index = 0 if at_edge else int(where * len(keys))
        before = keys[index - 1] if index > 0 else None
        after = keys[index] if index < len(keys) else None
        expected = fractional_indexing.generate_key_between(before, after)
        assert scalar(sql, "SELECT fi_key_between(%s, %s)", before, after) == expected
        keys.insert(index, expected)
    assert keys == sorted(keys)


def test_nth_key_is_the_reference_sequence(sql: psycopg2.extensions.cursor) -> None:
    expected = fractional_indexing.generate_n_keys_between(None, None, 4000)
    assert scalar(sql, "SELECT array_agg(fi_nth_key(n) ORDER BY n) FROM generate_series(0, 3999) AS n") == expected


@pytest.mark.parametrize("key", ["", "a", "a00", "A" + "0" * 26, "a0!", "é0"])
def test_invalid_keys_are_refused(sql: psycopg2.extensions.cursor, key: str) -> None:
    with pytest.raises(psycopg2.errors.DataException):
        sql.execute("SELECT fi_key_between(%s, NULL)", (key,))


def new_user() -> str:
    return f"u-{uuid.uuid4().hex[:12]}"


def insert_task(cursor: psycopg2.extensions.cursor, owner: str, **values: object) -> tuple:
    columns = ["user_id", "title", *values]
    cursor.execute(
        f"INSERT INTO tasks ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        "RETURNING id, position, change_seq",
        (owner, "t", *values.values()),
    )
    row = cursor.fetchone()
    assert row is not None
    return row


def test_new_tasks_go_to_the_end_in_byte_order_and_bump_the_counter(sql: psycopg2.extensions.cursor) -> None:
    owner = new_user()
    rows = [insert_task(sql, owner) for _ in range(70)]
    assert [seq for _, _, seq in rows] == list(range(1, 71))
    positions = [position for _, position, _ in rows]
    assert positions == fractional_indexing.generate_n_keys_between(None, None, 70)
    sql.execute("SELECT position FROM tasks WHERE user_id = %s ORDER BY position", (owner,))
    assert [row[0] for row in sql.fetchall()] == positions
    assert scalar(sql, "SELECT seq FROM sync_state WHERE user_id = %s", owner) == 70


def test_a_taken_key_becomes_the_key_right_after_it(sql: psycopg2.extensions.cursor) -> None:
    owner = new_user()
    first, second, third = (insert_task(sql, owner) for _ in range(3))
    sql.execute("UPDATE tasks SET position = %s WHERE id = %s RETURNING position", (first[1], third[0]))
    moved = sql.fetchone()
    assert moved is not None
    assert moved[0] == fractional_indexing.generate_key_between(first[1], second[1])


def test_two_concurrent_writes_to_one_spot_both_land_distinctly(en_us_url: str) -> None:
    dsn = make_url(en_us_url).render_as_string(hide_password=False).replace("+psycopg2", "")
    setup = psycopg2.connect(dsn)
    setup.autocommit = True
    owner = new_user()
    ids = [insert_task(setup.cursor(), owner)[0] for _ in range(4)]
    spot = fractional_indexing.generate_key_between("a0", "a1")
    holder = psycopg2.connect(dsn)
    holder.cursor().execute("UPDATE tasks SET position = %s WHERE id = %s", (spot, ids[2]))
    result: list[str] = []

    def second_writer() -> None:
        other = psycopg2.connect(dsn)
        other.autocommit = True
        cursor = other.cursor()
        cursor.execute("UPDATE tasks SET position = %s WHERE id = %s RETURNING position", (spot, ids[3]))
        row = cursor.fetchone()
        assert row is not None
        result.append(row[0])
        other.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), "the second writer waits for the first one's commit (the counter row)"
    holder.commit()
    thread.join(10)
    holder.close()
    assert result == [fractional_indexing.generate_key_between(spot, "a1")]
    cursor = setup.cursor()
    cursor.execute("SELECT id FROM tasks WHERE user_id = %s ORDER BY position", (owner,))
    assert [row[0] for row in cursor.fetchall()] == [ids[0], ids[2], ids[3], ids[1]]
    setup.close()


def insert_list(cursor: psycopg2.extensions.cursor, owner: str, name: str) -> int:
    cursor.execute("INSERT INTO lists (user_id, name) VALUES (%s, %s) RETURNING id", (owner, name))
    row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("case", "constraint"),
    [
        ("other users list", "tasks_list_live"),
        ("deleted list", "tasks_list_live"),
        ("subtask of a subtask", "tasks_parent_top_level"),
        ("other users parent", "tasks_parent_top_level"),
        ("subtask in another list", "tasks_parent_same_list"),
    ],
)
def test_links_to_anything_but_a_live_own_list_or_top_level_task_are_refused(
    sql: psycopg2.extensions.cursor, case: str, constraint: str
) -> None:
    owner, stranger = new_user(), new_user()
    own_list = insert_list(sql, owner, "Home")
    gone_list = insert_list(sql, owner, "Gone")
    sql.execute("UPDATE lists SET deleted_at = now() WHERE id = %s", (gone_list,))
    foreign_list = insert_list(sql, stranger, "Theirs")
    parent = insert_task(sql, owner, list_id=own_list)[0]
    child = insert_task(sql, owner, list_id=own_list, parent_id=parent)[0]
    foreign_task = insert_task(sql, stranger)[0]
    values = {
        "other users list": {"list_id": foreign_list},
        "deleted list": {"list_id": gone_list},
        "subtask of a subtask": {"list_id": own_list, "parent_id": child},
        "other users parent": {"parent_id": foreign_task},
        "subtask in another list": {"parent_id": parent},
    }[case]
    with pytest.raises(psycopg2.errors.ForeignKeyViolation) as refused:
        insert_task(sql, owner, **values)
    assert refused.value.diag.constraint_name == constraint


def test_a_tombstone_gives_up_its_key_and_old_tombstones_are_pruned(sql: psycopg2.extensions.cursor) -> None:
    owner = new_user()
    old, fresh, keep = (insert_task(sql, owner)[0] for _ in range(3))
    sql.execute("UPDATE tasks SET deleted_at = now() - interval '31 days' WHERE id = %s RETURNING position", (old,))
    assert sql.fetchone() == (None,)
    old_seq = scalar(sql, "SELECT change_seq FROM tasks WHERE id = %s", old)
    sql.execute("UPDATE tasks SET deleted_at = now() WHERE id = %s", (fresh,))
    assert scalar(sql, "SELECT array_agg(id ORDER BY id) FROM tasks WHERE user_id = %s", owner) == [fresh, keep]
    assert scalar(sql, "SELECT pruned_seq FROM sync_state WHERE user_id = %s", owner) == old_seq
