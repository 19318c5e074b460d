"""Typed methods take typed values: a dict for a struct or a str for an enum is refused by name,
before anything is sent, whatever `validate`; raw wire JSON goes through `client.rpc.call`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import respx

from pirsonal_async import PirsonalClient, RequestValidationError
from pirsonal_async.generated import CONTRACT, _json
from pirsonal_async.generated.api import SezionAPI
from pirsonal_async.testing import mock_pirsonal
from pirsonal_async.types import TemplateStatus, Video
from pirsonal_async_codegen.naming import snake_case

RAW_VIDEO = {"name": "Hi Ana"}
Call = Callable[[SezionAPI], Awaitable[Any]]

# (call, param, path, reason) for every way of passing wire JSON to a typed method.
WIRE_VALUES = [
    pytest.param(
        lambda api: api.template_video_new("t1", RAW_VIDEO),
        "video",
        "video",
        "expected Video, got dict (decode a JSON object with Video.from_json(data))",
        id="dict-for-struct",
    ),
    pytest.param(
        lambda api: api.template_set_status("t1", "inactive"),
        "status",
        "status",
        "expected TemplateStatus, got str (convert a wire value with TemplateStatus(value))",
        id="str-for-enum",
    ),
    pytest.param(
        lambda api: api.template_set_status("t1", None),
        "status",
        "status",
        "expected TemplateStatus, got NoneType",
        id="none-for-enum",
    ),
]


async def in_a_batch(client: PirsonalClient, make_call: Call) -> None:
    async with client.batch() as batch:
        batch.media_list()
        await make_call(batch)


@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize(("make_call", "param", "path", "reason"), WIRE_VALUES)
async def test_wire_json_for_a_typed_parameter_is_refused_before_sending(
    respx_mock: respx.MockRouter,
    make_call: Call,
    param: str,
    path: str,
    reason: str,
    validate: bool,
) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    async with PirsonalClient("acc", "secret", validate=validate) as client:
        with pytest.raises(RequestValidationError) as caught:
            await make_call(client)
        with pytest.raises(RequestValidationError) as in_batch:
            await in_a_batch(client, make_call)
    for error in (caught.value, in_batch.value):
        assert (error.param, error.path, error.reason) == (param, path, reason)
        assert isinstance(error.method, str)
        assert error.method.startswith("SezionAPI.")
    assert not respx_mock.calls
    assert pirsonal.calls("Media_List") == []


def test_a_list_of_structs_names_the_element() -> None:
    """The contract has no list parameter of structs or enums: the helper the stubs call for one."""
    with pytest.raises(RequestValidationError) as caught:
        _json.arguments([Video(name="a"), RAW_VIDEO], Video, "A.put", "videos")
    assert (caught.value.param, caught.value.path) == ("videos", "videos[1]")
    assert caught.value.reason.startswith("expected Video, got dict")
    assert _json.arguments([Video(name="a")], Video, "A.put", "videos") == [{"name": "a"}]
    assert _json.arguments([TemplateStatus.active], TemplateStatus, "A.s", "s") == ["active"]


async def test_raw_wire_json_goes_through_rpc_call(respx_mock: respx.MockRouter) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.returns("Template_Video_New", "v1")
    async with PirsonalClient("acc", "secret") as client:
        assert await client.rpc.call("SezionAPI.Template_Video_New", ["t1", RAW_VIDEO]) == "v1"
        assert await client.template_video_new("t1", Video.from_json(RAW_VIDEO)) == "v1"
    assert pirsonal.calls("Template_Video_New") == [["t1", RAW_VIDEO]] * 2


class Recorder:
    """A `Caller` that records what would be sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Any]]] = []

    def request(self, method: str, params: list[Any], decode: Any) -> Any:
        self.sent.append((method, params))
        return None


SCALARS: dict[str, Any] = {"string": "x", "int": 1, "float": 1.0, "bool": True}


def test_every_struct_and_enum_parameter_of_the_contract_follows_the_rule() -> None:
    """Each method given wire JSON (a dict) for its typed parameters names the first of them."""
    [interface] = [e for e in CONTRACT if e["type"] == "interface"]
    recorder = Recorder()
    stub = SezionAPI(recorder)
    checked = 0
    for function in interface["functions"]:
        args = [SCALARS.get(p["type"], {}) for p in function["params"]]
        typed = [p["name"] for p in function["params"] if p["type"] not in SCALARS]
        method = getattr(stub, snake_case(function["name"]))
        if not typed:
            method(*args)
            continue
        with pytest.raises(RequestValidationError) as caught:
            method(*args)
        assert caught.value.param == typed[0]
        assert caught.value.method == f"SezionAPI.{function['name']}"
        checked += 1
    assert checked == 7
    # Only the methods without typed parameters reached the caller.
    assert len(recorder.sent) == len(interface["functions"]) - checked
