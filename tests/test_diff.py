"""Contract diffs: what was added, removed or changed, and whether the checksums match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from pirsonal_async_codegen.__main__ import main
from pirsonal_async_codegen.diff import Change, diff
from pirsonal_async_codegen.model import (
    Contract,
    Enum,
    EnumValue,
    Field,
    Function,
    Interface,
    Param,
    Returns,
    Struct,
)

CONFORM_JSON = Path(__file__).parent / "data/barrister/conform.json"
BASE = Contract.loads(CONFORM_JSON.read_text())


def replaced(contract: Contract, name: str, **changes: Any) -> Contract:
    """`contract` with the element called `name` changed."""
    elements = tuple(
        attrs.evolve(e, **changes) if getattr(e, "name", None) == name else e
        for e in contract.elements
    )
    return Contract(elements=elements)


def test_identical_contracts() -> None:
    result = diff(BASE, Contract.loads(CONFORM_JSON.read_text()))
    assert result.identical
    assert result.lines() == ["checksums match (4e80517459336f80a3ce47d9343f635b)"]


def test_added_and_removed_types_and_functions() -> None:
    interface = BASE.interfaces["B"]
    ping = Function(name="ping", returns=Returns(type="string"))
    new = replaced(BASE, "B", functions=(*interface.functions, ping))
    kept = (e for e in new.elements if getattr(e, "name", "") != "HiResponse")
    extra = Struct(name="Extra", fields=(Field(name="x", type="int"),))
    new = Contract(elements=(*kept, extra))
    result = diff(BASE, new)
    assert [str(c) for c in result.changes] == [
        "added function B.ping",
        "added struct Extra",
        "removed struct HiResponse",
    ]
    assert not result.identical
    assert result.lines()[-1].startswith("checksums differ (4e80517459336f80a3ce47d9343f635b -> ")


def test_changed_struct_fields() -> None:
    person = BASE.structs["Person"]
    fields = (
        attrs.evolve(person.fields[0], type="int"),
        person.fields[1],
        attrs.evolve(person.fields[3], optional=False, comment="now required"),
        Field(name="age", type="int", is_array=True, optional=True),
    )
    new = replaced(BASE, "Person", fields=fields, extends="inc.Response")
    (change,) = diff(BASE, new).changes
    assert change == Change(
        "changed",
        "struct Person",
        (
            "extends (nothing) -> inc.Response",
            "field personId string -> int",
            "field email string [optional] -> string",
            "field age added",
            "field lastName removed",
        ),
    )


def test_changed_enum_values_and_function_signatures() -> None:
    new = replaced(BASE, "inc.MathOp", values=(EnumValue(value="add"), EnumValue(value="divide")))
    add = BASE.interfaces["A"].functions[0]
    changed_add = attrs.evolve(
        add,
        params=(Param(name="a", type="float"), *add.params[1:]),
        returns=Returns(type="float", optional=True),
    )
    new = replaced(new, "A", functions=(changed_add, *BASE.interfaces["A"].functions[1:]))
    assert [str(c) for c in diff(BASE, new).changes] == [
        "changed enum inc.MathOp: value divide added; value multiply removed",
        "changed function A.add: (a int, b int) int -> (a float, b int) float [optional]",
    ]


def test_comment_only_changes_are_listed_but_checksums_match() -> None:
    new = replaced(BASE, "Person", comment="A person.")
    result = diff(BASE, new)
    assert [str(c) for c in result.changes] == ["changed struct Person: comment changed"]
    assert not result.identical
    assert result.lines()[-1].startswith("checksums match")


def test_order_only_changes() -> None:
    enum = Enum(name="E", values=(EnumValue(value="a"), EnumValue(value="b")))
    flipped = attrs.evolve(enum, values=enum.values[::-1])
    result = diff(Contract(elements=(enum,)), Contract(elements=(flipped,)))
    assert [str(c) for c in result.changes] == ["changed enum E: values reordered"]
    assert result.old_checksum == result.new_checksum


@pytest.mark.parametrize(("same", "status"), [(True, 0), (False, 1)])
def test_cli_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], same: bool, status: int
) -> None:
    other = BASE if same else replaced(BASE, "inc.Status", values=(EnumValue(value="ok"),))
    new_path = tmp_path / "new.json"
    new_path.write_text(other.dumps(date_generated=1))
    assert main(["diff", str(CONFORM_JSON), str(new_path)]) == status
    out = capsys.readouterr().out
    assert ("changed enum inc.Status: value err removed" in out) is not same
    assert out.endswith("\n")


def test_interface_and_notification_changes() -> None:
    old = Contract(elements=(Interface(name="I", functions=(Function(name="f"),)),))
    new = Contract(
        elements=(
            Interface(
                name="I",
                comment="doc",
                functions=(Function(name="f", returns=Returns(type="int")),),
            ),
        )
    )
    assert [str(c) for c in diff(old, new).changes] == [
        "changed interface I: comment changed",
        "changed function I.f: () -> () int",
    ]
