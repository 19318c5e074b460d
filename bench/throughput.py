"""Throughput: PirsonalClient sequential, concurrent and batched vs a reference-style client."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from pirsonal_async.client import PirsonalClient

from bench import server
from bench.common import Goal, Plan, Row, against, interleave
from bench.samples import ACCOUNT_ID, ACCOUNT_SECRET, VIDEO_ID

CONCURRENCY = 50
BATCH_SIZE = 50
TIMEOUT_S = 10.0


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


async def sequential(client: PirsonalClient, calls: int) -> None:
    for _ in range(calls):
        await client.video_get(VIDEO_ID)


async def concurrent(client: PirsonalClient, calls: int) -> None:
    async def worker(share: int) -> None:
        for _ in range(share):
            await client.video_get(VIDEO_ID)

    shares = [calls // CONCURRENCY + (n < calls % CONCURRENCY) for n in range(CONCURRENCY)]
    await asyncio.gather(*(worker(share) for share in shares if share))


async def batched(client: PirsonalClient, calls: int) -> None:
    for first in range(0, calls, BATCH_SIZE):
        async with client.batch() as batch:
            pending = [batch.video_get(VIDEO_ID) for _ in range(min(BATCH_SIZE, calls - first))]
        for result in pending:
            await result


async def library(base_url: str, calls: int, style: Callable[[PirsonalClient, int], Any]) -> float:
    """Calls per second over one long-lived client, whose connections are opened beforehand."""
    async with PirsonalClient(ACCOUNT_ID, ACCOUNT_SECRET, base_url=base_url) as client:
        await style(client, min(calls, CONCURRENCY))
        start = time.perf_counter()
        await style(client, calls)
        return calls / (time.perf_counter() - start)


def run(plan: Plan, calls: int = 1000) -> list[Row]:
    with server.running() as base_url:

        def variant(style: Callable[[PirsonalClient, int], Any]) -> Callable[[], float]:
            return lambda: asyncio.run(library(base_url, calls, style))

        variants = {
            "reference style (urllib)": lambda: reference_style(base_url, calls),
            "sequential": variant(sequential),
            f"concurrency {CONCURRENCY}": variant(concurrent),
            f"batches of {BATCH_SIZE}": variant(batched),
        }
        stats = interleave(variants, plan)
    goals = {
        f"concurrency {CONCURRENCY}": Goal(">=", 10),
        f"batches of {BATCH_SIZE}": Goal(">=", 30),
    }
    return against(f"throughput {calls} calls", "calls/s", stats, "reference style (urllib)", goals)
