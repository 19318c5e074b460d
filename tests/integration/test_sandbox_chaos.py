"""The sandbox's chaos faults as the real client sees them over TCP, and their effects.

The sandbox starts with a zero-rate chaos spec so the setup runs clean; each test then turns
on one fault at rate 1.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from welcome_template import WAIT_SECONDS, WELCOME, rendered, welcome_video

from pirsonal_async import (
    HttpStatusError,
    PirsonalClient,
    RetryPolicy,
    TransportError,
    webhook_app,
)
from pirsonal_async.sandbox import Sandbox, serve_asgi, serve_sandbox
from pirsonal_async.sandbox.chaos import RENDER_FAILED, ChaosSpec
from pirsonal_async.types import Media, Template, Video, VideoStatus

# Retries without waiting, so a retried read costs no time.
QUICK_RETRY = RetryPolicy(max_attempts=3, base_delay=0, max_delay=0)


@pytest.fixture
def pirsonal_chaos() -> str:
    return ""


@pytest.fixture
def pirsonal_chaos_seed() -> int:
    return 7


@pytest.fixture
async def client(pirsonal_sandbox: Sandbox) -> AsyncIterator[PirsonalClient]:
    async with (
        httpx.AsyncClient(trust_env=False) as http,
        quick_client(pirsonal_sandbox, http) as client,
    ):
        yield client


def turn_on(sandbox: Sandbox, spec: str) -> None:
    assert sandbox.chaos is not None
    sandbox.chaos.spec = ChaosSpec.parse(spec)


def test_the_plugin_fixtures_set_the_sandbox_chaos(pirsonal_sandbox: Sandbox) -> None:
    assert pirsonal_sandbox.chaos is not None
    assert (pirsonal_sandbox.chaos.spec, pirsonal_sandbox.chaos.seed) == (ChaosSpec(), 7)


def quick_client(sandbox: Sandbox, http: httpx.AsyncClient) -> PirsonalClient:
    return PirsonalClient(
        sandbox.account_id,
        sandbox.account_secret,
        base_url=sandbox.base_url,
        http_client=http,
        retry=QUICK_RETRY,
    )


async def test_a_seed_repeats_the_faults_a_client_sees() -> None:
    async def outcomes(seed: int) -> list[str]:
        spec = "drop-request=0.2,http-503=0.2,drop-reply=0.2"
        seen = []
        async with (
            serve_sandbox(chaos=spec, chaos_seed=seed) as sandbox,
            httpx.AsyncClient(trust_env=False) as http,
            quick_client(sandbox, http) as client,
        ):
            for _ in range(30):
                try:
                    await client.template_new(WELCOME)
                except TransportError as error:  # HttpStatusError too
                    seen.append(type(error).__name__)
                else:
                    seen.append("ok")
        return seen

    first, again, other = await outcomes(7), await outcomes(7), await outcomes(8)

    assert first == again != other
    assert set(first) == {"ok", "TransportError", "HttpStatusError"}


async def test_a_dropped_reply_leaves_the_outcome_unknown_and_the_effect_done(
    client: PirsonalClient,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
    caplog: pytest.LogCaptureFixture,
) -> None:
    turn_on(pirsonal_sandbox, "drop-reply=1")

    with pytest.raises(TransportError) as lost:
        await client.template_video_new(welcome.id, welcome_video(clip.id))

    assert lost.value.outcome_unknown
    assert lost.value.attempts == 1  # a create that may have run is never re-sent
    [video] = pirsonal_sandbox.state.videos.values()
    assert video["data"] == "crm-ana"
    # The server takes the drop as intended, not as an app that forgot to reply.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_dropped_request_leaves_the_outcome_unknown_and_nothing_done(
    client: PirsonalClient, pirsonal_sandbox: Sandbox, welcome: Template, clip: Media
) -> None:
    turn_on(pirsonal_sandbox, "drop-request=1")

    with pytest.raises(TransportError) as lost:
        await client.template_video_new(welcome.id, welcome_video(clip.id))

    # The client cannot tell the two drops apart: both lose the connection after sending.
    assert lost.value.outcome_unknown
    assert pirsonal_sandbox.state.videos == {}


async def test_a_dropped_upload_reply_keeps_the_media(
    client: PirsonalClient, pirsonal_sandbox: Sandbox
) -> None:
    turn_on(pirsonal_sandbox, "drop-reply=1")

    with pytest.raises(TransportError) as lost:
        await client.upload_media(b"\x00" * 4096, filename="clip.mp4")

    assert lost.value.outcome_unknown
    [media] = pirsonal_sandbox.state.media.values()
    assert (media["name"], media["size"]) == ("clip.mp4", 4096)


async def test_http_503_fails_a_write_at_once_and_nothing_is_done(
    client: PirsonalClient, pirsonal_sandbox: Sandbox, welcome: Template, clip: Media
) -> None:
    turn_on(pirsonal_sandbox, "http-503=1")

    with pytest.raises(HttpStatusError) as refused:
        await client.template_video_new(welcome.id, welcome_video(clip.id))

    assert (refused.value.status, refused.value.attempts) == (503, 1)
    assert pirsonal_sandbox.state.videos == {}


async def test_http_503_is_retried_for_reads(
    client: PirsonalClient, pirsonal_sandbox: Sandbox, welcome: Template
) -> None:
    turn_on(pirsonal_sandbox, "http-503=1")

    with pytest.raises(HttpStatusError) as refused:
        await client.template_list()

    assert (refused.value.status, refused.value.attempts) == (503, QUICK_RETRY.max_attempts)
    turn_on(pirsonal_sandbox, "")
    assert [t.id for t in await client.template_list()] == [welcome.id]


async def test_an_upload_answered_503_is_not_stored(
    client: PirsonalClient, pirsonal_sandbox: Sandbox
) -> None:
    turn_on(pirsonal_sandbox, "http-503=1")

    with pytest.raises(HttpStatusError) as refused:
        await client.upload_media(b"\x00" * 4096, filename="clip.mp4")

    assert refused.value.status == 503
    assert pirsonal_sandbox.state.media == {}


async def test_a_failed_render_has_a_failed_status_and_reaches_the_webhook(
    client: PirsonalClient, pirsonal_sandbox: Sandbox, welcome: Template, clip: Media
) -> None:
    delivered: asyncio.Queue[Video] = asyncio.Queue()
    turn_on(pirsonal_sandbox, "render-fail=1")

    async with serve_asgi(webhook_app(delivered.put)) as hook_url:
        pirsonal_sandbox.state.add_webhook(hook_url, welcome.id)
        video_id = await client.template_video_new(welcome.id, welcome_video(clip.id))
        await rendered(pirsonal_sandbox, video_id)
        hooked = await asyncio.wait_for(delivered.get(), WAIT_SECONDS)

    video = await client.video_get(video_id)
    assert video.status == hooked.status == VideoStatus(code=RENDER_FAILED)
    assert hooked.id == video_id
    assert video.out_files is None
    assert await client.video_get_links(video_id) == []
