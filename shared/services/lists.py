"""List use cases: the rules, with no HTTP in them. Each write is one atomic statement."""

from __future__ import annotations

from sqlmodel import Session

from shared.errors import InvalidReference, NotFound, PreconditionFailed
from shared.models.limits import POSITION_KEY_MAX, ROW_ID_MAX
from shared.models.list_input import ListCreate, ListMove, ListUpdate
from shared.models.lists import ListRecord
from shared.repositories import lists as repo

Versions = tuple[int, ...] | None


def _not_found(list_id: int) -> NotFound:
    return NotFound(f"list {list_id} does not exist")


def _check_id(list_id: int) -> None:
    if not 0 < list_id <= ROW_ID_MAX:
        raise _not_found(list_id)


def _missing_or_stale(
    session: Session, *, owner_id: str, list_id: int, versions: Versions, otherwise: Exception | None = None
) -> Exception:
    # Only on the failure path: "not yours / gone" (404) or "changed since you read it" (412).
    current = repo.list_version(session, owner_id=owner_id, list_id=list_id)
    if current is None:
        return _not_found(list_id)
    if versions is not None and current not in versions:
        return PreconditionFailed("the list has changed since the ETag in If-Match was issued")
    return otherwise or PreconditionFailed("the list changed while the request ran; read it again")


def create_list(session: Session, *, owner_id: str, list_in: ListCreate) -> ListRecord:
    return _settled(session, owner_id=owner_id, row=repo.insert_list(session, owner_id=owner_id, name=list_in.name))


def get_list(session: Session, *, owner_id: str, list_id: int) -> ListRecord:
    _check_id(list_id)
    found = repo.get_list(session, owner_id=owner_id, list_id=list_id)
    if found is None:
        raise _not_found(list_id)
    return found


def list_lists(session: Session, *, owner_id: str) -> list[ListRecord]:
    return repo.list_lists(session, owner_id=owner_id)


def update_list(
    session: Session, *, owner_id: str, list_id: int, list_in: ListUpdate, versions: Versions = None
) -> ListRecord:
    _check_id(list_id)
    name = list_in.name if "name" in list_in.model_fields_set else None
    updated = repo.update_list(session, owner_id=owner_id, list_id=list_id, name=name, versions=versions)
    if updated is None:
        raise _missing_or_stale(session, owner_id=owner_id, list_id=list_id, versions=versions)
    return updated


def delete_list(session: Session, *, owner_id: str, list_id: int, versions: Versions = None) -> None:
    """The list and every task in it become tombstones, in one statement."""
    _check_id(list_id)
    if not repo.delete_list(session, owner_id=owner_id, list_id=list_id, versions=versions):
        raise _missing_or_stale(session, owner_id=owner_id, list_id=list_id, versions=versions)


def move_list(
    session: Session, *, owner_id: str, list_id: int, move: ListMove, versions: Versions = None
) -> ListRecord:
    _check_id(list_id)
    moved = repo.move_list(session, owner_id=owner_id, list_id=list_id, after_id=move.after_id, versions=versions)
    if moved is None:
        bad_neighbour = InvalidReference("after_id", "must be another of your lists")
        raise _missing_or_stale(session, owner_id=owner_id, list_id=list_id, versions=versions, otherwise=bad_neighbour)
    return _settled(session, owner_id=owner_id, row=moved)


def _settled(session: Session, *, owner_id: str, row: ListRecord) -> ListRecord:
    """Rebalance the caller's lists when a key passed the bound (a second round trip)."""
    if len(row.position or "") <= POSITION_KEY_MAX:
        return row
    rebalanced = repo.rebalance_lists(session, owner_id=owner_id, list_id=row.id)
    return rebalanced if rebalanced is not None else get_list(session, owner_id=owner_id, list_id=row.id)
