"""Property-based contract tests: Schemathesis 4.x drives the in-process ASGI app from its own
OpenAPI document, against real PostgreSQL, with every default check enabled.

Authentication: each case carries a valid Bearer token whose `sub` is the `{user_id}` path
parameter (the path parameter is overridden to the token's subject), so the generated data
reaches the handlers instead of stopping at 401/403. Schemathesis' own `ignored_auth` check still
replays requests without / with a broken token and expects 401.

Example counts are bounded so the file runs well under two minutes on two cores.
"""

from __future__ import annotations

import uuid
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from tests.support.tokens import make_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAX_EXAMPLES = 25
STATEFUL_EXAMPLES = 15

# One subject for the whole module: its tasks are the only ones generated requests can reach.
SUBJECT = f"st-{uuid.uuid4().hex[:12]}"


def _auth_headers(subject: str = SUBJECT) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(subject, lifetime=3600)}"}


def _own_path(case: Any, subject: str = SUBJECT) -> None:
    """Point the case at the token's subject; the token itself goes in as call-time headers so that
    Schemathesis knows it is the credential (its auth checks strip or break exactly that header)."""
    if case.path_parameters is not None and "user_id" in case.path_parameters:
        original = case.path_parameters["user_id"]
        if not (isinstance(original, str) and 1 <= len(original) <= 255):
            # A negative case whose invalid part is the user id: overriding it to the subject would
            # make it valid while Schemathesis still expects a rejection. (Invalid user ids in the
            # path are the 403 / 401 cases of tests/security.)
            hypothesis.reject()
        case.path_parameters = {**case.path_parameters, "user_id": subject}
    if case.query and "since" in case.query and case.path.endswith("/sync"):
        # A sync token is as opaque and server-signed as a cursor (forged ones: tests/api/test_sync.py).
        case.query = {k: v for k, v in case.query.items() if k != "since"}
    if case.query and "cursor" in case.query:
        # A cursor is an opaque, server-issued, signed value: no schema can describe which strings
        # are valid, and the contract answers every forged one with 400 (covered in tests/security).
        # A generated one is therefore never "valid data"; real cursors come from the Link header.
        case.query = {k: v for k, v in case.query.items() if k != "cursor"}
    if case.path.endswith("/tasks/batch"):
        _own_batch(case)
    if case.query and set(case.query) - _documented_query(case):
        # The contract ignores unknown query parameters, so such a request is valid and answered;
        # Schemathesis counts an undocumented one as invalid data that must be rejected.
        hypothesis.reject()
    meta = getattr(case, "meta", None)
    if (
        meta is not None
        and meta.is_negative_at(ParameterLocation.HEADER)
        and not any(name.lower() == "authorization" for name in case.headers or {})
    ):
        # A negative case whose invalid part may be the missing Authorization header: the token
        # goes in at call time, which makes it valid while Schemathesis still expects a rejection
        # (requests without a token are the ignored_auth check's, and tests/security's).
        hypothesis.reject()
    if isinstance(case.body, dict) and not (meta is not None and meta.is_negative_at(ParameterLocation.BODY)):
        case.body = _without_generated_ids(case.body)
    if case.headers and "If-Match" in case.headers:
        # The same holds for ETags: a generated If-Match names no version the task ever had, and the
        # contract answers it with 412 (tests/api/test_conditional.py covers real tags).
        case.headers = {k: v for k, v in case.headers.items() if k != "If-Match"}
    _reject_unsatisfiable_recurrence(case)


def _reject_unsatisfiable_recurrence(case: Any) -> None:
    """A recurrence rule's syntax is in the schema (a pattern); what no schema can say is checked by
    the server, answered 422, and tested in tests/api/test_recurrence.py: COUNT within bounds, a part
    given once, COUNT without UNTIL, a rule that can occur, a due date beside it (in the body, or
    already on the task for PATCH; a PATCH that removes the due date meets a stored rule). Generated
    "valid" data that breaks one of those is not valid data, so such cases are dropped."""
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    _reject_unsatisfiable_rule(case.body, patch=case.method == "PATCH")


def _without_generated_ids(body: dict[str, Any]) -> dict[str, Any]:
    """Ids in a body name the caller's own lists and tasks: a generated one names none of them, and
    the contract answers 422 (tests/api cover real ids, foreign and unknown ones). Valid data keeps
    the fields' shape: no list or parent, and after_id null (first)."""
    body = {k: v for k, v in body.items() if k not in ("list_id", "parent_id")}
    if "after_id" in body:
        body["after_id"] = None
    return body


def _reject_unsatisfiable_rule(body: dict[str, Any], *, patch: bool) -> None:
    if patch and "due_at" in body and body["due_at"] is None:
        hypothesis.reject()
    rule = body.get("recurrence")
    if rule is None:
        return
    from shared.recurrence import RuleError, normalize_rule

    try:
        normalize_rule(rule)
    except RuleError:
        hypothesis.reject()
    if body.get("due_at") is None:
        hypothesis.reject()


