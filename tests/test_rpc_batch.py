"""Batches: one HTTP request, replies matched by id, and every way a batch can go wrong."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async.caller import Caller
from pirsonal_async.errors import (
    BatchNotSentError,
    HttpStatusError,
    InvalidRequest,
    PirsonalAsyncError,
    ProtocolError,
    RequestValidationError,
    TransportError,
    VideoNotFound,
)
from pirsonal_async.retry import NO_RETRY
from pirsonal_async.rpc import Batch, BatchFuture, RpcClient

URL = "https://rpc.example/api"
CONFORM = json.loads((Path(__file__).parent / "data/barrister/conform.json").read_text())

# What each method answers in these tests, as a result or an error object.
RESULTS: dict[str, Any] = {
    "A.add": 8,
    "A.sqrt": 6.0,
    "A.say_hi": {"hi": "hi"},
    "B.echo": "hello",
    "A.repeat_num": [2, 2, 2],
}
ERRORS: dict[str, Any] = {"A.putPerson": {"code": 1007, "message": "Video not found"}}


def reply_to(call: dict[str, Any]) -> dict[str, Any]:
    method = call["method"]
    if method in ERRORS:
        return {"jsonrpc": "2.0", "id": call["id"], "error": ERRORS[method]}
    return {"jsonrpc": "2.0", "id": call["id"], "result": RESULTS[method]}


def batch_server(
    rearrange: Callable[[list[dict[str, Any]]], list[Any]] = lambda replies: replies,
) -> Callable[[httpx.Request], httpx.Response]:
    """Answers each call of a batch, then lets the test reorder, drop or add replies."""

    def answer(request: httpx.Request) -> httpx.Response:
        calls = json.loads(request.content)
        if isinstance(calls, dict):
            return httpx.Response(200, json=reply_to(calls))
        return httpx.Response(200, json=rearrange([reply_to(call) for call in calls]))

    return answer


def client(**kwargs: Any) -> RpcClient:
    return RpcClient(URL, contract=CONFORM, retry=NO_RETRY, **kwargs)


async def test_a_batch_is_one_request_with_the_calls_in_order(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(side_effect=batch_server())
    rpc = client()

    async with rpc.batch() as batch:
        root = batch.call("A.sqrt", [36.0])
        hi = batch.call("A.say_hi")
        assert not root.done()

    assert (await root, await hi) == (6.0, {"hi": "hi"})
    assert route.call_count == 1
    assert route.calls.last.request.content == (
        b'[{"jsonrpc":"2.0","id":"1","method":"A.sqrt","params":[36.0]},'
        b'{"jsonrpc":"2.0","id":"2","method":"A.say_hi","params":[]}]'
    )


async def test_replies_are_matched_by_id_not_position(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=batch_server(lambda replies: replies[::-1]))

    async with client().batch() as batch:
        add = batch.call("A.add", [3, 5])
        echo = batch.call("B.echo", ["hello"])
        hi = batch.call("A.say_hi")

    assert (await add, await echo, await hi) == (8, "hello", {"hi": "hi"})


async def test_each_call_gets_its_own_error(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=batch_server())
    person = {"personId": "1", "firstName": "A", "lastName": "B"}

    async with client().batch() as batch:
        add = batch.call("A.add", [3, 5])
        put = batch.call("A.putPerson", [person])

    assert await add == 8
    with pytest.raises(VideoNotFound) as caught:
        await put
    assert caught.value.method == "A.putPerson"


async def test_batch_results_are_checked_against_the_contract(
    respx_mock: respx.MockRouter,
) -> None:
    def corrupt_first(replies: list[dict[str, Any]]) -> list[Any]:
        replies[0]["result"] = "eight"
        return replies

    respx_mock.post(URL).mock(side_effect=batch_server(corrupt_first))

    async with client().batch() as batch:
        add = batch.call("A.add", [3, 5])
        echo = batch.call("B.echo", ["hello"])

    assert await echo == "hello"
    with pytest.raises(ProtocolError) as caught:
        await add
    assert str(caught.value) == "A.add: invalid result: result: expected int, got string"


def drop_second(replies: list[dict[str, Any]]) -> list[Any]:
    return replies[:1] + replies[2:]


def duplicate_second(replies: list[dict[str, Any]]) -> list[Any]:
    return [*replies, dict(replies[1])]


def replace_second_id(replies: list[dict[str, Any]]) -> list[Any]:
    replies[1]["id"] = "99"
    return replies


@pytest.mark.parametrize(
    ("rearrange", "message"),
    [
        (drop_second, "B.echo: batch reply has no reply for id '2'"),
        (duplicate_second, "B.echo: batch reply has 2 replies for id '2'"),
        (replace_second_id, "B.echo: batch reply has no reply for id '2'"),
    ],
)
async def test_a_missing_or_duplicated_reply_fails_only_its_call(
    respx_mock: respx.MockRouter,
    rearrange: Callable[[list[dict[str, Any]]], list[Any]],
    message: str,
) -> None:
    respx_mock.post(URL).mock(side_effect=batch_server(rearrange))

    async with client().batch() as batch:
        add = batch.call("A.add", [3, 5])
        echo = batch.call("B.echo", ["hello"])
        hi = batch.call("A.say_hi")

    assert (await add, await hi) == (8, {"hi": "hi"})
    with pytest.raises(ProtocolError) as caught:
        await echo
    assert str(caught.value) == message


async def test_extra_replies_are_ignored_and_reported(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    extra = {"jsonrpc": "2.0", "id": "77", "result": 1}
    respx_mock.post(URL).mock(side_effect=batch_server(lambda r: [*r, extra, "junk"]))

    with caplog.at_level(logging.WARNING, logger="pirsonal_async"):
        async with client().batch() as batch:
            add = batch.call("A.add", [3, 5])

    assert await add == 8
    assert [r.getMessage() for r in caplog.records if r.name == "pirsonal_async"] == [
        "batch of 1 (ids 1..1): 2 replies matched no request and were ignored"
    ]


async def test_an_empty_batch_sends_nothing(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=batch_server())

    async with client().batch():
        pass

    assert route.call_count == 0


async def test_when_the_block_raises_nothing_is_sent_and_futures_are_cancelled(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(side_effect=batch_server())
    queued: list[asyncio.Future[Any]] = []

    async def fail_midway() -> None:
        async with client().batch() as batch:
            queued.append(batch.call("A.add", [3, 5]))
            raise KeyError("user bug")

    with pytest.raises(KeyError):
        await fail_midway()

    assert route.call_count == 0
    assert queued[0].cancelled()


async def test_a_bad_argument_is_refused_at_queue_time_and_nothing_is_sent(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(side_effect=batch_server())
    queued: list[asyncio.Future[Any]] = []

    async def queue_bad_call() -> None:
        async with client().batch() as batch:
            queued.append(batch.call("A.add", [3, 5]))
            batch.call("A.add", [3, "5"])

    with pytest.raises(RequestValidationError) as caught:
        await queue_bad_call()

    assert str(caught.value) == "A.add: param 'b': expected int, got string"
    assert route.call_count == 0
    assert queued[0].cancelled()


async def test_calls_after_exit_and_reuse_are_refused(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=batch_server())
    batch = client().batch()

    with pytest.raises(RuntimeError) as early:
        batch.call("A.add", [3, 5])
    async with batch:
        batch.call("A.add", [3, 5])
    with pytest.raises(RuntimeError) as late:
        batch.call("A.add", [3, 5])
    with pytest.raises(RuntimeError) as again:
        await batch.__aenter__()

    assert str(early.value) == "batch calls are queued inside its `async with` block only"
    assert str(late.value) == str(early.value)
    assert str(again.value) == "a batch is used in one `async with` block; start a new one"


async def send_two(rpc: RpcClient) -> list[asyncio.Future[Any]]:
    """Queues two calls and sends them; returns the futures even when the exit raises."""
    queued: list[asyncio.Future[Any]] = []
    try:
        async with rpc.batch() as batch:
            queued += [batch.call("A.add", [3, 5]), batch.call("B.echo", ["x"])]
    except PirsonalAsyncError:
        pass
    return queued


@pytest.mark.parametrize(
    ("response", "cls", "message"),
    [
        (httpx.Response(503, text="down"), HttpStatusError, "HTTP 503 Service Unavailable: down"),
        (httpx.Response(200, text="<html>"), ProtocolError, "reply is not JSON"),
        (httpx.Response(200, json={"a": 1}), ProtocolError, "batch reply is a JSON object"),
        (
            httpx.Response(
                200,
                json={"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Empty"}},
            ),
            InvalidRequest,
            "Empty (code -32600)",
        ),
    ],
)
async def test_a_whole_batch_failure_is_raised_at_exit_and_on_every_future(
    respx_mock: respx.MockRouter, response: httpx.Response, cls: type[Exception], message: str
) -> None:
    respx_mock.post(URL).mock(return_value=response)
    rpc = client()

    async def send() -> None:
        async with rpc.batch() as batch:
            batch.call("A.add", [3, 5])

    with pytest.raises(cls) as caught:
        await send()
    assert str(caught.value).startswith(message)
    for future in await send_two(rpc):
        with pytest.raises(cls):
            await future


async def test_a_transport_failure_reaches_every_call(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))

    futures = await send_two(client())

    errors = [future.exception() for future in futures]
    assert all(isinstance(error, TransportError) and error.outcome_unknown for error in errors)


async def test_a_decode_failure_fails_only_its_call(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(side_effect=batch_server())

    def refuse(data: Any) -> Any:
        raise ValueError("hi: no")

    async with client().batch() as batch:
        hi = batch.request("A.say_hi", [], refuse)
        add = batch.request("A.add", [3, 5], str)

    assert await add == "8"
    with pytest.raises(ProtocolError) as caught:
        await hi
    assert str(caught.value) == "A.say_hi: cannot decode the result: hi: no"


class ConformAPI:
    """Shaped like a generated stub: built on any Caller, methods return awaitables."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def add(self, a: int, b: int) -> Awaitable[int]:
        return self._caller.request("A.add", [a, b], int)

    def echo(self, s: str) -> Awaitable[str | None]:
        return self._caller.request("B.echo", [s], lambda data: data)


