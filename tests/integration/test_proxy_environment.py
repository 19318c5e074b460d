"""Loopback traffic (client to sandbox, sandbox to webhook) ignores the environment's proxy."""

from __future__ import annotations

import asyncio

import pytest
from welcome_template import WAIT_SECONDS, rendered, welcome_video

from pirsonal_async import PirsonalClient, webhook_app
from pirsonal_async.sandbox import Sandbox, serve_asgi
from pirsonal_async.types import Media, Template, Video

# A proxy nobody listens on: traffic sent through it fails.
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points every proxy variable at a dead port (requested first, so clients see it)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, DEAD_PROXY)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


async def test_a_video_is_made_and_delivered_despite_a_dead_proxy(
    dead_proxy: None,
    pirsonal_client: PirsonalClient,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
) -> None:
    delivered: asyncio.Future[Video] = asyncio.get_running_loop().create_future()

    async def receive(video: Video) -> None:
        delivered.set_result(video)

    async with serve_asgi(webhook_app(receive)) as hook_url:
        pirsonal_sandbox.state.add_webhook(f"{hook_url}/hook", welcome.id)
        video_id = await pirsonal_client.template_video_new(welcome.id, welcome_video(clip.id))
        video = await asyncio.wait_for(delivered, WAIT_SECONDS)
        await rendered(pirsonal_sandbox, video_id)

    assert video.id == video_id
    assert video == await pirsonal_client.video_get(video_id)
    assert [d.error for d in pirsonal_sandbox.state.deliveries] == [None]
