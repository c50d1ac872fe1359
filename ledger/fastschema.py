"""A compiler from the ledger's JSON Schemas to plain Python predicates (a fast *accept* path).

``jsonschema`` stays the reference: :func:`ledger.validation.validate` asks the compiled
predicate first and, only when it answers "invalid" (or cannot decide), runs
``jsonschema`` to find the error and its message. The predicate therefore never changes
what is accepted or what an error says, provided it is *exact*: ``predicate(x)`` is True
if and only if ``jsonschema`` finds no error in ``x``. It is exact by construction on the
values it decides, and it refuses to decide (raises :class:`Unsure`) everywhere else:

* only the keywords the schemas in ``schemas/`` use are compiled, each with the meaning
  Draft 2020-12 and ``jsonschema`` give it (listed in :data:`_ASSERTIONS`); a schema that
  uses any other keyword is not compiled at all (:class:`CompileError`; validation then
  uses ``jsonschema`` alone);
* instances must be in the ledger's data model (what :mod:`ledger.canonical` parses):
  exactly ``dict`` with ``str`` keys, ``list``, ``str``, ``int``, ``bool`` or ``None``.
  Anything else (a float, a tuple, a subclass) raises :class:`Unsure` where it is met;
* for values of the data model the keywords reduce to simple tests: ``integer`` is
  ``type(x) is int`` (``bool`` is its own type; no floats exist), ``number`` likewise,
  JSON equality (``const``, ``enum``) is equality of values of identical types, element by
  element (``jsonschema`` also tells ``1`` from ``true``), ``pattern`` is ``re.search``
  exactly as ``jsonschema`` calls it, lengths are counts of code points (``len``), and
  ``uniqueItems`` is decided only for arrays of strings or of integers (otherwise
  :class:`Unsure`).

``tests/test_fastschema.py`` checks the equivalence against ``jsonschema`` on generated
and mutated documents for every schema.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Predicate = Callable[[Any], bool]


def ecma_pattern(pattern: str) -> "re.Pattern[str]":
    """Compile a schema ``pattern`` with ECMA-262 (JSON Schema) semantics for a final ``$``.

    Python's ``$`` also matches just before a trailing newline, so ``^[0-9a-f]{64}$`` would
    accept a key id followed by "\\n"; ECMA-262's ``$`` (without the m flag) matches only at
    the end of input, which is Python's ``\\Z``. Our schemas use ``$`` only as the final anchor.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


class CompileError(Exception):
    """The schema uses something this compiler does not implement."""


class Unsure(Exception):
    """The instance is outside the data model: let ``jsonschema`` decide."""