async def test_a_stub_built_on_a_batch_returns_futures(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=batch_server())
    rpc = client()

    async with rpc.batch() as batch:
        api = ConformAPI(batch)
        total = api.add(3, 5)
        echoed = api.echo("hello")
        assert isinstance(total, BatchFuture)
        assert isinstance(total, asyncio.Future)

    assert (await total, await echoed) == (8, "hello")
    assert await ConformAPI(rpc).add(3, 5) == 8
    assert route.call_count == 2


async def test_cancelling_the_sender_cancels_the_queued_calls(
    respx_mock: respx.MockRouter,
) -> None:
    arrived = asyncio.Event()

    async def stall(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    respx_mock.post(URL).mock(side_effect=stall)
    queued: list[asyncio.Future[Any]] = []

    async def send() -> None:
        async with client().batch() as batch:
            queued.append(batch.call("A.add", [3, 5]))

    task = asyncio.create_task(send())
    await arrived.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert queued[0].cancelled()


async def test_awaiting_a_result_inside_the_block_fails_fast(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(side_effect=batch_server())
    early: list[BatchNotSentError] = []

    async with client().batch() as batch:
        add = batch.call("A.add", [3, 5])
        for wait in (lambda: add, lambda: asyncio.gather(add), lambda: asyncio.wait_for(add, 1)):
            try:
                await wait()
            except BatchNotSentError as error:
                early.append(error)

    assert [str(e) for e in early] == 3 * [
        "a batched call's result is awaited inside its `async with` block; "
        "results resolve when the block exits"
    ]
    assert await add == 8
    assert route.call_count == 1


async def test_a_call_cancelled_by_the_caller_does_not_disturb_the_others(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(URL).mock(side_effect=batch_server())

    async with client().batch() as batch:
        add = batch.call("A.add", [3, 5])
        echo = batch.call("B.echo", ["hello"])
        add.cancel()

    assert add.cancelled()
    assert await echo == "hello"


def test_batch_repr_shows_its_state() -> None:
    assert repr(Batch(client())) == "<Batch new, 0 calls>"
