"""Slow or stalled webhook senders (slowloris): the receiver as `pirsonal webhook` serves it
closes their connections within a bound derived from its timeouts."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import httpx
import pytest

from pirsonal_async.cli import webhook_receiver
from pirsonal_async.sandbox import serve_asgi
from pirsonal_async.webhooks import DEFAULT_BODY_TIMEOUT, webhook_app

TIMEOUT = 0.4  # seconds, for headers and body alike
# The peer sends one byte each quarter timeout and gives up after three timeouts.
TRICKLE_WAIT = TIMEOUT / 4
TRICKLE_ROUNDS = 12
START = b"POST /hook HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, int]]:
    async def ignore(video: object) -> None:
        pass

    app = webhook_app(ignore, body_timeout=TIMEOUT)
    async with serve_asgi(app, header_timeout=TIMEOUT) as base_url:
        url = httpx.URL(base_url)
        assert url.port is not None
        yield url.host, url.port


async def trickle(address: tuple[str, int], start: bytes, drip: bytes) -> bytes:
    """Sends `start`, then one byte of `drip` per round while nothing comes back (then only
    waits, up to `TRICKLE_ROUNDS` rounds in all); returns all
    the server sent once it closed the connection (a reset counts as closed: a byte written
    just as the server closed makes the peer's kernel reset the connection)."""
    reader, writer = await asyncio.open_connection(*address)
    writer.write(start)
    received = b""
    try:
        for round_ in range(TRICKLE_ROUNDS):
            try:
                chunk = await asyncio.wait_for(reader.read(65_536), TRICKLE_WAIT)
            except asyncio.TimeoutError:
                writer.write(drip[round_ : round_ + 1])
                continue
            except ConnectionResetError:
                return received
            received += chunk
            if not chunk:
                return received
        pytest.fail(f"the server kept the connection open; it sent {received!r}")
    finally:
        writer.close()


async def test_headers_trickled_byte_by_byte_get_the_connection_closed(
    receiver: tuple[str, int],
) -> None:
    received = await trickle(receiver, START, b"X-Slow: " + b"a" * 100)

    assert received == b""


async def test_a_body_shorter_than_its_length_gets_a_408_and_the_connection_closed(
    receiver: tuple[str, int],
) -> None:
    start = START + b"Content-Length: 1000\r\n\r\n" + b'{"id": "v1"'  # 10 bytes of 1,000

    # Two more bytes early on, then silence: no byte is in flight when the 408 comes, so the
    # reply cannot be lost to a reset.
    received = await trickle(receiver, start, b"  ")

    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    assert body == f"body not received in {TIMEOUT:g} s".encode()


async def test_a_prompt_request_is_served_on_the_same_server(receiver: tuple[str, int]) -> None:
    host, port = receiver
    async with httpx.AsyncClient(trust_env=False) as http:
        response = await http.post(f"http://{host}:{port}/hook", json={"id": "v1", "name": "Hi"})

    assert response.status_code == 200


def test_the_cli_receiver_bounds_the_body_read() -> None:
    app = webhook_receiver(io.StringIO(), token=None)

    assert f"body_timeout={DEFAULT_BODY_TIMEOUT:g}>" in repr(app)


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan"), True])
def test_a_body_timeout_must_be_a_positive_number(value: float) -> None:
    with pytest.raises(ValueError, match="body_timeout must be a positive number of seconds"):
        webhook_app(lambda video: None, body_timeout=value)
