"""Properties of generated types: `from_json(to_json(x)) == x`; wrong values reach the check."""

from __future__ import annotations

import enum
import importlib
import json
import re
import sys
from types import ModuleType
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pirsonal_async import contract as runtime
from pirsonal_async_codegen.generate import StructView, TypeUse, render_package, views
from pirsonal_async_codegen.model import (
    Contract,
    Enum,
    EnumValue,
    Field,
    Function,
    Interface,
    Param,
    Struct,
)

# Every kind of field: each built-in, enums, structs, arrays, optionals, extends, a recursion.
ALL_KINDS = Contract(
    elements=(
        Enum(
            name="ns.Color", values=tuple(EnumValue(value=v) for v in ("red", "dark-blue", "None"))
        ),
        Struct(
            name="ns.Base",
            fields=(
                Field(name="baseID", type="string"),
                Field(name="flag", type="bool", optional=True),
            ),
        ),
        Struct(
            name="Item",
            extends="ns.Base",
            fields=(
                Field(name="count", type="int"),
                Field(name="ratio", type="float"),
                Field(name="color", type="ns.Color"),
                Field(name="colors", type="ns.Color", is_array=True),
                Field(name="tags", type="string", is_array=True, optional=True),
                Field(name="weights", type="float", is_array=True),
                Field(name="flags", type="bool", is_array=True, optional=True),
                Field(name="sizes", type="int", is_array=True, optional=True),
                Field(name="parent", type="Item", optional=True),
                Field(name="children", type="Item", is_array=True, optional=True),
                Field(name="base", type="ns.Base", optional=True),
                Field(name="extra", type="string", optional=True),
            ),
        ),
    )
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    root = tmp_path_factory.mktemp("roundtrip")
    package = root / "all_kinds_bindings"
    package.mkdir()
    for name, text in render_package(ALL_KINDS, source_name="all_kinds.idl").items():
        (package / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("all_kinds_bindings")
    finally:
        sys.path.remove(str(root))


def unknown_keys(declared: frozenset[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(max_size=6).filter(lambda key: key not in declared)
    return st.dictionaries(keys, JSON_VALUES, max_size=2)


@pytest.fixture(scope="module")
def strategies(bindings: ModuleType) -> dict[str, st.SearchStrategy[Any]]:
    """A strategy per generated struct, built from the same views the templates render."""
    module = bindings
    seen = views(ALL_KINDS)
    built: dict[str, st.SearchStrategy[Any]] = {}

    def value(use: TypeUse) -> st.SearchStrategy[Any]:
        if use.kind == "string":
            one: st.SearchStrategy[Any] = st.text(max_size=8)
        elif use.kind == "int":
            one = st.integers()
        elif use.kind == "float":
            one = st.floats(allow_nan=False, allow_infinity=False)
        elif use.kind == "bool":
            one = st.booleans()
        elif use.kind == "enum":
            members = list(getattr(module, use.py))
            # A newer server's value too: decoded as UnknownEnumValue, written back as sent.
            unlisted = st.text(max_size=8).filter(lambda v: v not in {m.value for m in members})
            one = st.sampled_from(members) | st.builds(module.UnknownEnumValue, unlisted)
        else:
            one = st.deferred(lambda: built[use.py])
        many = st.lists(one, max_size=3) if use.is_array else one
        return st.none() | many if use.optional else many

    for view in seen.types:
        if isinstance(view, StructView):
            cls = getattr(module, view.name)
            fields = {f.attr: value(f.use) for f in view.fields}
            unknown = unknown_keys(frozenset(f.wire for f in view.fields))
            built[view.name] = st.builds(cls, **fields, extra=unknown)
    return built


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_from_json_inverts_to_json(
    bindings: ModuleType, strategies: dict[str, st.SearchStrategy[Any]], data: st.DataObject
) -> None:
    item = data.draw(strategies["Item"])
    encoded = item.to_json()
    assert bindings.Item.from_json(encoded) == item
    assert bindings.Item.from_json(json.loads(json.dumps(encoded))) == item
    assert bindings.Item.from_json(encoded).to_json() == encoded


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_base_class_round_trips_too(
    bindings: ModuleType, strategies: dict[str, st.SearchStrategy[Any]], data: st.DataObject
) -> None:
    base = data.draw(strategies["NsBase"])
    assert bindings.NsBase.from_json(base.to_json()) == base


def test_names_in_the_all_kinds_package(bindings: ModuleType) -> None:
    item = bindings.Item(
        base_id="b",
        count=1,
        ratio=0.5,
        color=bindings.NsColor.dark_blue,
        colors=[bindings.NsColor.None_],
        weights=[],
        extra_="declared field named extra",
    )
    assert item.to_json() == {
        "baseID": "b",
        "count": 1,
        "ratio": 0.5,
        "color": "dark-blue",
        "colors": ["None"],
        "weights": [],
        "extra": "declared field named extra",
    }
    assert issubclass(bindings.Item, bindings.NsBase)


def required_only(module: ModuleType) -> Any:
    """An Item holding its required fields only, nothing nested: it fits the contract."""
    color = module.NsColor.red
    return module.Item(base_id="b", count=1, ratio=0.5, color=color, colors=[], weights=[])


# ALL_KINDS with a function taking an Item, so the run-time check can judge encoded Items.
PUT_ITEM = runtime.Contract(
    Contract(
        elements=(
            *ALL_KINDS.elements,
            Interface(
                name="Store",
                functions=(Function(name="put", params=(Param(name="item", type="Item"),)),),
            ),
        )
    ).to_json(date_generated=0)
)


def plain(value: Any) -> Any:
    """What a value of a declared type stands for in JSON; other values stand for themselves."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value.to_json() if attrs.has(type(value)) else value


def violation(encoded: dict[str, Any]) -> runtime.ContractViolation | None:
    try:
        PUT_ITEM.validate_params("Store.put", [encoded])
    except runtime.ContractViolation as found:
        return found
    return None


@pytest.fixture(scope="module")
def wrong_values(bindings: ModuleType) -> st.SearchStrategy[Any]:
    """Values a field may wrongly hold: JSON of any kind, other enums and structs, non-JSON."""
    one = (
        JSON_VALUES
        | st.sampled_from(list(bindings.NsColor))
        | st.just(bindings.NsBase(base_id="b"))
        | st.just(required_only(bindings))
        | st.floats()
        | st.frozensets(st.integers(), max_size=2)
        | st.tuples(st.text(max_size=2))
    )
    return one | st.lists(one, max_size=2)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_wrong_value_is_reported_at_its_field_or_is_valid_json(
    bindings: ModuleType, wrong_values: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    [item_view] = [
        v for v in views(ALL_KINDS).types if isinstance(v, StructView) and v.name == "Item"
    ]
    field = data.draw(st.sampled_from(item_view.fields), label="field")
    value = data.draw(wrong_values, label="value")
    item = attrs.evolve(required_only(bindings), **{field.attr: value})

    encoded = item.to_json()
    found = violation(encoded)
    if found is None:
        # Accepted: it fits, and it is what was given, not a guess ("ab" is not ["a", "b"]).
        assert encoded.get(field.wire) == plain(value)
        json.dumps(encoded, allow_nan=False)
    else:
        assert found.param == "item"
        assert re.match(rf"item\.{re.escape(field.wire)}($|[.\[])", found.path), found.path
