"""JSON Schema (2020-12) validation against the schemas shipped in ``ledger.schemas``.

One validator decides, for every schema and every ``$ref`` between them: ``jsonschema-rs``
(docs/decisions/0008-one-schema-validator.md). Every resource is compiled as Draft 2020-12
and every ``pattern`` with ECMA-262 semantics (SPEC 1: ``$`` only at the very end, ``\\d``,
``\\w`` and ``\\s`` as ECMA-262 defines them), whether a schema is validated at the top or
reached through a ``$ref`` into a resource with its own ``$schema``. Patterns run on the
linear-time ``regex`` engine (no backtracking: no pathological input can stall it).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema_rs

from ..errors import SchemaError

_MAX_MESSAGE = 160


@lru_cache(maxsize=1)
def _schemas() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in resources.files("ledger.schemas").iterdir():
        if item.name.endswith(".json"):
            schema = json.loads(item.read_text(encoding="utf-8"))
            out[schema["$id"]] = schema
    return out


@lru_cache(maxsize=1)
def _registry() -> Any:
    return jsonschema_rs.Registry(list(_schemas().items()), draft=jsonschema_rs.Draft202012)


@lru_cache(maxsize=None)
def validator(schema_id: str) -> Any:
    """The compiled validator for the schema with ``$id`` (or ``$id#/pointer``) ``schema_id``."""
    base = schema_id.split("#", 1)[0]
    if base not in _schemas():
        raise SchemaError(f"no schema {schema_id!r}")
    schema = _schemas()[base] if base == schema_id else {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": schema_id}
    return jsonschema_rs.Draft202012Validator(
        schema, registry=_registry(), pattern_options=jsonschema_rs.RegexOptions())


def schema_ids() -> list[str]:
    return sorted(_schemas())


def _path(prefix: str, parts: Any) -> str:
    out = prefix
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _most_specific(error: Any) -> Any:
    """For a ``oneOf`` that no branch satisfies, the deepest error of the branches (the one
    that names a field inside the value), else the error itself."""
    branches = getattr(error.kind, "context", None) or []
    inner = [e for branch in branches for e in branch]
    if not inner:
        return error
    return max(inner, key=lambda e: len(e.instance_path))


def validate(schema_id: str, obj: Any, where: str = "$", *, seq: int | None = None) -> None:
    """Raise SchemaError (R-7.2) naming the first failing field by JSON path and the reason."""
    checker = validator(schema_id)
    if checker.is_valid(obj):
        return
    error = _most_specific(next(iter(checker.iter_errors(obj))))
    message = error.message if len(error.message) <= _MAX_MESSAGE else error.message[:_MAX_MESSAGE - 3] + "..."
    raise SchemaError(f"{_path(where, error.instance_path)}: {message}", seq=seq, rule="R-7.2")
