"""What changed between two contracts: types and functions added, removed or changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attrs import frozen

from .model import Contract, Enum, Function, Interface, Struct


@frozen
class Change:
    """One line of a diff: `kind` is "added", "removed" or "changed"; `details` say how."""

    kind: str
    what: str  # e.g. "struct inc.Response", "function A.add"
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        suffix = f": {'; '.join(self.details)}" if self.details else ""
        return f"{self.kind} {self.what}{suffix}"


@frozen
class ContractDiff:
    changes: tuple[Change, ...]
    old_checksum: str
    new_checksum: str

    @property
    def identical(self) -> bool:
        return not self.changes and self.old_checksum == self.new_checksum

    def lines(self) -> list[str]:
        verdict = (
            f"checksums match ({self.old_checksum})"
            if self.old_checksum == self.new_checksum
            else f"checksums differ ({self.old_checksum} -> {self.new_checksum})"
        )
        return [*(str(change) for change in self.changes), verdict]


def diff(old: Contract, new: Contract) -> ContractDiff:
    """Compare by name: types in the order the new contract declares them, then removed ones."""
    old_items = dict(_items(old))
    new_items = dict(_items(new))
    changes: list[Change] = []
    for what, item in new_items.items():
        if what not in old_items:
            changes.append(Change("added", what))
        elif details := _differences(old_items[what], item):
            changes.append(Change("changed", what, tuple(details)))
    changes += [Change("removed", what) for what in old_items if what not in new_items]
    return ContractDiff(tuple(changes), old.checksum(), new.checksum())


def _items(contract: Contract) -> Iterator[tuple[str, Any]]:
    """Every comparable declaration under a readable key; interfaces split into functions."""
    for element in contract.types():
        if isinstance(element, Interface):
            yield f"interface {element.name}", element.comment
            for function in element.functions:
                yield f"function {element.name}.{function.name}", function
        else:
            kind = "struct" if isinstance(element, Struct) else "enum"
            yield f"{kind} {element.name}", element


def _differences(old: Any, new: Any) -> list[str]:
    if isinstance(new, Struct):
        return _struct_differences(old, new)
    if isinstance(new, Enum):
        return _enum_differences(old, new)
    if isinstance(new, Function):
        return _function_differences(old, new)
    return ["comment changed"] if old != new else []


def _struct_differences(old: Struct, new: Struct) -> list[str]:
    out = []
    if old.extends != new.extends:
        out.append(f"extends {old.extends or '(nothing)'} -> {new.extends or '(nothing)'}")
    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    for name, field in new_fields.items():
        if name not in old_fields:
            out.append(f"field {name} added")
            continue
        before = old_fields[name]
        spelled_old, spelled_new = _field_type(before), _field_type(field)
        if spelled_old != spelled_new:
            out.append(f"field {name} {spelled_old} -> {spelled_new}")
        elif before.comment != field.comment:
            out.append(f"field {name} comment changed")
    out += [f"field {name} removed" for name in old_fields if name not in new_fields]
    if not out and [f.name for f in old.fields] != [f.name for f in new.fields]:
        out.append("fields reordered")
    if old.comment != new.comment:
        out.append("comment changed")
    return out


def _field_type(field: Any) -> str:
    spelled = f"{'[]' if field.is_array else ''}{field.type}"
    return f"{spelled} [optional]" if getattr(field, "optional", False) else spelled


def _enum_differences(old: Enum, new: Enum) -> list[str]:
    old_values = old.value_names
    new_values = new.value_names
    out = [f"value {v} added" for v in new_values if v not in old_values]
    out += [f"value {v} removed" for v in old_values if v not in new_values]
    if not out and old_values != new_values:
        out.append("values reordered")
    elif not out and [v.comment for v in old.values] != [v.comment for v in new.values]:
        out.append("value comments changed")
    if old.comment != new.comment:
        out.append("comment changed")
    return out


def _function_differences(old: Function, new: Function) -> list[str]:
    out: list[str] = []
    if _signature(old) != _signature(new):
        out.append(f"{_signature(old)} -> {_signature(new)}")
    if old.comment != new.comment:
        out.append("comment changed")
    return out


def _signature(function: Function) -> str:
    params = ", ".join(f"{p.name} {_field_type(p)}" for p in function.params)
    returns = f" {_field_type(function.returns)}" if function.returns is not None else ""
    return f"({params}){returns}"
