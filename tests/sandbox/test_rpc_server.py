"""The generic Barrister server: the conformance table, envelopes, batches and error codes."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import pytest

from pirsonal_async.sandbox.rpc_server import RpcFault, RpcServer


def _field(name: str, type_: str, *, is_array: bool = False, optional: bool = False) -> Any:
    return {"name": name, "type": type_, "is_array": is_array, "comment": "", "optional": optional}


def _struct(name: str, *fields: Any, extends: str = "") -> Any:
    return {"name": name, "type": "struct", "extends": extends, "comment": "", "fields": [*fields]}


def _function(name: str, params: list[tuple[str, str, bool]], returns: Any) -> Any:
    return {
        "name": name,
        "comment": "",
        "params": [{"name": n, "type": t, "is_array": a} for n, t, a in params],
        "returns": returns,
    }


def _returns(type_: str, *, is_array: bool = False, optional: bool = False) -> Any:
    return {"type": type_, "is_array": is_array, "optional": optional}


def _enum(name: str, *values: str) -> Any:
    values_json = [{"value": v, "comment": ""} for v in values]
    return {"name": name, "type": "enum", "comment": "", "values": values_json}


# The shape of the Barrister conformance contract (conform.idl), written out as IDL JSON.
IDL: list[dict[str, Any]] = [
    {"type": "comment", "value": "conformance contract"},
    _enum("Status", "ok", "err"),
    _enum("MathOp", "add", "multiply"),
    _struct("Response", _field("status", "Status")),
    _struct(
        "RepeatResponse",
        _field("count", "int"),
        _field("items", "string", is_array=True),
        extends="Response",
    ),
    _struct("HiResponse", _field("hi", "string")),
    _struct(
        "RepeatRequest",
        _field("to_repeat", "string"),
        _field("count", "int"),
        _field("force_uppercase", "bool"),
    ),
    _struct(
        "Person",
        _field("personId", "string"),
        _field("firstName", "string"),
        _field("lastName", "string"),
        _field("email", "string", optional=True),
    ),
    {
        "name": "A",
        "type": "interface",
        "comment": "",
        "functions": [
            _function("add", [("a", "int", False), ("b", "int", False)], _returns("int")),
            _function(
                "calc", [("nums", "float", True), ("op", "MathOp", False)], _returns("float")
            ),
            _function("sqrt", [("a", "float", False)], _returns("float")),
            _function("repeat", [("req1", "RepeatRequest", False)], _returns("RepeatResponse")),
            _function("say_hi", [], _returns("HiResponse")),
            _function(
                "repeat_num",
                [("num", "int", False), ("count", "int", False)],
                _returns("int", is_array=True),
            ),
            _function("putPerson", [("p", "Person", False)], _returns("string")),
        ],
    },
    {
        "name": "B",
        "type": "interface",
        "comment": "",
        "functions": [
            _function("echo", [("s", "string", False)], _returns("string", optional=True))
        ],
    },
    {"type": "meta", "barrister_version": "0.1.7", "date_generated": 0, "checksum": "0" * 32},
]


class ServiceA:
    def add(self, a: int, b: int) -> int:
        return a + b

    def calc(self, nums: list[float], op: str) -> float:
        return sum(nums) if op == "add" else math.prod(nums)

    def sqrt(self, a: float) -> float:
        return math.sqrt(a)

    def repeat(self, req: dict[str, Any]) -> dict[str, Any]:
        text = req["to_repeat"].upper() if req["force_uppercase"] else req["to_repeat"]
        return {"status": "ok", "count": req["count"], "items": [text] * req["count"]}

    def say_hi(self) -> dict[str, Any]:
        return {"hi": "hi"}

    def repeat_num(self, num: int, count: int) -> list[int]:
        return [num] * count

    def putPerson(self, p: dict[str, Any]) -> str:
        return "2" if p.get("email") else "1"


class ServiceB:
    async def echo(self, s: str) -> str | None:
        return None if s == "return-null" else s


HANDLERS = {"A": ServiceA(), "B": ServiceB()}
PERSON = {"personId": "1", "firstName": "A", "lastName": "B"}


@pytest.fixture
def server() -> RpcServer:
    return RpcServer(IDL)


async def handle(server: RpcServer, body: bytes, handlers: Any, guard: Any = None) -> Any:
    """The reply to a raw body, decoded."""
    return json.loads(await server.handle_body(body, handlers, guard))


async def reply_to(server: RpcServer, request: Any, handlers: Any = None) -> Any:
    body = json.dumps(request).encode()
    return await handle(server, body, HANDLERS if handlers is None else handlers)


# The rows of the Barrister conformance suite (conform.in): method, params, outcome.
CONFORMANCE = [
    ("B.echo", ["hello"], "ok", "hello"),
    ("B.echo", ["return-null"], "ok", None),
    ("B.echo", ["hello w\u00f6rld"], "ok", "hello w\u00f6rld"),
    ("A.add", [3, 5], "ok", 8),
    ("A.sqrt", [9], "ok", 3.0),
    ("A.sqrt", [25.0], "ok", 5.0),
    ("A.calc", [[2, 3.0, 6], "add"], "ok", 11.0),
    ("A.calc", [[4, 4, 7], "multiply"], "ok", 112),
    ("A.say_hi", [], "ok", {"hi": "hi"}),
    (
        "A.repeat",
        [{"to_repeat": "yo", "count": 2, "force_uppercase": False}],
        "ok",
        {"status": "ok", "count": 2, "items": ["yo", "yo"]},
    ),
    (
        "A.repeat",
        [{"to_repeat": "hi", "count": 1, "force_uppercase": True}],
        "ok",
        {"status": "ok", "count": 1, "items": ["HI"]},
    ),
    ("A.repeat_num", [2, 3], "ok", [2, 2, 2]),
    ("A.putPerson", [PERSON], "ok", "1"),
    ("A.putPerson", [{**PERSON, "email": "a@b.c"}], "ok", "2"),
    ("A.putPerson", [{**PERSON, "email": 1}], "error", -32602),
    ("A.putPerson", [{**PERSON, "nickname": "x"}], "error", -32602),
    ("B.echo", [2], "error", -32602),
    ("B.echo", [{"hello": "1"}], "error", -32602),
    ("A.say_hi", ["blah"], "error", -32602),
    ("A.add", [3.3, 5], "error", -32602),
    ("A.add", [True, 5], "error", -32602),
    ("A.add", [3], "error", -32602),
    ("A.calc", [[2, 3, "6"], "add"], "error", -32602),
    ("A.calc", [[2, 3, 3], "subtract"], "error", -32602),
    ("B.echo", None, "error", -32602),
    ("B.echo", [None], "error", -32602),
    ("A.repeat_num", [2, None], "error", -32602),
    ("B.echo", {"s": "named"}, "error", -32602),
    ("B.echo", "ab", "error", -32602),
    ("B.echo", 5, "error", -32602),
]


@pytest.mark.parametrize(("method", "params", "outcome", "expected"), CONFORMANCE)
async def test_conformance(
    server: RpcServer, method: str, params: Any, outcome: str, expected: Any
) -> None:
    reply = await reply_to(
        server, {"jsonrpc": "2.0", "id": "c1", "method": method, "params": params}
    )
    assert list(reply) == ["jsonrpc", "id", outcome.replace("ok", "result")]
    assert (reply["jsonrpc"], reply["id"]) == ("2.0", "c1")
    if outcome == "ok":
        assert reply["result"] == expected
    else:
        assert reply["error"]["code"] == expected
        assert method in reply["error"]["message"]


async def test_invalid_params_name_the_param_and_path(server: RpcServer) -> None:
    request = {"id": 1, "method": "A.putPerson", "params": [{**PERSON, "email": 1}]}
    reply = await reply_to(server, request)
    assert reply["error"]["message"] == (
        "Function 'A.putPerson' invalid params: param 'p' (p.email): expected string, got int"
    )


@pytest.mark.parametrize("body", [b"{", b"[", b"--", b"", b"\xff\xfe", b"NaN", b'{"a": Infinity}'])
async def test_unparsable_bodies(server: RpcServer, body: bytes) -> None:
    reply = await handle(server, body, HANDLERS)
    assert reply["id"] is None
    assert reply["error"]["code"] == -32700
    assert reply["error"]["message"].startswith("Unable to parse JSON: ")


async def test_absurdly_nested_json_is_a_parse_error(server: RpcServer) -> None:
    reply = await handle(server, b"[" * 100_000 + b"]" * 100_000, HANDLERS)
    assert reply["error"]["code"] == -32700


async def test_deeply_nested_batch_items_are_invalid_requests(server: RpcServer) -> None:
    nested = b"[" + b"[" * 900 + b"]" * 900 + b"]"
    [reply] = await handle(server, nested, HANDLERS)
    assert reply["error"]["code"] == -32600
    assert len(reply["error"]["message"]) < 120


async def test_parse_error_excerpts_are_short(server: RpcServer) -> None:
    reply = await handle(server, b"{" + b"x" * 10_000, HANDLERS)
    assert len(reply["error"]["message"]) < 120


async def test_params_missing_or_null_count_as_none(server: RpcServer) -> None:
    for request in (
        {"id": 1, "method": "A.say_hi"},
        {"id": 1, "method": "A.say_hi", "params": None},
    ):
        assert (await reply_to(server, request))["result"] == {"hi": "hi"}


@pytest.mark.parametrize("request_id", ["abc", 7, 0, "", [1, 2], {"k": "v"}, None])
async def test_any_id_is_echoed(server: RpcServer, request_id: Any) -> None:
    reply = await reply_to(server, {"id": request_id, "method": "A.add", "params": [1, 2]})
    assert reply == {"jsonrpc": "2.0", "id": request_id, "result": 3}


async def test_a_request_without_id_still_gets_a_reply(server: RpcServer) -> None:
    reply = await reply_to(server, {"jsonrpc": "2.0", "method": "A.add", "params": [1, 2]})
    assert reply == {"jsonrpc": "2.0", "id": None, "result": 3}


@pytest.mark.parametrize(
    ("rpc_request", "code", "message"),
    [
        (5, -32600, "Invalid Request. 5 is not an object."),
        (None, -32600, "Invalid Request. None is not an object."),
        ({"id": 1}, -32600, "Invalid Request. No 'method' string."),
        ({"id": 1, "method": 5}, -32600, "Invalid Request. No 'method' string."),
        ({"id": 1, "method": "echo"}, -32601, "Method not found: method 'echo' is not of"),
        ({"id": 1, "method": "C.echo"}, -32601, "Method not found: unknown interface 'C'"),
        ({"id": 1, "method": "A.echo"}, -32601, "Method not found: interface 'A' has no function"),
        ({"id": 1, "method": "A.add.x"}, -32601, "Method not found: interface 'A' has no function"),
    ],
)
async def test_request_errors(server: RpcServer, rpc_request: Any, code: int, message: str) -> None:
    reply = await reply_to(server, rpc_request)
    assert reply["error"]["code"] == code
    assert reply["error"]["message"].startswith(message)


async def test_a_function_without_implementation_is_not_found(server: RpcServer) -> None:
    reply = await reply_to(
        server, {"id": 1, "method": "B.echo", "params": ["x"]}, {"A": ServiceA()}
    )
    assert reply["error"] == {"code": -32601, "message": "Function 'B.echo' is not implemented"}


async def test_batch_replies_in_order(server: RpcServer) -> None:
    batch = [
        {"id": 1, "method": "A.sqrt", "params": [36.0]},
        {"id": 2, "method": "A.say_hi", "params": []},
        7,
        [],
        {"id": 3, "method": "A.add", "params": ["x", 1]},
        {"id": 4, "method": "B.echo", "params": ["last"]},
    ]
    replies = await reply_to(server, batch)
    assert [r["id"] for r in replies] == [1, 2, None, None, 3, 4]
    assert replies[0]["result"] == 6.0
    assert replies[1]["result"] == {"hi": "hi"}
    assert [r["error"]["code"] for r in replies[2:5]] == [-32600, -32600, -32602]
    assert replies[5]["result"] == "last"


async def test_an_empty_batch_gets_one_error_object(server: RpcServer) -> None:
    assert await reply_to(server, []) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "Invalid Request. Empty batch."},
    }


async def test_barrister_idl_returns_the_contract_verbatim(server: RpcServer) -> None:
    refusals: list[str] = []

    def refuse(method: str) -> None:
        refusals.append(method)
        raise RpcFault(1015, "Authentication error")

    body = b'{"jsonrpc":"2.0","method":"barrister-idl","id":"1"}'
    assert (await handle(server, body, {}, refuse))["result"] == IDL
    assert refusals == []


async def test_the_guard_runs_before_the_params_are_checked(server: RpcServer) -> None:
    seen: list[str] = []

    def refuse(method: str) -> None:
        seen.append(method)
        raise RpcFault(1015, "Authentication error")

    body = json.dumps({"id": 9, "method": "A.add", "params": ["bad"]}).encode()
    reply = await handle(server, body, HANDLERS, refuse)
    assert reply["error"] == {"code": 1015, "message": "Authentication error"}
    assert seen == ["A.add"]


async def test_application_faults_pass_through_with_their_data(server: RpcServer) -> None:
    class Refusing(ServiceA):
        def add(self, a: int, b: int) -> int:
            raise RpcFault(4001, "Too big", {"limit": 10})

    reply = await reply_to(
        server, {"id": 1, "method": "A.add", "params": [1, 2]}, {"A": Refusing()}
    )
    assert reply["error"] == {"code": 4001, "message": "Too big", "data": {"limit": 10}}


async def test_unexpected_exceptions_are_logged_server_errors(
    server: RpcServer, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(ServiceA):
        def add(self, a: int, b: int) -> int:
            raise ZeroDivisionError("internal detail")

    with caplog.at_level(logging.ERROR, logger="pirsonal_async.sandbox"):
        reply = await reply_to(
            server, {"id": 1, "method": "A.add", "params": [1, 2]}, {"A": Broken()}
        )
    assert reply["error"] == {"code": -32000, "message": "Server error. Check logs for details."}
    [record] = caplog.records
    assert record.exc_info is not None
    assert record.exc_info[0] is ZeroDivisionError


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"hi": 1},
        {"hi": "hi", "extra": True},
        None,
        ["hi"],
    ],
)
async def test_invalid_results_are_rejected_strictly(server: RpcServer, result: Any) -> None:
    class Wrong(ServiceA):
        def say_hi(self) -> Any:
            return result

    reply = await reply_to(server, {"id": 1, "method": "A.say_hi"}, {"A": Wrong()})
    assert reply["error"]["code"] == -32001
    assert reply["error"]["message"].startswith("Function 'A.say_hi' invalid response: ")


async def test_an_invalid_inherited_field_in_a_result_is_rejected(server: RpcServer) -> None:
    class Wrong(ServiceA):
        def repeat(self, req: dict[str, Any]) -> dict[str, Any]:
            return {"status": "maybe", "count": 1, "items": ["x"]}

    request = {
        "id": 1,
        "method": "A.repeat",
        "params": [{"to_repeat": "x", "count": 1, "force_uppercase": False}],
    }
    reply = await reply_to(server, request, {"A": Wrong()})
    assert reply["error"]["code"] == -32001
    assert "result.status" in reply["error"]["message"]


async def test_handle_body_writes_compact_ascii_json(server: RpcServer) -> None:
    body = json.dumps({"id": "x", "method": "B.echo", "params": ["w\u00f6rld"]}).encode()
    raw = await server.handle_body(body, HANDLERS)
    assert raw == b'{"jsonrpc":"2.0","id":"x","result":"w\\u00f6rld"}'


# limits a public server needs


class Recorder:
    """B.echo that records each call, to show which calls of a batch ran."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def echo(self, s: str) -> str:
        self.calls.append(s)
        return s


