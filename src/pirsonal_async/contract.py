"""Run-time checks of params and results against a Barrister IDL JSON contract (SPEC §4.6)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

BUILTIN_TYPES = frozenset({"string", "int", "float", "bool"})
IDL_METHOD = "barrister-idl"

# Raises _Mismatch when the value does not fit; returns None otherwise.
Check = Callable[[Any], None]

_SHOWN_ENUM_VALUES = 10


class ContractViolation(ValueError):
    """A value breaks the contract: `.reason` says how, `.path` where (e.g. `video.medias[2].type`).

    `.param` is the parameter's name when the value is a parameter, else None.
    """

    def __init__(self, reason: str, path: str = "", param: str | None = None) -> None:
        super().__init__(reason, path, param)
        self.reason = reason
        self.path = path
        self.param = param

    def __str__(self) -> str:
        if self.param is not None:
            shown = f" ({self.path})" if self.path and self.path != self.param else ""
            return f"param '{self.param}'{shown}: {self.reason}"
        return f"{self.path}: {self.reason}" if self.path else self.reason


class UnknownMethod(ContractViolation):
    """The method names no function of the contract (a server answers -32601)."""


class InvalidContract(ValueError):
    """The IDL JSON itself is malformed or refers to types it does not define."""


class _Mismatch(Exception):
    """Internal: a failed check; `trail` collects path segments innermost first."""

    def __init__(self, reason: str, segment: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.trail = [segment] if segment else []

    def path(self, root: str) -> str:
        return root + "".join(reversed(self.trail))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _expected(expected: str, value: Any) -> _Mismatch:
    if value is None:
        return _Mismatch(f"must not be null (expected {expected})")
    return _Mismatch(f"expected {expected}, got {_json_type(value)}")


def _check_string(value: Any) -> None:
    if not isinstance(value, str):
        raise _expected("string", value)


def _check_bool(value: Any) -> None:
    if value is not True and value is not False:
        raise _expected("bool", value)


def _check_int(value: Any) -> None:
    # Deliberate difference from the Python reference: true/false are not numbers.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _expected("int", value)


def _check_float(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _expected("float", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _Mismatch(f"{value} is not a JSON number")


_BUILTIN_CHECKS: dict[str, Check] = {
    "string": _check_string,
    "bool": _check_bool,
    "int": _check_int,
    "float": _check_float,
}


def _enum_check(name: str, values: Sequence[str], tolerate_unknown: bool) -> Check:
    """Checks a string naming a value of the enum; with `tolerate_unknown`, any string (a newer
    server's value: the generated types keep it as an `UnknownEnumValue`)."""
    allowed = frozenset(values)
    shown = ", ".join(values[:_SHOWN_ENUM_VALUES]) + (
        ", ..." if len(values) > _SHOWN_ENUM_VALUES else ""
    )

    def check(value: Any) -> None:
        if not isinstance(value, str):
            raise _expected(f"string (enum {name})", value)
        if value not in allowed and not tolerate_unknown:
            raise _Mismatch(f"{value[:40]!r} is not a value of enum {name} ({shown})")

    return check


# Exact types of parsed JSON that pass a builtin type's check outright. Struct fields and array
# elements of these types are tested inline, with no call; any other value gets the full check,
# so only the cost changes. (A float still needs its finiteness checked, so it has none.)
_PLAIN_TYPES: dict[str, type] = {"string": str, "int": int, "bool": bool}


def _optional(check: Check) -> Check:
    def optional(value: Any) -> None:
        if value is not None:
            check(value)

    return optional


def _array(element: Check, type_name: str, nullable: bool) -> Check:
    """Checks a list whose items fit `element`, or are null when `nullable`."""
    expected = f"array of {type_name}"
    plain = _PLAIN_TYPES.get(type_name)

    def check(value: Any) -> None:
        if not isinstance(value, list):
            raise _expected(expected, value)
        for index, item in enumerate(value):
            if type(item) is plain or (item is None and nullable):
                continue
            try:
                element(item)
            except _Mismatch as mismatch:
                mismatch.trail.append(f"[{index}]")
                raise

    return check


class _StructFields:
    """A struct's fields, split for its check's hot loop; filled once every struct check exists.

    `checks` holds each field's check of a non-null value; `plain` the exact type that passes a
    field outright (see _PLAIN_TYPES); `optional` the fields that may be null.
    """

    def __init__(self, fields: list[tuple[str, TypeRef]]) -> None:
        self.required_in_order = tuple(name for name, ref in fields if not ref.optional)
        self.required = frozenset(self.required_in_order)
        self.optional = frozenset(name for name, ref in fields if ref.optional)
        self.plain: dict[str, type] = {
            name: _PLAIN_TYPES[ref.type]
            for name, ref in fields
            if not ref.is_array and ref.type in _PLAIN_TYPES
        }
        self.checks: dict[str, Check] = {}


def _struct_check(name: str, fields: _StructFields, tolerate_unknown: bool) -> Check:
    """Checks an object against a struct's own and inherited fields (no polymorphism)."""
    expected = f"object (struct {name})"
    not_a_field = f"not a field of struct {name}"
    plain_type = fields.plain.get
    field_check = fields.checks.get  # bound now, used once the compiler has filled `checks`
    optional = fields.optional
    required = fields.required

    def check(value: Any) -> None:
        if not isinstance(value, dict):
            raise _expected(expected, value)
        # Same order as the reference: the value's own keys first, then missing fields.
        for key, item in value.items():
            if type(item) is plain_type(key) or (item is None and key in optional):
                continue
            check_item = field_check(key)
            if check_item is None:
                if tolerate_unknown:
                    continue
                raise _Mismatch(not_a_field, f".{key}")
            try:
                check_item(item)
            except _Mismatch as mismatch:
                mismatch.trail.append(f".{key}")
                raise
        if not value.keys() >= required:
            missing = next(field for field in fields.required_in_order if field not in value)
            raise _Mismatch(f"required field of struct {name} is missing", f".{missing}")

    return check


class TypeRef:
    """A use of a type: its name (builtin, enum or struct), array or not, null allowed or not."""

    __slots__ = ("is_array", "optional", "type")

    def __init__(self, type_name: str, is_array: bool, optional: bool) -> None:
        self.type = type_name
        self.is_array = is_array
        self.optional = optional

    def __repr__(self) -> str:
        return f"TypeRef({self.type!r}, is_array={self.is_array}, optional={self.optional})"


class _Compiler:
    """Builds one check per type reference; struct checks are shared, so recursion works."""

    def __init__(
        self,
        fields: Mapping[str, list[tuple[str, TypeRef]]],
        enums: Mapping[str, list[str]],
        tolerate_unknown: bool,
    ) -> None:
        self._enums = {
            name: _enum_check(name, values, tolerate_unknown) for name, values in enums.items()
        }
        compiled = {name: _StructFields(struct_fields) for name, struct_fields in fields.items()}
        self._structs = {
            name: _struct_check(name, struct, tolerate_unknown) for name, struct in compiled.items()
        }
        for name, struct_fields in fields.items():
            compiled[name].checks.update(
                (field, self._non_null(ref)) for field, ref in struct_fields
            )

    def compile(self, ref: TypeRef) -> Check:
        check = self._non_null(ref)
        return _optional(check) if ref.optional else check

    def _non_null(self, ref: TypeRef) -> Check:
        """The check of a value other than null (the elements of an optional array may be)."""
        check = _BUILTIN_CHECKS.get(ref.type) or self._enums.get(ref.type)
        if check is None:
            check = self._structs[ref.type]
        return _array(check, ref.type, ref.optional) if ref.is_array else check


def _check_nothing(value: Any) -> None:
    if value is not None:
        raise _Mismatch(f"expected null (the function returns nothing), got {_json_type(value)}")


class Function:
    """One function of the contract, with its precompiled param and result checks.

    `params` are the parameter names and `param_types` their types, in order; `returns` is
    None for a function that returns nothing; `comment` is the IDL comment ("" if none).
    """

    __slots__ = (
        "_lenient",
        "_param_checks",
        "_strict",
        "comment",
        "has_result",
        "interface",
        "name",
        "param_types",
        "params",
        "returns",
    )

    def __init__(
        self,
        interface: str,
        name: str,
        params: Sequence[tuple[str, TypeRef]],
        returns: TypeRef | None,
        comment: str,
        param_checks: tuple[Check, ...],
        lenient: Check,
        strict: Check,
    ) -> None:
        self.interface = interface
        self.name = name
        self.params = tuple(param for param, _ in params)
        self.param_types = tuple(ref for _, ref in params)
        self.returns = returns
        self.has_result = returns is not None
        self.comment = comment
        self._param_checks = param_checks
        self._lenient = lenient
        self._strict = strict

    @property
    def method(self) -> str:
        return f"{self.interface}.{self.name}"

    def __repr__(self) -> str:
        return f"<Function {self.method}({', '.join(self.params)})>"

    def validate_params(self, params: Any) -> None:
        """Raises ContractViolation unless `params` (a list; None counts as []) fits exactly."""
        if params is None:
            params = []
        if not isinstance(params, list):
            raise ContractViolation(f"params must be an array, got {_json_type(params)}")
        if len(params) != len(self.params):
            expected = len(self.params)
            raise ContractViolation(
                f"expects {expected} param{'s' * (expected != 1)}, {len(params)} given"
            )
        for name, check, value in zip(self.params, self._param_checks, params, strict=True):
            failure = _run(check, value)
            if failure is not None:
                raise ContractViolation(failure.reason, failure.path(name), param=name)

    def validate_result(self, result: Any, *, strict: bool = False) -> None:
        """Raises ContractViolation unless `result` fits the return type.

        Unknown object keys and enum values are tolerated (servers add them) unless `strict`,
        which applies the reference rule that rejects them.
        """
        failure = _run(self._strict if strict else self._lenient, result)
        if failure is not None:
            raise ContractViolation(failure.reason, failure.path("result"))


def _run(check: Check, value: Any) -> _Mismatch | None:
    try:
        check(value)
    except _Mismatch as mismatch:
        return mismatch
    except RecursionError:
        return _Mismatch("value is nested too deeply to check")
    return None


class Contract:
    """A Barrister contract loaded from its IDL JSON list, ready to check calls on either side.

    Structs are flattened with their ancestors' fields and every check is compiled once here.
    """

    def __init__(self, idl: list[Any]) -> None:
        if not isinstance(idl, list):
            raise InvalidContract(f"an IDL JSON contract is an array, got {_json_type(idl)}")
        self.idl: list[Any] = idl
        loader = _Loader(idl)
        params_compiler = _Compiler(loader.struct_fields, loader.enums, tolerate_unknown=False)
        results_compiler = _Compiler(loader.struct_fields, loader.enums, tolerate_unknown=True)
        self._functions: dict[tuple[str, str], Function] = {}
        for interface, name, params, returns, comment in loader.functions:
            lenient: Check
            strict: Check
            if returns is None:
                lenient = strict = _check_nothing
            else:
                lenient = results_compiler.compile(returns)
                strict = params_compiler.compile(returns)
            self._functions[(interface, name)] = Function(
                interface,
                name,
                params,
                returns,
                comment,
                tuple(params_compiler.compile(ref) for _, ref in params),
                lenient,
                strict,
            )
        self.checksum: str | None = loader.checksum

    def __repr__(self) -> str:
        return f"<Contract {len(self._functions)} functions checksum={self.checksum}>"

    def __iter__(self) -> Iterator[Function]:
        return iter(self._functions.values())

    def function(self, method: str) -> Function:
        """The function named by a wire method `Interface.function` (split at the first dot)."""
        interface, dot, name = method.partition(".")
        function = self._functions.get((interface, name))
        if function is not None:
            return function
        if not dot:
            raise UnknownMethod(f"method {method!r} is not of the form 'Interface.function'")
        if not any(key[0] == interface for key in self._functions):
            raise UnknownMethod(f"unknown interface {interface!r} in method {method!r}")
        raise UnknownMethod(f"interface {interface!r} has no function {name!r}")

    def validate_params(self, method: str, params: Any) -> None:
        self.function(method).validate_params(params)

    def validate_result(self, method: str, result: Any, *, strict: bool = False) -> None:
        self.function(method).validate_result(result, strict=strict)


class _Loader:
    """Reads the IDL JSON elements, with errors naming the element that is wrong."""

    def __init__(self, idl: list[Any]) -> None:
        self.enums: dict[str, list[str]] = {}  # the values of each enum
        # (interface, name, params, returns, comment) of each function, in IDL order.
        self.functions: list[tuple[str, str, list[tuple[str, TypeRef]], TypeRef | None, str]] = []
        self.checksum: str | None = None
        own_fields: dict[str, list[tuple[str, TypeRef]]] = {}
        parents: dict[str, str] = {}
        for index, element in enumerate(idl):
            where = f"contract element {index}"
            kind = _get(element, "type", str, where)
            if kind == "struct":
                name = _get(element, "name", str, where)
                where = f"struct {name!r}"
                own_fields[name] = [
                    self._field(f, where) for f in _get(element, "fields", list, where)
                ]
                parents[name] = _get(element, "extends", str, where, default="")
            elif kind == "enum":
                name = _get(element, "name", str, where)
                self.enums[name] = [
                    _get(v, "value", str, f"enum {name!r}")
                    for v in _get(element, "values", list, f"enum {name!r}")
                ]
            elif kind == "interface":
                self._interface(element, where)
            elif kind == "meta":
                checksum = element.get("checksum")
                self.checksum = checksum if isinstance(checksum, str) else None
        self.struct_fields = {name: self._flatten(name, own_fields, parents) for name in own_fields}
        known = BUILTIN_TYPES | self.enums.keys() | self.struct_fields.keys()
        for owner, ref in self._references():
            if ref.type not in known:
                raise InvalidContract(f"{owner} uses undefined type {ref.type!r}")

    def _field(self, field: Any, where: str) -> tuple[str, TypeRef]:
        name = _get(field, "name", str, where)
        return name, _type_ref(field, f"{where} field {name!r}", optional_key=True)

    def _interface(self, element: Any, where: str) -> None:
        interface = _get(element, "name", str, where)
        for function in _get(element, "functions", list, f"interface {interface!r}"):
            name = _get(function, "name", str, f"interface {interface!r}")
            where = f"function {interface}.{name}"
            params = [
                (_get(p, "name", str, where), _type_ref(p, f"{where} param", optional_key=False))
                for p in _get(function, "params", list, where)
            ]
            returns = function.get("returns")
            ref = None if returns is None else _type_ref(returns, f"{where} returns", True)
            # Documentation only: a missing or odd comment is no reason to reject a contract.
            comment = function.get("comment")
            self.functions.append(
                (interface, name, params, ref, comment if isinstance(comment, str) else "")
            )

    def _flatten(
        self,
        name: str,
        own_fields: dict[str, list[tuple[str, TypeRef]]],
        parents: dict[str, str],
    ) -> list[tuple[str, TypeRef]]:
        chain = [name]
        while parents[chain[-1]]:
            parent = parents[chain[-1]]
            if parent not in own_fields:
                raise InvalidContract(f"struct {chain[-1]!r} extends undefined struct {parent!r}")
            if parent in chain:
                path = " -> ".join([*chain, parent])
                raise InvalidContract(f"struct {name!r} extends itself: {path}")
            chain.append(parent)
        return [field for struct in reversed(chain) for field in own_fields[struct]]

    def _references(self) -> Iterator[tuple[str, TypeRef]]:
        for struct, fields in self.struct_fields.items():
            for field, ref in fields:
                yield f"struct {struct!r} field {field!r}", ref
        for interface, name, params, returns, _ in self.functions:
            for param, ref in params:
                yield f"function {interface}.{name} param {param!r}", ref
            if returns is not None:
                yield f"function {interface}.{name} returns", returns


def _type_ref(obj: Any, where: str, optional_key: bool) -> TypeRef:
    return TypeRef(
        _get(obj, "type", str, where),
        _get(obj, "is_array", bool, where, default=False),
        _get(obj, "optional", bool, where, default=False) if optional_key else False,
    )


_REQUIRED = object()


def _get(obj: Any, key: str, kind: type, where: str, default: Any = _REQUIRED) -> Any:
    if not isinstance(obj, dict):
        raise InvalidContract(f"{where}: expected an object, got {_json_type(obj)}")
    value = obj.get(key, default)
    if value is _REQUIRED:
        raise InvalidContract(f"{where}: missing {key!r}")
    if not isinstance(value, kind):
        raise InvalidContract(f"{where}: {key!r} must be {kind.__name__}, got {_json_type(value)}")
    return value
