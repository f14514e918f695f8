"""Domain errors. Each carries its HTTP status so the edge maps it without a lookup table."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class DomainError(Exception):
    status: int = 400
    title: str = "Bad Request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors  # validation issues: [{loc, msg, type}]
        self.members: dict[str, Any] = {}  # further problem members, e.g. a batch's `operation`


class BadCursor(DomainError):
    status, title, slug = 400, "Bad Request", "bad-cursor"


class NotFound(DomainError):
    status, title, slug = 404, "Not Found", "not-found"


class IdempotencyInProgress(DomainError):
    status, title, slug = 409, "Conflict", "idempotency-key-in-progress"


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(DomainError):
    status, title, slug = 412, "Precondition Failed", "precondition-failed"


class IdempotencyKeyReused(DomainError):
    status, title, slug = 422, "Unprocessable Content", "idempotency-key-reused"


class InvalidReference(DomainError):
    """A body field names a list or task the caller cannot use (foreign, deleted, unknown or in
    another scope): one message whichever it is, so the answer reveals nothing about other users."""

    status, title, slug = 422, "Unprocessable Content", "validation-error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            "the request is not valid", errors=[{"loc": ["body", field], "msg": message, "type": "invalid_reference"}]
        )
        self.field = field


class ServiceUnavailable(DomainError):
    status, title, slug = 503, "Service Unavailable", "database-unavailable"

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class InvalidField(DomainError):
    """A body field that is well formed but refused by a rule needing the stored task (422, like
    request validation, with the field in `errors`)."""

    status, title, slug = 422, HTTPStatus(422).phrase, "validation-error"  # as request validation's

    def __init__(self, field: str, message: str) -> None:
        super().__init__("the request is not valid")
        self.field = field
        self.message = message


class EditConflict(DomainError):
    status, title, slug = 409, "Conflict", "edit-conflict"


class DatabaseMisconfigured(DomainError):
    """The database refuses the service for a reason that waiting will not fix (authentication,
    TLS, a missing or outdated schema): a 500-class answer with no Retry-After, so no client
    retries it; the detail names the cause and never the URL or the password."""

    status, title, slug = 500, "Internal Server Error", "database-misconfigured"

    def __init__(self, detail: str, *, kind: str) -> None:
        super().__init__(detail)
        self.kind = kind


class DatabaseUnavailable(ServiceUnavailable):
    """A database fault that passes (unreachable, timed out, every connection busy): 503, retry."""

    def __init__(self, detail: str, *, kind: str, retry_after: int = 1) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.kind = kind


class BadSyncToken(DomainError):
    status, title, slug = 400, "Bad Request", "bad-sync-token"


class SyncResetRequired(DomainError):
    status, title, slug = 410, "Gone", "sync-reset-required"


class InvalidInput(DomainError):
    """Input that the route's own validation could not see (e.g. a batch operation's body)."""

    # The title the route's own validation errors carry (the status phrase), for one type, one title.
    status, title, slug = 422, HTTPStatus(422).phrase, "validation-error"


class OperationFailed(DomainError):
    """A batch operation failed: that operation's status and problem, plus its index."""

    def __init__(self, error: DomainError, operation: int) -> None:
        super().__init__(error.detail, headers=error.headers, errors=error.errors)
        self.status, self.title, self.slug = error.status, error.title, error.slug
        self.members = {**error.members, "operation": operation}