_MODEL = frozenset({dict, list, str, int, bool, type(None)})
_SCALARS = frozenset({str, int, bool, type(None)})
_MEMO = 4096
# Keywords without assertion meaning in Draft 2020-12 as jsonschema runs it here
# (no format checker is configured, so "format" is an annotation too).
_ANNOTATIONS = frozenset({
    "$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default",
    "deprecated", "readOnly", "writeOnly", "format",
})
_ASSERTIONS = frozenset({
    "type", "const", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "properties", "required", "additionalProperties", "propertyNames", "minProperties",
    "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "oneOf", "$ref",
})
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int,),
    "boolean": (bool,), "null": (type(None),),
}


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality for values of the data model (raises Unsure outside it)."""
    ta, tb = type(a), type(b)
    if ta not in _MODEL or tb not in _MODEL:
        raise Unsure
    if ta is not tb:
        return False
    if ta is dict:
        return a.keys() == b.keys() and all(json_equal(v, b[k]) for k, v in a.items())
    if ta is list:
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return a == b


class Compiler:
    """Compiles schemas found in a registry (``uri -> contents``) to Python source.

    Each schema (or ``$ref`` target) becomes one generated function ``f(x) -> bool``; the
    keywords of a schema object become inline statements that ``return False`` on the first
    failed assertion. ``oneOf`` branches and ``$ref`` targets are separate functions.
    """

    def __init__(self, contents: Callable[[str], Any]) -> None:
        self._contents = contents
        self._names: dict[tuple[str, str], str] = {}
        self._sources: list[str] = []
        self._consts: dict[str, Any] = {"Unsure": Unsure, "json_equal": json_equal, "MODEL": _MODEL,
                                        "unique": _unique}
        self._counter = 0
        self._inlining: list[tuple[str, str]] = []  # $ref targets being compiled (recursion)

    def compile(self, uri: str) -> Predicate:
        name = self._function(uri, "")
        namespace = dict(self._consts)
        exec(compile("\n".join(self._sources), f"<fastschema {uri}>", "exec"), namespace)  # noqa: S102
        return namespace[name]

    def source(self) -> str:
        """The generated code (for reading and debugging)."""
        return "\n".join(self._sources)

    # -- resolution ---------------------------------------------------------------------

    def _fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def _const(self, value: Any, prefix: str = "K") -> str:
        name = self._fresh(prefix)
        self._consts[name] = value
        return name

    def _function(self, uri: str, pointer: str) -> str:
        key = (uri, pointer)
        if key in self._names:
            return self._names[key]
        name = self._fresh("f")
        self._names[key] = name  # before compiling the body: recursive references work
        schema = self._resolve(uri, pointer)
        self._inlining.append(key)
        try:
            self._emit_function(name, schema, uri, top=not pointer)
        finally:
            self._inlining.pop()
        return name

    def _resolve(self, uri: str, pointer: str) -> Any:
        try:
            schema = self._contents(uri)
        except LookupError:
            raise CompileError(f"unknown schema {uri!r}") from None
        for part in pointer.split("/")[1:] if pointer else ():
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(schema, dict) and part in schema:
                schema = schema[part]
            elif isinstance(schema, list) and part.isdigit() and int(part) < len(schema):
                schema = schema[int(part)]
            else:
                raise CompileError(f"unresolvable pointer {pointer!r} in {uri!r}")
        return schema

    def _emit_function(self, name: str, schema: Any, base: str, *, top: bool = False) -> None:
        body = self._node(schema, "x", base, 1, top=top)
        self._sources.append(f"def {name}(x):\n" + "".join(body) + "    return True\n")

    def _target(self, ref: Any, base: str) -> tuple[str, str]:
        if not isinstance(ref, str):
            raise CompileError("$ref is not a string")
        uri, _, fragment = ref.partition("#")
        if not uri:
            uri = base
        elif ":" not in uri:  # a relative reference: not used by the ledger's schemas
            raise CompileError(f"relative $ref {ref!r}")
        if fragment and not fragment.startswith("/"):  # anchors: not used either
            raise CompileError(f"$ref to an anchor {ref!r}")
        from urllib.parse import unquote

        return uri, unquote(fragment)

    def _ref(self, ref: Any, base: str) -> str:
        return self._function(*self._target(ref, base))

    def _ref_lines(self, ref: Any, var: str, base: str, depth: int) -> list[str]:
        """A ``$ref``: the target's statements inline (a ``return False`` in them fails the
        whole predicate, as a failed call would), or a call when the target is being
        compiled already (recursion)."""
        uri, pointer = self._target(ref, base)
        key = (uri, pointer)
        if key in self._inlining:
            return [f"{'    ' * depth}if not {self._function(uri, pointer)}({var}): return False\n"]
        schema = self._resolve(uri, pointer)
        self._inlining.append(key)
        try:
            return self._node(schema, var, uri, depth, top=not pointer)
        finally:
            self._inlining.pop()

    # -- one schema object ----------------------------------------------------------------

    def _node(self, schema: Any, var: str, base: str, depth: int, *, top: bool = False) -> list[str]:
        """Statements that ``return False`` unless the value in ``var`` is valid."""
        pad = "    " * depth
        if schema is True:
            return [f"{pad}if type({var}) not in MODEL: raise Unsure\n"]
        if schema is False:
            return [f"{pad}if type({var}) not in MODEL: raise Unsure\n", f"{pad}return False\n"]
        if type(schema) is not dict:
            raise CompileError("a schema is an object or a boolean")
        unknown = set(schema) - _ASSERTIONS - _ANNOTATIONS
        if unknown:
            raise CompileError(f"unsupported keywords {sorted(unknown)}")
        if "$id" in schema and not top:
            raise CompileError("nested $id")
        out: list[str] = []
        emit = out.append
        known: type | None = None  # the instance's type, when "type" pins it to one
        # Checks that start with a test of the instance's type raise Unsure themselves for a
        # value outside the data model before anything else looks at it (the first one run
        # does), so the separate MODEL test is needed only when none of them comes first.
        fused_const = "const" in schema and type(schema["const"]) in _SCALARS
        string_enum = ("enum" in schema and bool(schema["enum"])
                       and all(type(o) is str for o in schema["enum"]))
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            allowed: list[type] = []
            for tname in names:
                if tname not in _TYPES:
                    raise CompileError(f"type {tname!r}")
                allowed.extend(_TYPES[tname])
            if len(set(allowed)) == 1:
                known = allowed[0]
                tn = self._const(known, "T")
                emit(f"{pad}if type({var}) is not {tn}:\n")
            else:
                tn = self._const(frozenset(allowed), "T")
                emit(f"{pad}if type({var}) not in {tn}:\n")
            emit(f"{pad}    if type({var}) not in MODEL: raise Unsure\n")
            emit(f"{pad}    return False\n")
        elif "$ref" not in schema and not fused_const and not string_enum:
            emit(f"{pad}if type({var}) not in MODEL: raise Unsure\n")
        if "$ref" in schema:
            out.extend(self._ref_lines(schema["$ref"], var, base, depth))
        if fused_const:
            # json_equal on a scalar: same type (1 is not true) and equal value
            value = schema["const"]
            tn = self._const(type(value), "T")
            emit(f"{pad}if type({var}) is not {tn} or {var} != {self._const(value)}:\n")
            emit(f"{pad}    if type({var}) not in MODEL: raise Unsure\n")
            emit(f"{pad}    return False\n")
        elif "const" in schema:
            emit(f"{pad}if not json_equal({var}, {self._const(schema['const'])}): return False\n")
        if "enum" in schema:
            options = list(schema["enum"])
            if string_enum:
                emit(f"{pad}if type({var}) is not str or {var} not in {self._const(frozenset(options))}:\n")
                emit(f"{pad}    if type({var}) not in MODEL: raise Unsure\n")
                emit(f"{pad}    return False\n")
            else:
                emit(f"{pad}if not any(json_equal({var}, c) for c in {self._const(options)}): return False\n")
        groups = (
            (str, self._strings(schema, var)),
            (int, self._numbers(schema, var)),
            (dict, self._objects(schema, var, base, depth + 1)),
            (list, self._arrays(schema, var, base, depth + 1)),
        )
        for kind, lines in groups:
            if not lines:
                continue
            if known is kind:
                out.extend(pad + line for line in lines)
            elif known is None:
                emit(f"{pad}if type({var}) is {kind.__name__}:\n")
                out.extend(pad + "    " + line for line in lines)
            # else: the type check above already returned for any other type
        if "oneOf" in schema:
            branches = []
            for sub in schema["oneOf"]:
                name = self._fresh("f")
                self._emit_function(name, sub, base)
                branches.append(name)
            if not branches:
                raise CompileError("empty oneOf")
            calls = " + ".join(f"bool({b}({var}))" for b in branches)
            emit(f"{pad}if ({calls}) != 1: return False\n")
        return out

    # Each returns statements for an instance of one type, indented relative to the node.

    @staticmethod
    def _nested(lines: list[str], depth: int) -> list[str]:
        """Lines of a sub-node generated at ``depth``, re-indented one level under a block."""
        cut = 4 * depth
        return ["    " + line[cut:] for line in lines]

    def _strings(self, schema: dict[str, Any], var: str) -> list[str]:
        lines: list[str] = []
        if "pattern" in schema:
            # Memo of strings already seen to match at this site (a match is a pure function
            # of the string): key ids, the ledger id, identifiers and dates recur from entry
            # to entry. Bounded: short strings only, at most _MEMO strings per site.
            search = self._const(ecma_pattern(schema["pattern"]).search, "P")
            memo = self._const(set(), "M")
            lines.append(f"if {var} not in {memo}:\n")
            lines.append(f"    if {search}({var}) is None: return False\n")
            lines.append(f"    if len({memo}) < {_MEMO} and len({var}) <= 128: {memo}.add({var})\n")
        if "minLength" in schema:
            lines.append(f"if len({var}) < {_count(schema['minLength'])}: return False\n")
        if "maxLength" in schema:
            lines.append(f"if len({var}) > {_count(schema['maxLength'])}: return False\n")
        return lines

    def _numbers(self, schema: dict[str, Any], var: str) -> list[str]:
        lines: list[str] = []
        if "minimum" in schema:
            lines.append(f"if {var} < {_number(schema['minimum'])}: return False\n")
        if "maximum" in schema:
            lines.append(f"if {var} > {_number(schema['maximum'])}: return False\n")
        return lines

    def _objects(self, schema: dict[str, Any], var: str, base: str, depth: int) -> list[str]:
        lines: list[str] = []
        properties = schema.get("properties", {})
        if type(properties) is not dict:
            raise CompileError("properties is not an object")
        extra = schema.get("additionalProperties", True)
        if "required" in schema:
            if not all(type(name) is str for name in schema["required"]):
                raise CompileError("required names are strings")
        if extra is False and "required" in schema and frozenset(schema["required"]) == frozenset(properties):
            # required <= keys <= properties == required
            lines.append(f"if {var}.keys() != {self._const(frozenset(properties))}: return False\n")
        else:
            if "required" in schema:
                lines.append(f"if not {self._const(frozenset(schema['required']))} <= {var}.keys(): return False\n")
            if extra is False:
                lines.append(f"if not {self._const(frozenset(properties))}.issuperset({var}): return False\n")
        if "minProperties" in schema:
            lines.append(f"if len({var}) < {_count(schema['minProperties'])}: return False\n")
        if "maxProperties" in schema:
            lines.append(f"if len({var}) > {_count(schema['maxProperties'])}: return False\n")
        required = frozenset(schema.get("required", ()))
        for name, sub in properties.items():
            value = self._fresh("v")
            if name in required:  # present: the required check above returned otherwise
                lines.append(f"{value} = {var}[{name!r}]\n")
                lines.extend(line[4 * depth:] for line in self._node(sub, value, base, depth))
                continue
            lines.append(f"if {name!r} in {var}:\n")
            lines.append(f"    {value} = {var}[{name!r}]\n")
            lines.extend(self._nested(self._node(sub, value, base, depth), depth))
        if extra is not True and extra is not False:
            key, value = self._fresh("k"), self._fresh("v")
            lines.append(f"for {key}, {value} in {var}.items():\n")
            lines.append(f"    if {key} in {self._const(frozenset(properties))}: continue\n")
            lines.extend(self._nested(self._node(extra, value, base, depth), depth))
        if "propertyNames" in schema:
            key = self._fresh("k")
            lines.append(f"for {key} in {var}:\n")
            lines.extend(self._nested(self._node(schema["propertyNames"], key, base, depth), depth))
        return lines

    def _arrays(self, schema: dict[str, Any], var: str, base: str, depth: int) -> list[str]:
        lines: list[str] = []
        if "minItems" in schema:
            lines.append(f"if len({var}) < {_count(schema['minItems'])}: return False\n")
        if "maxItems" in schema:
            lines.append(f"if len({var}) > {_count(schema['maxItems'])}: return False\n")
        if schema.get("uniqueItems") is True:
            lines.append(f"if not unique({var}): return False\n")
        elif schema.get("uniqueItems", False) is not False:
            raise CompileError("uniqueItems is not a boolean")
        if "items" in schema:
            item = self._fresh("v")
            lines.append(f"for {item} in {var}:\n")
            lines.extend(self._nested(self._node(schema["items"], item, base, depth), depth))
        return lines


def _unique(x: list[Any]) -> bool:
    kinds = {type(v) for v in x}
    if kinds <= {str} or kinds <= {int}:
        return len(set(x)) == len(x)
    raise Unsure


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise CompileError("a length is a non-negative integer")
    return value


def _number(value: Any) -> int:
    if type(value) is not int:
        raise CompileError("only integer bounds are compiled")
    return value


__all__ = ["Compiler", "CompileError", "Unsure", "json_equal"]