def _own_batch(case: Any) -> None:
    """A batch's `if_match` is an ETag like the If-Match header (dropped, as above), and a `"$<ref>"`
    is valid only after a create of that name and a ref names one create: no schema says either,
    so generated batches that break them are not valid data."""
    operations = case.body.get("operations") if isinstance(case.body, dict) else None
    if not isinstance(operations, list):
        return
    refs: set[str] = set()
    for operation in operations:
        if not isinstance(operation, dict):
            continue
        operation.pop("if_match", None)
        task_id = operation.get("id")
        if isinstance(task_id, str) and task_id.startswith("$") and task_id[1:] not in refs:
            hypothesis.reject()
        ref = operation.get("ref")
        if isinstance(ref, str):
            if ref in refs:
                hypothesis.reject()
            refs.add(ref)
        body = operation.get("body")
        meta = getattr(case, "meta", None)
        if isinstance(body, dict) and meta is not None and meta.generation.mode.is_positive:
            # An operation's body means what the single route's does: the same ids and rules apply.
            operation["body"] = _without_generated_ids(body)
            _reject_unsatisfiable_rule(operation["body"], patch=operation.get("op") in ("update", "complete"))


def _documented_query(case: Any) -> set[str]:
    operation = APP.openapi()["paths"][case.operation.path].get(case.method.lower())
    if operation is None:  # a method the path does not have (Schemathesis' 405 checks): keep it
        return set(case.query or ())
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def _app() -> Any:
    # Built at import (no network: the engine is created on first use, after conftest's session
    # fixtures have set APP_ENV=test and DATABASE_URL and reset the settings cache).
    # `schemathesis.pytest.from_fixture` would be the lazy alternative, but schemathesis 4.32.5's
    # lazy loader reads `request.node._nodeid`, which pytest 9 no longer has.
    from functions.api.app import create_app

    return create_app()


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi_document(case: Any) -> None:
    subject = SUBJECT
    if case.method == "POST" and any(k.lower() == "idempotency-key" for k in (case.headers or {})):
        # Idempotency keys are scoped per user: a fresh user per keyed POST keeps one generated
        # key, reused with another generated body, from being (correctly) answered 422.
        subject = f"st-{uuid.uuid4().hex[:12]}"
    _own_path(case, subject)
    case.call_and_validate(headers=_auth_headers(subject))


def _links(document: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    found = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                for name, link in (response.get("links") or {}).items():
                    found[(method.upper(), path, f"{status}:{name}")] = link
    return found


# What the stateful phase needs: from POST's 201, the created task's id feeds the task routes.
REQUIRED_LINK_TARGETS = {
    ("GET", "/api/{user_id}/tasks/{task_id}"),
    ("PATCH", "/api/{user_id}/tasks/{task_id}"),
    ("PUT", "/api/{user_id}/tasks/{task_id}"),
    ("PATCH", "/api/{user_id}/tasks/{task_id}/complete"),
    ("DELETE", "/api/{user_id}/tasks/{task_id}"),
}


def _link_targets(app: Any) -> set[tuple[str, str]]:
    document = app.openapi()
    by_operation_id = {
        operation["operationId"]: (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    create = document["paths"]["/api/{user_id}/tasks"]["post"]["responses"].get("201", {})
    targets = set()
    for link in (create.get("links") or {}).values():
        if "operationId" in link and link["operationId"] in by_operation_id:
            targets.add(by_operation_id[link["operationId"]])
        elif "operationRef" in link:
            ref = link["operationRef"].split("#/paths/", 1)[-1]
            parts = ref.split("/")
            method = parts[-1].upper()
            path = "/".join(parts[:-1]).replace("~1", "/").replace("~0", "~")
            targets.add((method, path))
    return targets


def test_stateful_create_read_update_delete() -> None:
    """The stateful phase walks OpenAPI links: POST 201 -> GET / PATCH / PUT / complete / DELETE.

    Skipped (with the exact links missing) until the document declares them on POST's 201.
    """
    missing = REQUIRED_LINK_TARGETS - _link_targets(APP)
    if missing:
        pytest.skip(
            "POST /api/{user_id}/tasks 201 declares no OpenAPI links to "
            + ", ".join(f"{m} {p}" for m, p in sorted(missing))
            + " (each needs parameters {user_id: '$request.path.user_id', task_id: '$response.body#/id'})"
        )
    machine = schema.as_state_machine()

    class AuthenticatedMachine(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            _own_path(case)
            if case.method == "POST" and case.headers and "Idempotency-Key" in case.headers:
                # One subject for the whole walk, so a generated key reused with another generated
                # body would be (correctly) 422: give each keyed create a key of its own.
                case.headers = {**case.headers, "Idempotency-Key": uuid.uuid4().hex}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": _auth_headers()}

    AuthenticatedMachine.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
