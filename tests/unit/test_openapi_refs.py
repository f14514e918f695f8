"""The OpenAPI document's references: nested pydantic `$defs` hoisted, every `$ref` resolvable."""

from __future__ import annotations

import copy

import pytest
from pydantic import BaseModel

from functions.api.openapi import hoist_defs, unresolved_refs


class Leaf(BaseModel):
    value: int


class Middle(BaseModel):
    leaves: list[Leaf]


class Outer(BaseModel):
    middle: Middle | None = None
    leaf: Leaf


def document_with(**schemas: object) -> dict:
    return {
        "openapi": "3.1.0",
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Outer"}}}}
                    }
                }
            }
        },
        "components": {"schemas": dict(schemas)},
    }


def test_nested_defs_at_every_depth_are_hoisted_and_resolve() -> None:
    outer = Outer.model_json_schema(ref_template="#/components/schemas/{model}")
    assert "$defs" in outer
    document = document_with(Outer=outer)
    assert unresolved_refs(document) != []
    hoist_defs(document)
    assert set(document["components"]["schemas"]) == {"Outer", "Middle", "Leaf"}
    assert unresolved_refs(document) == []
    assert "$defs" not in str(document)


def test_pydantic_default_local_refs_are_rewritten_to_components() -> None:
    outer = Outer.model_json_schema()  # refs as "#/$defs/Middle"
    document = hoist_defs(document_with(Outer=outer))
    assert unresolved_refs(document) == []
    assert document["components"]["schemas"]["Outer"]["properties"]["leaf"] == {"$ref": "#/components/schemas/Leaf"}


def test_a_definition_equal_to_an_existing_schema_is_merged() -> None:
    outer = Outer.model_json_schema(ref_template="#/components/schemas/{model}")
    leaf = copy.deepcopy(outer["$defs"]["Leaf"])
    document = hoist_defs(document_with(Outer=outer, Leaf=leaf))
    assert document["components"]["schemas"]["Leaf"] == leaf


def test_two_different_schemas_with_one_name_are_an_error() -> None:
    outer = Outer.model_json_schema(ref_template="#/components/schemas/{model}")
    with pytest.raises(ValueError, match="'Leaf'"):
        hoist_defs(document_with(Outer=outer, Leaf={"type": "string"}))


@pytest.mark.parametrize(
    "ref",
    ["#/components/schemas/Missing", "#/components/schemas/Outer/properties/nope", "other.json#/x", "#/paths/~1y"],
)
def test_unresolvable_references_are_reported(ref) -> None:
    document = document_with(Outer={"type": "object", "properties": {"a": {"$ref": ref}}})
    assert unresolved_refs(document) == [ref]


def test_json_pointer_escapes_resolve() -> None:
    document = document_with(Outer={"type": "object", "properties": {"a": {"$ref": "#/paths/~1x/get"}}})
    assert unresolved_refs(document) == []


def test_the_apps_document_has_no_unresolvable_reference(app) -> None:
    assert unresolved_refs(app.openapi()) == []
    assert "$defs" not in str(app.openapi())
