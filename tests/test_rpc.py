"""RpcClient single calls: exact envelopes, replies to results or typed errors, validation."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async._aiohttp import AiohttpEngine
from pirsonal_async.caller import Caller
from pirsonal_async.contract import Contract
from pirsonal_async.errors import (
    ERROR_CLASSES,
    ClientClosedError,
    HttpStatusError,
    InvalidParams,
    PirsonalAsyncError,
    PirsonalError,
    ProtocolError,
    RequestValidationError,
    RpcError,
    TemplateNotFound,
    UnspecifiedError,
    VideoNotFound,
)
from pirsonal_async.retry import NO_RETRY
from pirsonal_async.rpc import RpcClient

URL = "https://rpc.example/api"
CONFORM = json.loads((Path(__file__).parent / "data/barrister/conform.json").read_text())
PERSON = {"personId": "1", "firstName": "Ana", "lastName": "Li"}

Answer = Callable[[httpx.Request], httpx.Response]


def reply_with(**envelope: Any) -> Answer:
    """Answers with a JSON-RPC reply echoing the request id (unless `id` is given)."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = {"jsonrpc": "2.0", "id": json.loads(request.content)["id"], **envelope}
        return httpx.Response(200, json=body)

    return answer


def raw(content: bytes, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=content, headers=headers)


def client(**kwargs: Any) -> RpcClient:
    return RpcClient(URL, contract=CONFORM, retry=NO_RETRY, **kwargs)


async def test_the_request_is_the_exact_reference_envelope(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result=8))
    rpc = RpcClient(URL, params={"accountID": "a1", "accountSecret": "rpc-test-secret-7f3a"})

    assert await rpc.call("A.add", [3, 5]) == 8
    request = route.calls.last.request
    assert request.method == "POST"
    assert str(request.url) == f"{URL}?accountID=a1&accountSecret=rpc-test-secret-7f3a"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b'{"jsonrpc":"2.0","id":"1","method":"A.add","params":[3,5]}'


async def test_non_ascii_is_sent_escaped(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result="hello w\u00f6rld"))

    assert await client().call("B.echo", ["hello w\u00f6rld"]) == "hello w\u00f6rld"
    assert route.calls.last.request.content.endswith(b'"params":["hello w\\u00f6rld"]}')


async def test_ids_are_unique_per_client(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result=None))
    rpc = client()

    for _ in range(3):
        await rpc.call("B.echo", ["x"])

    assert [json.loads(call.request.content)["id"] for call in route.calls] == ["1", "2", "3"]


async def test_query_params_are_merged_with_the_url_query(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(url__startswith=URL).mock(side_effect=reply_with(result=1))
    rpc = RpcClient(f"{URL}?v=2", params={"accountID": "a1"})

    await rpc.call("A.add", [0, 1])

    assert route.calls.last.request.url.params == httpx.QueryParams({"v": "2", "accountID": "a1"})


async def test_calls_without_params_send_an_empty_array(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result={"hi": "hi"}))

    assert await client().call("A.say_hi") == {"hi": "hi"}
    assert json.loads(route.calls.last.request.content)["params"] == []


async def test_request_decodes_the_result(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result=[2, 2, 2]))

    assert await client().request("A.repeat_num", [2, 3], tuple) == (2, 2, 2)


async def test_a_decode_failure_is_a_protocol_error_naming_the_method(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result={"hi": "hi"}))

    def decode(data: Any) -> Any:
        raise ValueError("hi.greeting: missing")

    with pytest.raises(ProtocolError) as caught:
        await client().request("A.say_hi", [], decode)

    assert str(caught.value) == "A.say_hi: cannot decode the result: hi.greeting: missing"
    assert caught.value.__context__ is None


@pytest.mark.parametrize("code", [code for code in ERROR_CLASSES if code is not None])
async def test_every_error_code_raises_its_class(respx_mock: respx.MockRouter, code: int) -> None:
    error = {"code": code, "message": "why", "data": {"detail": 1}}
    respx_mock.post(URL).mock(side_effect=reply_with(error=error))

    with pytest.raises(RpcError) as caught:
        await client().call("B.echo", ["x"])

    assert type(caught.value) is ERROR_CLASSES[code]
    assert (caught.value.code, caught.value.message, caught.value.data, caught.value.method) == (
        code,
        "why",
        {"detail": 1},
        "B.echo",
    )


async def test_an_unknown_code_is_a_pirsonal_error(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(error={"code": 7777, "message": "new"}))

    with pytest.raises(PirsonalError) as caught:
        await client().call("B.echo", ["x"])

    assert type(caught.value) is PirsonalError
    assert str(caught.value) == "B.echo: new (code 7777)"


