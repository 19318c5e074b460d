"""`pirsonal campaign`: run a campaign from the command line, with a live progress bar."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import IO

from pirsonal_async.campaign.journal import JournalError
from pirsonal_async.campaign.rows import RecipientsFileError, read_recipients
from pirsonal_async.campaign.runner import CampaignProgress, CampaignReport, run_campaign
from pirsonal_async.cli import ProgressBar, UsageError
from pirsonal_async.client import PirsonalClient

EXIT_UNFINISHED = 1
LISTED = 20  # problems listed on stderr; --out has every row
_WIDTH = 20


def run_command(args: argparse.Namespace, client: PirsonalClient, bar: ProgressBar) -> int:
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be 1 or more, not {args.concurrency}")
    if args.wait_timeout <= 0:
        raise UsageError(f"--wait-timeout must be positive, not {args.wait_timeout:g}")
    try:
        recipients = read_recipients(args.recipients)
    except RecipientsFileError as error:
        raise UsageError(str(error)) from None
    started = time.monotonic()

    def progress(counts: CampaignProgress) -> None:
        bar.show(render_campaign(counts, time.monotonic() - started, waiting=args.wait))

    async def run() -> CampaignReport:
        async with client:
            return await run_campaign(
                client,
                args.template_id,
                recipients,
                args.journal,
                concurrency=args.concurrency,
                wait=args.wait,
                wait_timeout=args.wait_timeout,
                progress=progress,
            )

    try:
        report = asyncio.run(run())
    except JournalError as error:  # raised before anything is sent
        raise UsageError(str(error)) from None
    finally:
        bar.finish()
    if args.out:
        write_results(Path(args.out), report)
    list_problems(report, sys.stderr)
    print(report.summary())
    return 0 if report.ok else EXIT_UNFINISHED


def render_campaign(counts: CampaignProgress, elapsed: float, *, waiting: bool) -> str:
    """`[#####     ]  50%  150/300 rows  40.1/s  ETA 0:04  (150 with a video, 2 failed)`"""
    fraction = counts.finished / counts.total if counts.total else 1.0
    filled = int(fraction * _WIDTH)
    done_now = counts.finished - counts.finished_before
    rate = done_now / elapsed if elapsed > 0 else 0.0
    left = counts.total - counts.finished
    eta = f"{int(left / rate) // 60}:{int(left / rate) % 60:02d}" if rate > 0 else "-:--"
    details = [f"{counts.created} with a video"]
    if waiting:
        details.append(f"{counts.rendered} rendered")
    details.append(f"{counts.failed} failed")
    return (
        f"[{'#' * filled}{' ' * (_WIDTH - filled)}] {int(fraction * 100):3d}%  "
        f"{counts.finished}/{counts.total} rows  {rate:.1f}/s  ETA {eta}  ({', '.join(details)})"
    )


def write_results(path: Path, report: CampaignReport) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in report.results:
            out.write(json.dumps(row.to_json(waited=report.waited), ensure_ascii=False) + "\n")


def list_problems(report: CampaignReport, out: IO[str]) -> None:
    problems = [f"line {row.line}: invalid, not sent: {row.error}" for row in report.invalid] + [
        f"line {row.line} (key {row.key!r}): {row.status}: {row.error or 'not finished'}"
        for row in report.unfinished
    ]
    for problem in problems[:LISTED]:
        print(problem, file=out)
    if len(problems) > LISTED:
        print(f"... and {len(problems) - LISTED} more (--out lists every row)", file=out)
