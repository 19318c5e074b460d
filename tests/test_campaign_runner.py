"""The campaign runner against a mocked Pirsonal: exactly once through lost replies, crashes,
refusals and reruns; waiting; progress."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async import PirsonalClient, WaitPolicy
from pirsonal_async.campaign import CampaignProgress, Journal, check_rows, run_campaign

TEMPLATE_ID = "t1"
NO_SLEEP = WaitPolicy(sleep=lambda seconds: _no_sleep())
WAIT: dict[str, Any] = {"wait": True, "wait_policy": NO_SLEEP}


async def _no_sleep() -> None:
    return None


class FakePirsonal:
    """Just enough of Pirsonal's video methods, with faults on demand: `drop_reply` keys are
    created but the reply is lost; `drop_request` keys never reach it; `refuse` keys get an
    error; `render` sets the status code every video reports."""

    def __init__(self) -> None:
        self.videos: list[dict[str, Any]] = []
        self.calls: list[tuple[str, list[Any]]] = []
        self.drop_reply: set[str] = set()
        self.drop_request: set[str] = set()
        self.refuse: set[str] = set()
        self.render = "done"

    def creates(self, key: str | None = None) -> int:
        return sum(
            1
            for method, params in self.calls
            if method == "Template_Video_New" and key in (None, params[1]["data"])
        )

    def answer(self, request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        method = call["method"].removeprefix("SezionAPI.")
        params = call["params"]
        self.calls.append((method, params))
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call["id"]}
        if method == "Template_Video_New":
            key = params[1]["data"]
            if key in self.drop_request:
                self.drop_request.discard(key)
                raise httpx.ReadError("connection closed before the method ran")
            if key in self.refuse:
                return httpx.Response(200, json=reply | {"error": {"code": 1000, "message": "no"}})
            video_id = f"v{len(self.videos) + 1}"
            self.videos.append(params[1] | {"id": video_id, "templateID": params[0]})
            if key in self.drop_reply:
                self.drop_reply.discard(key)
                raise httpx.ReadError("connection closed after the method ran")
            return httpx.Response(200, json=reply | {"result": video_id})
        if method == "Template_Video_List":
            return httpx.Response(200, json=reply | {"result": self.videos})
        if method == "Video_Get":
            [video] = [v for v in self.videos if v["id"] == params[0]]
            status = {"status": {"code": self.render}}
            return httpx.Response(200, json=reply | {"result": video | status})
        if method == "Video_Get_Links":
            link = {"id": f"{params[0]}.mp4", "profile": "MP4", "url": f"https://cdn/{params[0]}"}
            return httpx.Response(200, json=reply | {"result": [link]})
        raise AssertionError(f"unexpected call {method}")


@pytest.fixture
def pirsonal(respx_mock: respx.MockRouter) -> FakePirsonal:
    fake = FakePirsonal()
    respx_mock.post("https://app.pirsonal.com/api").mock(side_effect=fake.answer)
    return fake


@pytest.fixture
async def client() -> AsyncIterator[PirsonalClient]:
    async with PirsonalClient("acc", "secret") as client:
        yield client


def recipients(*keys: str) -> Any:
    return check_rows(
        (line, {"key": key, "name": f"Hi {key}", "input:greeting:text": f"Hello {key}"})
        for line, key in enumerate(keys, start=2)
    )


async def test_every_row_gets_one_video_with_its_key_in_data(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    report = await run_campaign(
        client, TEMPLATE_ID, recipients("a", "b", "c"), tmp_path / "j.db", concurrency=2
    )
    assert report.ok
    assert sorted(v["data"] for v in pirsonal.videos) == ["a", "b", "c"]
    assert pirsonal.videos[0]["inputMedias"] == [
        {"inputID": "greeting", "type": "text", "text": "Hello a"}
    ]
    assert [(row.key, row.status) for row in report.results] == [
        ("a", "created"),
        ("b", "created"),
        ("c", "created"),
    ]
    assert report.created_now == 3


async def test_a_lost_reply_is_reconciled_and_never_sent_again(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    pirsonal.drop_reply = {"b"}
    report = await run_campaign(client, TEMPLATE_ID, recipients("a", "b", "c"), tmp_path / "j.db")

    assert report.ok
    assert pirsonal.creates("b") == 1  # the create reached the server: no second one
    assert [v["data"] for v in pirsonal.videos].count("b") == 1
    [b] = [row for row in report.results if row.key == "b"]
    assert (b.status, b.video_id, b.error) == ("created", "v2", None)
    assert [method for method, _ in pirsonal.calls].count("Template_Video_List") == 1


async def test_a_dropped_request_is_reconciled_then_created_once(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    pirsonal.drop_request = {"a"}
    report = await run_campaign(client, TEMPLATE_ID, recipients("a", "b"), tmp_path / "j.db")
    assert report.ok
    assert pirsonal.creates("a") == 2
    assert [v["data"] for v in pirsonal.videos].count("a") == 1


async def test_a_crash_while_creating_is_reconciled_before_anything_is_sent(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    # A run was killed after its create of "a" reached the server, and while "b" was marked
    # creating but never sent.
    with Journal(tmp_path / "j.db", TEMPLATE_ID) as journal:
        journal.add([("a", 2), ("b", 3)])
        journal.creating("a")
        journal.creating("b")
    pirsonal.videos.append({"id": "v0", "name": "Hi a", "data": "a"})

    report = await run_campaign(client, TEMPLATE_ID, recipients("a", "b"), tmp_path / "j.db")

    assert report.ok
    assert pirsonal.calls[0][0] == "Template_Video_List"
    assert (pirsonal.creates("a"), pirsonal.creates("b")) == (0, 1)
    assert [(row.key, row.video_id) for row in report.results] == [("a", "v0"), ("b", "v2")]


async def test_a_refused_row_fails_with_the_reason_and_is_retried_by_a_rerun(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    pirsonal.refuse = {"b"}
    report = await run_campaign(client, TEMPLATE_ID, recipients("a", "b"), tmp_path / "j.db")
    assert not report.ok
    [b] = report.unfinished
    assert (b.key, b.status, b.video_id) == ("b", "failed", None)
    assert b.error == "SezionAPI.Template_Video_New: no (code 1000)"

    pirsonal.refuse = set()
    report = await run_campaign(client, TEMPLATE_ID, recipients("a", "b"), tmp_path / "j.db")
    assert report.ok
    assert (pirsonal.creates("a"), pirsonal.creates("b")) == (1, 2)


async def test_a_rerun_creates_nothing_again_and_picks_up_new_rows(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    await run_campaign(client, TEMPLATE_ID, recipients("a", "b"), tmp_path / "j.db")
    report = await run_campaign(client, TEMPLATE_ID, recipients("a", "b", "c"), tmp_path / "j.db")
    assert report.created_now == 1
    assert [pirsonal.creates(key) for key in "abc"] == [1, 1, 1]


async def test_waiting_collects_links_and_reports_failed_renders(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    report = await run_campaign(client, TEMPLATE_ID, recipients("a"), tmp_path / "j.db", **WAIT)
    [a] = report.results
    assert (a.status, a.video_status, a.links) == (
        "done",
        "done",
        [{"id": "v1.mp4", "profile": "MP4", "url": "https://cdn/v1"}],
    )

    pirsonal.render = "failed"
    report = await run_campaign(
        client, TEMPLATE_ID, recipients("a", "b"), tmp_path / "j.db", **WAIT
    )
    assert not report.ok
    [b] = report.unfinished
    assert (b.key, b.status, b.video_id, b.video_status) == ("b", "failed", "v2", "failed")
    assert "failed to render" in (b.error or "")
    # Its key has its video: a rerun neither creates another nor waits again.
    calls = len(pirsonal.calls)
    report = await run_campaign(
        client, TEMPLATE_ID, recipients("a", "b"), tmp_path / "j.db", **WAIT
    )
    assert (len(pirsonal.calls), pirsonal.creates()) == (calls, 2)


async def test_a_render_that_does_not_finish_in_time_is_unfinished(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    pirsonal.render = "processing"
    report = await run_campaign(
        client,
        TEMPLATE_ID,
        recipients("a"),
        tmp_path / "j.db",
        wait=True,
        wait_timeout=0.0,
        wait_policy=NO_SLEEP,
    )
    [a] = report.unfinished
    assert (a.status, a.video_id) == ("created", "v1")
    assert "not rendered after 0s" in (a.error or "")


async def test_progress_counts_rows_as_they_finish(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    pirsonal.refuse = {"c"}
    seen: list[CampaignProgress] = []
    await run_campaign(
        client, TEMPLATE_ID, recipients("a", "b", "c"), tmp_path / "j.db", progress=seen.append
    )
    assert seen[0] == CampaignProgress(
        total=3, finished=0, created=0, rendered=0, failed=0, finished_before=0
    )
    assert seen[-1] == CampaignProgress(
        total=3, finished=3, created=2, rendered=0, failed=1, finished_before=0
    )
    assert [p.finished for p in seen] == sorted(p.finished for p in seen)


async def test_invalid_rows_are_reported_in_file_order_and_never_sent(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    rows = check_rows([(2, {"key": "a", "name": "Ana"}), (3, {"key": "", "name": "Nobody"})])
    report = await run_campaign(client, TEMPLATE_ID, rows, tmp_path / "j.db")
    assert [(row.line, row.status) for row in report.results] == [(2, "created"), (3, "invalid")]
    assert pirsonal.creates() == 1
    assert report.ok  # every valid row has its video
    assert report.summary() == "1 rows: 1 with a video (1 created now), 0 not finished, 1 invalid"


async def test_at_most_concurrency_requests_are_in_flight(
    client: PirsonalClient, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    fake = FakePirsonal()
    in_flight = most = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        for _ in range(5):  # let every other worker reach the server too
            await asyncio.sleep(0)
        in_flight -= 1
        return fake.answer(request)

    respx_mock.post("https://app.pirsonal.com/api").mock(side_effect=answer)
    keys = [f"k{n}" for n in range(10)]
    report = await run_campaign(
        client, TEMPLATE_ID, recipients(*keys), tmp_path / "j.db", concurrency=3
    )
    assert report.ok
    assert most == 3
    assert fake.creates() == 10


async def test_a_row_whose_file_cannot_be_uploaded_fails_and_is_not_sent(
    client: PirsonalClient, pirsonal: FakePirsonal, tmp_path: Path
) -> None:
    (tmp_path / "clip.weird").write_bytes(b"not a known media type")
    rows = check_rows(
        [
            (2, {"key": "a", "name": "Ana", "input:clip:video": "clip.weird"}),
            (3, {"key": "b", "name": "Ben", "input:clip:video": ""}),
        ],
        base_dir=tmp_path,
    )
    report = await run_campaign(client, TEMPLATE_ID, rows, tmp_path / "j.db")

    [a] = report.unfinished
    assert (a.key, a.status, a.video_id) == ("a", "failed", None)
    assert a.error is not None
    assert a.error.startswith(f"upload of {tmp_path / 'clip.weird'} failed: upload: param")
    assert (pirsonal.creates("a"), pirsonal.creates("b")) == (0, 1)
