"""The IDL parser against the reference tool's behaviour (SPEC §1, §2, §5)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pirsonal_async_codegen import imports
from pirsonal_async_codegen.diagnostics import Diagnostic, IdlError
from pirsonal_async_codegen.imports import import_candidates
from pirsonal_async_codegen.model import Pos, Struct
from pirsonal_async_codegen.parser import parse_file, parse_text

HERE = Path(__file__).parent
CASES = HERE / "idl_cases"
BARRISTER = HERE / "data" / "barrister"


@pytest.fixture(autouse=True)
def no_stray_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports are looked up in the working directory first: make that an empty one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BARRISTER_PATH", raising=False)


def errors(text: str) -> list[str]:
    with pytest.raises(IdlError) as info:
        parse_text(text, "t.idl")
    return [str(d) for d in info.value.diagnostics]


@pytest.mark.parametrize("idl", sorted(CASES.glob("*.idl")), ids=lambda path: path.stem)
def test_idl_case(idl: Path) -> None:
    """Each case is an IDL with either its elements (.json) or its diagnostics (.err)."""
    expected_json, expected_err = idl.with_suffix(".json"), idl.with_suffix(".err")
    assert expected_json.exists() != expected_err.exists(), "a case needs one expectation"
    if expected_json.exists():
        contract = parse_file(idl)
        assert [e.to_json() for e in contract.elements] == json.loads(expected_json.read_text())
    else:
        with pytest.raises(IdlError) as info:
            parse_file(idl)
        # Paths in messages are absolute; the expectation names them relative to CASES.
        got = [str(d).replace(f"{CASES}{os.sep}", "") for d in info.value.diagnostics]
        assert got == expected_err.read_text().splitlines()


def test_conform_idl_gives_the_reference_json_byte_for_byte() -> None:
    reference = (BARRISTER / "conform.json").read_text()
    date_generated = json.loads(reference)[-1]["date_generated"]
    contract = parse_file(BARRISTER / "conform.idl")
    assert contract.meta is None
    assert contract.dumps(date_generated=date_generated) == reference


def test_worked_example_checksum() -> None:
    idl = (
        "enum Y {\ndog\ncat\n}\nstruct Z {\n a int\n b []Y [optional]\n}\n"
        "struct W extends Z {\n c string\n}\n"
        "interface FooService {\n  do_foo(x int, y []Z) string [optional]\n  ping()\n"
        "  add(a float) []int\n}\n"
    )
    assert parse_text(idl).checksum() == "ef45a91398398cd43789bb0de1d897cf"


def test_checksum_ignores_order_comments_and_layout() -> None:
    a = "enum E {\n x\n y\n}\nstruct S {\n a int\n b string\n}\n"
    b = "// doc\nstruct S { b string\n a int }\n\nenum E { y x }\n"
    c = "enum E { x y z }\nstruct S {\n a int\n b string\n}\n"
    assert parse_text(a).checksum() == parse_text(b).checksum() != parse_text(c).checksum()


def test_positions_point_at_names_and_types() -> None:
    contract = parse_text("struct A {\n  a int\n}\ninterface I {\n  f(p\n   []A) A\n}\n", "pos.idl")
    struct, interface = contract.elements
    assert isinstance(struct, Struct)
    assert struct.pos == Pos("pos.idl", 1, 8)
    assert struct.fields[0].pos == Pos("pos.idl", 2, 3)
    function = interface.functions[0]  # type: ignore[union-attr]
    assert function.pos == Pos("pos.idl", 5, 3)
    assert function.params[0].pos == Pos("pos.idl", 5, 5)
    assert function.returns is not None
    assert function.returns.pos == Pos("pos.idl", 6, 9)


def test_type_errors_point_at_the_type_even_on_a_later_line() -> None:
    assert errors("interface I {\n f(a\n   Missing) int\n}\n") == [
        "t.idl:3:4: undefined type: Missing"
    ]


def test_idl_error_lists_one_diagnostic_per_line() -> None:
    with pytest.raises(IdlError) as info:
        parse_text("struct A {\n a X\n b Y\n}\n", "many.idl")
    assert str(info.value) == "many.idl:2:4: undefined type: X\nmany.idl:3:4: undefined type: Y"
    assert info.value.diagnostics[0] == Diagnostic("many.idl", 2, 4, "undefined type: X")


# --- imports ---------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_import_candidates_follow_the_reference_order() -> None:
    search = os.pathsep.join(["/lib/one", "", "/lib/two"])
    assert import_candidates("x.idl", "/src", search) == [
        "x.idl",
        os.path.join("/src", "x.idl"),
        os.path.join("/lib/one", "x.idl"),
        os.path.join("/lib/two", "x.idl"),
    ]
    assert import_candidates("x.idl", None) == ["x.idl"]  # stdin: no importing directory


def test_working_directory_wins_over_the_importing_directory(tmp_path: Path) -> None:
    write(tmp_path / "lib.idl", "struct FromCwd {\n a int\n}\n")
    root = write(tmp_path / "src" / "root.idl", 'import "lib.idl"\n')
    write(tmp_path / "src" / "lib.idl", "struct FromSrc {\n a int\n}\n")
    assert [e.name for e in parse_file(root).types()] == ["FromCwd"]


def test_barrister_path_is_searched_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "first" / "lib.idl", "struct One {\n a int\n}\n")
    write(tmp_path / "second" / "lib.idl", "struct Two {\n a int\n}\n")
    write(tmp_path / "second" / "only.idl", "struct Three {\n a int\n}\n")
    paths = [str(tmp_path / "first"), str(tmp_path / "second")]
    monkeypatch.setenv("BARRISTER_PATH", os.pathsep.join(paths))
    contract = parse_text('import "lib.idl"\nimport "only.idl"\n')
    assert [e.name for e in contract.types()] == ["One", "Three"]


def test_parse_text_finds_imports_beside_base_dir(tmp_path: Path) -> None:
    write(tmp_path / "idl" / "lib.idl", "namespace lib\nenum E {\n a\n}\n")
    text = 'import "lib.idl"\nstruct S {\n e lib.E\n}\n'
    assert errors(text) == [
        "t.idl:1:1: Cannot find import file: lib.idl",
        "t.idl:3:4: undefined type: lib.E",
    ]
    contract = parse_text(text, "t.idl", base_dir=tmp_path / "idl")
    assert [e.name for e in contract.types()] == ["lib.E", "S"]


def test_mutual_imports_load_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.idl", 'import "b.idl"\nstruct A {\n b B\n}\n')
    write(tmp_path / "b.idl", 'import "a.idl"\nstruct B {\n a A [optional]\n}\n')
    reads: list[str] = []
    read_idl = imports.read_idl

    def counting_read(path: str) -> str:
        reads.append(os.path.basename(path))
        return read_idl(path)

    monkeypatch.setattr(imports, "read_idl", counting_read)
    contract = parse_file(tmp_path / "a.idl")
    assert [e.name for e in contract.types()] == ["B", "A"]
    assert reads == ["b.idl"]  # a.idl is the root, read by parse_file itself


def test_import_cycles_see_every_type_of_the_cycle(tmp_path: Path) -> None:
    write(tmp_path / "a.idl", 'import "b.idl"\nstruct A {\n c C [optional]\n}\n')
    write(tmp_path / "b.idl", 'import "c.idl"\nstruct B {\n a A\n}\n')
    write(tmp_path / "c.idl", 'import "a.idl"\nstruct C {\n b B\n a A\n}\n')
    write(tmp_path / "root.idl", 'import "c.idl"\ninterface I {\n f(a A) C\n}\n')
    contract = parse_file(tmp_path / "root.idl")
    assert sorted(e.name for e in contract.types()) == ["A", "B", "C", "I"]


def test_a_file_importing_itself_is_fine(tmp_path: Path) -> None:
    root = write(tmp_path / "self.idl", 'import "self.idl"\nstruct S {\n a int\n}\n')
    assert [e.name for e in parse_file(root).types()] == ["S"]


def test_struct_cycle_across_an_import_cycle_is_reported_in_each_file(tmp_path: Path) -> None:
    write(tmp_path / "a.idl", 'import "b.idl"\nstruct A {\n b B\n}\n')
    write(tmp_path / "b.idl", 'import "a.idl"\nstruct B {\n a A\n}\n')
    with pytest.raises(IdlError) as info:
        parse_file(tmp_path / "a.idl")
    got = [str(d).replace(f"{tmp_path}{os.sep}", "") for d in info.value.diagnostics]
    assert got == [
        "b.idl:4:1: cycle detected in struct: B",
        "a.idl:4:1: cycle detected in struct: A",
    ]


def test_errors_of_a_shared_import_are_reported_once(tmp_path: Path) -> None:
    write(tmp_path / "common.idl", "struct Bad {\n x Missing\n}\n")
    write(tmp_path / "left.idl", 'import "common.idl"\nstruct L {\n b Bad\n}\n')
    write(tmp_path / "right.idl", 'import "common.idl"\nstruct R {\n b Bad\n}\n')
    root = write(tmp_path / "root.idl", 'import "left.idl"\nimport "right.idl"\n')
    with pytest.raises(IdlError) as info:
        parse_file(root)
    got = [str(d).replace(f"{tmp_path}{os.sep}", "") for d in info.value.diagnostics]
    assert got == ["common.idl:2:4: undefined type: Missing"]


def test_unreadable_import_is_reported_as_its_own_error(tmp_path: Path) -> None:
    (tmp_path / "bad.idl").write_bytes(b"struct A {\n a int\n}\n// caf\xe9\n")
    root = write(tmp_path / "root.idl", 'import "bad.idl"\nstruct B {\n a A\n}\n')
    with pytest.raises(IdlError) as info:
        parse_file(root)
    got = [str(d).replace(f"{tmp_path}{os.sep}", "") for d in info.value.diagnostics]
    assert got == ["bad.idl:4:7: not valid UTF-8: byte 0xe9", "root.idl:3:4: undefined type: A"]


def test_import_chains_too_deep_are_an_error(tmp_path: Path) -> None:
    depth = imports.MAX_IMPORT_DEPTH + 1
    for i in range(depth):
        write(tmp_path / f"f{i}.idl", f'import "f{i + 1}.idl"\n')
    write(tmp_path / f"f{depth}.idl", "struct Deep {\n a int\n}\n")
    with pytest.raises(IdlError) as info:
        parse_file(tmp_path / "f0.idl")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.message == "imports nested more than 100 files deep"


# --- input that is not an IDL ----------------------------------------------------------------


def test_missing_file_is_an_idl_error(tmp_path: Path) -> None:
    with pytest.raises(IdlError) as info:
        parse_file(tmp_path / "absent.idl")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.message == "cannot read file: No such file or directory"


def test_invalid_utf8_names_the_byte_and_its_position(tmp_path: Path) -> None:
    path = tmp_path / "latin1.idl"
    path.write_bytes(b"// ok\nstruct A {\n a int // \xff\n}\n")
    with pytest.raises(IdlError) as info:
        parse_file(path)
    assert [str(d) for d in info.value.diagnostics] == [f"{path}:3:11: not valid UTF-8: byte 0xff"]


def test_nul_bytes_are_a_syntax_error() -> None:
    assert errors("struct A {\n a\x00 int\n}\n") == [
        "t.idl:2:3: unexpected '\\x00'; expected a type"
    ]


def test_huge_input_parses(tmp_path: Path) -> None:
    fields = "".join(f" f{i} int\n" for i in range(20000))
    contract = parse_text(f"struct Big {{\n{fields}}}\n")
    assert len(contract.structs["Big"].fields) == 20000


def test_long_struct_cycle_does_not_exhaust_the_stack() -> None:
    count = 3000  # far more than Python's recursion limit
    text = "".join(f"struct S{i} {{\n n S{(i + 1) % count}\n}}\n" for i in range(count))
    diagnostics = errors(text)
    assert len(diagnostics) == count
    assert diagnostics[-1] == f"t.idl:{3 * count}:1: cycle detected in struct: S{count - 1}"
