"""JSON Schema (2020-12) validation against the schemas shipped in ``ledger.schemas``."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from .errors import SchemaError
from .fastschema import CompileError, Compiler, Predicate, Unsure, ecma_pattern


def _ecma_pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and ecma_pattern(pattern).search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The reference validator, with ECMA-262 semantics for a final "$" (see ecma_pattern).
StrictValidator = validators.extend(Draft202012Validator, validators={"pattern": _ecma_pattern_keyword})


@lru_cache(maxsize=1)
def _registry() -> Registry:
    resources_: list[tuple[str, Resource]] = []
    for item in resources.files("ledger.schemas").iterdir():
        if item.name.endswith(".json"):
            schema = json.loads(item.read_text(encoding="utf-8"))
            resources_.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources_)


@lru_cache(maxsize=None)
def validator(schema_id: str) -> Any:
    """A compiled validator for the schema with ``$id`` ``schema_id``."""
    registry = _registry()
    try:
        schema = registry.contents(schema_id)
    except LookupError:
        raise SchemaError(f"no schema {schema_id!r}") from None
    return StrictValidator(schema, registry=registry)


@lru_cache(maxsize=None)
def fast_validator(schema_id: str) -> Predicate | None:
    """The compiled accept-path predicate of a schema (``ledger.fastschema``), or None when
    the schema uses something the compiler does not implement."""
    try:
        return Compiler(_registry().contents).compile(schema_id)
    except CompileError:
        return None


def schema_ids() -> list[str]:
    return sorted(str(uri) for uri in _registry())


def _path(prefix: str, parts: Any) -> str:
    out = prefix
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(schema_id: str, obj: Any, where: str = "$", *, seq: int | None = None) -> None:
    """Raise SchemaError naming the first failing field (by JSON path) and the reason.

    The compiled predicate answers first; it is exact (``ledger.fastschema``), so only a
    document it finds invalid, or cannot judge, goes to ``jsonschema``, which then names
    the error exactly as it always did.
    """
    fast = fast_validator(schema_id)
    if fast is not None:
        try:
            if fast(obj):
                return
        except Unsure:
            pass
    error = best_match(validator(schema_id).iter_errors(obj))
    if error is not None:
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        raise SchemaError(f"{_path(where, error.absolute_path)}: {message}", seq=seq, rule="R-7.2")
