"""The sandbox as a public server: request bodies, batches and replies are bounded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
from sandbox_helpers import account_query

from pirsonal_async.sandbox import serve_sandbox
from pirsonal_async.sandbox.bodies import MAX_BODY_BYTES
from pirsonal_async.sandbox.rpc_server import MAX_BATCH_CALLS

CHUNK = b" " * 65_536
TOO_LARGE = {
    "jsonrpc": "2.0",
    "id": None,
    "error": {
        "code": -32600,
        "message": f"Invalid Request. The body is over {MAX_BODY_BYTES} bytes.",
    },
}


class EndlessBody:
    """A request body that never ends, counting the chunks the server pulled."""

    def __init__(self) -> None:
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.pulled += 1
            yield CHUNK


async def test_an_endless_body_is_read_to_the_cap_only(client: httpx.AsyncClient) -> None:
    body = EndlessBody()

    response = await client.post("/api", params=account_query(), content=body)

    assert (response.status_code, response.json()) == (200, TOO_LARGE)
    assert response.headers["connection"] == "close"
    assert body.pulled == MAX_BODY_BYTES // len(CHUNK) + 1


async def test_a_declared_length_over_the_cap_is_refused_unread(client: httpx.AsyncClient) -> None:
    body = EndlessBody()
    headers = {"Content-Length": "200000000"}

    response = await client.post("/api", params=account_query(), content=body, headers=headers)

    assert (response.status_code, response.json()) == (200, TOO_LARGE)
    assert body.pulled == 0


async def test_a_large_batch_of_contract_calls_gets_one_short_error(
    client: httpx.AsyncClient,
) -> None:
    # The hostile run's request: 0.6 MB of unauthenticated `barrister-idl` calls.
    call = {"jsonrpc": "2.0", "id": 1, "method": "barrister-idl"}
    batch = json.dumps([call] * 12_000).encode()

    response = await client.post("/api", content=batch)

    assert len(batch) > 500_000
    assert response.json()["error"] == {
        "code": -32600,
        "message": f"Invalid Request. A batch of 12000 calls; at most {MAX_BATCH_CALLS}.",
    }
    assert len(response.content) < 200


async def test_a_full_batch_of_contract_calls_is_answered(client: httpx.AsyncClient) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "barrister-idl"}

    response = await client.post("/api", json=[call] * MAX_BATCH_CALLS)

    assert [reply["id"] for reply in response.json()] == [1] * MAX_BATCH_CALLS


async def test_a_webhook_control_body_over_the_cap_is_a_413(client: httpx.AsyncClient) -> None:
    body = EndlessBody()

    response = await client.post("/sandbox/webhooks", params=account_query(), content=body)

    assert response.status_code == 413
    assert response.json() == {"error": TOO_LARGE["error"]}
    assert body.pulled <= MAX_BODY_BYTES // len(CHUNK) + 1


async def test_over_tcp_the_refusal_arrives_before_the_body_and_the_connection_closes() -> None:
    async with serve_sandbox() as sandbox:
        host, port = httpx.URL(sandbox.base_url).host, httpx.URL(sandbox.base_url).port
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            b"POST /api HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200000000\r\n\r\n"
        )
        await writer.drain()
        # Not one byte of the body is sent: the whole reply, then EOF, must still come.
        raw = await asyncio.wait_for(reader.read(), 10)
        writer.close()

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"connection: close" in head.lower()
    assert json.loads(body) == TOO_LARGE
