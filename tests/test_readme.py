"""The README's quickstart runs as written against the sandbox."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from pirsonal_async.sandbox import serve_sandbox

README = Path(__file__).parents[1] / "README.md"
RUN_TIMEOUT = 60  # seconds; it takes well under one


def quickstart_code() -> str:
    section = README.read_text(encoding="utf-8").split("## Quickstart", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's Quickstart section has no python block"
    return match.group(1)


async def test_readme_quickstart_runs_as_written() -> None:
    async with serve_sandbox(render_delay=0) as sandbox:
        env = os.environ | {
            "PIRSONAL_BASE_URL": sandbox.base_url,
            "PIRSONAL_ACCOUNT_ID": sandbox.account_id,
            "PIRSONAL_ACCOUNT_SECRET": sandbox.account_secret,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            quickstart_code(),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
        assert process.returncode == 0, err.decode()
        (video_id,) = sandbox.state.videos
        (template_id,) = sandbox.state.templates
    assert sandbox.state.videos[video_id]["templateID"] == template_id
    assert sandbox.state.videos[video_id]["data"] == "crm-42"
    assert out.decode().startswith(f"{video_id} VideoStatus(code=")
    assert out.decode().rstrip().endswith("1 template(s)")
