"""A template-scoped client (template ID and secret, no account secret) against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from welcome_template import WELCOME, rendered, welcome_video

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import AuthenticationError, BadSecret
from pirsonal_async.sandbox import Sandbox
from pirsonal_async.types import Media, Template, TemplateStatus, VideoStatus


@pytest.fixture
async def scoped(
    pirsonal_sandbox: Sandbox, welcome: Template, loopback: httpx.AsyncClient
) -> AsyncIterator[PirsonalClient]:
    assert welcome.secret is not None
    async with PirsonalClient.for_template(
        pirsonal_sandbox.account_id,
        welcome.id,
        welcome.secret,
        base_url=pirsonal_sandbox.base_url,
        http_client=loopback,
    ) as client:
        yield client


async def test_it_creates_videos_of_its_template(
    scoped: PirsonalClient,
    pirsonal_client: PirsonalClient,
    pirsonal_sandbox: Sandbox,
    welcome: Template,
    clip: Media,
) -> None:
    video_id = await scoped.template_video_new(welcome.id, welcome_video(clip.id))
    await rendered(pirsonal_sandbox, video_id)

    video = await pirsonal_client.video_get(video_id)
    assert (video.template_id, video.status) == (welcome.id, VideoStatus(code="done"))


Refused = Callable[[PirsonalClient, str], Awaitable[Any]]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda client, template_id: client.template_list(), id="Template_List"),
        pytest.param(
            lambda client, template_id: client.template_video_list(template_id),
            id="Template_Video_List",
        ),
        pytest.param(
            lambda client, template_id: client.template_set_status(
                template_id, TemplateStatus.inactive
            ),
            id="Template_SetStatus",
        ),
        pytest.param(
            lambda client, template_id: client.template_delete(template_id, False),
            id="Template_Delete",
        ),
        pytest.param(lambda client, template_id: client.media_list(), id="Media_List"),
    ],
)
async def test_it_is_refused_every_other_method(
    scoped: PirsonalClient, welcome: Template, call: Refused
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        await call(scoped, welcome.id)

    assert caught.value.code == 1015


async def test_it_cannot_create_videos_of_another_template(
    scoped: PirsonalClient, pirsonal_client: PirsonalClient, clip: Media
) -> None:
    other_id = await pirsonal_client.template_new(WELCOME)

    with pytest.raises(AuthenticationError, match="another template"):
        await scoped.template_video_new(other_id, welcome_video(clip.id))


async def test_a_wrong_template_secret_is_refused(
    pirsonal_sandbox: Sandbox, welcome: Template, clip: Media, loopback: httpx.AsyncClient
) -> None:
    async with PirsonalClient.for_template(
        pirsonal_sandbox.account_id,
        welcome.id,
        "wrong",
        base_url=pirsonal_sandbox.base_url,
        http_client=loopback,
    ) as client:
        with pytest.raises(BadSecret):
            await client.template_video_new(welcome.id, welcome_video(clip.id))
        with pytest.raises(BadSecret):
            await client.upload_media(b"x", content_type="image/png")
