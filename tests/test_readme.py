"""The README's quickstart runs as written against the sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async import PirsonalClient, RequestValidationError
from pirsonal_async.client import DEFAULT_BASE_URL
from pirsonal_async.sandbox import serve_sandbox

README = Path(__file__).parents[1] / "README.md"
RUN_TIMEOUT = 60  # seconds; it takes well under one


def python_block(heading: str) -> str:
    """The first python block after `heading` in the README."""
    section = README.read_text(encoding="utf-8").split(f"{heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"the README's {heading!r} section has no python block"
    return match.group(1)


def quickstart_code() -> str:
    return python_block("## Quickstart")


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


async def test_readme_calls_a_method_the_bindings_leave_out(respx_mock: respx.MockRouter) -> None:
    sent: list[Any] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": sent[-1]["id"], "result": "OK"})

    respx_mock.post(f"{DEFAULT_BASE_URL}/api").mock(side_effect=answer)
    namespace: dict[str, Any] = {}
    exec(python_block("### Methods the bindings leave out"), namespace)

    async with PirsonalClient("acc", "sec-ret") as client:
        result = await namespace["call_unlisted"](client, "t1", "https://h.test/")
        with pytest.raises(RequestValidationError):  # the client itself still checks
            await client.rpc.call("SezionAPI.SomeMethod", ["t1", "https://h.test/"])

    assert result == "OK"
    [body] = sent
    assert (body["method"], body["params"]) == ("SezionAPI.SomeMethod", ["t1", "https://h.test/"])


def test_readme_mocking_example_runs_as_written(tmp_path: Path) -> None:
    # The user's own test file, run by pytest as the user would (respx's fixture, asyncio).
    (tmp_path / "test_user.py").write_text(python_block("### In your own tests"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
