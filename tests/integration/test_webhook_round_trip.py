"""A rendered video reaches a `webhook_app` served by uvicorn, as a typed Video."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from welcome_template import PROFILES, WAIT_SECONDS, rendered, welcome_video

from pirsonal_async import PirsonalClient, webhook_app
from pirsonal_async.sandbox import Sandbox, serve_asgi
from pirsonal_async.types import Media, Template, Video, VideoStatus

TOKEN = "hook-token-5e1f"


class Inbox:
    """The webhook handler: keeps each Video and signals when `expected` have arrived."""

    def __init__(self, expected: int = 1) -> None:
        self.videos: list[Video] = []
        self.expected = expected
        self.full = asyncio.Event()

    async def __call__(self, video: Video) -> None:
        self.videos.append(video)
        if len(self.videos) >= self.expected:
            self.full.set()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def hook_url(inbox: Inbox) -> AsyncIterator[str]:
    """The webhook receiver's URL (token in the path), served on another free port."""
    async with serve_asgi(webhook_app(inbox, token=TOKEN)) as base_url:
        yield f"{base_url}/hooks/pirsonal/{TOKEN}"


async def test_the_webhook_handler_gets_the_done_video(
    pirsonal_client: PirsonalClient,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
    inbox: Inbox,
    hook_url: str,
) -> None:
    pirsonal_sandbox.state.add_webhook(hook_url, welcome.id)

    video_id = await pirsonal_client.template_video_new(welcome.id, welcome_video(clip.id))
    await asyncio.wait_for(inbox.full.wait(), WAIT_SECONDS)

    [video] = inbox.videos
    assert (video.id, video.template_id, video.data) == (video_id, welcome.id, "crm-ana")
    assert video.account_id == pirsonal_sandbox.account_id
    assert video.status == VideoStatus(code="done")
    assert video.out_files is not None
    assert [out.profile for out in video.out_files] == PROFILES
    assert video == await pirsonal_client.video_get(video_id)
    await rendered(pirsonal_sandbox, video_id)
    [delivery] = pirsonal_sandbox.state.deliveries
    assert (delivery.video_id, delivery.status_code, delivery.error) == (video_id, 200, None)


async def test_a_refused_delivery_becomes_a_notification(
    pirsonal_client: PirsonalClient,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
    inbox: Inbox,
    hook_url: str,
) -> None:
    wrong_token = hook_url.replace(TOKEN, "not-the-token")
    pirsonal_sandbox.state.add_webhook(wrong_token)

    video_id = await pirsonal_client.template_video_new(welcome.id, welcome_video(clip.id))
    await rendered(pirsonal_sandbox, video_id)

    assert inbox.videos == []
    [notification] = pirsonal_sandbox.state.notifications
    assert (notification.video_id, notification.status_code) == (video_id, 403)


async def test_every_video_of_a_busy_template_is_delivered_once(
    pirsonal_client: PirsonalClient,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
    inbox: Inbox,
    hook_url: str,
) -> None:
    inbox.expected = 5
    pirsonal_sandbox.state.add_webhook(hook_url, welcome.id)
    names = ["Ana", "Ben", "Cy", "Dee", "Eve"]

    video_ids = await asyncio.gather(
        *(pirsonal_client.template_video_new(welcome.id, welcome_video(clip.id, n)) for n in names)
    )
    await asyncio.wait_for(inbox.full.wait(), WAIT_SECONDS)
    # Every delivery is over once all are rendered: a duplicate would have arrived by then.
    await rendered(pirsonal_sandbox, *video_ids)

    assert len(inbox.videos) == len(pirsonal_sandbox.state.deliveries) == 5
    assert sorted(video.id or "" for video in inbox.videos) == sorted(video_ids)
    assert sorted(video.name for video in inbox.videos) == sorted(f"Hi {n}" for n in names)