async def test_an_error_with_null_id_is_still_the_servers_error(
    respx_mock: respx.MockRouter,
) -> None:
    reply = {"jsonrpc": "2.0", "id": None, "error": {"code": -32602, "message": "bad"}}
    respx_mock.post(URL).mock(return_value=httpx.Response(200, json=reply))

    with pytest.raises(InvalidParams):
        await client().call("B.echo", ["x"])


async def test_the_documented_codeless_error_is_unspecified(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(error={}))

    with pytest.raises(UnspecifiedError) as caught:
        await client().call("B.echo", ["x"])

    assert caught.value.code is None
    assert caught.value.message == "the server reported an error without a code"


def envelope(**fields: Any) -> httpx.Response:
    return httpx.Response(200, json=fields)


# (reply, error class, exact message after "B.echo: ").
MALFORMED = [
    (raw(b""), ProtocolError, "empty reply body"),
    (raw(b"  \n"), ProtocolError, "empty reply body"),
    (
        raw(b"<html><body>Bad Gateway</body></html>"),
        ProtocolError,
        "reply is not JSON (Expecting value: line 1 column 1 (char 0)): "
        "<html><body>Bad Gateway</body></html>",
    ),
    (
        raw(b'{"jsonrpc":"2.0","id":"1","result":"tru'),
        ProtocolError,
        "reply is not JSON (Unterminated string starting at: line 1 column 36 (char 35)): "
        '{"jsonrpc":"2.0","id":"1","result":"tru',
    ),
    (
        raw(b'{"jsonrpc":"2.0","id":"1","result":NaN}'),
        ProtocolError,
        'reply is not JSON (NaN is not valid JSON): {"jsonrpc":"2.0","id":"1","result":NaN}',
    ),
    (raw(b"\xff\xfe\x00"), ProtocolError, "reply is not JSON"),
    (raw(b"[" * 100_000), ProtocolError, "reply is not JSON"),
    (envelope(), ProtocolError, 'reply "jsonrpc" is null, not "2.0"'),
    (raw(b"[1]"), ProtocolError, "reply is a JSON array, not an object"),
    (raw(b'"ok"'), ProtocolError, "reply is a JSON string, not an object"),
    (
        envelope(jsonrpc="1.0", id="1", result="x"),
        ProtocolError,
        'reply "jsonrpc" is "1.0", not "2.0"',
    ),
    (
        envelope(jsonrpc="2.0", result="x"),
        ProtocolError,
        "reply id null does not match request id '1'",
    ),
    (
        envelope(jsonrpc="2.0", id=1, result="x"),
        ProtocolError,
        "reply id 1 does not match request id '1'",
    ),
    (
        envelope(jsonrpc="2.0", id="2", error={"code": 1, "message": "m"}),
        ProtocolError,
        "reply id \"2\" does not match request id '1'",
    ),
    (
        envelope(jsonrpc="2.0", id="1", result="x", error={"code": 1, "message": "m"}),
        ProtocolError,
        'reply has both of "result" and "error"',
    ),
    (envelope(jsonrpc="2.0", id="1"), ProtocolError, 'reply has neither of "result" and "error"'),
    (
        envelope(jsonrpc="2.0", id="1", error="boom"),
        ProtocolError,
        'reply "error" is a JSON string, not an object',
    ),
    (
        envelope(jsonrpc="2.0", id="1", error={"code": "1007", "message": "m"}),
        ProtocolError,
        'reply error "code" is a JSON string, not an integer',
    ),
    (
        envelope(jsonrpc="2.0", id="1", error={"code": True, "message": "m"}),
        ProtocolError,
        'reply error "code" is a JSON boolean, not an integer',
    ),
    (
        envelope(jsonrpc="2.0", id="1", error={"code": 1007}),
        ProtocolError,
        'reply error 1007 has a null "message", not a string',
    ),
    (
        envelope(jsonrpc="2.0", id="1", result=5),
        ProtocolError,
        "invalid result: result: expected string, got int",
    ),
    (
        raw(b"<html>Service Unavailable</html>", 503),
        HttpStatusError,
        "HTTP 503 Service Unavailable: <html>Service Unavailable</html>",
    ),
    (raw(b"", 404), HttpStatusError, "HTTP 404 Not Found"),
    (raw(b'{"jsonrpc":"2.0"}', 201), HttpStatusError, 'HTTP 201 Created: {"jsonrpc":"2.0"}'),
]


@pytest.mark.parametrize(("response", "cls", "message"), MALFORMED)
async def test_malformed_replies_become_typed_errors(
    respx_mock: respx.MockRouter, response: httpx.Response, cls: type[Exception], message: str
) -> None:
    respx_mock.post(URL).mock(return_value=response)

    with pytest.raises(PirsonalAsyncError) as caught:
        await client().call("B.echo", ["x"])

    assert type(caught.value) is cls
    assert str(caught.value).startswith(f"B.echo: {message}")
    assert caught.value.method == "B.echo"
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


