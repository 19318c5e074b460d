"""Generated bindings: golden output, determinism, naming, decoding errors, stubs and docs."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import pytest

from pirsonal_async.errors import RequestValidationError
from pirsonal_async_codegen import generate, naming
from pirsonal_async_codegen.check import TARGETS
from pirsonal_async_codegen.docs import render_docs
from pirsonal_async_codegen.generate import GenerationError, render_package, views
from pirsonal_async_codegen.model import (
    Comment,
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
from pirsonal_async_codegen.sources import load

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests/golden/conform"
CONFORM_JSON = REPO / "tests/data/barrister/conform.json"

# Media types, as in the Pirsonal contract: nested arrays of structs, enums, optional floats.
MEDIA = Contract(
    elements=(
        Enum(
            name="MediaType",
            comment="The kind of an input media.",
            values=tuple(EnumValue(value=v) for v in ("video", "audio", "image", "text")),
        ),
        Struct(
            name="InputMedia",
            fields=(
                Field(name="inputID", type="string"),
                Field(name="type", type="MediaType"),
                Field(name="pirsonalID", type="string", optional=True),
            ),
        ),
        Struct(name="VideoStatus", fields=(Field(name="code", type="string"),)),
        Struct(
            name="Video",
            fields=(
                Field(name="name", type="string"),
                Field(name="inputMedias", type="InputMedia", is_array=True),
                Field(name="status", type="VideoStatus", optional=True),
                Field(name="duration", type="float", optional=True),
                Field(name="secret", type="string", optional=True),
                Field(name="kinds", type="MediaType", is_array=True, optional=True),
            ),
        ),
        Interface(
            name="Videos",
            functions=(
                Function(
                    name="Video_Get",
                    params=(Param(name="videoID", type="string"),),
                    returns=Returns(type="Video"),
                ),
                Function(
                    name="Video_Find",
                    params=(Param(name="kinds", type="MediaType", is_array=True),),
                    returns=Returns(type="Video", is_array=True, optional=True),
                ),
                Function(
                    name="Video_Put",
                    params=(Param(name="video", type="Video"), Param(name="force", type="bool")),
                    returns=Returns(type="string"),
                ),
                Function(name="Ping", comment="A notification."),
            ),
        ),
    )
)

# Names that need escaping: keywords, builtins, generated members, dotted and colliding names.
EDGE = Contract(
    elements=(
        Comment(value="# Edge cases"),
        Enum(
            name="inc.Status",
            comment='Ends with a quote: "done"',
            values=tuple(
                EnumValue(value=v, comment="a \\ backslash" if v == "None" else "")
                for v in ("ok", "None", "1080p", "video-hd", "name", "_x", "class", "ok_")
            ),
        ),
        Struct(name="IncStatus", fields=(Field(name="ok", type="bool"),)),
        Struct(
            name="class", comment='Has """triple""" quotes.', fields=(Field(name="a", type="int"),)
        ),
        Struct(name="list", fields=(Field(name="b", type="class", optional=True),)),
        Struct(name="Any", fields=(Field(name="c", type="float", is_array=True),)),
        Struct(
            name="Tricky",
            fields=(
                Field(name="from", type="string"),
                Field(name="extra", type="string"),
                Field(name="from_json", type="string", optional=True),
                Field(name="to_json", type="string", optional=True),
                Field(name="self", type="int", optional=True),
                Field(name="str", type="string", optional=True),
                Field(name="type", type="string", optional=True),
                Field(name="id", type="string", optional=True),
                Field(name="_id", type="string", optional=True),
                Field(name="inputMedias", type="string", optional=True),
                Field(name="input_medias", type="string", optional=True),
                Field(name="data", type="inc.Status", optional=True),
                Field(name="path", type="list", optional=True),
                Field(name="cls", type="IncStatus", is_array=True, optional=True),
                Field(name="known", type="Any", optional=True),
                Field(name="IncStatus", type="int", optional=True),
            ),
        ),
        # The child's own field takes the natural name; the inherited one keeps its name.
        Struct(name="Parent", fields=(Field(name="inputMedias", type="string"),)),
        Struct(name="Child", extends="Parent", fields=(Field(name="input_medias", type="int"),)),
        Interface(
            name="Service",
            comment="Methods with awkward names.",
            functions=(
                Function(
                    name="from",
                    params=(
                        Param(name="id", type="string"),
                        Param(name="self", type="int"),
                        Param(name="list", type="list"),
                        Param(name="videoID", type="inc.Status"),
                    ),
                    returns=Returns(type="Tricky"),
                ),
                Function(name="getItem", returns=Returns(type="int")),
                Function(name="get_item", returns=Returns(type="int")),
                Function(name="__init__", returns=Returns(type="int")),
                Function(name="_caller", returns=Returns(type="int")),
                Function(name="notify", params=(Param(name="s", type="string"),)),
            ),
        ),
    )
)


def write_package(files: dict[str, str], root: Path, name: str) -> Path:
    package = root / name
    package.mkdir(parents=True)
    for file_name, text in files.items():
        (package / file_name).write_text(text, encoding="utf-8")
    return package


def import_from(root: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    write_package(render_package(MEDIA, source_name="media.idl"), root, "media_bindings")
    write_package(render_package(EDGE, source_name="edge.idl"), root, "edge_bindings")
    return root


@pytest.fixture(scope="module")
def media(generated_root: Path) -> ModuleType:
    return import_from(generated_root, "media_bindings")


@pytest.fixture(scope="module")
def edge(generated_root: Path) -> ModuleType:
    return import_from(generated_root, "edge_bindings")


@pytest.fixture(scope="module")
def conform() -> ModuleType:
    return import_from(GOLDEN.parent, "conform")


class RecordingCaller:
    """A `Caller` that records each request and answers with a canned JSON result."""

    def __init__(self, result: Any = None) -> None:
        self.result = result
        self.calls: list[tuple[str, list[Any]]] = []

    def request(self, method: str, params: list[Any], decode: Callable[[Any], Any]) -> Any:
        self.calls.append((method, params))
        return self._answer(decode)

    async def _answer(self, decode: Callable[[Any], Any]) -> Any:
        return decode(self.result)


# Golden output and determinism


def test_golden_package_matches_generation_from_conform_idl() -> None:
    target = next(t for t in TARGETS if t.path == "tests/golden/conform")
    expected = target.files(load(str(REPO / target.source)))
    committed = {
        p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(GOLDEN.glob("*.py"))
    }
    assert committed == expected


def test_generation_is_deterministic() -> None:
    contract = Contract.loads(CONFORM_JSON.read_text())
    first = render_package(contract, source_name="conform.idl")
    assert render_package(contract, source_name="conform.idl") == first
    assert (
        render_package(Contract.loads(CONFORM_JSON.read_text()), source_name="conform.idl") == first
    )


def test_generated_packages_pass_mypy_strict(generated_root: Path) -> None:
    targets = [
        str(GOLDEN),
        str(generated_root / "media_bindings"),
        str(generated_root / "edge_bindings"),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *targets],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_passes_the_project_lint(generated_root: Path) -> None:
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruff",
                *command,
                "--config",
                str(REPO / "pyproject.toml"),
                str(generated_root),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_file_has_the_generated_header_and_imports_only_the_runtimes_seam() -> None:
    for path in GOLDEN.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith(
            "# Generated by codegen from conform.idl; do not edit.\n"
            "# Contract checksum: 4e80517459336f80a3ce47d9343f635b\n"
        )
        runtime_imports = [
            line for line in text.splitlines() if "pirsonal_async" in line and "import" in line
        ]
        assert runtime_imports in (
            [],
            ["from pirsonal_async.caller import Caller"],
            ["from pirsonal_async.errors import RequestValidationError"],
        )


def test_contract_module_holds_the_idl_json(conform: ModuleType) -> None:
    expected = json.loads(CONFORM_JSON.read_text())
    expected[-1]["date_generated"] = 0
    assert expected == conform.CONTRACT


# Naming


@pytest.mark.parametrize(
    ("wire", "python"),
    [
        ("inputMedias", "input_medias"),
        ("Template_Video_New", "template_video_new"),
        ("GATrackingCode", "ga_tracking_code"),
        ("pirsonalID", "pirsonal_id"),
        ("videosCSV", "videos_csv"),
        ("mp4File", "mp4_file"),
        ("MP4_H264_AAC_640x480", "mp4_h264_aac_640x480"),
        ("say_hi", "say_hi"),
        ("_id", "id"),
        ("__init__", "init"),
        ("a-b", "a_b"),
        ("_", "unnamed"),
    ],
)
def test_snake_case(wire: str, python: str) -> None:
    assert naming.snake_case(wire) == python


def test_dotted_and_colliding_type_names_are_unique_and_stable() -> None:
    names = ["inc.Status", "IncStatus", "list", "list_", "Inc.Status", "Any", "a.b.c", "9lives"]
    assert naming.type_names(names) == [
        "IncStatus__",
        "IncStatus",
        "list__",
        "list_",
        "IncStatus_",
        "Any_",
        "ABC",
        "T9lives",
    ]
    # Adding or reordering unrelated types renames nothing.
    assert naming.type_names(["Zed", *reversed(names)])[1:] == list(
        reversed(naming.type_names(names))
    )


def test_reserved_builtins_do_not_depend_on_the_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = naming.BUILTINS
    assert {name for name in dir(builtins) if not name.startswith("_")} <= expected
    monkeypatch.setattr(builtins, "get_ipython", lambda: None, raising=False)  # as IPython does
    try:
        assert expected == importlib.reload(naming).BUILTINS
    finally:
        monkeypatch.undo()
        importlib.reload(naming)


def test_edge_names_are_escaped_consistently() -> None:
    seen = views(EDGE)
    types = {t.name: t for t in seen.types}
    assert list(types) == [
        "IncStatus_",
        "IncStatus",
        "class_",
        "list_",
        "Any_",
        "Tricky",
        "Parent",
        "Child",
    ]
    members = [(m.value, m.name) for m in types["IncStatus_"].members]  # type: ignore[union-attr]
    assert members == [
        ("ok", "ok"),
        ("None", "None_"),
        ("1080p", "v1080p"),
        ("video-hd", "video_hd"),
        ("name", "name_"),
        ("_x", "v_x"),
        ("class", "class_"),
        ("ok_", "ok_"),
    ]
    tricky = types["Tricky"]
    attrs = [(f.wire, f.attr) for f in tricky.fields]  # type: ignore[union-attr]
    assert attrs == [
        ("from", "from_"),
        ("extra", "extra_"),
        ("from_json", "from_json_"),
        ("to_json", "to_json_"),
        ("self", "self_"),
        ("str", "str_"),
        ("type", "type"),
        ("id", "id"),
        ("_id", "id_"),
        ("inputMedias", "input_medias_"),
        ("input_medias", "input_medias"),
        ("data", "data"),
        ("path", "path"),
        ("cls", "cls"),
        ("known", "known"),
        ("IncStatus", "inc_status"),
    ]
    parent, child = types["Parent"], types["Child"]
    assert [(f.wire, f.attr) for f in parent.fields] == [  # type: ignore[union-attr]
        ("inputMedias", "input_medias")
    ]
    assert child.fields[:1] == parent.fields  # type: ignore[union-attr]
    assert [(f.wire, f.attr) for f in child.own_fields] == [  # type: ignore[union-attr]
        ("input_medias", "input_medias_")
    ]
    (service,) = seen.interfaces
    assert [m.name for m in service.methods] == [
        "from_",
        "get_item_",
        "get_item",
        "init",
        "caller",
        "notify",
    ]
    assert [p.name for p in service.methods[0].params] == ["id_", "self_", "list__", "video_id"]


def test_edge_package_works_with_escaped_names(edge: ModuleType) -> None:
    data: dict[str, Any] = {
        "from": "a",
        "extra": "b",
        "type": "t",
        "data": "None",
        "path": {"b": {"a": 1}},
    }
    data |= {"cls": [{"ok": True}], "known": {"c": [1, 2.5]}, "_id": "x", "id": "y", "zzz": 1}
    tricky = edge.Tricky.from_json(data)
    assert (tricky.from_, tricky.extra_, tricky.type, tricky.id, tricky.id_) == (
        "a",
        "b",
        "t",
        "y",
        "x",
    )
    assert tricky.data is edge.IncStatus_.None_
    assert tricky.path == edge.list_(b=edge.class_(a=1))
    assert tricky.cls == [edge.IncStatus(ok=True)]
    assert tricky.known.c == [1.0, 2.5]
    assert tricky.extra == {"zzz": 1}
    assert tricky.to_json() == {**data, "known": {"c": [1.0, 2.5]}}


def test_subclass_keeps_the_inherited_field_names(edge: ModuleType) -> None:
    wire = {"inputMedias": "a", "input_medias": 1}
    child = edge.Child.from_json(wire)
    assert isinstance(child, edge.Parent)
    assert (child.input_medias, child.input_medias_) == ("a", 1)
    assert child.to_json() == wire
    assert edge.Parent.from_json({"inputMedias": "b"}).input_medias == "b"


# Listed here rather than taken from `naming`, so that a name missing there is caught.
GENERATED_LOCALS = ("cls", "data", "exc", "extra", "item", "known", "out", "path", "self")


@pytest.mark.parametrize("local", GENERATED_LOCALS)
async def test_types_named_like_generated_locals_still_work(local: str, tmp_path: Path) -> None:
    contract = Contract(
        elements=(
            Struct(name=local, fields=(Field(name="n", type="int"),)),
            Struct(
                name="Holder",
                fields=(
                    Field(name="one", type=local),
                    Field(name="many", type=local, is_array=True),
                ),
            ),
            Interface(
                name="Holders",
                functions=(
                    Function(
                        name="put",
                        params=(
                            Param(name="one", type=local),
                            Param(name="many", type=local, is_array=True),
                        ),
                        returns=Returns(type=local, is_array=True),
                    ),
                ),
            ),
        )
    )
    package = f"locals_{local}"
    write_package(render_package(contract, source_name="locals.idl"), tmp_path, package)
    bindings = import_from(tmp_path, package)
    wire = {"one": {"n": 1}, "many": [{"n": 2}, {"n": 3}]}
    holder = bindings.types.Holder.from_json(wire)
    assert [item.n for item in holder.many] == [2, 3]
    assert holder.to_json() == wire
    caller = RecordingCaller(result=[{"n": 4}])
    result = await bindings.api.Holders(caller).put(holder.one, holder.many)
    assert [item.n for item in result] == [4]
    assert caller.calls == [("Holders.put", [{"n": 1}, [{"n": 2}, {"n": 3}]])]


def test_comments_become_docstrings(edge: ModuleType, media: ModuleType) -> None:
    expected = 'Ends with a quote: "done"\n\nIDL: ``enum inc.Status``.'
    assert inspect.getdoc(edge.IncStatus_) == expected
    assert edge.class_.__doc__.startswith('Has """triple""" quotes.')
    assert edge.Service.__doc__.startswith("Methods with awkward names.")
    assert media.MediaType.__doc__.startswith("The kind of an input media.")
    assert "Calls ``Videos.Ping()``." in media.Videos.ping.__doc__
    source = inspect.getsource(edge.types)
    assert '    None_ = "None"\n    """a \\\\ backslash"""' in source


# Decoding


@pytest.mark.parametrize(
    ("type_name", "data", "path", "message"),
    [
        ("Person", "x", "Person", "Person: expected an object, got a string"),
        ("Person", {"personId": "1"}, "p", "p.firstName: missing required field"),
        (
            "Person",
            {"personId": 1, "firstName": "a", "lastName": "b"},
            "Person",
            "Person.personId: expected a string, got an integer",
        ),
        (
            "Person",
            {"personId": "1", "firstName": "a", "lastName": "b", "email": ["x"]},
            "Person",
            "Person.email: expected a string, got an array",
        ),
        (
            "RepeatRequest",
            {"to_repeat": "a", "count": True, "force_uppercase": False},
            "req",
            "req.count: expected an integer, got a boolean",
        ),
        (
            "RepeatRequest",
            {"to_repeat": "a", "count": 1.0, "force_uppercase": None},
            "req",
            "req.count: expected an integer, got a number",
        ),
        (
            "RepeatResponse",
            {"status": 7, "count": 1, "items": []},
            "RepeatResponse",
            "RepeatResponse.status: expected one of 'ok', 'err', got an integer",
        ),
        (
            "RepeatResponse",
            {"status": "ok", "count": 1, "items": ["a", 3]},
            "r",
            "r.items[1]: expected a string, got an integer",
        ),
        (
            "RepeatResponse",
            {"status": "ok", "count": 1, "items": {}},
            "r",
            "r.items: expected an array, got an object",
        ),
    ],
)
def test_from_json_errors_name_the_path(
    conform: ModuleType, type_name: str, data: Any, path: str, message: str
) -> None:
    with pytest.raises(conform.DecodeError) as caught:
        getattr(conform, type_name).from_json(data, path)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_nested_errors_name_the_full_path(media: ModuleType) -> None:
    medias = [{"inputID": "a", "type": "video"}] * 2 + [{"inputID": "c", "type": "movie"}]
    with pytest.raises(media.DecodeError) as caught:
        media.Video.from_json({"name": "n", "inputMedias": medias}, "video", strict=True)
    assert str(caught.value) == (
        "video.inputMedias[2].type: expected one of 'video', 'audio', 'image', 'text', got 'movie'"
    )
    assert caught.value.path == "video.inputMedias[2].type"
    with pytest.raises(
        media.DecodeError, match=r"^Video\.status\.code: expected a string, got null$"
    ):
        media.Video.from_json({"name": "n", "inputMedias": [], "status": {"code": None}})
    with pytest.raises(
        media.DecodeError, match=r"^Video\.kinds\[1\]: expected one of .* got null$"
    ):
        media.Video.from_json({"name": "n", "inputMedias": [], "kinds": ["text", None]})
    with pytest.raises(media.DecodeError, match=r"^Video\.inputMedias\[0\]: expected an object"):
        media.Video.from_json({"name": "n", "inputMedias": [7]})


def test_decode_errors_survive_pickling(conform: ModuleType) -> None:
    with pytest.raises(conform.DecodeError) as caught:
        conform.HiResponse.from_json({"hi": None}, "hi_response")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.path, copy.problem) == (
        "hi_response.hi: expected a string, got null",
        "hi_response.hi",
        "expected a string, got null",
    )


def test_numbers_decode_strictly(media: ModuleType, conform: ModuleType) -> None:
    video = media.Video.from_json({"name": "n", "inputMedias": [], "duration": 3})
    assert video.duration == 3.0
    assert type(video.duration) is float
    with pytest.raises(media.DecodeError, match="duration: expected a number, got a boolean"):
        media.Video.from_json({"name": "n", "inputMedias": [], "duration": True})


def test_unknown_keys_are_kept_and_written_back(conform: ModuleType) -> None:
    data = {"personId": "1", "firstName": "a", "lastName": "b", "nickname": "z", "age": None}
    person = conform.Person.from_json(data)
    assert person.extra == {"nickname": "z", "age": None}
    assert person.to_json() == data
    assert conform.Person.from_json(person.to_json()) == person
    # A declared field wins over an `extra` key of the same name.
    person.extra["personId"] = "shadow"
    assert person.to_json()["personId"] == "1"


def test_optional_fields_are_none_when_absent_or_null_and_left_out(conform: ModuleType) -> None:
    person = conform.Person.from_json(
        {"personId": "1", "firstName": "a", "lastName": "b", "email": None}
    )
    assert person.email is None
    assert person.extra == {}
    assert person.to_json() == {"personId": "1", "firstName": "a", "lastName": "b"}


def test_subclass_decodes_inherited_fields(conform: ModuleType) -> None:
    response = conform.RepeatResponse.from_json({"status": "ok", "count": 2, "items": ["yo", "yo"]})
    assert isinstance(response, conform.IncResponse)
    assert response.status is conform.IncStatus.ok
    assert response.to_json() == {"status": "ok", "count": 2, "items": ["yo", "yo"]}


def test_decoded_arrays_are_copies(conform: ModuleType) -> None:
    items = ["a"]
    response = conform.RepeatResponse.from_json({"status": "ok", "count": 1, "items": items})
    response.items.append("b")
    assert items == ["a"]
    assert response.to_json()["items"] is not response.items


def test_secrets_stay_out_of_reprs_and_messages(media: ModuleType) -> None:
    video = media.Video(name="n", input_medias=[], secret="s3cr3t-value")
    assert "s3cr3t-value" not in repr(video)
    assert "secret='<redacted>'" in repr(video)
    with pytest.raises(media.DecodeError) as caught:
        media.Video.from_json({"name": "n", "inputMedias": [], "secret": {"token": "s3cr3t-value"}})
    assert "s3cr3t-value" not in str(caught.value)


# Stubs


async def test_stubs_send_wire_names_and_encoded_params(conform: ModuleType) -> None:
    caller = RecordingCaller(11)
    api = conform.A(caller)
    assert await api.add(3, 5) == 11
    assert await api.calc([2, 3.0], conform.IncMathOp.add) == 11.0
    caller.result = {"status": "ok", "count": 2, "items": ["yo", "yo"]}
    request = conform.RepeatRequest(to_repeat="yo", count=2, force_uppercase=False)
    response = await api.repeat(request)
    assert response == conform.RepeatResponse(
        status=conform.IncStatus.ok, count=2, items=["yo"] * 2
    )
    caller.result = "1"
    assert await api.put_person(conform.Person(person_id="1", first_name="a", last_name="b")) == "1"
    assert caller.calls == [
        ("A.add", [3, 5]),
        ("A.calc", [[2, 3.0], "add"]),
        ("A.repeat", [{"to_repeat": "yo", "count": 2, "force_uppercase": False}]),
        ("A.putPerson", [{"personId": "1", "firstName": "a", "lastName": "b"}]),
    ]


async def test_stub_results_are_decoded_and_checked(conform: ModuleType) -> None:
    caller = RecordingCaller(None)
    assert await conform.B(caller).echo("return-null") is None
    caller.result = [2, 2, 2]
    assert await conform.A(caller).repeat_num(2, 3) == [2, 2, 2]
    caller.result = [2, "2"]
    with pytest.raises(
        conform.DecodeError, match=r"^result\[1\]: expected an integer, got a string$"
    ):
        await conform.A(caller).repeat_num(2, 2)
    caller.result = {"hi": 1}
    with pytest.raises(conform.DecodeError, match=r"^HiResponse\.hi: expected a string"):
        await conform.A(caller).say_hi()


async def test_stubs_encode_arrays_enums_and_notifications(media: ModuleType) -> None:
    caller = RecordingCaller(None)
    api = media.Videos(caller)
    kinds = [media.MediaType.video, media.MediaType.text]
    assert await api.video_find(kinds) is None
    assert await api.ping() is None
    video = media.Video(name="n", input_medias=[media.InputMedia(input_id="v1", type=kinds[0])])
    caller.result = "id-1"
    assert await api.video_put(video, True) == "id-1"
    assert caller.calls == [
        ("Videos.Video_Find", [["video", "text"]]),
        ("Videos.Ping", []),
        (
            "Videos.Video_Put",
            [{"name": "n", "inputMedias": [{"inputID": "v1", "type": "video"}]}, True],
        ),
    ]
    signature = inspect.signature(api.video_get)
    assert list(signature.parameters) == ["video_id"]


# Values of the wrong Python type: written unchanged, for the contract check to report


def test_to_json_writes_values_of_the_wrong_type_unchanged(media: ModuleType) -> None:
    status = {"code": "done"}
    video = media.Video(name="n", input_medias="ab", kinds="video", status=status)
    assert video.to_json() == {"name": "n", "inputMedias": "ab", "kinds": "video", "status": status}
    assert video.to_json()["status"] is status
    other_struct = media.VideoStatus(code="x")
    medias = [{"inputID": "a"}, media.InputMedia(input_id="b", type="audio"), other_struct]
    encoded = media.Video(name="n", input_medias=medias, kinds=[media.MediaType.text, 7])
    assert encoded.to_json() == {
        "name": "n",
        "inputMedias": [{"inputID": "a"}, {"inputID": "b", "type": "audio"}, other_struct],
        "kinds": ["text", 7],
    }
    assert media.Video(name="n", input_medias=None).to_json() == {"name": "n", "inputMedias": None}


def test_a_subclass_of_a_generated_type_encodes_as_that_type(media: ModuleType) -> None:
    class Status(media.VideoStatus):  # type: ignore[misc,name-defined]
        """A user's own subclass, say with helper methods."""

    video = media.Video(name="n", input_medias=[], status=Status(code="done"))
    assert video.to_json()["status"] == {"code": "done"}


