"""Batches (one HTTP request) and concurrent calls through one client, against the sandbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from welcome_template import PROFILES, rendered, welcome_video

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import TemplateNotFound, VideoNotFound
from pirsonal_async.sandbox import Sandbox
from pirsonal_async.types import Media, Template, VideoStatus


class Wire:
    """Records the JSON-RPC method(s) of each request posted to /api."""

    def __init__(self) -> None:
        self.requests: list[list[str]] = []

    async def record(self, request: httpx.Request) -> None:
        if request.url.path == "/api":
            body = json.loads(request.content)
            calls = body if isinstance(body, list) else [body]
            self.requests.append([call["method"] for call in calls])


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
async def watched(pirsonal_sandbox: Sandbox, wire: Wire) -> AsyncIterator[PirsonalClient]:
    """A client whose requests the `wire` sees."""
    async with (
        httpx.AsyncClient(event_hooks={"request": [wire.record]}, trust_env=False) as http,
        PirsonalClient(
            pirsonal_sandbox.account_id,
            pirsonal_sandbox.account_secret,
            base_url=pirsonal_sandbox.base_url,
            http_client=http,
        ) as client,
    ):
        yield client


async def test_a_batch_is_one_request_with_a_result_or_error_per_call(
    watched: PirsonalClient,
    wire: Wire,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
) -> None:
    video_id = await watched.template_video_new(welcome.id, welcome_video(clip.id))
    await rendered(pirsonal_sandbox, video_id)
    wire.requests.clear()

    async with watched.batch() as batch:
        video = batch.video_get(video_id)
        links = batch.video_get_links(video_id)
        missing = batch.video_get("0" * 24)
        templates = batch.template_list()

    assert wire.requests == [
        [
            "SezionAPI.Video_Get",
            "SezionAPI.Video_Get_Links",
            "SezionAPI.Video_Get",
            "SezionAPI.Template_List",
        ]
    ]
    assert (await video).status == VideoStatus(code="done")
    assert [link.profile for link in await links] == PROFILES
    with pytest.raises(VideoNotFound):
        await missing
    assert [template.id for template in await templates] == [welcome.id]


async def test_a_batch_of_writes_creates_every_video(
    watched: PirsonalClient,
    wire: Wire,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
) -> None:
    names = [f"Viewer {n}" for n in range(10)]

    async with watched.batch() as batch:
        queued = [batch.template_video_new(welcome.id, welcome_video(clip.id, n)) for n in names]
        unknown = batch.template_video_new("0" * 24, welcome_video(clip.id))

    video_ids = [await future for future in queued]
    with pytest.raises(TemplateNotFound):
        await unknown
    assert wire.requests == [["SezionAPI.Template_Video_New"] * 11]
    await rendered(pirsonal_sandbox, *video_ids)
    listed = await watched.template_video_list(welcome.id)
    assert sorted(video.id or "" for video in listed) == sorted(video_ids)
    assert {video.name for video in listed} == {f"Hi {n}" for n in names}


async def test_concurrent_video_creation_gives_distinct_rendered_videos(
    pirsonal_client: PirsonalClient,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
) -> None:
    names = [f"Viewer {n}" for n in range(20)]

    video_ids = await asyncio.gather(
        *(pirsonal_client.template_video_new(welcome.id, welcome_video(clip.id, n)) for n in names)
    )
    await rendered(pirsonal_sandbox, *video_ids)
    videos = await asyncio.gather(*(pirsonal_client.video_get(v) for v in video_ids))

    assert len(set(video_ids)) == len(names)
    assert [video.name for video in videos] == [f"Hi {n}" for n in names]
    assert all(video.status == VideoStatus(code="done") for video in videos)
