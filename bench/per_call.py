"""Per-call client CPU, sequential: PirsonalClient vs raw aiohttp (the floor) and raw httpx."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

from bench import server
from bench.common import Goal, Plan, Row, against, interleave
from bench.samples import ACCOUNT_ID, ACCOUNT_SECRET, VIDEO_ID
from pirsonal_async.client import PirsonalClient
from pirsonal_async.generated import CONTRACT, SezionAPI
from pirsonal_async.rpc import RpcClient

GOAL = Goal("<=", 1.25)
RAW_AIOHTTP = "raw aiohttp"
QUERY = {"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET}
HEADERS = {"Content-Type": "application/json"}


async def cpu_per_call(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    """Client-process CPU microseconds per call; the server's CPU is in another process."""
    await call()  # opens the connection outside the measurement
    start = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - start) / calls * 1e6


def envelope_bytes(ids: itertools.count[int]) -> bytes:
    """`Video_Get`'s envelope, as the library encodes it."""
    envelope = {
        "jsonrpc": "2.0",
        "id": str(next(ids)),
        "method": "SezionAPI.Video_Get",
        "params": [VIDEO_ID],
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def raw_video_get(http: httpx.AsyncClient, base_url: str) -> Callable[[], Awaitable[Any]]:
    """`Video_Get` by hand over httpx: the same URL, query and body bytes as the library sends."""
    ids = itertools.count(1)
    url = server.rpc_url(base_url)

    async def call() -> Any:
        body = envelope_bytes(ids)
        response = await http.post(url, params=QUERY, content=body, headers=HEADERS)
        return response.json()["result"]

    return call


def raw_aiohttp_video_get(
    session: aiohttp.ClientSession, base_url: str
) -> Callable[[], Awaitable[Any]]:
    """`Video_Get` by hand over aiohttp: the floor for any client on this engine."""
    ids = itertools.count(1)
    url = server.rpc_url(base_url)

    async def call() -> Any:
        async with session.post(
            url, params=QUERY, data=envelope_bytes(ids), headers=HEADERS
        ) as response:
            return json.loads(await response.read())["result"]

    return call


async def raw_httpx(base_url: str, calls: int) -> float:
    async with httpx.AsyncClient() as http:
        return await cpu_per_call(raw_video_get(http, base_url), calls)


async def raw_aiohttp(base_url: str, calls: int) -> float:
    async with aiohttp.ClientSession() as session:
        return await cpu_per_call(raw_aiohttp_video_get(session, base_url), calls)


async def pirsonal_client(base_url: str, calls: int, engine: str = "aiohttp") -> float:
    http = httpx.AsyncClient() if engine == "httpx" else None
    async with PirsonalClient(
        ACCOUNT_ID, ACCOUNT_SECRET, base_url=base_url, http_client=http
    ) as client:
        figure = await cpu_per_call(lambda: client.video_get(VIDEO_ID), calls)
    if http is not None:
        await http.aclose()
    return figure


async def stub_over_rpc(base_url: str, calls: int) -> float:
    async with RpcClient(server.rpc_url(base_url), params=QUERY, contract=CONTRACT) as rpc:
        api = SezionAPI(rpc)
        return await cpu_per_call(lambda: api.video_get(VIDEO_ID), calls)


def run(plan: Plan, calls: int = 300) -> list[Row]:
    # CPU per call does not depend on the network, so no round trip is simulated.
    with server.running(rtt_ms=0) as base_url:
        variants: dict[str, Callable[[], float]] = {
            RAW_AIOHTTP: lambda: asyncio.run(raw_aiohttp(base_url, calls)),
            "PirsonalClient": lambda: asyncio.run(pirsonal_client(base_url, calls)),
            "SezionAPI stub + RpcClient": lambda: asyncio.run(stub_over_rpc(base_url, calls)),
            # No goals: what the same call costs through httpx (a user's own http_client).
            "PirsonalClient over httpx": lambda: asyncio.run(
                pirsonal_client(base_url, calls, "httpx")
            ),
            "raw httpx": lambda: asyncio.run(raw_httpx(base_url, calls)),
        }
        stats = interleave(variants, plan)
    goals = {"PirsonalClient": GOAL, "SezionAPI stub + RpcClient": GOAL}
    return against("call CPU, sequential", "µs/call", stats, RAW_AIOHTTP, goals)
