"""Post-processing of the OpenAPI document, so that every `$ref` in it resolves.

Pydantic puts the models a schema uses under that schema's own `$defs` (a `Problem` carries
`$defs.ValidationIssue`) while the references it writes point at `#/components/schemas/<name>`
(FastAPI's ref template). Code generators such as openapi-typescript stop at the first reference
they cannot resolve, so every nested `$defs` is hoisted into `components/schemas`.
"""

from __future__ import annotations

from typing import Any

COMPONENTS_PREFIX = "#/components/schemas/"
_LOCAL_DEFS_PREFIX = "#/$defs/"


def hoist_defs(document: dict[str, Any]) -> dict[str, Any]:
    """Move every nested `$defs` entry into `components/schemas` (in place; returns the document).

    A definition whose name is already taken by a different schema is an error: silently keeping
    either one would make a reference describe the wrong model.
    """
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        definitions = node.pop("$defs", None)
        for name, schema in (definitions or {}).items():
            existing = schemas.get(name)
            if existing is None:
                schemas[name] = schema
                pending.append(schema)
            elif _without_defs(existing) != _without_defs(schema):
                raise ValueError(f"two different schemas are both named {name!r} in the OpenAPI document")
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith(_LOCAL_DEFS_PREFIX):
            node["$ref"] = COMPONENTS_PREFIX + reference[len(_LOCAL_DEFS_PREFIX) :]
        pending.extend(value for key, value in node.items() if key != "$ref")
    return document


def _without_defs(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _without_defs(value) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_without_defs(value) for value in schema]
    return schema


def unresolved_refs(document: dict[str, Any]) -> list[str]:
    """Every local `$ref` of the document that names nothing in it (JSON Pointer, RFC 6901)."""
    missing = []
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and not _resolves(document, reference):
                missing.append(reference)
            pending.extend(node.values())
    return sorted(set(missing))


def _resolves(document: Any, reference: str) -> bool:
    if not reference.startswith("#"):
        return False  # the document is self-contained: an external reference is unresolvable too
    target = document
    for raw in reference[1:].split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            return False
    return True
