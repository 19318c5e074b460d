"""Semantic checks (SPEC §2) where the order of declarations and imports matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from pirsonal_async_codegen.checks import structs_on_cycles
from pirsonal_async_codegen.diagnostics import IdlError
from pirsonal_async_codegen.model import Enum, Field, Struct, UserType
from pirsonal_async_codegen.parser import parse_text


@pytest.fixture(autouse=True)
def no_stray_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BARRISTER_PATH", raising=False)


def errors(text: str, base_dir: Path | None = None) -> list[str]:
    with pytest.raises(IdlError) as info:
        parse_text(text, "t.idl", base_dir=base_dir)
    return [f"{d.line}: {d.message}" for d in info.value.diagnostics]


def test_parent_field_check_sees_a_parent_registered_after_an_earlier_child() -> None:
    # C1 is checked while A is unknown, so only C2 sees that A declares x (SPEC E7q).
    text = (
        "struct B extends A {\n b int\n}\n"
        "struct C1 extends B {\n x int\n}\n"
        "struct A {\n x int\n}\n"
        "struct C2 extends B {\n x int\n}\n"
    )
    assert errors(text) == ["11: C2 cannot redefine parent field x"]


def test_parent_field_check_reaches_far_ancestors() -> None:
    chain = "struct S0 {\n root int\n}\n" + "".join(
        f"struct S{i} extends S{i - 1} {{\n f{i} int\n}}\n" for i in range(1, 50)
    )
    text = chain + "struct Leaf extends S49 {\n root string\n}\n"
    assert errors(text) == ["152: Leaf cannot redefine parent field root"]


def test_parent_field_check_ends_on_an_extends_cycle() -> None:
    text = (
        "struct A extends B {\n x int\n}\n"
        "struct B extends A {\n y int\n}\n"
        "struct C extends A {\n x int\n}\n"
    )
    assert errors(text) == [
        "3: cycle detected in struct: A",
        "6: cycle detected in struct: B",
        "8: C cannot redefine parent field x",
    ]


def test_errors_come_in_text_order_whatever_check_finds_them() -> None:
    text = (
        "struct A extends Nope {\n a Missing\n}\n"
        "struct A {\n b int\n}\n"
        "enum E {\n x\n}\n"
        "namespace late\n"
    )
    assert errors(text) == [
        "1: A extends unknown type Nope",
        "2: undefined type: Missing",
        "4: type A already defined",
        "10: namespace must preceed all struct/enum/interface definitions",
    ]


def test_namespaced_file_keeps_the_reference_duplicate_check_on_written_names(
    tmp_path: Path,
) -> None:
    # An imported `Foo` clashes with a local `Foo` even though that one is `mine.Foo`.
    (tmp_path / "plain.idl").write_text("struct Foo {\n a int\n}\n")
    text = 'namespace mine\nimport "plain.idl"\nstruct Foo {\n a int\n}\n'
    assert errors(text, base_dir=tmp_path) == ["3: type Foo already defined"]


def test_imported_types_count_as_registered_for_parent_fields(tmp_path: Path) -> None:
    (tmp_path / "base.idl").write_text("namespace base\nstruct Base {\n id int\n}\n")
    text = 'import "base.idl"\nstruct Child extends base.Base {\n id string\n}\n'
    assert errors(text, base_dir=tmp_path) == ["3: Child cannot redefine parent field id"]


def test_every_error_is_reported_not_only_the_first() -> None:
    text = "".join(f"struct S{i} {{\n f Missing{i}\n}}\n" for i in range(5))
    assert errors(text) == [f"{3 * i + 2}: undefined type: Missing{i}" for i in range(5)]


def struct(
    name: str, *fields: tuple[str, str], extends: str = "", optional: bool = False
) -> Struct:
    return Struct(
        name=name,
        extends=extends,
        fields=tuple(Field(name=f, type=t, optional=optional) for f, t in fields),
    )


def test_structs_on_cycles_follows_required_fields_and_parents_only() -> None:
    types: dict[str, UserType] = {
        "Self": struct("Self", ("me", "Self")),
        "Ring1": struct("Ring1", ("next", "Ring2")),
        "Ring2": struct("Ring2", extends="Ring1"),
        "Into": struct("Into", ("ring", "Ring1")),
        "Loose": struct("Loose", ("me", "Loose"), optional=True),
        "E": Enum(name="E"),
        "UsesEnum": struct("UsesEnum", ("e", "E"), ("gone", "Unknown")),
    }
    assert structs_on_cycles(types, types) == {"Self", "Ring1", "Ring2"}


def test_structs_on_cycles_visits_only_what_the_roots_reach() -> None:
    types: dict[str, UserType] = {
        "A": struct("A", ("b", "B")),
        "B": struct("B", ("a", "A")),
        "C": struct("C", ("c", "C")),
    }
    assert structs_on_cycles(types, ["A"]) == {"A", "B"}