async def test_stubs_take_typed_values_and_pass_other_mistakes_to_the_caller(
    media: ModuleType,
) -> None:
    caller = RecordingCaller(None)
    api = media.Videos(caller)
    video = media.Video(name="n", input_medias=[])
    await api.video_find(("video",))  # not a list: the contract check reports it
    await api.video_find([media.MediaType.video, media.MediaType.text])
    caller.result = "id-1"
    await api.video_put(video, "yes")  # a wrong built-in: the contract check reports it
    assert caller.calls == [
        ("Videos.Video_Find", [("video",)]),
        ("Videos.Video_Find", [["video", "text"]]),
        ("Videos.Video_Put", [video.to_json(), "yes"]),
    ]


@pytest.mark.parametrize(
    ("call", "param", "path", "reason"),
    [
        (
            lambda api, m: api.video_find([m.MediaType.video, "text"]),
            "kinds",
            "kinds[1]",
            "expected MediaType, got str (convert a wire value with MediaType(value))",
        ),
        (
            lambda api, m: api.video_put({"name": "n", "inputMedias": []}, True),
            "video",
            "video",
            "expected Video, got dict (decode a JSON object with Video.from_json(data))",
        ),
        (
            lambda api, m: api.video_put(m.VideoStatus(code="x"), True),
            "video",
            "video",
            "expected Video, got VideoStatus",
        ),
    ],
)
def test_stubs_refuse_untyped_struct_and_enum_arguments_by_name(
    media: ModuleType, call: Callable[[Any, ModuleType], object], param: str, path: str, reason: str
) -> None:
    caller = RecordingCaller(None)
    with pytest.raises(RequestValidationError) as caught:
        call(media.Videos(caller), media)
    assert (caught.value.param, caught.value.path, caught.value.reason) == (param, path, reason)
    assert caught.value.method in ("Videos.Video_Find", "Videos.Video_Put")
    assert caller.calls == []


