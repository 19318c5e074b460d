"""The contract model: what a Barrister IDL declares, shaped like its IDL JSON form (SPEC §3)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from attrs import field, frozen

BUILTINS = frozenset({"string", "int", "float", "bool"})
REFERENCE_VERSION = "0.1.7"


@frozen
class Pos:
    """Where a declaration was read; never part of equality, so IDL and JSON models compare."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@frozen(kw_only=True)
class Field:
    name: str
    type: str
    is_array: bool = False
    optional: bool = False
    comment: str = ""
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "is_array": self.is_array,
            "comment": self.comment,
            "optional": self.optional,
        }


@frozen(kw_only=True)
class Struct:
    name: str
    extends: str = ""
    comment: str = ""
    fields: tuple[Field, ...] = ()
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": "struct",
            "extends": self.extends,
            "comment": self.comment,
            "fields": [f.to_json() for f in self.fields],
        }

    def checksum_line(self) -> str:
        own = "".join(
            f"\t{f.name}\t{f.type}\t{f.is_array}\t{f.optional}"
            for f in sorted(self.fields, key=lambda f: f.name)
        )
        return f"struct\t{self.name}\t{self.extends}\t{own}\n"


@frozen(kw_only=True)
class EnumValue:
    value: str
    comment: str = ""
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "comment": self.comment}


@frozen(kw_only=True)
class Enum:
    name: str
    comment: str = ""
    values: tuple[EnumValue, ...] = ()
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": "enum",
            "comment": self.comment,
            "values": [v.to_json() for v in self.values],
        }

    def checksum_line(self) -> str:
        return "".join([f"enum\t{self.name}", *(f"\t{v}" for v in sorted(self.value_names))]) + "\n"

    @property
    def value_names(self) -> list[str]:
        return [v.value for v in self.values]


@frozen(kw_only=True)
class Param:
    name: str
    type: str
    is_array: bool = False
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "is_array": self.is_array}


@frozen(kw_only=True)
class Returns:
    type: str
    is_array: bool = False
    optional: bool = False
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "is_array": self.is_array, "optional": self.optional}


@frozen(kw_only=True)
class Function:
    name: str
    comment: str = ""
    params: tuple[Param, ...] = ()
    returns: Returns | None = None  # None: a notification (no `returns` key in the JSON)
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "comment": self.comment,
            "params": [p.to_json() for p in self.params],
        }
        if self.returns is not None:
            out["returns"] = self.returns.to_json()
        return out

    def checksum_part(self) -> str:
        part = f"[{self.name}" + "".join(f"\t{p.type}\t{p.is_array}" for p in self.params)
        if self.returns is None:
            return part  # the reference leaves the bracket open for notifications
        r = self.returns
        return part + f"({r.type}\t{r.is_array}\t{r.optional})]"


@frozen(kw_only=True)
class Interface:
    name: str
    comment: str = ""
    functions: tuple[Function, ...] = ()
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": "interface",
            "comment": self.comment,
            "functions": [f.to_json() for f in self.functions],
        }

    def checksum_line(self) -> str:
        funcs = sorted(self.functions, key=lambda f: f.name)
        return f"interface\t{self.name}" + "".join(f.checksum_part() for f in funcs) + "\n"


@frozen(kw_only=True)
class Comment:
    """A top-level comment element (documentation sections between declarations)."""

    value: str
    pos: Pos | None = field(default=None, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"type": "comment", "value": self.value}


@frozen(kw_only=True)
class Meta:
    barrister_version: str
    date_generated: int
    checksum: str

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "meta",
            "barrister_version": self.barrister_version,
            "date_generated": self.date_generated,
            "checksum": self.checksum,
        }


UserType = Struct | Enum | Interface
Element = Struct | Enum | Interface | Comment


class ContractFormatError(ValueError):
    """An IDL JSON document that does not have the shape of SPEC §3."""


