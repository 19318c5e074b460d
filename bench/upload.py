"""Uploads: peak RSS growth and wall time of PirsonalClient.upload_media vs raw streaming.

Each measurement runs in a fresh process (`python -m bench.upload VARIANT URL FILE`), so one
variant's memory never hides in another's high-water mark.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import server
from bench.common import Goal, Plan, Row, Stat, against, interleave
from bench.samples import ACCOUNT_ID, ACCOUNT_SECRET

CHUNK = 65_536
SAMPLE_EVERY_S = 0.002
WORKER_TIMEOUT_S = 120.0
MB = 1_000_000


class Meter:
    """Wall time and peak RSS growth of the code inside `with meter:` (RSS sampled in a thread)."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.figures: dict[str, float] = {}

    def __enter__(self) -> None:
        self.start_rss = self.peak = self.rss()
        self.start_maxrss = _maxrss()
        self.thread.start()
        self.start = time.perf_counter()

    def __exit__(self, *exc_info: object) -> None:
        wall = time.perf_counter() - self.start
        self.stopped.set()
        self.thread.join()
        # ru_maxrss catches spikes between samples, but only once it rises above its old mark.
        maxrss = _maxrss()
        peak = max(self.peak, maxrss) if maxrss > self.start_maxrss else self.peak
        self.figures = {"wall_s": wall, "rss_growth": peak - self.start_rss}

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def sample(self) -> None:
        while not self.stopped.wait(SAMPLE_EVERY_S):
            self.peak = max(self.peak, self.rss())


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


async def raw_httpx(base_url: str, path: Path, size: int, meter: Meter) -> None:
    query = {"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET}
    headers = {"Content-Type": "video/mp4", "Content-Length": str(size)}
    async with httpx.AsyncClient(timeout=WORKER_TIMEOUT_S) as http:
        with meter:
            response = await http.post(
                f"{base_url}/api/upload", params=query, headers=headers, content=file_chunks(path)
            )
            response.raise_for_status()


async def raw_aiohttp(base_url: str, path: Path, size: int, meter: Meter) -> None:
    import aiohttp

    query = {"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET}
    headers = {"Content-Type": "video/mp4", "Content-Length": str(size)}
    async with aiohttp.ClientSession() as session:
        with meter:
            async with session.post(
                f"{base_url}/api/upload", params=query, headers=headers, data=file_chunks(path)
            ) as response:
                response.raise_for_status()
                await response.read()


async def library(base_url: str, path: Path, size: int, meter: Meter) -> None:
    from pirsonal_async.client import PirsonalClient

    async with PirsonalClient(ACCOUNT_ID, ACCOUNT_SECRET, base_url=base_url) as client:
        with meter:
            await client.upload_media(path)


async def library_with_progress(base_url: str, path: Path, size: int, meter: Meter) -> None:
    """With a progress callback the library reads 64 KiB per thread hop (see uploads._stream)."""
    from pirsonal_async.client import PirsonalClient

    reports = 0

    def progress(sent: int, total: int) -> None:
        nonlocal reports
        reports += 1

    async with PirsonalClient(ACCOUNT_ID, ACCOUNT_SECRET, base_url=base_url) as client:
        with meter:
            await client.upload_media(path, progress=progress)
    if reports < size // CHUNK:
        raise RuntimeError(f"progress was reported {reports} times for {size} bytes")


RAW = "raw aiohttp stream"  # the default engine's floor
# Each variant meters only the upload: creating a client (SSL context, pool) is not part of it.
WORKERS: dict[str, Callable[[str, Path, int, Meter], Coroutine[Any, Any, None]]] = {
    RAW: raw_aiohttp,
    "raw httpx stream": raw_httpx,
    "PirsonalClient.upload_media": library,
    "upload_media with progress": library_with_progress,
}


def worker(variant: str, base_url: str, path: Path) -> dict[str, float]:
    """Measure one upload in this process: wall seconds and peak RSS growth in bytes."""
    meter = Meter()
    asyncio.run(WORKERS[variant](base_url, path, path.stat().st_size, meter))
    return meter.figures


def measure(variant: str, base_url: str, path: Path) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.upload", variant, base_url, str(path)],
        cwd=server.ROOT,
        capture_output=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"upload worker {variant!r} failed:\n{completed.stderr.decode()}")
    figures: dict[str, float] = json.loads(completed.stdout)
    return figures


def run(plan: Plan, size: int = 50_000_000) -> list[Row]:
    rss: dict[str, list[float]] = {variant: [] for variant in WORKERS}
    # This measures the client's streaming cost, which no round trip would change.
    with tempfile.TemporaryDirectory() as folder, server.running(rtt_ms=0) as base_url:
        path = Path(folder) / "upload.mp4"
        with path.open("wb") as target:
            for offset in range(0, size, MB):
                target.write(os.urandom(min(MB, size - offset)))

        def variant(name: str) -> Callable[[], float]:
            def once() -> float:
                figures = measure(name, base_url, path)
                rss[name].append(figures["rss_growth"] / MB)
                return figures["wall_s"] * 1e3

            return once

        wall = interleave({name: variant(name) for name in WORKERS}, plan)
    # Warm-up runs recorded memory too: keep only the measured (last) runs of each variant.
    memory = {name: Stat.of(samples[-wall[name].runs :]) for name, samples in rss.items()}
    label = f"upload {size / 1e6:g} MB"
    return [
        *against(
            f"{label} wall",
            "ms",
            wall,
            RAW,
            {"PirsonalClient.upload_media": Goal("<=", 1.2)},
        ),
        *against(
            f"{label} RSS growth",
            "MB",
            memory,
            RAW,
            {name: Goal("<=", 10, on="value") for name in WORKERS if not name.startswith("raw")},
            with_ratio=False,
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1], sys.argv[2], Path(sys.argv[3]))))