def test_extra_must_be_a_mapping(media: ModuleType) -> None:
    status = media.VideoStatus(code="done", extra=MappingProxyType({"seen": 1}))
    assert status.to_json() == {"code": "done", "seen": 1}
    with pytest.raises(TypeError, match=r"^VideoStatus\.extra: expected a dict, got list$"):
        media.VideoStatus(code="done", extra=["seen"]).to_json()


# Docs


def test_docs_list_interfaces_structs_and_enums() -> None:
    text = render_docs(MEDIA, source_name="media.idl")
    assert text.startswith("<!-- Generated by codegen from media.idl; do not edit.")
    assert "#### `video_get(video_id: str) -> Video`" in text
    assert "Wire method `Videos.Ping` (a notification: no result)." in text
    assert "| `inputMedias` | `input_medias` | `list[InputMedia]` | yes |  |" in text
    assert "| `video` | `MediaType.video` |  |" in text
    assert render_docs(MEDIA, source_name="media.idl") == text


def test_docs_escape_table_cells_and_demote_headings() -> None:
    contract = Contract(
        elements=(
            Comment(value="# Title\nText"),
            Struct(name="S", fields=(Field(name="a", type="int", comment="x | y\nz  "),)),
        )
    )
    text = render_docs(contract, source_name="s.idl")
    assert "\n## Title\nText\n" in text
    assert "| `a` | `a` | `int` | yes | x \\| y<br>z |" in text


