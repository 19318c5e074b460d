"""examples/quickstart.py against the sandbox, and examples/run_demo.py (`make demo`) as run."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest

from pirsonal_async.sandbox import Sandbox, serve_sandbox

EXAMPLES = Path(__file__).parents[1] / "examples"
DEMO_TIMEOUT = 120  # seconds; the demo itself takes about two


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


quickstart = load_example("quickstart")
run_demo = load_example("run_demo")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve_sandbox(render_delay=0) as running:
        yield running


async def test_quickstart_renders_every_video_and_collects_it(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = await quickstart.main(sandbox.base_url, sandbox.account_id, sandbox.account_secret)

    state = sandbox.state
    assert state.media[summary.media_id]["name"] == "intro.mp4"
    template = state.templates[summary.template_id]
    assert template["outProfiles"] == ["MP4_H264_AAC_640x480_24fps"]
    assert json.loads(template["inputScripts"][0]) == quickstart.SCRIPT
    assert [(v.name, v.data, v.status) for v in summary.videos] == [
        ("Welcome Ana", "crm-1", "done"),
        ("Welcome Ben", "crm-2", "done"),
        ("Welcome Chloé", "crm-3", "done"),
    ]
    for video in summary.videos:
        assert state.videos[video.id]["templateID"] == summary.template_id
        (link,) = video.links
        assert link.url.startswith(f"{sandbox.base_url}/files/")
    # Each video's webhook reached the receiver, which answered 200, on a tokened URL.
    assert sorted(d.video_id for d in state.deliveries) == sorted(v.id for v in summary.videos)
    assert all(d.error is None and "?token=" in d.url for d in state.deliveries)

    printed = capsys.readouterr().out
    assert printed.count("webhook: video ") == 3
    assert all(video.id in str(summary) for video in summary.videos)
    assert sandbox.account_secret not in printed + str(summary)


async def test_waiting_for_webhooks_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quickstart, "WEBHOOK_TIMEOUT", 0)

    with pytest.raises(RuntimeError, match=r"no webhook after 0 s for v1, v2$"):
        await quickstart.wait_for_webhooks(asyncio.Queue(), ["v2", "v1"])


def test_make_demo_runs_the_quickstart_and_a_campaign_against_a_fresh_sandbox() -> None:
    demo = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_demo.py")],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        check=False,
    )

    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.startswith("sandbox running at http://127.0.0.1:")
    assert demo.stdout.count("  done   Welcome ") == 3
    # The campaign: three videos rendered, the bad row reported; the rerun makes none.
    assert demo.stdout.count(" done: ") == 3
    assert "  line 4: crm-3 invalid: email 'chloe@example' is not an email address" in demo.stdout
    assert "3 rows: 3 with a video (3 created now), 3 rendered" in demo.stdout
    assert "3 rows: 3 with a video (0 created now), 3 rendered" in demo.stdout
    assert demo.stdout.endswith("demo finished: sandbox stopped\n")


def test_demo_failure_is_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = tmp_path / "quickstart.py"
    failing.write_text("raise SystemExit(3)\n")
    monkeypatch.setattr(run_demo, "EXAMPLES", (failing,))

    assert run_demo.main() == 1
    assert capsys.readouterr().err.startswith("demo failed: quickstart.py exited with status 3\n")
