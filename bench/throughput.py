"""Throughput: PirsonalClient sequential, concurrent and batched vs a reference-style client.

Measured against a server that simulates a network round trip (see `bench.server`): on loopback
a new TCP connection costs nearly nothing, which flatters the reference style's connection per
call. One pair of rows on plain loopback is kept to show that.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

import httpx

from bench import server
from bench.common import Goal, Plan, Row, against, interleave
from bench.per_call import raw_video_get
from bench.samples import ACCOUNT_ID, ACCOUNT_SECRET, VIDEO_ID
from pirsonal_async.client import PirsonalClient

CONCURRENCY = 50
BATCH_SIZE = 50
TIMEOUT_S = 10.0
REFERENCE = "reference style (urllib)"
CONCURRENT = f"concurrency {CONCURRENCY}"
NOTES = (
    "throughput (RTT n ms): the benchmark server holds every response back by n ms, and the "
    "first one on each new connection by n ms more (the TCP handshake). Over HTTPS a TLS "
    "handshake adds one or two more round trips per new connection, which the reference "
    "style pays on every call. The default 2 ms is a round trip inside one cloud region; over "
    "the internet to a SaaS API it is 20-100 ms. The loopback rows have no delay at all.",
)


def reference_style(base_url: str, calls: int) -> float:
    """Calls per second the way the reference Barrister client works: urllib, a connection each."""
    query = urllib.parse.urlencode({"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET})
    url = f"{server.rpc_url(base_url)}?{query}"
    start = time.perf_counter()
    for _ in range(calls):
        envelope = {
            "jsonrpc": "2.0",
            "id": uuid.uuid4().hex,
            "method": "SezionAPI.Video_Get",
            "params": [VIDEO_ID],
        }
        request = urllib.request.Request(
            url, data=json.dumps(envelope).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            json.loads(response.read())["result"]
    return calls / (time.perf_counter() - start)


Call = Callable[[], Awaitable[Any]]


async def sequential(call: Call, calls: int) -> None:
    for _ in range(calls):
        await call()


async def concurrent(call: Call, calls: int) -> None:
    async def worker(share: int) -> None:
        for _ in range(share):
            await call()

    shares = [calls // CONCURRENCY + (n < calls % CONCURRENCY) for n in range(CONCURRENCY)]
    await asyncio.gather(*(worker(share) for share in shares if share))


async def batched(client: PirsonalClient, calls: int) -> None:
    for first in range(0, calls, BATCH_SIZE):
        async with client.batch() as batch:
            pending = [batch.video_get(VIDEO_ID) for _ in range(min(BATCH_SIZE, calls - first))]
        for result in pending:
            await result


async def calls_per_second(run: Callable[[int], Awaitable[None]], calls: int) -> float:
    """Calls per second of `run(calls)`, after a warm-up that opens the connections."""
    await run(min(calls, CONCURRENCY))
    start = time.perf_counter()
    await run(calls)
    return calls / (time.perf_counter() - start)


async def library(base_url: str, calls: int, style: str) -> float:
    async with PirsonalClient(ACCOUNT_ID, ACCOUNT_SECRET, base_url=base_url) as client:
        styles: dict[str, Callable[[int], Awaitable[None]]] = {
            "sequential": partial(sequential, lambda: client.video_get(VIDEO_ID)),
            "concurrent": partial(concurrent, lambda: client.video_get(VIDEO_ID)),
            "batched": partial(batched, client),
        }
        return await calls_per_second(styles[style], calls)


async def raw_httpx_concurrent(base_url: str, calls: int) -> float:
    async with httpx.AsyncClient() as http:
        return await calls_per_second(partial(concurrent, raw_video_get(http, base_url)), calls)


def in_new_loop(measure: Callable[..., Coroutine[Any, Any, float]], *args: Any) -> float:
    return asyncio.run(measure(*args))


def run(plan: Plan, calls: int = 1000, rtt_ms: float = server.DEFAULT_RTT_MS) -> list[Row]:
    with server.running(rtt_ms=rtt_ms) as base_url:
        variants: dict[str, Callable[[], float]] = {
            REFERENCE: partial(reference_style, base_url, calls),
            "sequential": partial(in_new_loop, library, base_url, calls, "sequential"),
            CONCURRENT: partial(in_new_loop, library, base_url, calls, "concurrent"),
            f"batches of {BATCH_SIZE}": partial(in_new_loop, library, base_url, calls, "batched"),
            # No goal: shows how much of the concurrent figure is httpx's own cost.
            f"raw httpx, concurrency {CONCURRENCY}": partial(
                in_new_loop, raw_httpx_concurrent, base_url, calls
            ),
        }
        stats = interleave(variants, plan)
    # The goals are about a real network, so they apply to the rows with a round trip only.
    goals = {CONCURRENT: Goal(">=", 10), f"batches of {BATCH_SIZE}": Goal(">=", 30)}
    rows = against(
        f"throughput {calls} calls (RTT {rtt_ms:g} ms)", "calls/s", stats, REFERENCE, goals
    )
    if rtt_ms == 0:
        return rows
    with server.running(rtt_ms=0) as base_url:
        loopback = {
            REFERENCE: partial(reference_style, base_url, calls),
            CONCURRENT: partial(in_new_loop, library, base_url, calls, "concurrent"),
        }
        loopback_stats = interleave(loopback, plan)
    return rows + against(
        f"throughput {calls} calls (loopback)", "calls/s", loopback_stats, REFERENCE
    )
