"""batch: run a batch's operations in order, inside the statement that calls it

Expand-only: one new function, nothing else.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tasks_api_batch(statements, checks, creates): the operations of one batch, as statements whose
# values are already bound, run in order by ONE client statement (one round trip, however many
# operations; all or nothing, since it is one statement). It allocates the ids of the batch's
# creates first (`$1[k]` in a statement is the k-th), so a later operation can name a task created
# earlier. Each operation must write a row: when it writes none, its check statement (the task's
# version, if the task is live and the caller's) tells "missing" (SQLSTATE TA404) from "stale"
# (TA412). Any error carries the failing operation's index (from 0) as its DETAIL
# `tasks_api.operation=<n>`, with its SQLSTATE and constraint name kept.
BATCH = r"""
CREATE FUNCTION tasks_api_batch(statements text[], checks text[], creates int)
RETURNS SETOF text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT nextval(pg_get_serial_sequence('tasks', 'id')) FROM generate_series(1, creates));
    result record;
    written bigint;
    found_version int;
    code text;
    message text;
    constraint_name text;
BEGIN
    FOR i IN 1 .. coalesce(array_length(statements, 1), 0) LOOP
        BEGIN
            EXECUTE statements[i] INTO result USING ids;
            GET DIAGNOSTICS written = ROW_COUNT;
            IF written = 0 THEN
                EXECUTE checks[i] INTO found_version USING ids;
            END IF;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                constraint_name = CONSTRAINT_NAME;
            RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, CONSTRAINT = constraint_name,
                DETAIL = 'tasks_api.operation=' || (i - 1);
        END;
        IF written = 0 THEN
            RAISE EXCEPTION USING ERRCODE = CASE WHEN found_version IS NULL THEN 'TA404' ELSE 'TA412' END,
                MESSAGE = 'batch operation wrote nothing', DETAIL = 'tasks_api.operation=' || (i - 1);
        END IF;
        RETURN NEXT row_to_json(result)::text;
    END LOOP;
END $$;
"""


def upgrade() -> None:
    op.execute(BATCH)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS tasks_api_batch(text[], text[], int)")
