"""Task routes: each one wires HTTP to a service call, nothing more."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import AfterValidator

from functions.api import urls
from functions.api.deps import (
    CurrentOwner,
    CursorKey,
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
    TaskId,
    UserId,
    parse_etags,
    run_db,
)
from functions.api.problems import problem_responses
from shared.models.etag import ANY_ETAG, accepted_versions, etag_of
from shared.models.limits import (
    CURSOR_MAX,
    LIST_LIMIT_DEFAULT,
    LIST_LIMIT_MAX,
    ROW_ID_MAX,
    SEARCH_MAX,
    TAGS_MAX,
)
from shared.models.listing import NO_SUCH_ID, SORT_VALUES, TOP_LEVEL, Sort, Status, TaskQuery
from shared.models.priority import Priority
from shared.models.task import TaskPublic, TaskRecord, TaskStats, task_json, tasks_json
from shared.models.task_input import TaskCompletion, TaskCreate, TaskMove, TaskReplace, TaskUpdate
from shared.models.text import NO_CONTROL_CHARS, Tag, normalize_tags, visible
from shared.models.times import UtcDatetime
from shared.services import tasks

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=problem_responses(401, 403, 413, 422, 503))
_WRITE_ERRORS = problem_responses(404, 412, 415)
SortValue = Literal[
    "created_at", "-created_at", "updated_at", "-updated_at", "due_at", "-due_at",
    "priority", "-priority", "title", "-title", "position", "-position",
]  # fmt: skip
assert set(get_args(SortValue)) == set(SORT_VALUES)


def _scope_filter(value: str | None, top_level: str) -> int | None:
    """A list_id / parent_id filter as the position index stores it: 0 for the inbox / top level,
    NO_SUCH_ID for an id no row can have (the filter then matches nothing, like a foreign id)."""
    if value is None:
        return None
    if value == top_level:
        return TOP_LEVEL
    number = int(value)
    return number if 0 < number <= ROW_ID_MAX else NO_SUCH_ID


def _versions(task_id: int, if_match: str | None) -> tuple[int, ...] | None:
    """The task versions an If-Match header accepts; None when any will do (no header, or `*`).

    If-Match compares strongly: weak tags never match.
    """
    return accepted_versions(parse_etags(if_match, weak_matches=False), task_id)


# Routes return ready-made responses, serialised once straight from the records, not validated
# again against response_model (which stays for the OpenAPI document).
JSON = "application/json"


def _task_response(task: TaskRecord, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(task_json(task), status_code, headers={"ETag": etag_of(task), **(headers or {})}, media_type=JSON)


@router.get("/stats", response_model=TaskStats, operation_id="taskStats")
async def task_stats(user_id: UserId, owner: CurrentOwner) -> Response:
    """Count the caller's tasks: total, pending, completed and overdue (not completed, due date passed)."""
    stats = await run_db(lambda s: tasks.task_stats(s, owner_id=owner))
    return Response(stats.model_dump_json(), media_type=JSON)


@router.get(
    "",
    operation_id="listTasks",
    response_model=list[TaskPublic],
    responses={
        **problem_responses(400),
        200: {
            "headers": {
                "Link": {
                    "description": 'The next page: `<url>; rel="next"`, when more tasks follow.',
                    "schema": {"type": "string"},
                }
            }
        },
    },
)
async def list_tasks(
    request: Request,
    user_id: UserId,
    owner: CurrentOwner,
    key: CursorKey,
    status: Annotated[Status, Query(description="Completion state to include.")] = Status.all,
    priority: Annotated[list[Priority], Query(description="Any of these priorities (repeatable).")] = [],  # noqa: B006
    tag: Annotated[
        list[Tag],
        Query(description="Tasks carrying all of these tags (repeatable).", max_length=TAGS_MAX),
        AfterValidator(normalize_tags),
    ] = [],  # noqa: B006
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=SEARCH_MAX,
            pattern=NO_CONTROL_CHARS,
            description="Case-insensitive substring of title or description.",
        ),
        AfterValidator(visible),
    ] = None,
    due_before: Annotated[UtcDatetime | None, Query(description="Due strictly before this RFC 3339 time.")] = None,
    due_after: Annotated[UtcDatetime | None, Query(description="Due strictly after this RFC 3339 time.")] = None,
    list_id: Annotated[
        str | None,
        Query(
            pattern=r"^(inbox|[0-9]{1,64})$",
            description="Only the tasks of this list, or `inbox` (no list). Another user's list: an empty page.",
        ),
    ] = None,
    parent_id: Annotated[
        str | None,
        Query(
            pattern=r"^(none|[0-9]{1,64})$",
            description="Only this task's subtasks, or `none` (top-level tasks). Another user's task: an empty page.",
        ),
    ] = None,
    sort: Annotated[
        SortValue,
        Query(description="Sort field, `-` prefix for descending; ties broken by id. `position`: manual order."),
    ] = "created_at",
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX, description="Page size.")] = LIST_LIMIT_DEFAULT,
    cursor: Annotated[
        str | None, Query(max_length=CURSOR_MAX, description="Opaque cursor from the previous page's Link header.")
    ] = None,
) -> Response:
    """List the caller's tasks, filtered and sorted, one keyset page at a time."""
    query = TaskQuery(
        status=status,
        priorities=tuple(dict.fromkeys(priority)),
        tags=tuple(tag),
        q=q,
        due_before=due_before,
        due_after=due_after,
        list_scope=_scope_filter(list_id, "inbox"),
        parent_scope=_scope_filter(parent_id, "none"),
        sort=Sort.parse(sort),
    )
    page = await run_db(
        lambda s: tasks.list_tasks(s, owner_id=owner, query=query, cursor=cursor, limit=limit, cursor_key=key)
    )
    headers = {}
    if page.next_cursor is not None:
        headers["Link"] = f'<{urls.this_url(request, cursor=page.next_cursor)}>; rel="next"'
    return Response(tasks_json(page.items), headers=headers, media_type=JSON)


