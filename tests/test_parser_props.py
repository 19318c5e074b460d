"""Properties of the parser: printed contracts parse back, and nothing but IdlError escapes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pirsonal_async_codegen.diagnostics import Diagnostic, IdlError
from pirsonal_async_codegen.model import (
    BUILTINS,
    Comment,
    Contract,
    Element,
    Enum,
    EnumValue,
    Field,
    Function,
    Interface,
    Param,
    Returns,
    Struct,
)
from pirsonal_async_codegen.parser import parse_file, parse_text
from pirsonal_async_codegen.printer import print_idl


@pytest.fixture(scope="module", autouse=True)
def empty_working_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Imports are looked up in the working directory first: make that an empty one."""
    directory = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        patch.delenv("BARRISTER_PATH", raising=False)
        yield directory


# --- valid contracts ------------------------------------------------------------------------

PLAIN = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True)
NAME = st.one_of(PLAIN, st.builds(lambda a, b: f"{a}.{b}", PLAIN, PLAIN))
COMMENT_LINE = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12
)
# A comment cannot start with an empty line: the reference drops those (SPEC §1.9).
COMMENT = st.lists(COMMENT_LINE, max_size=3).map("\n".join).filter(lambda c: c[:1] != "\n")


def unique(names: st.SearchStrategy[str], size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(names, min_size=1, max_size=size, unique=True)


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    """Structs and enums refer only to earlier types, so no struct can be on a cycle."""
    type_names = draw(unique(NAME.filter(lambda n: n not in BUILTINS), 6))
    structs: dict[str, Struct] = {}
    elements: list[Element] = []
    for index, name in enumerate(type_names):
        earlier = type_names[:index]
        if draw(st.booleans()):
            values = [EnumValue(value=v, comment=draw(COMMENT)) for v in draw(unique(NAME, 4))]
            elements.append(Enum(name=name, comment=draw(COMMENT), values=tuple(values)))
            continue
        parent = draw(st.sampled_from(["", *structs]))
        inherited = _field_names(structs, parent)
        fields = [
            Field(
                name=field_name,
                type=draw(type_names_from(earlier)),
                is_array=draw(st.booleans()),
                optional=draw(st.booleans()),
                comment=draw(COMMENT),
            )
            for field_name in draw(names_outside(inherited))
        ]
        structs[name] = Struct(
            name=name, extends=parent, comment=draw(COMMENT), fields=tuple(fields)
        )
        elements.append(structs[name])
    interface_names = st.lists(PLAIN.filter(lambda n: n not in type_names), max_size=2, unique=True)
    for name in draw(interface_names):
        functions = [
            draw(functions_using(type_names, function_name))
            for function_name in draw(unique(NAME, 3))
        ]
        elements.append(Interface(name=name, comment=draw(COMMENT), functions=tuple(functions)))
    for text in draw(st.lists(COMMENT.filter(bool), max_size=2)):
        elements.insert(draw(st.integers(0, len(elements))), Comment(value=text))
    return Contract(elements=tuple(elements))


def names_outside(taken: set[str]) -> st.SearchStrategy[list[str]]:
    return unique(NAME.filter(lambda n: n not in taken), 4)


def type_names_from(types: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(BUILTINS) + types)


@st.composite
def functions_using(draw: st.DrawFn, types: list[str], name: str) -> Function:
    params = [
        Param(name=p, type=draw(type_names_from(types)), is_array=draw(st.booleans()))
        for p in draw(st.lists(NAME, max_size=3, unique=True))
    ]
    returns = None
    if draw(st.booleans()):  # otherwise a notification
        returns = Returns(
            type=draw(type_names_from(types)),
            is_array=draw(st.booleans()),
            optional=draw(st.booleans()),
        )
    return Function(name=name, comment=draw(COMMENT), params=tuple(params), returns=returns)


def _field_names(structs: dict[str, Struct], name: str) -> set[str]:
    names: set[str] = set()
    while name:
        names |= {f.name for f in structs[name].fields}
        name = structs[name].extends
    return names


@given(contracts())
def test_printed_contract_parses_back_to_itself(contract: Contract) -> None:
    text = print_idl(contract)
    parsed = parse_text(text)
    assert parsed == contract
    assert parsed.dumps(date_generated=0) == contract.dumps(date_generated=0)


@given(contracts(), st.data())
def test_a_cut_off_contract_is_parsed_or_rejected_cleanly(
    contract: Contract, data: st.DataObject
) -> None:
    text = print_idl(contract)
    cut = data.draw(st.integers(0, len(text)))
    parse_or_reject(text[:cut])


# --- arbitrary input ------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "struct ",
        "enum ",
        "interface ",
        "namespace ",
        "import ",
        '"x.idl"',
        "extends",
        "{",
        "}",
        "(",
        ")",
        ",",
        "[]",
        "[optional]",
        "[ x ]",
        "[",
        "]",
        "//",
        "// c",
        "\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "a",
        "b.c",
        "a.b.c",
        "int",
        "string",
        "_",
        "\ufeff",
        "\u0000",
        "\u00e9",
    ]
)


def diagnostics_of(parse: Callable[[], object]) -> tuple[Diagnostic, ...] | None:
    """What `parse` reports, None if it succeeds; anything raised but IdlError fails the test."""
    try:
        parse()
    except IdlError as exc:
        return exc.diagnostics
    return None


def parse_or_reject(text: str) -> None:
    diagnostics = diagnostics_of(lambda: parse_text(text, "fuzz.idl"))
    if diagnostics is not None:
        assert diagnostics
        for diagnostic in diagnostics:
            assert diagnostic.line >= 1
            assert diagnostic.col >= 1
            assert "\n" not in diagnostic.message


@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=3))).map("".join))
@settings(max_examples=300)
def test_idl_like_text_is_parsed_or_rejected_cleanly(text: str) -> None:
    parse_or_reject(text)


@given(st.binary(max_size=200))
def test_any_bytes_are_parsed_or_rejected_cleanly(
    empty_working_directory: Path, data: bytes
) -> None:
    path = empty_working_directory / "fuzz.idl"
    path.write_bytes(data)
    diagnostics = diagnostics_of(lambda: parse_file(path))
    assert all(d.file == os.fspath(path) for d in diagnostics or ())
