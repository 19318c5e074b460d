"""Campaign: the journal's cost. A campaign of N rows against the sandbox vs a bare
`asyncio.gather` of `template_video_new` at the same concurrency, same client, same server.

Each run gets a fresh sandbox in its own process; each campaign run starts from a fresh journal
and reads its recipients from a CSV file, as the CLI does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bench.common import Goal, Plan, Row, Stat, against, interleave
from pirsonal_async.campaign import read_recipients, run_campaign
from pirsonal_async.client import PirsonalClient
from pirsonal_async.generated import TemplateNew, Video, VideoOutput, VideoOutputType

CONCURRENCY = 16
Settings = tuple[str, str, str]  # a sandbox's base URL, account ID, account secret
Work = Callable[[Settings, str], Awaitable[None]]  # given the sandbox and a template ID
SCRIPT = json.dumps([{"text": {"id": "greeting", "play": 0, "duration": 1000}}])
BASELINE = f"asyncio.gather of template_video_new, concurrency {CONCURRENCY}"
CAMPAIGN = "campaign {rows:,} rows (journal)"
NOTES = (
    "campaign: both variants make one video per row through one PirsonalClient against the "
    "sandbox (its own process); the campaign adds checking the CSV, two journal commits per "
    "row (SQLite WAL, synchronous=NORMAL) and its bookkeeping. The wall-clock rows include the "
    "sandbox's own work, shared out with everything else on the machine; the client CPU rows "
    "count only the client process's CPU time, which is where the journal's cost shows.",
)


@contextlib.contextmanager
def sandbox() -> Iterator[Settings]:
    """A sandbox process, renders held off (only creates are measured); yields its settings."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pirsonal_async.sandbox", "--port", "0", "--render-delay", "3600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        settings = [shlex.split(process.stdout.readline())[1].partition("=")[2] for _ in "abc"]
        yield settings[0], settings[1], settings[2]
    finally:
        process.terminate()
        process.wait()


def client(settings: Settings) -> PirsonalClient:
    base_url, account_id, secret = settings
    return PirsonalClient(account_id, secret, base_url=base_url)


async def make_template(settings: Settings) -> str:
    async with client(settings) as pirsonal:
        return await pirsonal.template_new(
            TemplateNew(
                name="Bench",
                description="campaign benchmark",
                input_scripts=[SCRIPT],
                out_profiles=["MP4_H264_AAC_640x480_24fps"],
                video_output=VideoOutput(type=VideoOutputType.sezion),
            )
        )


def write_recipients(path: Path, rows: int) -> None:
    lines = ["key,name,input:greeting:text"]
    lines += [f"bench-{n},Hi {n},Hello {n}" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Timer:
    """Times one run of some work on a fresh sandbox (so that no run meets the videos of the
    runs before it): wall-clock seconds, and the client process's CPU seconds on the side."""

    cpu: list[float] = field(default_factory=list)

    def __call__(self, work: Work) -> float:
        async def timed(settings: Settings) -> float:
            template_id = await make_template(settings)
            start, cpu_start = time.perf_counter(), time.process_time()
            await work(settings, template_id)
            self.cpu.append(time.process_time() - cpu_start)
            return time.perf_counter() - start

        with sandbox() as settings:
            return asyncio.run(timed(settings))


async def gather_creates(videos: list[Video], settings: Settings, template_id: str) -> None:
    async with client(settings) as pirsonal:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def create(video: Video) -> str:
            async with limit:
                return await pirsonal.template_video_new(template_id, video)

        await asyncio.gather(*map(create, videos))


async def campaign(recipients: Path, folder: Path, settings: Settings, template_id: str) -> None:
    journal = Path(tempfile.mkstemp(suffix=".db", dir=folder)[1])
    async with client(settings) as pirsonal:
        report = await run_campaign(
            pirsonal, template_id, read_recipients(recipients), journal, concurrency=CONCURRENCY
        )
    if not report.ok:
        raise RuntimeError(f"the benchmark campaign failed: {report.summary()}")


def run(plan: Plan, rows: int = 5000) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        recipients = Path(folder) / "recipients.csv"
        write_recipients(recipients, rows)
        # The same videos as the campaign sends.
        videos = [row.to_video({}) for row in read_recipients(recipients).rows]
        timers = {BASELINE: Timer(), CAMPAIGN.format(rows=rows): Timer()}
        works: dict[str, Work] = {
            BASELINE: partial(gather_creates, videos),
            # A fresh journal each run: each creates all its rows.
            CAMPAIGN.format(rows=rows): partial(campaign, recipients, Path(folder)),
        }
        stats = interleave({name: partial(timers[name], works[name]) for name in works}, plan)
    cpu = {name: Stat.of(timer.cpu[plan.warmup :]) for name, timer in timers.items()}
    goals = {CAMPAIGN.format(rows=rows): Goal("<=", 1.3)}
    return against(f"campaign {rows:,} rows", "s", stats, BASELINE, goals) + against(
        f"campaign {rows:,} rows, client CPU", "CPU s", cpu, BASELINE, goals
    )