def test_contracts_that_cannot_become_code_are_reported_at_once() -> None:
    contract = Contract(
        elements=(
            Struct(name="S", extends="Nope", fields=(Field(name="a", type="Missing"),)),
            Struct(name="L1", extends="L2", fields=(Field(name="b", type="int"),)),
            Struct(name="L2", extends="L1", fields=(Field(name="c", type="int"),)),
            Interface(
                name="I",
                functions=(
                    Function(
                        name="f", params=(Param(name="p", type="Gone"),), returns=Returns(type="X")
                    ),
                ),
            ),
        )
    )
    with pytest.raises(GenerationError) as caught:
        render_package(contract, source_name="s.json")
    assert str(caught.value).splitlines() == [
        "struct S: extends unknown struct Nope",
        "S.a: unknown type Missing",
        "struct L1: its extends chain loops",
        "struct L2: its extends chain loops",
        "I.f(p): unknown type Gone",
        "I.f(): unknown type X",
    ]


def test_a_parent_declared_later_is_generated_first(tmp_path: Path) -> None:
    contract = Contract(
        elements=(
            Struct(name="Child", extends="Parent", fields=(Field(name="b", type="int"),)),
            Struct(name="Parent", fields=(Field(name="a", type="int"),)),
        )
    )
    assert [t.name for t in views(contract).types] == ["Parent", "Child"]
    write_package(render_package(contract, source_name="late.idl"), tmp_path, "late_parent")
    module = import_from(tmp_path, "late_parent")
    assert module.Child.from_json({"a": 1, "b": 2}) == module.Child(a=1, b=2)


