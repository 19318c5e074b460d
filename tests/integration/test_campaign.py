"""`pirsonal campaign` against the sandbox in chaos mode: killed part-way and rerun, invalid rows,
failed renders, uploads reused. The command runs as a subprocess, as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from welcome_template import WELCOME

from pirsonal_async import PirsonalClient
from pirsonal_async.sandbox import Sandbox
from pirsonal_async.sandbox.chaos import ChaosSpec
from pirsonal_async.types import Media, Template

RUN_TIMEOUT = 120.0
HEADER = "key,name,email,input:clip:video,input:name:text"
# Lost replies, lost requests and 503s on every API call (uploads too), and a little latency.
NETWORK_CHAOS = "drop-reply=0.1,drop-request=0.05,http-503=0.05,latency-ms=2"


@pytest.fixture
def pirsonal_chaos() -> str:
    return "latency-ms=0"  # no faults during a test's setup: `misbehave` turns them on


@pytest.fixture
def pirsonal_chaos_seed() -> int:
    return 7


def misbehave(sandbox: Sandbox, spec: str) -> None:
    assert sandbox.chaos is not None
    sandbox.chaos.spec = ChaosSpec.parse(spec)


def write_recipients(path: Path, count: int, clip: str, extra: str = "") -> Path:
    rows = [f"crm-{n},Hi {n},p{n}@example.com,{clip},Person {n}" for n in range(count)]
    path.write_text("\n".join([HEADER, *rows]) + "\n" + extra, encoding="utf-8")
    return path


async def start_campaign(sandbox: Sandbox, *args: str | Path) -> asyncio.subprocess.Process:
    env = os.environ | {
        "PIRSONAL_BASE_URL": sandbox.base_url,
        "PIRSONAL_ACCOUNT_ID": sandbox.account_id,
        "PIRSONAL_ACCOUNT_SECRET": sandbox.account_secret,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pirsonal_async",
        "campaign",
        *map(str, args),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def campaign(sandbox: Sandbox, *args: str | Path) -> tuple[int, str, str]:
    process = await start_campaign(sandbox, *args)
    out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def template_keys(sandbox: Sandbox, template_id: str) -> Counter[str]:
    return Counter(
        v["data"] for v in sandbox.state.videos.values() if v["templateID"] == template_id
    )


def journal_states(path: Path) -> Counter[str]:
    with sqlite3.connect(path) as journal:
        return Counter(state for (state,) in journal.execute("SELECT state FROM rows"))


def read_out(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_a_campaign_killed_part_way_and_rerun_makes_each_video_once(
    pirsonal_sandbox: Sandbox, welcome: Template, clip: Media, tmp_path: Path
) -> None:
    template_id, media = welcome.id, clip
    recipients = write_recipients(tmp_path / "people.csv", 300, media.id)
    journal = tmp_path / "campaign.db"
    misbehave(pirsonal_sandbox, NETWORK_CHAOS)

    # SIGKILL at the 100th create, inside the server's handling of it: that create has run,
    # its reply is never sent, and the journal holds its row as `creating`.
    process = await start_campaign(pirsonal_sandbox, template_id, recipients, "--journal", journal)
    queued = 0

    def kill_at_the_hundredth(video_id: str) -> None:
        nonlocal queued
        queued += 1
        if queued == 100:
            process.send_signal(signal.SIGKILL)

    pirsonal_sandbox.state.on_video_queued.append(kill_at_the_hundredth)
    await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    pirsonal_sandbox.state.on_video_queued.remove(kill_at_the_hundredth)
    assert process.returncode == -signal.SIGKILL
    states = journal_states(journal)
    assert states["creating"] >= 1
    assert 0 < states["created"] < 300

    status, out, err = await campaign(
        pirsonal_sandbox, template_id, recipients, "--journal", journal
    )
    assert status == 0, err
    keys = template_keys(pirsonal_sandbox, template_id)
    assert keys == Counter({f"crm-{n}": 1 for n in range(300)})
    assert "300 rows: 300 with a video" in out

    status, out, err = await campaign(
        pirsonal_sandbox, template_id, recipients, "--journal", journal
    )
    assert status == 0, err
    assert "(0 created now)" in out
    assert template_keys(pirsonal_sandbox, template_id) == keys


async def test_invalid_rows_are_reported_and_never_sent(
    pirsonal_sandbox: Sandbox, welcome: Template, clip: Media, tmp_path: Path
) -> None:
    template_id, media = welcome.id, clip
    bad = f"crm-1,Again,,{media.id},x\n,No key,,{media.id},x\ncrm-9,Bad mail,nope,{media.id},x\n"
    recipients = write_recipients(tmp_path / "people.csv", 3, media.id, extra=bad)
    out_file = tmp_path / "results.jsonl"
    misbehave(pirsonal_sandbox, NETWORK_CHAOS)

    status, out, err = await campaign(
        pirsonal_sandbox,
        template_id,
        recipients,
        "--journal",
        tmp_path / "j.db",
        "--out",
        out_file,
    )

    assert status == 0, err  # every valid row has its video
    progress, *problems = err.splitlines()
    assert progress.startswith("[####################] 100%  3/3 rows")
    assert problems == [
        "line 5: invalid, not sent: duplicate key 'crm-1' (first on line 3)",
        "line 6: invalid, not sent: key is empty",
        "line 7: invalid, not sent: email 'nope' is not an email address",
    ]
    assert out.strip() == "3 rows: 3 with a video (3 created now), 0 not finished, 3 invalid"
    assert template_keys(pirsonal_sandbox, template_id) == Counter(["crm-0", "crm-1", "crm-2"])
    names = {v["name"] for v in pirsonal_sandbox.state.videos.values()}
    assert names == {"Hi 0", "Hi 1", "Hi 2"}
    rows = read_out(out_file)
    assert set(rows[0]) == {"line", "key", "video_id", "status", "error"}  # no --wait
    assert [(row["line"], row["status"]) for row in rows] == [
        (2, "created"),
        (3, "created"),
        (4, "created"),
        (5, "invalid"),
        (6, "invalid"),
        (7, "invalid"),
    ]


async def test_failed_renders_are_reported_as_failed_with_wait(
    pirsonal_client: PirsonalClient, pirsonal_sandbox: Sandbox, tmp_path: Path
) -> None:
    template_id = await pirsonal_client.template_new(WELCOME)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"clip" * 100)
    recipients = write_recipients(tmp_path / "people.csv", 12, "clip.mp4")
    out_file = tmp_path / "results.jsonl"
    # Faults in renders only: an upload whose reply is lost is not repeated (it may have run).
    misbehave(pirsonal_sandbox, "render-fail=0.25,latency-ms=2")

    status, out, err = await campaign(
        pirsonal_sandbox,
        template_id,
        recipients,
        "--journal",
        tmp_path / "j.db",
        "--wait",
        "--out",
        out_file,
    )

    state = pirsonal_sandbox.state
    failed = {v["data"] for v in state.videos.values() if v["status"]["code"] == "error"}
    assert 0 < len(failed) < 12  # the seed makes some fail
    assert status == 1
    assert f"12 with a video (12 created now), {12 - len(failed)} rendered" in out
    rows = {row["key"]: row for row in read_out(out_file)}
    assert {key for key, row in rows.items() if row["status"] == "failed"} == failed
    for key in failed:
        assert rows[key]["video_status"] == "error"
        assert f"video {rows[key]['video_id']} failed to render" in rows[key]["error"]
        assert f"(key {key!r}): failed: video {rows[key]['video_id']}" in err
    rendered = next(row for row in rows.values() if row["status"] == "done")
    assert [link["profile"] for link in rendered["links"]] == WELCOME.out_profiles
    # The file was uploaded once, for all the rows.
    [media_id] = _journal_media(tmp_path / "j.db")
    assert list(state.media) == [media_id]
    assert {v["inputMedias"][0]["sezionID"] for v in state.videos.values()} == {media_id}

    # A row appended since reuses the journalled upload; the failed rows keep their videos.
    misbehave(pirsonal_sandbox, "latency-ms=2")
    write_recipients(recipients, 13, "clip.mp4")
    status, out, err = await campaign(
        pirsonal_sandbox, template_id, recipients, "--journal", tmp_path / "j.db", "--wait"
    )
    assert status == 1
    assert f"13 with a video (1 created now), {13 - len(failed)} rendered" in out
    assert list(state.media) == [media_id]
    assert len(state.videos) == 13


def _journal_media(path: Path) -> list[str]:
    with sqlite3.connect(path) as journal:
        return [media_id for (media_id,) in journal.execute("SELECT media_id FROM media")]
