"""`make demo`: start the local sandbox, run the quickstart and a short campaign against it,
then stop the sandbox."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import IO

# Run in turn against one sandbox, exactly as a user runs them: as scripts, configured by the
# environment.
EXAMPLES = (Path(__file__).with_name("quickstart.py"), Path(__file__).with_name("campaign.py"))
SETTINGS = ("PIRSONAL_BASE_URL", "PIRSONAL_ACCOUNT_ID", "PIRSONAL_ACCOUNT_SECRET")
STARTUP_TIMEOUT = 20.0
EXAMPLE_TIMEOUT = 90.0
RENDER_DELAY = "0.5"  # seconds per video: quick, yet the videos are seen queued first
_LOG_TAIL_LINES = 20


class DemoFailed(Exception):
    """A step of the demo failed; the message says which and why."""


async def run_demo(sandbox_log: IO[bytes]) -> None:
    sandbox = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pirsonal_async.sandbox",
        "--port",
        "0",
        "--render-delay",
        RENDER_DELAY,
        stdout=asyncio.subprocess.PIPE,
        stderr=sandbox_log,
    )
    try:
        settings = await read_settings(sandbox)
        print(f"sandbox running at {settings['PIRSONAL_BASE_URL']}\n", flush=True)
        for example in EXAMPLES:
            await run_example(example, settings)
    finally:
        if sandbox.returncode is None:
            sandbox.terminate()
        await sandbox.wait()


async def run_example(example: Path, settings: dict[str, str]) -> None:
    print(f"--- {example.name}\n", flush=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(example), env={**os.environ, **settings}
    )
    try:
        status = await asyncio.wait_for(process.wait(), EXAMPLE_TIMEOUT)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise DemoFailed(f"{example.name} did not finish in {EXAMPLE_TIMEOUT:.0f} s") from None
    if status != 0:
        raise DemoFailed(f"{example.name} exited with status {status}")
    print(flush=True)


async def read_settings(sandbox: asyncio.subprocess.Process) -> dict[str, str]:
    """The sandbox's first lines: `export PIRSONAL_BASE_URL=...`, then the account ID and
    secret, shell-quoted."""
    assert sandbox.stdout is not None  # created with stdout=PIPE
    settings = {}
    for expected in SETTINGS:
        try:
            line = await asyncio.wait_for(sandbox.stdout.readline(), STARTUP_TIMEOUT)
        except asyncio.TimeoutError:
            raise DemoFailed(f"the sandbox did not start in {STARTUP_TIMEOUT:.0f} s") from None
        words = shlex.split(line.decode())  # export NAME=VALUE, the value shell-quoted
        name, _, value = words[1].partition("=") if len(words) == 2 else ("", "", "")
        if name != expected or not value:
            raise DemoFailed("the sandbox stopped before printing its address and account")
        settings[name] = value
    return settings


def log_tail(log: IO[bytes]) -> str:
    log.seek(0)
    lines = log.read().decode(errors="replace").splitlines()
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def main() -> int:
    with tempfile.TemporaryFile() as sandbox_log:
        try:
            asyncio.run(run_demo(sandbox_log))
        except DemoFailed as failure:
            tail = log_tail(sandbox_log)
            print(f"demo failed: {failure}", file=sys.stderr)
            if tail:
                print(f"last lines of the sandbox's log:\n{tail}", file=sys.stderr)
            return 1
    print("\ndemo finished: sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
