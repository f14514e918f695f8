"""lists, subtasks, manual order, tombstones and sync, recurrence

Expand-only: every new column is nullable or has a default, nothing is dropped, renamed or
retyped, so the previous release keeps running against this schema while a deploy rolls out.
Its writes still get a change position and a manual-order key (the triggers below assign both).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fractional indexing, byte for byte the algorithm of the `fractional-indexing` packages (npm and
# PyPI, base 62), so a front end computes the same keys as the server. Every comparison is
# COLLATE "C": a locale-aware collation orders "Zz" after "a0".
FRACTIONAL_INDEXING = r"""
CREATE FUNCTION fi_midpoint(a text, b text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    n int := 0;
    da int;
    db int;
BEGIN
    IF b IS NOT NULL AND a COLLATE "C" >= b COLLATE "C" THEN
        RAISE EXCEPTION 'fractional index: % is not below %', a, b USING ERRCODE = 'data_exception';
    END IF;
    IF right(a, 1) = '0' OR right(b, 1) = '0' THEN
        RAISE EXCEPTION 'fractional index: trailing zero' USING ERRCODE = 'data_exception';
    END IF;
    IF b IS NOT NULL THEN
        WHILE coalesce(nullif(substr(a, n + 1, 1), ''), '0') = substr(b, n + 1, 1) LOOP
            n := n + 1;
        END LOOP;
        IF n > 0 THEN
            RETURN left(b, n) || fi_midpoint(substr(a, n + 1), substr(b, n + 1));
        END IF;
    END IF;
    da := CASE WHEN a = '' THEN 0 ELSE strpos(digits, left(a, 1)) - 1 END;
    db := CASE WHEN b IS NULL THEN 62 ELSE strpos(digits, left(b, 1)) - 1 END;
    IF db - da > 1 THEN
        RETURN substr(digits, (da + db + 1) / 2 + 1, 1);
    ELSIF b IS NOT NULL AND length(b) > 1 THEN
        RETURN left(b, 1);
    ELSE
        RETURN substr(digits, da + 1, 1) || fi_midpoint(substr(a, 2), NULL);
    END IF;
END $$;

CREATE FUNCTION fi_integer_part(key text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    head int := ascii(left(key, 1));
    len int;
BEGIN
    IF head BETWEEN ascii('a') AND ascii('z') THEN
        len := head - ascii('a') + 2;
    ELSIF head BETWEEN ascii('A') AND ascii('Z') THEN
        len := ascii('Z') - head + 2;
    ELSE
        RAISE EXCEPTION 'fractional index: invalid key %', key USING ERRCODE = 'data_exception';
    END IF;
    IF len > length(key) THEN
        RAISE EXCEPTION 'fractional index: invalid key %', key USING ERRCODE = 'data_exception';
    END IF;
    RETURN left(key, len);
END $$;

CREATE FUNCTION fi_validate(key text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF key = 'A' || repeat('0', 26) OR right(substr(key, length(fi_integer_part(key)) + 1), 1) = '0'
       OR key !~ '^[0-9A-Za-z]+$' THEN
        RAISE EXCEPTION 'fractional index: invalid key %', key USING ERRCODE = 'data_exception';
    END IF;
END $$;

CREATE FUNCTION fi_increment_integer(x text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    head text := left(x, 1);
    digs text := substr(x, 2);
    i int := length(digs);
    d int;
    h text;
BEGIN
    WHILE i >= 1 LOOP
        d := strpos(digits, substr(digs, i, 1));
        IF d = 62 THEN
            digs := overlay(digs PLACING '0' FROM i FOR 1);
            i := i - 1;
        ELSE
            RETURN head || overlay(digs PLACING substr(digits, d + 1, 1) FROM i FOR 1);
        END IF;
    END LOOP;
    IF head = 'Z' THEN
        RETURN 'a0';
    ELSIF head = 'z' THEN
        RETURN NULL;
    END IF;
    h := chr(ascii(head) + 1);
    IF ascii(h) > ascii('a') THEN
        RETURN h || digs || '0';
    END IF;
    RETURN h || left(digs, -1);
END $$;

CREATE FUNCTION fi_decrement_integer(x text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    head text := left(x, 1);
    digs text := substr(x, 2);
    i int := length(digs);
    d int;
    h text;
BEGIN
    WHILE i >= 1 LOOP
        d := strpos(digits, substr(digs, i, 1)) - 2;
        IF d = -1 THEN
            digs := overlay(digs PLACING 'z' FROM i FOR 1);
            i := i - 1;
        ELSE
            RETURN head || overlay(digs PLACING substr(digits, d + 1, 1) FROM i FOR 1);
        END IF;
    END LOOP;
    IF head = 'a' THEN
        RETURN 'Zz';
    ELSIF head = 'A' THEN
        RETURN NULL;
    END IF;
    h := chr(ascii(head) - 1);
    IF ascii(h) < ascii('Z') THEN
        RETURN h || digs || 'z';
    END IF;
    RETURN h || left(digs, -1);
END $$;

-- The key strictly between a and b (either may be NULL: the start or the end of the scope).
CREATE FUNCTION fi_key_between(a text, b text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    ia text;
    ib text;
    i text;
BEGIN
    IF a IS NOT NULL THEN PERFORM fi_validate(a); END IF;
    IF b IS NOT NULL THEN PERFORM fi_validate(b); END IF;
    IF a IS NOT NULL AND b IS NOT NULL AND a COLLATE "C" >= b COLLATE "C" THEN
        RAISE EXCEPTION 'fractional index: % is not below %', a, b USING ERRCODE = 'data_exception';
    END IF;
    IF a IS NULL THEN
        IF b IS NULL THEN
            RETURN 'a0';
        END IF;
        ib := fi_integer_part(b);
        IF ib = 'A' || repeat('0', 26) THEN
            RETURN ib || fi_midpoint('', substr(b, length(ib) + 1));
        ELSIF ib COLLATE "C" < b COLLATE "C" THEN
            RETURN ib;
        END IF;
        i := fi_decrement_integer(ib);
        IF i IS NULL THEN
            RAISE EXCEPTION 'fractional index: cannot decrement any more' USING ERRCODE = 'data_exception';
        END IF;
        RETURN i;
    END IF;
    ia := fi_integer_part(a);
    IF b IS NULL THEN
        RETURN coalesce(fi_increment_integer(ia), ia || fi_midpoint(substr(a, length(ia) + 1), NULL));
    END IF;
    ib := fi_integer_part(b);
    IF ia = ib THEN
        RETURN ia || fi_midpoint(substr(a, length(ia) + 1), substr(b, length(ib) + 1));
    END IF;
    i := fi_increment_integer(ia);
    IF i IS NULL THEN
        RAISE EXCEPTION 'fractional index: cannot increment any more' USING ERRCODE = 'data_exception';
    ELSIF i COLLATE "C" < b COLLATE "C" THEN
        RETURN i;
    END IF;
    RETURN ia || fi_midpoint(substr(a, length(ia) + 1), NULL);
END $$;

-- The n-th key (from 0) of the sequence a0, a1, ..., az, b00, ...: what generateNKeysBetween(null,
-- null, N) gives, computed directly, so a rebalance is one statement over row_number().
CREATE FUNCTION fi_nth_key(n bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    width int := 1;
    span numeric := 62;
    rest numeric := n;
    out text := '';
BEGIN
    WHILE rest >= span LOOP
        rest := rest - span;
        width := width + 1;
        span := span * 62;
    END LOOP;
    FOR k IN 1..width LOOP
        out := substr(digits, (rest % 62)::int + 1, 1) || out;
        rest := floor(rest / 62);
    END LOOP;
    RETURN chr(ascii('a') + width - 1) || out;
END $$;
"""

# One mechanism for every writer (this release, the previous one during a rollout, a batch): a
# BEFORE trigger on each row written
# - bumps the user's change counter and stamps the row with it. The counter row stays locked
#   until the write commits, so a user's writes are serialised and a change that commits later
#   always has a higher position: "changed since N" never misses a row that commits out of order;
# - keeps manual order consistent under concurrency: it runs after that lock, so its reads see every
#   committed write of this user. A row without a key goes to the end of its scope; a key that
#   another write took meanwhile becomes the key right after it (two moves to one spot both land);
#   a tombstone gives its key up;
# - checks, after the lock, that a task's list and parent are live (a list or parent deleted by a
#   concurrent request cannot gain a task), a parent is top level and in the same list, and a task
#   with subtasks does not become a subtask;
# - on a delete, prunes a few tombstones older than 30 days (bounded work, no scheduler), and
#   records the highest change position it pruned: tokens older than that get 410.
# SET LOCAL tasks_api.rebalancing = 'on' lets a rebalance rewrite a scope's keys as given.
TRIGGERS = r"""
CREATE FUNCTION tasks_api_next_change(owner text) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    INSERT INTO sync_state AS s (user_id, seq) VALUES (owner, 1)
    ON CONFLICT (user_id) DO UPDATE SET seq = s.seq + 1
    RETURNING s.seq
$$;

CREATE FUNCTION tasks_api_prune_tombstones(owner text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    pruned bigint;
BEGIN
    WITH gone_tasks AS (
        DELETE FROM tasks WHERE ctid IN (
            SELECT ctid FROM tasks
            WHERE user_id = owner AND deleted_at < now() - interval '30 days'
            ORDER BY deleted_at LIMIT 20
        ) RETURNING change_seq
    ), gone_lists AS (
        DELETE FROM lists WHERE ctid IN (
            SELECT ctid FROM lists
            WHERE user_id = owner AND deleted_at < now() - interval '30 days'
            ORDER BY deleted_at LIMIT 5
        ) RETURNING change_seq
    )
    SELECT max(change_seq) INTO pruned
    FROM (SELECT change_seq FROM gone_tasks UNION ALL SELECT change_seq FROM gone_lists) AS gone;
    IF pruned IS NOT NULL THEN
        UPDATE sync_state SET pruned_seq = greatest(pruned_seq, pruned) WHERE user_id = owner;
    END IF;
END $$;

CREATE FUNCTION tasks_api_task_written() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    scope_changed boolean := TG_OP = 'INSERT'
        OR NEW.list_id IS DISTINCT FROM OLD.list_id OR NEW.parent_id IS DISTINCT FROM OLD.parent_id;
    parent record;
BEGIN
    NEW.change_seq := tasks_api_next_change(NEW.user_id);
    IF NEW.deleted_at IS NOT NULL THEN
        NEW.position := NULL;
        IF TG_OP = 'INSERT' OR OLD.deleted_at IS NULL THEN
            PERFORM tasks_api_prune_tombstones(NEW.user_id);
        END IF;
        RETURN NEW;
    END IF;
    IF scope_changed THEN
        IF NEW.list_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM lists WHERE user_id = NEW.user_id AND id = NEW.list_id AND deleted_at IS NULL
        ) THEN
            RAISE EXCEPTION 'list % is not one of the caller''s lists', NEW.list_id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tasks_list_live';
        END IF;
        IF NEW.parent_id IS NOT NULL THEN
            SELECT id, list_id, parent_id INTO parent FROM tasks
            WHERE user_id = NEW.user_id AND id = NEW.parent_id AND deleted_at IS NULL;
            IF NOT FOUND OR parent.parent_id IS NOT NULL OR NEW.parent_id = NEW.id THEN
                RAISE EXCEPTION 'parent % is not one of the caller''s top-level tasks', NEW.parent_id
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tasks_parent_top_level';
            END IF;
            IF parent.list_id IS DISTINCT FROM NEW.list_id THEN
                RAISE EXCEPTION 'a subtask is in its parent''s list'
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tasks_parent_same_list';
            END IF;
            IF TG_OP = 'UPDATE' AND OLD.parent_id IS NULL AND EXISTS (
                SELECT 1 FROM tasks WHERE user_id = NEW.user_id AND parent_id = NEW.id AND deleted_at IS NULL
            ) THEN
                RAISE EXCEPTION 'a task with subtasks cannot become a subtask'
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tasks_one_level';
            END IF;
        END IF;
    END IF;
    IF current_setting('tasks_api.rebalancing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF NEW.position IS NULL THEN
        NEW.position := fi_key_between((
            SELECT max(position) FROM tasks
            WHERE user_id = NEW.user_id AND coalesce(list_id, 0) = coalesce(NEW.list_id, 0)
              AND coalesce(parent_id, 0) = coalesce(NEW.parent_id, 0) AND id <> NEW.id
        ), NULL);
    ELSIF (scope_changed OR NEW.position IS DISTINCT FROM OLD.position) AND EXISTS (
        SELECT 1 FROM tasks
        WHERE user_id = NEW.user_id AND coalesce(list_id, 0) = coalesce(NEW.list_id, 0)
          AND coalesce(parent_id, 0) = coalesce(NEW.parent_id, 0) AND position = NEW.position
          AND id <> NEW.id
    ) THEN
        NEW.position := fi_key_between(NEW.position, (
            SELECT min(position) FROM tasks
            WHERE user_id = NEW.user_id AND coalesce(list_id, 0) = coalesce(NEW.list_id, 0)
              AND coalesce(parent_id, 0) = coalesce(NEW.parent_id, 0)
              AND position > NEW.position COLLATE "C" AND id <> NEW.id
        ));
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION tasks_api_list_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := tasks_api_next_change(NEW.user_id);
    IF NEW.deleted_at IS NOT NULL THEN
        NEW.position := NULL;
        IF TG_OP = 'INSERT' OR OLD.deleted_at IS NULL THEN
            PERFORM tasks_api_prune_tombstones(NEW.user_id);
        END IF;
        RETURN NEW;
    END IF;
    IF current_setting('tasks_api.rebalancing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF NEW.position IS NULL THEN
        NEW.position := fi_key_between((
            SELECT max(position) FROM lists WHERE user_id = NEW.user_id AND id <> NEW.id
        ), NULL);
    ELSIF (TG_OP = 'INSERT' OR NEW.position IS DISTINCT FROM OLD.position) AND EXISTS (
        SELECT 1 FROM lists WHERE user_id = NEW.user_id AND position = NEW.position AND id <> NEW.id
    ) THEN
        NEW.position := fi_key_between(NEW.position, (
            SELECT min(position) FROM lists
            WHERE user_id = NEW.user_id AND position > NEW.position COLLATE "C" AND id <> NEW.id
        ));
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER tasks_written BEFORE INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_api_task_written();
CREATE TRIGGER lists_written BEFORE INSERT OR UPDATE ON lists
    FOR EACH ROW EXECUTE FUNCTION tasks_api_list_written();
"""

DROP_FUNCTIONS = (
    "tasks_api_list_written()",
    "tasks_api_task_written()",
    "tasks_api_prune_tombstones(text)",
    "tasks_api_next_change(text)",
    "fi_nth_key(bigint)",
    "fi_key_between(text, text)",
    "fi_decrement_integer(text)",
    "fi_increment_integer(text)",
    "fi_validate(text)",
    "fi_integer_part(text)",
    "fi_midpoint(text, text)",
)


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.BIGINT(), server_default=sa.text("0"), nullable=False),
        sa.Column("pruned_seq", sa.BIGINT(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="sync_state_pkey"),
    )
    op.create_table(
        "lists",
        sa.Column("id", sa.BIGINT(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Text(collation="C"), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("change_seq", sa.BIGINT(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="lists_name_length"),
        sa.PrimaryKeyConstraint("id", name="lists_pkey"),
        sa.UniqueConstraint("user_id", "id", name="lists_user_id_id_key"),
    )
    op.create_index(
        "ux_lists_user_name",
        "lists",
        ["user_id", sa.literal_column("lower(name)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("ux_lists_user_position", "lists", ["user_id", "position"], unique=True)
    op.create_index("ix_lists_user_change", "lists", ["user_id", "change_seq"])

    op.add_column("tasks", sa.Column("list_id", sa.BIGINT(), nullable=True))
    op.add_column("tasks", sa.Column("parent_id", sa.BIGINT(), nullable=True))
    op.add_column("tasks", sa.Column("position", sa.Text(collation="C"), nullable=True))
    op.add_column("tasks", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("change_seq", sa.BIGINT(), server_default=sa.text("0"), nullable=False))
    op.add_column("tasks", sa.Column("recurrence", sa.Text(), nullable=True))
    op.add_column(
        "tasks", sa.Column("recurrence_basis", sa.String(length=10), server_default=sa.text("'due'"), nullable=False)
    )
    op.add_column("tasks", sa.Column("timezone", sa.String(length=64), server_default=sa.text("'UTC'"), nullable=False))
    op.add_column("tasks", sa.Column("recurrence_start", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("last_completed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint("tasks_recurrence_length", "tasks", "char_length(recurrence) <= 500")
    op.create_check_constraint("tasks_recurrence_basis", "tasks", "recurrence_basis IN ('due', 'completion')")
    op.create_unique_constraint("tasks_user_id_id_key", "tasks", ["user_id", "id"])
    # Composite keys that include the owner: a link to another user's list or task cannot exist,
    # whatever a query does. Pruning a tombstone removes the tombstones that hang off it.
    op.create_foreign_key(
        "tasks_list_fkey", "tasks", "lists", ["user_id", "list_id"], ["user_id", "id"], ondelete="CASCADE"
    )
    op.create_foreign_key(
        "tasks_parent_fkey", "tasks", "tasks", ["user_id", "parent_id"], ["user_id", "id"], ondelete="CASCADE"
    )
    # Positions are unique per scope (user, list, parent); tombstones hold none. Also the keyset
    # index of sort=position within a scope.
    op.create_index(
        "ux_tasks_scope_position",
        "tasks",
        [
            "user_id",
            sa.literal_column("coalesce(list_id, 0)"),
            sa.literal_column("coalesce(parent_id, 0)"),
            "position",
        ],
        unique=True,
    )
    op.create_index("ix_tasks_user_position", "tasks", ["user_id", "position", "id"])
    op.create_index("ix_tasks_user_change", "tasks", ["user_id", "change_seq"])
    op.create_index(
        "ix_tasks_user_parent", "tasks", ["user_id", "parent_id"], postgresql_where=sa.text("parent_id IS NOT NULL")
    )
    op.create_index(
        "ix_tasks_user_list", "tasks", ["user_id", "list_id"], postgresql_where=sa.text("list_id IS NOT NULL")
    )

    op.execute(FRACTIONAL_INDEXING)
    # Existing tasks get keys in creation order within their (inbox, top-level) scope, and the
    # change counter starts past them.
    op.execute(
        """
        UPDATE tasks SET position = fi_nth_key(ranked.n - 1)
        FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) AS n FROM tasks) AS ranked
        WHERE tasks.id = ranked.id
        """
    )
    op.execute(
        """
        UPDATE tasks SET change_seq = ranked.n
        FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS n FROM tasks) AS ranked
        WHERE tasks.id = ranked.id
        """
    )
    op.execute("INSERT INTO sync_state (user_id, seq) SELECT user_id, max(change_seq) FROM tasks GROUP BY user_id")
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS lists_written ON lists")
    op.execute("DROP TRIGGER IF EXISTS tasks_written ON tasks")
    for function in DROP_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_index("ix_tasks_user_list", table_name="tasks")
    op.drop_index("ix_tasks_user_parent", table_name="tasks")
    op.drop_index("ix_tasks_user_change", table_name="tasks")
    op.drop_index("ix_tasks_user_position", table_name="tasks")
    op.drop_index("ux_tasks_scope_position", table_name="tasks")
    op.drop_constraint("tasks_parent_fkey", "tasks", type_="foreignkey")
    op.drop_constraint("tasks_list_fkey", "tasks", type_="foreignkey")
    op.drop_constraint("tasks_user_id_id_key", "tasks", type_="unique")
    op.drop_constraint("tasks_recurrence_basis", "tasks", type_="check")
    op.drop_constraint("tasks_recurrence_length", "tasks", type_="check")
    for column in (
        "last_completed_at",
        "recurrence_start",
        "timezone",
        "recurrence_basis",
        "recurrence",
        "change_seq",
        "deleted_at",
        "position",
        "parent_id",
        "list_id",
    ):
        op.drop_column("tasks", column)
    op.drop_index("ix_lists_user_change", table_name="lists")
    op.drop_index("ux_lists_user_position", table_name="lists")
    op.drop_index("ux_lists_user_name", table_name="lists")
    op.drop_table("lists")
    op.drop_table("sync_state")