@router.post(
    "",
    operation_id="createTask",
    status_code=201,
    response_model=TaskPublic,
    responses={
        **problem_responses(409, 415),
        201: {
            "headers": {"Location": {"schema": {"type": "string"}}, "ETag": {"schema": {"type": "string"}}},
            # What a client can do next with the task it created (also drives stateful API tests).
            "links": {
                name: {
                    "operationId": operation,
                    "parameters": {"user_id": "$request.path.user_id", "task_id": "$response.body#/id"},
                }
                for name, operation in [
                    ("GetTask", "getTask"),
                    ("ReplaceTask", "replaceTask"),
                    ("UpdateTask", "updateTask"),
                    ("CompleteTask", "completeTask"),
                    ("DeleteTask", "deleteTask"),
                    ("MoveTask", "moveTask"),
                ]
            },
        },
    },
)
async def create_task(
    request: Request,
    user_id: UserId,
    owner: CurrentOwner,
    task_in: TaskCreate,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a task for the caller."""
    body_hash = tasks.request_hash(await request.json()) if idempotency_key is not None else None
    created = await run_db(
        lambda s: tasks.create_task(
            s, owner_id=owner, task_in=task_in, idempotency_key=idempotency_key, body_hash=body_hash
        )
    )
    location = urls.location(request, f"{router.prefix}/{{task_id}}", user_id=owner, task_id=created.task.id)
    headers = {"Location": location}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _task_response(created.task, 201, headers)


@router.get(
    "/{task_id:id}",
    operation_id="getTask",
    response_model=TaskPublic,
    responses={
        **problem_responses(404),
        304: {"description": "Not Modified: the If-None-Match ETag is current."},
        200: {"headers": {"ETag": {"schema": {"type": "string"}}}},
    },
)
async def read_task(
    task_id: TaskId, user_id: UserId, owner: CurrentOwner, if_none_match: IfNoneMatch = None
) -> Response:
    """Get one of the caller's tasks."""
    task = await run_db(lambda s: tasks.get_task(s, owner_id=owner, task_id=task_id))
    etag = etag_of(task)
    current = parse_etags(if_none_match, weak_matches=True)
    if current is not None and (ANY_ETAG in current or etag in current):
        return Response(status_code=304, headers={"ETag": etag})
    return _task_response(task)


@router.put("/{task_id:id}", operation_id="replaceTask", response_model=TaskPublic, responses=_WRITE_ERRORS)
async def replace_task(
    task_id: TaskId, user_id: UserId, owner: CurrentOwner, task_in: TaskReplace, if_match: IfMatch = None
) -> Response:
    """Replace every editable field of a task; omitted optional fields go back to their defaults."""
    versions = _versions(task_id, if_match)
    task = await run_db(
        lambda s: tasks.replace_task(s, owner_id=owner, task_id=task_id, task_in=task_in, versions=versions)
    )
    return _task_response(task)


@router.patch("/{task_id:id}", operation_id="updateTask", response_model=TaskPublic, responses=_WRITE_ERRORS)
async def update_task(
    task_id: TaskId, user_id: UserId, owner: CurrentOwner, task_in: TaskUpdate, if_match: IfMatch = None
) -> Response:
    """Change only the fields sent."""
    versions = _versions(task_id, if_match)
    task = await run_db(
        lambda s: tasks.update_task(s, owner_id=owner, task_id=task_id, task_in=task_in, versions=versions)
    )
    return _task_response(task)


@router.patch("/{task_id:id}/complete", operation_id="completeTask", response_model=TaskPublic, responses=_WRITE_ERRORS)
async def complete_task(
    task_id: TaskId,
    user_id: UserId,
    owner: CurrentOwner,
    if_match: IfMatch = None,
    completion: Annotated[
        TaskCompletion | None, Body(description='No body or `{}` toggles; `{"completed": true|false}` sets.')
    ] = None,
) -> Response:
    """Toggle a task's completion, or set it."""
    completed = completion.completed if completion is not None else None
    versions = _versions(task_id, if_match)
    task = await run_db(
        lambda s: tasks.complete_task(s, owner_id=owner, task_id=task_id, completed=completed, versions=versions)
    )
    return _task_response(task)


@router.delete(
    "/{task_id:id}", operation_id="deleteTask", status_code=204, response_class=Response, responses=_WRITE_ERRORS
)
async def delete_task(task_id: TaskId, user_id: UserId, owner: CurrentOwner, if_match: IfMatch = None) -> Response:
    """Delete one of the caller's tasks."""
    versions = _versions(task_id, if_match)
    await run_db(lambda s: tasks.delete_task(s, owner_id=owner, task_id=task_id, versions=versions))
    return Response(status_code=204)


@router.post(
    "/{task_id:id}/move",
    operation_id="moveTask",
    response_model=TaskPublic,
    responses={**_WRITE_ERRORS, 200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
async def move_task(
    task_id: TaskId, user_id: UserId, owner: CurrentOwner, move: TaskMove, if_match: IfMatch = None
) -> Response:
    """Place a task right after another task of its scope (`after_id`; null: first), in another list or
    under another parent when `list_id` / `parent_id` say so."""
    versions = _versions(task_id, if_match)
    task = await run_db(lambda s: tasks.move_task(s, owner_id=owner, task_id=task_id, move=move, versions=versions))
    return _task_response(task)
