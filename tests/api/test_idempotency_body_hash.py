"""The Idempotency-Key body hash is total: every JSON value the API accepts hashes, lone surrogates
and deep nesting included, and the same value always gets the same hash."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.services.tasks import request_hash

# Any code point, lone surrogates often (Hypothesis leaves category Cs out by default).
ANY_TEXT = st.lists(st.characters(categories=["Cs"]) | st.characters(), max_size=20).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
    max_leaves=20,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


@given(JSON_VALUES, st.randoms())
def test_every_json_value_hashes_and_key_order_does_not_matter(value: Any, rng: random.Random) -> None:
    digest = request_hash(value)
    assert len(digest) == 64
    assert request_hash(_shuffled(value, rng)) == digest


def _nested(depth: int) -> Any:
    value: Any = {"leaf": "\ud800"}
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return value


def test_a_value_too_deep_for_the_c_encoder_hashes_like_any_other() -> None:
    assert request_hash(_nested(100_000)) == request_hash(_nested(100_000))
    assert request_hash(_nested(100_000)) != request_hash(_nested(100_001))
    # Shallow enough for the C encoder, the fallback gives the same text, so the same hash.
    from shared.services.tasks import _canonical_json

    shallow = _nested(50)
    assert _canonical_json(shallow) == json.dumps(shallow, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_distinct_lone_surrogates_hash_differently() -> None:
    assert request_hash({"id": "\ud800"}) != request_hash({"id": "\udfff"})
    assert request_hash({"id": "\ud800"}) != request_hash({"id": "\\ud800"})


def _post(user: Any, key: str, content: str) -> Any:
    return user.request("POST", content=content, headers={"Idempotency-Key": key, "Content-Type": "application/json"})


def test_a_lone_surrogate_in_an_ignored_field_is_created_then_replayed(alice) -> None:
    key = f"k-{uuid.uuid4()}"
    body = '{"title": "surrogate", "id": "\\ud800", "created_at": ["\\udfff", {"\\udc00": 1}]}'
    first = _post(alice, key, body)
    assert first.status_code == 201, first.text
    again = _post(alice, key, body)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = _post(alice, key, body.replace("\\ud800", "\\ud801"))
    assert other.status_code == 422, other.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ignored=JSON_VALUES)
def test_any_value_in_an_ignored_field_of_a_keyed_create_is_201_then_replayed(alice, ignored: Any) -> None:
    key = f"k-{uuid.uuid4()}"
    # ensure_ascii keeps lone surrogates as \\udXXX escapes: the wire form a client sends.
    body = json.dumps({"title": "generated", "updated_at": ignored})
    first = _post(alice, key, body)
    assert first.status_code == 201, first.text
    again = _post(alice, key, body)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
