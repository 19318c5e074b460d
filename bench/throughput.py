"""Throughput at concurrency 50 and 200: PirsonalClient on each engine vs the reference style.

Measured against a server that simulates a network round trip (see `bench.server`): on loopback
a new TCP connection costs nearly nothing, which flatters the reference style's connection per
call, so loopback rows are kept to show that. Each concurrent row also reports the client's CPU
per call, against raw aiohttp posting the same bytes (the floor for this engine).
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

import aiohttp
import httpx

from bench import server
from bench.common import Goal, Plan, Row, Stat, against, interleave
from bench.per_call import raw_aiohttp_video_get
from bench.samples import ACCOUNT_ID, ACCOUNT_SECRET, VIDEO_ID
from pirsonal_async.client import PirsonalClient

LEVELS = (50, 200)
BATCH_SIZE = 50
TIMEOUT_S = 10.0
REFERENCE = "reference style (urllib)"
RAW_AIOHTTP = "raw aiohttp"
NOTES = (
    "throughput (RTT n ms): the benchmark server holds every response back by n ms, and the "
    "first one on each new connection by n ms more (the TCP handshake). Over HTTPS a TLS "
    "handshake adds one or two more round trips per new connection, which the reference "
    "style pays on every call. The default 2 ms is a round trip inside one cloud region; over "
    "the internet to a SaaS API it is 20-100 ms. The loopback rows have no delay at all.",
    "CPU per call: the client process's CPU time over the run divided by the calls (the "
    "server runs in another process). Both engines keep at most 100 connections by default.",
)

Measured = tuple[float, float]
"""Calls per second, and the client's CPU microseconds per call."""


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


async def concurrent(level: int, call: Call, calls: int) -> None:
    async def worker(share: int) -> None:
        for _ in range(share):
            await call()

    shares = [calls // level + (n < calls % level) for n in range(level)]
    await asyncio.gather(*(worker(share) for share in shares if share))


async def batched(client: PirsonalClient, calls: int) -> None:
    for first in range(0, calls, BATCH_SIZE):
        async with client.batch() as batch:
            pending = [batch.video_get(VIDEO_ID) for _ in range(min(BATCH_SIZE, calls - first))]
        for result in pending:
            await result


async def measure(run: Callable[[int], Awaitable[None]], calls: int, warmup: int) -> Measured:
    """Calls per second and CPU per call of `run(calls)`, after a warm-up that opens the
    connections."""
    await run(warmup)
    start, cpu = time.perf_counter(), time.process_time()
    await run(calls)
    wall, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    return calls / wall, cpu_used / calls * 1e6


async def library(base_url: str, calls: int, style: str, engine: str = "aiohttp") -> Measured:
    http = httpx.AsyncClient() if engine == "httpx" else None
    async with PirsonalClient(
        ACCOUNT_ID, ACCOUNT_SECRET, base_url=base_url, http_client=http
    ) as client:
        call = partial(client.video_get, VIDEO_ID)
        if style == "sequential":
            figures = await measure(partial(sequential, call), calls, 1)
        elif style == "batched":
            figures = await measure(partial(batched, client), calls, BATCH_SIZE)
        else:
            level = int(style)
            figures = await measure(partial(concurrent, level, call), calls, level)
    if http is not None:
        await http.aclose()
    return figures


async def raw_aiohttp(base_url: str, calls: int, level: int) -> Measured:
    async with aiohttp.ClientSession() as session:
        call = raw_aiohttp_video_get(session, base_url)
        return await measure(partial(concurrent, level, call), calls, level)


def reference(base_url: str, calls: int) -> Measured:
    cpu = time.process_time()
    rate = reference_style(base_url, calls)
    return rate, (time.process_time() - cpu) / calls * 1e6


def in_new_loop(measure_: Callable[..., Coroutine[Any, Any, Measured]], *args: Any) -> Measured:
    return asyncio.run(measure_(*args))


def interleave_measured(
    variants: dict[str, Callable[[], Measured]], plan: Plan
) -> tuple[dict[str, Stat], dict[str, Stat]]:
    """Calls/s and CPU/call per variant, from the same runs (interleaved, warm-ups dropped)."""
    cpu: dict[str, list[float]] = {name: [] for name in variants}

    def rate_of(name: str, run: Callable[[], Measured]) -> Callable[[], float]:
        def once() -> float:
            rate, cpu_us = run()
            cpu[name].append(cpu_us)
            return rate

        return once

    rates = interleave({name: rate_of(name, run) for name, run in variants.items()}, plan)
    return rates, {name: Stat.of(figures[plan.warmup :]) for name, figures in cpu.items()}


def level_variants(base_url: str, calls: int, level: int) -> dict[str, Callable[[], Measured]]:
    return {
        f"PirsonalClient, concurrency {level}": partial(
            in_new_loop, library, base_url, calls, str(level)
        ),
        f"PirsonalClient over httpx, concurrency {level}": partial(
            in_new_loop, library, base_url, calls, str(level), "httpx"
        ),
        f"{RAW_AIOHTTP}, concurrency {level}": partial(
            in_new_loop, raw_aiohttp, base_url, calls, level
        ),
    }


def run(plan: Plan, calls: int = 1000, rtt_ms: float = server.DEFAULT_RTT_MS) -> list[Row]:
    rows: list[Row] = []
    networks = [f"RTT {rtt_ms:g} ms", "loopback"] if rtt_ms > 0 else ["loopback"]
    for network in networks:
        with server.running(rtt_ms=rtt_ms if network != "loopback" else 0) as base_url:
            variants: dict[str, Callable[[], Measured]] = {
                REFERENCE: partial(reference, base_url, calls)
            }
            for level in LEVELS:
                variants |= level_variants(base_url, calls, level)
            if network != "loopback":
                variants["PirsonalClient, sequential"] = partial(
                    in_new_loop, library, base_url, calls, "sequential"
                )
                variants[f"PirsonalClient, batches of {BATCH_SIZE}"] = partial(
                    in_new_loop, library, base_url, calls, "batched"
                )
            rates, cpu = interleave_measured(variants, plan)
        rows += rate_rows(f"throughput {calls} calls ({network})", rates, network != "loopback")
        rows += cpu_rows(f"CPU per call ({network})", cpu)
    return rows


def rate_rows(benchmark: str, rates: dict[str, Stat], networked: bool) -> list[Row]:
    # The ≥ 10x goal is about a real network; on loopback the library must at least keep up.
    goals = {"PirsonalClient, concurrency 50": Goal(">=", 10 if networked else 1.0)}
    if networked:
        goals[f"PirsonalClient, batches of {BATCH_SIZE}"] = Goal(">=", 30)
    return against(benchmark, "calls/s", rates, REFERENCE, goals)


def cpu_rows(benchmark: str, cpu: dict[str, Stat]) -> list[Row]:
    rows = []
    for level in LEVELS:
        floor = f"{RAW_AIOHTTP}, concurrency {level}"
        stats = {name: stat for name, stat in cpu.items() if name.endswith(f"concurrency {level}")}
        ordered = {floor: stats[floor], **stats}
        goals = {f"PirsonalClient, concurrency {level}": Goal("<=", 2.0)} if level == 50 else {}
        rows += against(benchmark, "µs/call", ordered, floor, goals)
    return rows
