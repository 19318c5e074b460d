"""Cancelling in-flight calls leaves the pool usable and leaks no connection."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async.retry import NO_RETRY
from pirsonal_async.rpc import RpcClient

SECRET = "cancel-Zq9canary-secret"
CALLS = 10
# A safety net against a hung test, never a timing assertion.
GIVE_UP = 10.0


class LoopbackServer:
    """A tiny HTTP/1.1 JSON-RPC server: echoes params, except "A.slow", which never answers."""

    def __init__(self) -> None:
        self.received = 0
        self.open_connections = 0
        self._changed = asyncio.Condition()

    async def _note(self, change: Callable[[], None]) -> None:
        async with self._changed:
            change()
            self._changed.notify_all()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), GIVE_UP)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._note(lambda: setattr(self, "open_connections", self.open_connections + 1))
        try:
            while await self._answer_one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            await self._note(lambda: setattr(self, "open_connections", self.open_connections - 1))

    async def _answer_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").lower().split("\r\n")
        length = next(
            int(line.split(":")[1]) for line in lines if line.startswith("content-length")
        )
        call = json.loads(await reader.readexactly(length))
        await self._note(lambda: setattr(self, "received", self.received + 1))
        if call["method"] == "A.slow":
            await reader.read()  # until the client closes the connection
            return False
        body = json.dumps({"jsonrpc": "2.0", "id": call["id"], "result": call["params"]}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        return True


@pytest.fixture
async def loopback() -> AsyncIterator[tuple[LoopbackServer, str]]:
    server = LoopbackServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield server, f"http://127.0.0.1:{port}/rpc"


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> list[BaseException | Any]:
    for task in tasks:
        task.cancel()
    return await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(params=["aiohttp", "httpx"])
async def http_client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient | None]:
    """None for the default engine, or a user's own httpx client."""
    if request.param == "aiohttp":
        yield None
        return
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


async def test_cancelled_calls_release_their_connections(
    loopback: tuple[LoopbackServer, str],
    http_client: httpx.AsyncClient | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, url = loopback

    with caplog.at_level(logging.DEBUG):
        async with RpcClient(
            url, params={"accountSecret": SECRET}, retry=NO_RETRY, http_client=http_client
        ) as rpc:
            tasks = [asyncio.create_task(rpc.call("A.slow", [n])) for n in range(CALLS)]
            await server.wait_until(lambda: server.received == CALLS)
            assert server.open_connections == CALLS

            outcomes = await cancel_all(tasks)

            assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
            # Each cancelled call closed its connection: none is left half-used in the pool.
            await server.wait_until(lambda: server.open_connections == 0)
            assert await rpc.call("A.echo", ["still", "works"]) == ["still", "works"]
            assert server.open_connections == 1

    if http_client is not None:
        await http_client.aclose()  # the user's pool: left open by the client
    await server.wait_until(lambda: server.open_connections == 0)
    assert "Zq9canary" not in caplog.text


async def test_thousands_of_randomly_cancelled_calls_leave_the_default_client_healthy(
    loopback: tuple[LoopbackServer, str],
) -> None:
    server, url = loopback
    pick = random.Random(9)
    # Cancelled anywhere: before connecting, while writing, while the reply is on its way.
    async with RpcClient(url, retry=NO_RETRY) as rpc:
        for wave in range(50):
            calls = [
                asyncio.create_task(
                    asyncio.wait_for(rpc.call("A.echo", [wave, n]), pick.uniform(0, 0.004))
                )
                for n in range(100)
            ]
            await asyncio.gather(*calls, return_exceptions=True)
            assert server.open_connections <= 100  # the pool's limit

        answers = await asyncio.gather(*(rpc.call("A.echo", [n]) for n in range(100)))

        assert answers == [[n] for n in range(100)]
        assert server.open_connections <= 100
        # Nothing of the client's is left running: only this test and the server's handlers.
        others = [t for t in asyncio.all_tasks() if "LoopbackServer.handle" not in repr(t)]
        assert others == [asyncio.current_task()]


async def test_cancelled_calls_leave_the_client_usable(respx_mock: respx.MockRouter) -> None:
    started = 0
    all_started = asyncio.Event()
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal started
        call = json.loads(request.content)
        if call["method"] == "A.slow":
            started += 1
            if started == CALLS:
                all_started.set()
            await release.wait()
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], "result": 1})

    respx_mock.post("https://rpc.example/api").mock(side_effect=answer)
    rpc = RpcClient("https://rpc.example/api", retry=NO_RETRY)
    tasks = [asyncio.create_task(rpc.call("A.slow", [])) for _ in range(CALLS)]
    await asyncio.wait_for(all_started.wait(), GIVE_UP)

    outcomes = await cancel_all(tasks)

    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert await rpc.call("A.fast", []) == 1
    await rpc.aclose()