async def test_a_non_200_body_is_excerpted_short(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(return_value=raw(b"<p>oops</p>" * 10_000, 500))

    with pytest.raises(HttpStatusError) as caught:
        await client().call("B.echo", ["x"])

    assert caught.value.status == 500
    assert len(str(caught.value)) < 250


async def test_a_declared_oversized_body_is_refused_unread(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result="x" * 200))

    with pytest.raises(ProtocolError) as caught:
        await client(max_response_bytes=100).call("B.echo", ["x"])

    assert str(caught.value) == "B.echo: reply is larger than 100 bytes"


async def test_a_streamed_oversized_body_stops_being_read(respx_mock: respx.MockRouter) -> None:
    chunks_read = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        yield b'{"jsonrpc":"2.0","id":"1","result":"'
        while True:
            chunks_read += 1
            yield b"x" * 1000

    respx_mock.post(URL).mock(return_value=httpx.Response(200, content=endless()))

    with pytest.raises(ProtocolError) as caught:
        await client(max_response_bytes=10_000).call("B.echo", ["x"])

    assert str(caught.value) == "B.echo: reply is larger than 10000 bytes"
    assert chunks_read == 10


async def test_results_are_checked_leniently_by_default(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result={"hi": "hi", "new": 1}))

    assert await client().call("A.say_hi") == {"hi": "hi", "new": 1}
    with pytest.raises(ProtocolError) as caught:
        await client(strict=True).call("A.say_hi")

    assert (
        str(caught.value)
        == "A.say_hi: invalid result: result.new: not a field of struct HiResponse"
    )
    assert caught.value.code == -32001


async def test_result_checks_can_be_switched_off(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result={"nothing": "expected"}))

    assert await client(validate_responses=False).call("A.say_hi") == {"nothing": "expected"}


BAD_CALLS = [
    ("A.add", [1, "2"], "A.add: param 'b': expected int, got string"),
    ("A.add", [1], "A.add: expects 2 params, 1 given"),
    (
        "A.putPerson",
        [{**PERSON, "email": 1}],
        "A.putPerson: param 'p' (p.email): expected string, got int",
    ),
    ("A.nope", [], "A.nope: interface 'A' has no function 'nope'"),
    ("A.sqrt", [float("nan")], "A.sqrt: param 'a': nan is not a JSON number"),
]


@pytest.mark.parametrize(("method", "params", "message"), BAD_CALLS)
async def test_bad_arguments_send_nothing(
    respx_mock: respx.MockRouter, method: str, params: list[Any], message: str
) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result=None))

    with pytest.raises(RequestValidationError) as caught:
        await client().call(method, params)

    assert str(caught.value) == message
    assert route.call_count == 0


async def test_the_error_names_the_param_and_path(respx_mock: respx.MockRouter) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client().call("A.calc", [[1, 2, "3"], "add"])

    assert (caught.value.param, caught.value.path) == ("nums", "nums[2]")
    assert caught.value.reason == "expected float, got string"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([datetime(2024, 1, 1)], "X.y: param #0 is not JSON-serialisable: Object of type datetime"),
        ([1, float("inf")], "X.y: param #1 is not JSON-serialisable: Out of range float values"),
    ],
)
async def test_unserialisable_params_send_nothing_even_unchecked(
    respx_mock: respx.MockRouter, params: list[Any], message: str
) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result=None))

    with pytest.raises(RequestValidationError) as caught:
        await RpcClient(URL).call("X.y", params)

    assert str(caught.value).startswith(message)
    assert route.call_count == 0


async def test_params_must_be_a_list(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result=None))

    with pytest.raises(RequestValidationError) as caught:
        await RpcClient(URL).call("A.add", (1, 2))  # type: ignore[arg-type]

    assert str(caught.value) == "A.add: params must be a list of positional values, got tuple"
    assert route.call_count == 0


async def test_request_checks_can_be_switched_off(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(
        side_effect=reply_with(error={"code": -32602, "message": "invalid param"})
    )

    with pytest.raises(InvalidParams):
        await client(validate_requests=False).call("A.add", [1, "2"])

    assert route.call_count == 1


async def test_fetch_contract_calls_barrister_idl(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=reply_with(result=CONFORM))

    idl = await client().fetch_contract()

    assert idl == CONFORM
    assert route.calls.last.request.content == (
        b'{"jsonrpc":"2.0","id":"1","method":"barrister-idl","params":[]}'
    )
    assert Contract(idl).checksum == "4e80517459336f80a3ce47d9343f635b"


async def test_a_contract_that_is_not_a_list_is_a_protocol_error(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result={"not": "a contract"}))

    with pytest.raises(ProtocolError) as caught:
        await RpcClient(URL).fetch_contract()

    assert str(caught.value) == (
        "barrister-idl: cannot decode the result: barrister-idl returned a dict, not an array"
    )


