"""Uploads of a few MB to the sandbox: to the account's storage and per video."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
from welcome_template import rendered, welcome_video

from pirsonal_async import PirsonalClient
from pirsonal_async.sandbox import Sandbox
from pirsonal_async.types import Template

SIZE = 3 * 1024 * 1024 + 17


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_an_account_upload_arrives_whole_and_stays(
    pirsonal_client: PirsonalClient, pirsonal_sandbox: Sandbox, tmp_path: Path
) -> None:
    data = os.urandom(SIZE)
    path = tmp_path / "intro clip.mp4"
    path.write_bytes(data)
    progress: list[tuple[int, int]] = []

    media = await pirsonal_client.upload_media(
        path, description="Intro, été", progress=lambda sent, total: progress.append((sent, total))
    )

    assert (media.name, media.description, media.size) == ("intro clip.mp4", "Intro, été", SIZE)
    assert (media.type, media.temp) == ("video", False)
    assert pirsonal_sandbox.state.media_sha256[media.id] == sha256(data)
    assert progress[-1] == (SIZE, SIZE)
    assert await pirsonal_client.media_list() == [media]


async def test_a_per_video_upload_is_deleted_once_its_video_is_made(
    pirsonal_client: PirsonalClient, pirsonal_sandbox: Sandbox, welcome: Template
) -> None:
    assert welcome.secret is not None
    data = os.urandom(SIZE)

    media = await pirsonal_client.upload_media(
        data,
        content_type="video/webm",
        template_id=welcome.id,
        template_secret=welcome.secret,
    )
    assert (media.size, media.temp) == (SIZE, True)
    assert pirsonal_sandbox.state.media_sha256[media.id] == sha256(data)

    video_id = await pirsonal_client.template_video_new(welcome.id, welcome_video(media.id))
    await rendered(pirsonal_sandbox, video_id)

    assert await pirsonal_client.media_list() == []


async def test_a_template_scoped_client_uploads_per_video_media(
    pirsonal_sandbox: Sandbox, welcome: Template, loopback: httpx.AsyncClient
) -> None:
    assert welcome.secret is not None
    data = os.urandom(SIZE)

    async with PirsonalClient.for_template(
        pirsonal_sandbox.account_id,
        welcome.id,
        welcome.secret,
        base_url=pirsonal_sandbox.base_url,
        http_client=loopback,
    ) as scoped:
        media = await scoped.upload_media(data, content_type="audio/mpeg", filename="voice.mp3")

    assert (media.name, media.type, media.temp) == ("voice.mp3", "audio", True)
    assert pirsonal_sandbox.state.media_sha256[media.id] == sha256(data)
