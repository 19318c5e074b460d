"""The fault matrix, over real sockets, on both engines: the default (aiohttp) and a user's httpx.

A scripted loopback server misbehaves in one way per request; every case checks what the caller
sees (result or error, `outcome_unknown`, attempts) and what the server received (how many
times a write arrived).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import HttpStatusError, ProtocolError, TransportError
from pirsonal_async.generated import Video
from pirsonal_async.retry import RetryPolicy
from pirsonal_async.uploads import UploadSourceChanged

SECRET = "faults-Zq9canary-secret"
# Retries without waiting: the matrix is about what is resent, not when.
RETRY = RetryPolicy(max_attempts=3, base_delay=0, jitter=0)
GIVE_UP = 10.0
VIDEO_JSON = {"id": "v1", "name": "Hi", "status": {"code": "done"}}
NEW_VIDEO = Video(name="Hi", data="crm-1")

Action = Callable[[dict[str, Any], asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request (its JSON body); returns whether the connection stays open."""


def reply(status: int, body: bytes, extra: str = "") -> bytes:
    reason = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "X")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def rpc_reply(call: Any, result: Any) -> bytes:
    if isinstance(call, list):
        envelope: Any = [{"jsonrpc": "2.0", "id": c["id"], "result": result} for c in call]
    else:
        envelope = {"jsonrpc": "2.0", "id": call["id"], "result": result}
    return reply(200, json.dumps(envelope).encode())