@frozen(kw_only=True)
class Contract:
    """The elements of an IDL in output order, plus the meta it was loaded with (if any)."""

    elements: tuple[Element, ...] = ()
    meta: Meta | None = field(default=None, eq=False)

    def types(self) -> Iterator[UserType]:
        return (e for e in self.elements if not isinstance(e, Comment))

    @property
    def structs(self) -> dict[str, Struct]:
        return {e.name: e for e in self.elements if isinstance(e, Struct)}

    @property
    def interfaces(self) -> dict[str, Interface]:
        return {e.name: e for e in self.elements if isinstance(e, Interface)}

    def checksum(self) -> str:
        """SPEC §3.4: MD5 of the sorted per-element lines, serialised as Python's json.dumps."""
        lines = sorted(e.checksum_line() for e in self.types())
        return hashlib.md5(json.dumps(lines).encode("utf-8")).hexdigest()

    def to_json(
        self, *, barrister_version: str = REFERENCE_VERSION, date_generated: int
    ) -> list[dict[str, Any]]:
        meta = Meta(
            barrister_version=barrister_version,
            date_generated=date_generated,
            checksum=self.checksum(),
        )
        return [*(e.to_json() for e in self.elements), meta.to_json()]

    def dumps(self, *, barrister_version: str = REFERENCE_VERSION, date_generated: int) -> str:
        """The IDL JSON exactly as the reference tool writes it (no trailing newline)."""
        doc = self.to_json(barrister_version=barrister_version, date_generated=date_generated)
        return json.dumps(doc)

    @classmethod
    def loads(cls, text: str | bytes) -> Contract:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ContractFormatError(f"not JSON: {exc}") from None
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: Any) -> Contract:
        """Load the IDL JSON form (a file, or a server's `barrister-idl` result)."""
        if not isinstance(data, list):
            raise ContractFormatError("an IDL JSON document is an array of elements")
        elements: list[Element] = []
        meta: Meta | None = None
        for index, item in enumerate(data):
            where = f"element [{index}]"
            obj = _obj(item, where)
            kind = _str(obj, "type", where)
            if kind == "meta":
                meta = Meta(
                    barrister_version=_str(obj, "barrister_version", where, ""),
                    date_generated=_int(obj, "date_generated", where),
                    checksum=_str(obj, "checksum", where, ""),
                )
            elif kind == "comment":
                elements.append(Comment(value=_str(obj, "value", where)))
            elif kind == "struct":
                elements.append(_load_struct(obj, where))
            elif kind == "enum":
                elements.append(_load_enum(obj, where))
            elif kind == "interface":
                elements.append(_load_interface(obj, where))
            else:
                raise ContractFormatError(f"{where}: unknown element type {kind!r}")
        return cls(elements=tuple(elements), meta=meta)


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContractFormatError(f"{where}: expected an object")
    return value


def _str(obj: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise ContractFormatError(f"{where}: {key!r} must be a string")
    return value


def _int(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key, 0)
    if type(value) is not int:  # bool is an int subclass, and not a time
        raise ContractFormatError(f"{where}: {key!r} must be an integer")
    return value


def _bool(obj: dict[str, Any], key: str, where: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise ContractFormatError(f"{where}: {key!r} must be true or false")
    return value


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise ContractFormatError(f"{where}: {key!r} must be an array")
    return value


def _load_struct(obj: dict[str, Any], where: str) -> Struct:
    name = _str(obj, "name", where)
    fields = []
    for i, item in enumerate(_list(obj, "fields", where)):
        fw = f"{name}.fields[{i}]"
        f = _obj(item, fw)
        fields.append(
            Field(
                name=_str(f, "name", fw),
                type=_str(f, "type", fw),
                is_array=_bool(f, "is_array", fw),
                optional=_bool(f, "optional", fw),
                comment=_str(f, "comment", fw, ""),
            )
        )
    return Struct(
        name=name,
        extends=_str(obj, "extends", where, ""),
        comment=_str(obj, "comment", where, ""),
        fields=tuple(fields),
    )


def _load_enum(obj: dict[str, Any], where: str) -> Enum:
    name = _str(obj, "name", where)
    values = []
    for i, item in enumerate(_list(obj, "values", where)):
        vw = f"{name}.values[{i}]"
        v = _obj(item, vw)
        values.append(EnumValue(value=_str(v, "value", vw), comment=_str(v, "comment", vw, "")))
    return Enum(name=name, comment=_str(obj, "comment", where, ""), values=tuple(values))


def _load_interface(obj: dict[str, Any], where: str) -> Interface:
    name = _str(obj, "name", where)
    functions = []
    for i, item in enumerate(_list(obj, "functions", where)):
        fw = f"{name}.functions[{i}]"
        f = _obj(item, fw)
        params = []
        for j, p_item in enumerate(_list(f, "params", fw)):
            pw = f"{fw}.params[{j}]"
            p = _obj(p_item, pw)
            params.append(
                Param(
                    name=_str(p, "name", pw),
                    type=_str(p, "type", pw),
                    is_array=_bool(p, "is_array", pw),
                )
            )
        returns = None
        if f.get("returns") is not None:
            rw = f"{fw}.returns"
            r = _obj(f["returns"], rw)
            returns = Returns(
                type=_str(r, "type", rw),
                is_array=_bool(r, "is_array", rw),
                optional=_bool(r, "optional", rw),
            )
        functions.append(
            Function(
                name=_str(f, "name", fw),
                comment=_str(f, "comment", fw, ""),
                params=tuple(params),
                returns=returns,
            )
        )
    return Interface(name=name, comment=_str(obj, "comment", where, ""), functions=tuple(functions))