def echo(text: str, request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "B.echo", "params": [text]}


async def test_a_batch_over_the_limit_is_refused_whole() -> None:
    server = RpcServer(IDL, max_batch=3)
    recorder = Recorder()
    batch = [echo(str(n), n) for n in range(4)]

    reply = await handle(server, json.dumps(batch).encode(), {"B": recorder})

    assert reply == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "Invalid Request. A batch of 4 calls; at most 3."},
    }
    assert recorder.calls == []
    assert len(await handle(server, json.dumps(batch[:3]).encode(), {"B": recorder})) == 3


async def test_a_batch_reply_stops_at_its_size_limit_and_runs_no_further() -> None:
    server = RpcServer(IDL, max_reply_bytes=300)
    recorder = Recorder()
    batch = [echo("a", 1), echo("b" * 200, 2), echo("c" * 200, 3), echo("d", 4)]

    body = await server.handle_body(json.dumps(batch).encode(), {"B": recorder})

    replies = json.loads(body)
    assert [reply.get("result") for reply in replies[:2]] == ["a", "b" * 200]
    assert [(r["id"], r["error"]["code"]) for r in replies[2:]] == [(3, -32003), (4, -32003)]
    assert replies[2]["error"]["message"] == (
        "Server error. The reply would be over 300 bytes: the call ran, its result is dropped"
    )
    assert replies[3]["error"]["message"].endswith("bytes: not run")
    assert recorder.calls == ["a", "b" * 200, "c" * 200]
    # The results kept fit the limit; each error adds a short reply.
    assert len(body) < 300 + 2 * 150


async def test_a_single_reply_over_the_limit_becomes_an_error() -> None:
    server = RpcServer(IDL, max_reply_bytes=100)

    reply = await reply_to(server, {"id": 7, "method": "A.repeat_num", "params": [1, 100]})

    assert (reply["id"], reply["error"]["code"]) == (7, -32003)
