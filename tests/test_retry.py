"""Retries: the pure policy decision, and what the client re-sends (sleep and jitter injected)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async.errors import HttpStatusError, TransportError
from pirsonal_async.retry import (
    NO_RETRY,
    Failure,
    HttpStatus,
    Outcome,
    RetryPolicy,
    parse_retry_after,
)
from pirsonal_async.rpc import RpcClient

URL = "https://rpc.example/api"
POLICY = RetryPolicy()
READ = "SezionAPI.Video_Get"
WRITE = "SezionAPI.Template_Video_New"


@pytest.mark.parametrize(
    ("method", "read_only"),
    [
        ("SezionAPI.Video_Get", True),
        ("SezionAPI.Video_Get_Links", True),
        ("SezionAPI.Template_List", True),
        ("SezionAPI.Template_Video_List", True),
        ("SezionAPI.Media_List", True),
        ("barrister-idl", True),
        ("SezionAPI.Template_New", False),
        ("SezionAPI.Template_Video_New", False),
        ("SezionAPI.Video_Delete", False),
        ("SezionAPI.Video_Update", False),
        ("SezionAPI.Media_Apply_Pattern", False),
        ("SezionAPI.Video_Pirsonal_Link", False),
        ("Video_List.Delete", False),
    ],
)
def test_read_only_methods_are_recognised_by_function_name(method: str, read_only: bool) -> None:
    assert POLICY.is_read_only(method) is read_only


# (method, outcome, retried?) with attempt 1 of 3.
DECISIONS: list[tuple[str, Outcome, bool]] = [
    (WRITE, Failure.NOT_SENT, True),
    (READ, Failure.NOT_SENT, True),
    (WRITE, Failure.TIMEOUT, False),
    (READ, Failure.TIMEOUT, True),
    (WRITE, Failure.CONNECTION_LOST, False),
    (READ, Failure.CONNECTION_LOST, True),
    (READ, HttpStatus(429), True),
    (READ, HttpStatus(502), True),
    (READ, HttpStatus(503), True),
    (READ, HttpStatus(504), True),
    (READ, HttpStatus(500), False),
    (READ, HttpStatus(404), False),
    (READ, HttpStatus(401), False),
    (WRITE, HttpStatus(429), False),
    (WRITE, HttpStatus(503), False),
    (WRITE, HttpStatus(502), False),
]


@pytest.mark.parametrize(("method", "outcome", "retried"), DECISIONS)
def test_what_is_retried(method: str, outcome: Outcome, retried: bool) -> None:
    assert (POLICY.delay(method, 1, outcome, 0.0) is not None) is retried


def test_backoff_doubles_up_to_the_cap_then_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=5.0, jitter=0.5)

    delays = [policy.delay(READ, attempt, Failure.TIMEOUT, 0.0) for attempt in range(1, 7)]

    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0, None]


def test_jitter_takes_a_random_share_off_the_delay() -> None:
    policy = RetryPolicy(base_delay=2.0, jitter=0.5)

    assert policy.delay(READ, 1, Failure.TIMEOUT, 0.5) == 1.5
    assert policy.delay(READ, 1, Failure.TIMEOUT, 0.999) == pytest.approx(1.001)
    assert RetryPolicy(base_delay=2.0, jitter=0.0).delay(READ, 1, Failure.TIMEOUT, 0.9) == 2.0


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retry_after=30.0)

    assert policy.delay(READ, 1, HttpStatus(429, retry_after=7.0), 0.9) == 7.0
    assert policy.delay(READ, 1, HttpStatus(503, retry_after=0.0), 0.9) == 0.0
    assert policy.delay(READ, 1, HttpStatus(429, retry_after=30.0), 0.0) == 30.0
    assert policy.delay(READ, 1, HttpStatus(429, retry_after=30.001), 0.0) is None


def test_a_batch_is_read_only_only_if_all_its_calls_are() -> None:
    assert POLICY.delay([READ, "S.Template_List"], 1, Failure.TIMEOUT, 0.0) == 0.5
    assert POLICY.delay([READ, WRITE], 1, Failure.TIMEOUT, 0.0) is None
    assert POLICY.delay([READ, WRITE], 1, Failure.NOT_SENT, 0.0) == 0.5


def test_no_retry_never_retries() -> None:
    assert NO_RETRY.delay(READ, 1, Failure.NOT_SENT, 0.0) is None


def test_custom_read_only_patterns() -> None:
    policy = RetryPolicy(read_only=["get*", "find_*"])

    assert policy.read_only == ("get*", "find_*")
    assert policy.is_read_only("Users.get_one")
    assert policy.is_read_only("inc.Users.get_one")  # a dotted (namespaced) interface name
    assert not policy.is_read_only("SezionAPI.Video_Get")
    assert policy == RetryPolicy(read_only=("get*", "find_*"))
    assert hash(policy) == hash(RetryPolicy(read_only=("get*", "find_*")))


def test_a_policy_at_its_bounds_is_valid() -> None:
    single = RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0, max_retry_after=0.0)
    full_jitter = RetryPolicy(base_delay=2.0, jitter=1.0)

    assert single.delay(WRITE, 1, Failure.NOT_SENT, 0.0) is None
    assert full_jitter.delay(READ, 1, Failure.TIMEOUT, 0.25) == 1.5
    assert full_jitter.delay(READ, 1, Failure.TIMEOUT, 0.0) == 2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be >= 1, got 0"),
        ({"base_delay": -1.0}, "base_delay must be >= 0, got -1.0"),
        ({"max_delay": float("nan")}, "max_delay must be >= 0, got nan"),
        ({"jitter": 1.5}, "jitter must be between 0 and 1, got 1.5"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        RetryPolicy(**kwargs)

    assert str(caught.value) == message


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 120 ", 120.0),
        ("Wed, 01 May 2024 12:00:09 GMT", 9.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),
        ("Wed, 01 May 2024 13:00:09 +0100", 9.0),
        ("Wed, 01 May 2024 07:00:09 -0500", 9.0),
        ("Wed, 01 May 2024 12:00:09 -0000", 9.0),  # RFC 5322: UTC, with no offset known
        ("²", None),
        ("①", None),
        ("١٢", None),  # Arabic-Indic digits: float() would read them as 12
        ("soon", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header_parsing(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


# The client: what is actually re-sent, how often, and with which delays.


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def client(sleeps: Sleeps, rand: float = 0.0, **kwargs: Any) -> RpcClient:
    return RpcClient(URL, sleep=sleeps, random=lambda: rand, **kwargs)


Answer = Callable[[httpx.Request], httpx.Response]


def steps(*items: httpx.Response | Exception | Answer) -> Answer:
    """Answers each request with the next item: a response, an exception raised, or a callable."""
    queue = list(items)

    def answer(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item if isinstance(item, httpx.Response) else item(request)

    return answer


def reply(result: Any) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})

    return answer


async def test_a_call_that_never_connected_is_retried_even_when_it_writes(
    respx_mock: respx.MockRouter,
) -> None:
    sleeps = Sleeps()
    route = respx_mock.post(URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransportError) as caught:
        await client(sleeps).call(WRITE, [])

    assert route.call_count == 3
    assert sleeps.delays == [0.5, 1.0]
    assert not caught.value.outcome_unknown
    assert caught.value.attempts == 3
    assert str(caught.value) == (
        f"{WRITE}: ConnectError: refused (after 3 attempts); the request was not sent"
    )


async def test_a_write_that_timed_out_is_never_resent(respx_mock: respx.MockRouter) -> None:
    sleeps = Sleeps()
    route = respx_mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(TransportError) as caught:
        await client(sleeps).call(WRITE, [])

    assert route.call_count == 1
    assert sleeps.delays == []
    assert caught.value.outcome_unknown
    assert "outcome is unknown" in str(caught.value)


async def test_a_write_whose_connection_dropped_is_never_resent(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(side_effect=httpx.RemoteProtocolError("disconnected"))

    with pytest.raises(TransportError) as caught:
        await client(Sleeps()).call(WRITE, [])

    assert route.call_count == 1
    assert caught.value.outcome_unknown


async def test_a_read_that_timed_out_is_retried_until_it_succeeds(
    respx_mock: respx.MockRouter,
) -> None:
    sleeps = Sleeps()
    route = respx_mock.post(URL).mock(
        side_effect=steps(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), reply({"id": "v"}))
    )

    assert await client(sleeps, rand=0.5).call(READ, ["v"]) == {"id": "v"}
    assert route.call_count == 3
    assert sleeps.delays == [0.375, 0.75]


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_failures_are_retried_for_reads(
    respx_mock: respx.MockRouter, status: int
) -> None:
    sleeps = Sleeps()
    route = respx_mock.post(URL).mock(side_effect=steps(httpx.Response(status), reply(1)))

    assert await client(sleeps).call(READ, []) == 1
    assert route.call_count == 2
    assert sleeps.delays == [0.5]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_http_failures_of_a_write_are_not_retried(
    respx_mock: respx.MockRouter, status: int
) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(status, text="busy"))

    with pytest.raises(HttpStatusError) as caught:
        await client(Sleeps()).call(WRITE, [])

    assert route.call_count == 1
    assert caught.value.status == status
    assert caught.value.outcome_unknown is (status >= 500)


async def test_a_500_is_never_retried(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(500))

    with pytest.raises(HttpStatusError):
        await client(Sleeps()).call(READ, [])

    assert route.call_count == 1


async def test_rate_limits_honour_retry_after(respx_mock: respx.MockRouter) -> None:
    sleeps = Sleeps()
    limited = httpx.Response(429, headers={"Retry-After": "3"})
    route = respx_mock.post(URL).mock(side_effect=[limited, limited, limited])

    with pytest.raises(HttpStatusError) as caught:
        await client(sleeps).call(READ, [])

    assert route.call_count == 3
    assert sleeps.delays == [3.0, 3.0]
    assert (caught.value.status, caught.value.retry_after, caught.value.attempts) == (429, 3.0, 3)
    assert str(caught.value) == f"{READ}: HTTP 429 Too Many Requests (after 3 attempts)"


@pytest.mark.parametrize("header", ["²", "①"])
async def test_a_retry_after_of_other_digits_is_ignored(
    respx_mock: respx.MockRouter, header: str
) -> None:
    sleeps = Sleeps()
    limited = httpx.Response(429, headers=[(b"Retry-After", header.encode())])
    respx_mock.post(URL).mock(side_effect=steps(limited, reply("ok")))

    assert await client(sleeps).call(READ, []) == "ok"
    assert sleeps.delays == [0.5]  # the policy's own backoff


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(
    respx_mock: respx.MockRouter,
) -> None:
    sleeps = Sleeps()
    route = respx_mock.post(URL).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "3600"})
    )

    with pytest.raises(HttpStatusError) as caught:
        await client(sleeps).call(READ, [])

    assert route.call_count == 1
    assert sleeps.delays == []
    assert caught.value.retry_after == 3600.0


async def test_the_policy_sets_the_number_of_attempts(respx_mock: respx.MockRouter) -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=0.3)
    route = respx_mock.post(URL).mock(side_effect=httpx.ConnectTimeout("no route"))

    with pytest.raises(TransportError) as caught:
        await client(sleeps, retry=policy).call(WRITE, [])

    assert route.call_count == 5
    assert sleeps.delays == pytest.approx([0.1, 0.2, 0.3, 0.3])
    assert caught.value.attempts == 5


async def test_no_retry_sends_once(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransportError):
        await client(Sleeps(), retry=NO_RETRY).call(READ, [])

    assert route.call_count == 1


async def test_failures_that_retrying_cannot_fix_are_final(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(side_effect=httpx.UnsupportedProtocol("no h3"))

    with pytest.raises(TransportError) as caught:
        await client(Sleeps()).call(READ, [])

    assert route.call_count == 1
    assert not caught.value.outcome_unknown


async def test_a_read_only_batch_is_retried_as_a_whole(respx_mock: respx.MockRouter) -> None:
    sleeps = Sleeps()

    def batch_reply(request: httpx.Request) -> httpx.Response:
        calls = json.loads(request.content)
        return httpx.Response(
            200, json=[{"jsonrpc": "2.0", "id": c["id"], "result": c["method"]} for c in calls]
        )

    route = respx_mock.post(URL).mock(side_effect=steps(httpx.Response(503), batch_reply))
    rpc = client(sleeps)

    async with rpc.batch() as batch:
        video = batch.call(READ, ["v"])
        links = batch.call("SezionAPI.Video_Get_Links", ["v"])

    assert (await video, await links) == (READ, "SezionAPI.Video_Get_Links")
    assert route.call_count == 2
    assert sleeps.delays == [0.5]


async def test_a_batch_with_a_write_is_not_resent(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(503))
    rpc = client(Sleeps())

    async def send() -> None:
        async with rpc.batch() as batch:
            batch.call(READ, ["v"])
            batch.call(WRITE, ["t", {}])

    with pytest.raises(HttpStatusError):
        await send()

    assert route.call_count == 1