def answer(result: Any) -> Action:
    async def act(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(rpc_reply(call, result))
        return True

    return act


def status(code: int, retry_after: str | None = None) -> Action:
    async def act(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        extra = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
        writer.write(reply(code, b"busy", extra))
        return True

    return act


async def drop(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Reads the request, then closes the connection without a reply."""
    return False


async def truncate(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Announces 99 bytes, sends 10, closes."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + b'{"jsonrpc"')
    return False


async def silent(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Never answers; waits for the client to give up."""
    await reader.read()
    return False


async def trickle(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Sends a reply one byte every 0.2 s: each read is quick, the whole reply is not. (The
    server's pace is real time on purpose: it is the client's real deadline under test.)"""
    for byte in rpc_reply(call, "x" * 1000):
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.2)
    return True


def huge(size: int) -> Action:
    async def act(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(rpc_reply(call, "x" * size))
        return True

    return act


class ScriptedServer:
    """Takes one action per request, in order (the last one repeats); counts what arrives."""

    def __init__(self, *actions: Action) -> None:
        self.actions = list(actions)
        self.requests: list[Any] = []
        self.uploads: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
                body = await reader.readexactly(int(fields.get("content-length", "0")))
                if lines[0].startswith("POST /api/upload"):
                    self.uploads.append(body)
                    call: Any = {"id": None}
                else:
                    call = json.loads(body)
                self.requests.append(call)
                action = self.actions[min(len(self.requests), len(self.actions)) - 1]
                keep = await action(call, reader, writer)
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture(params=["aiohttp", "httpx"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Serve = Callable[..., Awaitable[tuple[ScriptedServer, PirsonalClient]]]


@pytest.fixture
async def serve(engine: str) -> AsyncIterator[Serve]:
    """Starts a scripted server and a client for it on the engine under test."""
    listeners: list[asyncio.Server] = []
    closers: list[Callable[[], Awaitable[None]]] = []

    async def start(*actions: Action, **options: Any) -> tuple[ScriptedServer, PirsonalClient]:
        server = ScriptedServer(*actions)
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        listeners.append(listener)
        port = listener.sockets[0].getsockname()[1]
        if engine == "httpx":
            http = httpx.AsyncClient(trust_env=False)
            closers.append(http.aclose)
            options["http_client"] = http
        options.setdefault("retry", RETRY)
        client = PirsonalClient(
            "acc", SECRET, base_url=f"http://127.0.0.1:{port}", validate=False, **options
        )
        closers.append(client.aclose)
        return server, client

    yield start
    for close in reversed(closers):
        await close()
    for listener in listeners:
        listener.close()


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the probe is closed


async def test_a_refused_connection_is_not_sent_and_retried_for_a_write(engine: str) -> None:
    http = httpx.AsyncClient(trust_env=False) if engine == "httpx" else None
    client = PirsonalClient("acc", SECRET, base_url=refused_url(), retry=RETRY, http_client=http)
    async with client:
        with pytest.raises(TransportError) as caught:
            await client.template_video_new("t1", NEW_VIDEO)
    if http is not None:
        await http.aclose()

    assert caught.value.outcome_unknown is False
    assert caught.value.attempts == 3
    assert "the request was not sent" in str(caught.value)
    assert SECRET not in str(caught.value)


async def test_a_write_dropped_after_sending_is_sent_once_and_reported_unknown(
    serve: Serve,
) -> None:
    server, client = await serve(drop)

    with pytest.raises(TransportError) as caught:
        await client.template_video_new("t1", NEW_VIDEO)

    assert len(server.requests) == 1
    assert caught.value.outcome_unknown is True
    assert caught.value.attempts == 1
    assert "outcome is unknown" in str(caught.value)


async def test_a_read_dropped_after_sending_is_retried(serve: Serve) -> None:
    server, client = await serve(drop, drop, answer(VIDEO_JSON))

    video = await client.video_get("v1")

    assert video.name == "Hi"
    assert len(server.requests) == 3


async def test_a_truncated_reply_is_a_lost_connection(serve: Serve) -> None:
    server, client = await serve(truncate)

    with pytest.raises(TransportError) as caught:
        await client.template_video_new("t1", NEW_VIDEO)

    assert caught.value.outcome_unknown is True
    assert len(server.requests) == 1


async def test_a_silent_server_times_a_write_out_once(serve: Serve) -> None:
    server, client = await serve(silent, timeout=0.3)

    with pytest.raises(TransportError) as caught:
        await asyncio.wait_for(client.template_video_new("t1", NEW_VIDEO), GIVE_UP)

    assert "timed out" in str(caught.value)
    assert caught.value.outcome_unknown is True
    assert len(server.requests) == 1


@pytest.mark.parametrize("timeout", [1.0, httpx.Timeout(1.0)], ids=["seconds", "httpx.Timeout"])
async def test_a_trickling_reply_cannot_outlive_the_deadline(
    serve: Serve, timeout: float | httpx.Timeout
) -> None:
    server, client = await serve(trickle, timeout=timeout)

    # Each byte comes quickly, the whole reply would take minutes: the deadline bounds the
    # attempt, so the call fails within the timeout plus a second.
    with pytest.raises(TransportError) as caught:
        await asyncio.wait_for(client.template_video_new("t1", NEW_VIDEO), 2.0)

    assert "timed out" in str(caught.value)
    assert caught.value.outcome_unknown is True
    assert len(server.requests) == 1


@pytest.mark.parametrize("code", [429, 503])
async def test_a_busy_status_is_retried_for_a_read_after_retry_after(
    serve: Serve, code: int
) -> None:
    server, client = await serve(status(code, retry_after="0"), answer(VIDEO_JSON))

    video = await client.video_get("v1")

    assert video.name == "Hi"
    assert len(server.requests) == 2


@pytest.mark.parametrize("code", [429, 503])
async def test_a_busy_status_is_not_retried_for_a_write(serve: Serve, code: int) -> None:
    server, client = await serve(status(code, retry_after="0"))

    with pytest.raises(HttpStatusError) as caught:
        await client.template_video_new("t1", NEW_VIDEO)

    assert caught.value.status == code
    assert caught.value.retry_after == 0
    assert len(server.requests) == 1


async def test_a_reply_over_the_size_limit_is_refused(serve: Serve) -> None:
    _, client = await serve(huge(40 * 1024 * 1024))

    with pytest.raises(ProtocolError, match="larger than"):
        await client.template_video_new("t1", NEW_VIDEO)


async def test_a_batch_dropped_after_sending_fails_every_call_once(serve: Serve) -> None:
    server, client = await serve(drop)

    results: list[Awaitable[Any]] = []

    async def batch_of_two() -> None:
        async with client.batch() as batch:
            results.extend([batch.template_video_new("t1", NEW_VIDEO), batch.video_get("v1")])

    with pytest.raises(TransportError) as caught:
        await batch_of_two()

    assert caught.value.outcome_unknown is True
    assert len(server.requests) == 1
    for result in results:
        with pytest.raises(TransportError):
            await result


async def test_a_batch_of_reads_is_retried_as_a_whole(serve: Serve) -> None:
    server, client = await serve(drop, answer(VIDEO_JSON))

    async with client.batch() as batch:
        first = batch.video_get("v1")
        second = batch.video_get("v2")

    assert (await first).name == (await second).name == "Hi"
    assert len(server.requests) == 2


async def test_an_upload_dropped_after_its_body_is_sent_once(serve: Serve) -> None:
    server, client = await serve(drop)

    with pytest.raises(TransportError) as caught:
        await client.upload_media(b"0123456789", content_type="video/mp4")

    assert caught.value.outcome_unknown is True
    assert server.uploads == [b"0123456789"]


async def test_an_upload_streams_an_exact_body_and_decodes_the_media(serve: Serve) -> None:
    media = {"id": "m1", "filename": "intro.mp4", "fileSize": 10}

    async def stored(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(reply(200, json.dumps({"error": None, "media": media}).encode()))
        return True

    server, client = await serve(stored)
    seen: list[tuple[int, int]] = []

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"01234", b"56789"):
            yield part

    result = await client.upload_media(
        chunks(), size=10, content_type="video/mp4", progress=lambda s, t: seen.append((s, t))
    )

    assert result.id == "m1"
    assert server.uploads == [b"0123456789"]
    assert seen[-1] == (10, 10)


async def test_an_upload_refused_before_sending_is_retried(engine: str) -> None:
    http = httpx.AsyncClient(trust_env=False) if engine == "httpx" else None
    client = PirsonalClient("acc", SECRET, base_url=refused_url(), retry=RETRY, http_client=http)
    async with client:
        with pytest.raises(TransportError) as caught:
            await client.upload_media(b"0123456789", content_type="video/mp4")
    if http is not None:
        await http.aclose()

    assert caught.value.outcome_unknown is False
    assert caught.value.attempts == 3


class LooseTransport(httpx.AsyncBaseTransport):
    """Reports every failure as ConnectTimeout, as httpx-aiohttp 0.2 does: its errors cannot
    tell what was sent, so only the body can."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except httpx.TransportError as error:
            raise httpx.ConnectTimeout(str(error)) from error

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_transport_that_misnames_its_errors_cannot_make_a_write_go_twice() -> None:
    server = ScriptedServer(drop)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with (
        listener,
        httpx.AsyncClient(transport=LooseTransport()) as http,
        PirsonalClient(
            "acc", SECRET, base_url=f"http://127.0.0.1:{port}", http_client=http, retry=RETRY
        ) as client,
    ):
        with pytest.raises(TransportError) as caught:
            await client.template_video_new("t1", NEW_VIDEO)

    assert len(server.requests) == 1
    assert caught.value.outcome_unknown is True


async def test_a_transport_that_misnames_its_errors_still_retries_what_was_not_sent() -> None:
    async with (
        httpx.AsyncClient(transport=LooseTransport()) as http,
        PirsonalClient("acc", SECRET, base_url=refused_url(), http_client=http, retry=RETRY) as c,
    ):
        with pytest.raises(TransportError) as caught:
            await c.template_video_new("t1", NEW_VIDEO)

    assert caught.value.outcome_unknown is False
    assert caught.value.attempts == 3


@pytest.mark.parametrize("parts", [[b"01234", b"56789", b"!"], [b"01234"]], ids=["grew", "shrank"])
async def test_an_upload_whose_source_changes_is_aborted_before_a_whole_body(
    serve: Serve, parts: list[bytes]
) -> None:
    server, client = await serve(answer(None))

    async def chunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    with pytest.raises(UploadSourceChanged, match="upload aborted"):
        await client.upload_media(chunks(), size=10, content_type="video/mp4")

    assert server.uploads == []  # the server never got a complete body


async def test_a_redirect_is_not_followed_so_a_write_is_never_sent_elsewhere(serve: Serve) -> None:
    async def moved(call: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(reply(307, b"", "Location: /api/elsewhere\r\n"))
        return True

    server, client = await serve(moved)

    with pytest.raises(HttpStatusError) as caught:
        await client.template_video_new("t1", NEW_VIDEO)

    assert caught.value.status == 307
    assert len(server.requests) == 1