# Rendered code is valid, formatted Python, or generation fails


@pytest.mark.parametrize(
    "comment", ['ends with \\"', 'ends with "', 'ends with \\\\"', "ends with \\", '"""x"""']
)
def test_one_line_comments_ending_in_quotes_and_backslashes(comment: str, tmp_path: Path) -> None:
    contract = Contract(
        elements=(
            Enum(name="E", values=(EnumValue(value="a", comment=comment),)),
            Struct(name="S", fields=(Field(name="f", type="E", comment=comment),)),
        )
    )
    package = f"quotes_{comment.encode().hex()}"  # one module per case
    write_package(render_package(contract, source_name="q.idl"), tmp_path, package)
    tree = ast.parse(inspect.getsource(import_from(tmp_path, package).types))
    docs = [
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    ]
    assert docs.count(comment) == 2  # the enum value's and the field's


def test_code_that_does_not_compile_is_never_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "render", lambda template, context: "def broken(:\n")
    with pytest.raises(GenerationError, match=r"^__init__\.py: generated code does not compile"):
        render_package(MEDIA, source_name="media.idl")


def test_a_ruff_failure_is_an_error_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('ruff: cannot format')"]
    monkeypatch.setattr(generate, "_ruff_command", lambda: failing)
    with pytest.raises(GenerationError) as caught:
        render_package(MEDIA, source_name="media.idl")
    assert str(caught.value) == "ruff failed on the generated code: ruff: cannot format"