async def test_the_contract_may_be_given_loaded_or_as_idl_json() -> None:
    loaded = Contract(CONFORM)

    assert RpcClient(URL, contract=loaded).contract is loaded
    from_json = RpcClient(URL, contract=CONFORM).contract
    assert from_json is not None
    assert from_json.checksum == loaded.checksum
    assert RpcClient(URL).contract is None


async def test_an_owned_pool_is_closed_on_exit() -> None:
    async with RpcClient(URL) as rpc:
        engine = rpc.engine

    assert isinstance(engine, AiohttpEngine)
    assert engine.closed
    with pytest.raises(ClientClosedError, match="closed"):
        await rpc.call("A.add", [1, 2])


async def test_a_supplied_http_client_is_left_open(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result=8))
    async with httpx.AsyncClient() as http:
        async with RpcClient(URL, http_client=http) as rpc:
            assert await rpc.call("A.add", [3, 5]) == 8

        assert not http.is_closed


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("rpc.example/api", "RpcClient url must be an absolute http(s) URL, got 'rpc.example/api'"),
        (
            "ftp://rpc.example/",
            "RpcClient url must be an absolute http(s) URL, got 'ftp://rpc.example/'",
        ),
    ],
)
def test_a_bad_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        RpcClient(url)

    assert str(caught.value) == message


def test_a_bad_response_limit_is_refused() -> None:
    with pytest.raises(ValueError) as caught:
        RpcClient(URL, max_response_bytes=0)

    assert str(caught.value) == "max_response_bytes must be >= 1, got 0"


async def test_the_client_and_its_batches_are_callers(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result=8))
    rpc = client()
    caller: Caller = rpc

    assert await caller.request("A.add", [3, 5], int) == 8
    async with rpc.batch() as batch:
        batch_caller: Caller = batch
        assert batch_caller is batch


async def test_calls_are_logged_at_debug(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["method"] == "A.add":
            return reply_with(result=8)(request)
        return reply_with(error={"code": 1007, "message": "Video not found"})(request)

    respx_mock.post(URL).mock(side_effect=answer)
    rpc = client()

    with caplog.at_level(logging.DEBUG, logger="pirsonal_async"):
        await rpc.call("A.add", [3, 5])
        with pytest.raises(VideoNotFound):
            await rpc.call("B.echo", ["x"])

    ours = [r for r in caplog.records if r.name == "pirsonal_async"]
    assert [(r.levelname, r.getMessage().split(" in ")[0]) for r in ours] == [
        ("DEBUG", "A.add id=1 ok"),
        ("INFO", "B.echo id=2 failed"),
    ]
    assert ours[1].getMessage().endswith("ms: B.echo: Video not found (code 1007)")


async def test_bodies_are_logged_only_when_asked(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result=8))

    with caplog.at_level(logging.DEBUG, logger="pirsonal_async"):
        await client().call("A.add", [3, 5])
        quiet = [r.getMessage() for r in caplog.records if r.name == "pirsonal_async"]
        caplog.clear()
        await client(log_bodies=True).call("A.add", [3, 5])
        loud = [r.getMessage() for r in caplog.records if r.name == "pirsonal_async"]

    assert not any("body" in message for message in quiet)
    assert loud[:2] == [
        'request body: {"jsonrpc":"2.0","id":"1","method":"A.add","params":[3,5]}',
        'reply body: {"jsonrpc":"2.0","id":"1","result":8}',
    ]


async def test_bodies_are_not_excerpted_while_debug_is_off(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    respx_mock.post(URL).mock(side_effect=reply_with(result=8))
    rpc = client(log_bodies=True)
    excerpted: list[bytes | str] = []

    def excerpt(body: bytes | str, limit: int = 200) -> str:
        excerpted.append(body)
        return ""

    monkeypatch.setattr(rpc._redactor, "excerpt", excerpt)
    with caplog.at_level(logging.INFO, logger="pirsonal_async"):
        assert await rpc.call("A.add", [3, 5]) == 8

    assert excerpted == []


async def test_error_data_nested_too_deep_to_redact_is_masked(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    deep = b"[" * 500 + b"]" * 500
    error = b'{"code":1000,"message":"Template not found","data":' + deep + b"}"
    respx_mock.post(URL).mock(
        return_value=raw(b'{"jsonrpc":"2.0","id":"1","error":' + error + b"}")
    )

    with (
        caplog.at_level(logging.DEBUG, logger="pirsonal_async"),
        pytest.raises(TemplateNotFound) as caught,
    ):
        await client(log_bodies=True).call("B.echo", ["x"])

    assert caught.value.data == "***"
    assert any(message.startswith("reply body: ") for message in caplog.messages)
