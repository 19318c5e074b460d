"""Per-call client CPU: PirsonalClient and the generated stub vs raw httpx with the same bytes."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench import server
from bench.common import Goal, Plan, Row, against, interleave
from bench.samples import ACCOUNT_ID, ACCOUNT_SECRET, VIDEO_ID
from pirsonal_async.client import PirsonalClient
from pirsonal_async.generated import CONTRACT, SezionAPI
from pirsonal_async.rpc import RpcClient

GOAL = Goal("<=", 1.10)


async def cpu_per_call(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    """Client-process CPU microseconds per call; the server's CPU is in another process."""
    await call()  # opens the connection outside the measurement
    start = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - start) / calls * 1e6


def raw_video_get(http: httpx.AsyncClient, base_url: str) -> Callable[[], Awaitable[Any]]:
    """`Video_Get` by hand: the same URL, query and body bytes as the library sends."""
    ids = itertools.count(1)
    query = {"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET}
    headers = {"Content-Type": "application/json"}
    url = server.rpc_url(base_url)

    async def call() -> Any:
        envelope = {
            "jsonrpc": "2.0",
            "id": str(next(ids)),
            "method": "SezionAPI.Video_Get",
            "params": [VIDEO_ID],
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        response = await http.post(url, params=query, content=body, headers=headers)
        return response.json()["result"]

    return call


async def raw_httpx(base_url: str, calls: int) -> float:
    async with httpx.AsyncClient() as http:
        return await cpu_per_call(raw_video_get(http, base_url), calls)


async def pirsonal_client(base_url: str, calls: int) -> float:
    async with PirsonalClient(ACCOUNT_ID, ACCOUNT_SECRET, base_url=base_url) as client:
        return await cpu_per_call(lambda: client.video_get(VIDEO_ID), calls)


async def stub_over_rpc(base_url: str, calls: int) -> float:
    query = {"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET}
    async with RpcClient(server.rpc_url(base_url), params=query, contract=CONTRACT) as rpc:
        api = SezionAPI(rpc)
        return await cpu_per_call(lambda: api.video_get(VIDEO_ID), calls)


def run(plan: Plan, calls: int = 300) -> list[Row]:
    # CPU per call does not depend on the network, so no round trip is simulated.
    with server.running(rtt_ms=0) as base_url:
        variants: dict[str, Callable[[], float]] = {
            "raw httpx": lambda: asyncio.run(raw_httpx(base_url, calls)),
            "PirsonalClient": lambda: asyncio.run(pirsonal_client(base_url, calls)),
            "SezionAPI stub + RpcClient": lambda: asyncio.run(stub_over_rpc(base_url, calls)),
        }
        stats = interleave(variants, plan)
    goals = {"PirsonalClient": GOAL, "SezionAPI stub + RpcClient": GOAL}
    return against("call CPU", "µs/call", stats, "raw httpx", goals)