def test_without_ruff_the_code_is_unformatted_unless_ruff_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    formatted = render_package(MEDIA, source_name="media.idl")
    monkeypatch.setattr(generate, "_ruff_command", lambda: None)
    with pytest.warns(UserWarning, match="ruff is not installed"):
        files = render_package(MEDIA, source_name="media.idl")
    assert files.keys() == formatted.keys()
    assert files != formatted
    for name, text in files.items():
        compile(text, name, "exec")
    with pytest.raises(generate.RuffMissing, match="install the `codegen` extra"):
        render_package(MEDIA, source_name="media.idl", require_ruff=True)


def test_members_python_cannot_hold_apart_are_reported() -> None:
    contract = Contract(
        elements=(
            Struct(name="P", fields=(Field(name="a", type="int"),)),
            Struct(name="C", extends="P", fields=(Field(name="a", type="string"),)),
            Struct(name="G", extends="C", fields=(Field(name="a", type="bool"),)),
            Struct(name="D", fields=(Field(name="x", type="int"), Field(name="x", type="int"))),
            Enum(name="E", values=(EnumValue(value="v"), EnumValue(value="v"))),
            Interface(
                name="I",
                functions=(
                    Function(name="f", params=(Param(name="p", type="int"),) * 2),
                    Function(name="f"),
                ),
            ),
        )
    )
    with pytest.raises(GenerationError) as caught:
        views(contract)
    assert str(caught.value).splitlines() == [
        "struct C: field a redefines a field of struct P",
        "struct G: field a redefines a field of struct C",
        "duplicate field x in struct D",
        "duplicate value v in enum E",
        "duplicate function f in interface I",
        "duplicate parameter p in function f of interface I",
    ]


def test_a_parent_field_redefined_before_the_parent_is_declared_is_refused() -> None:
    # The parser accepts it, as the reference does (SPEC E7q); a class cannot hold both.
    source = load(str(REPO / "tests/idl_cases/e07q_parent_defined_later.idl"))
    with pytest.raises(GenerationError) as caught:
        render_package(source.contract, source_name=source.name)
    assert str(caught.value) == "struct Cat: field color redefines a field of struct Animal"
