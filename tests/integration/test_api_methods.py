"""Every SezionAPI method through PirsonalClient, over real HTTP to the sandbox."""

from __future__ import annotations

import json

import httpx
import pytest
from welcome_template import PROFILES, SCRIPT, WELCOME, rendered, welcome_video

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import TemplateNotFound, VideoNotFound
from pirsonal_async.sandbox import Sandbox
from pirsonal_async.types import (
    Media,
    PatternAction,
    PatternType,
    Template,
    TemplateStatus,
    TemplateUpdate,
    Video,
    VideoMetaData,
    VideoStatus,
    VideoUpdate,
)


@pytest.fixture
async def done_video(
    pirsonal_client: PirsonalClient, pirsonal_sandbox: Sandbox, welcome: Template, clip: Media
) -> Video:
    """A rendered video of the welcome template."""
    video_id = await pirsonal_client.template_video_new(welcome.id, welcome_video(clip.id))
    await rendered(pirsonal_sandbox, video_id)
    return await pirsonal_client.video_get(video_id)


async def test_templates_are_created_listed_updated_and_switched_off(
    pirsonal_client: PirsonalClient,
) -> None:
    template_id = await pirsonal_client.template_new(WELCOME)
    [listed] = await pirsonal_client.template_list()

    assert (listed.id, listed.name, listed.status) == (template_id, "Welcome", "active")
    assert (listed.input_scripts, listed.out_profiles) == ([SCRIPT], PROFILES)
    assert listed.secret

    update = TemplateUpdate(name="Welcome v2", out_profiles=PROFILES[:1])
    assert await pirsonal_client.template_update(template_id, update) == "OK"
    status = TemplateStatus.inactive
    assert await pirsonal_client.template_set_status(template_id, status) == "OK"
    [updated] = await pirsonal_client.template_list()

    assert (updated.name, updated.out_profiles, updated.status) == (
        "Welcome v2",
        PROFILES[:1],
        "inactive",
    )
    assert (updated.description, updated.secret) == (WELCOME.description, listed.secret)


async def test_a_video_is_made_from_a_template(
    pirsonal_client: PirsonalClient, welcome: Template, clip: Media, done_video: Video
) -> None:
    asked = welcome_video(clip.id)

    assert done_video.status == VideoStatus(code="done")
    assert (done_video.template_id, done_video.name, done_video.data) == (
        welcome.id,
        asked.name,
        asked.data,
    )
    assert done_video.input_medias == asked.input_medias
    assert done_video.duration == 3000.0
    assert done_video.out_files is not None
    assert [out.profile for out in done_video.out_files] == PROFILES
    assert all(out.storage and out.storage.pirsonal_id for out in done_video.out_files)
    assert await pirsonal_client.template_video_list(welcome.id) == [done_video]


async def test_a_video_is_updated_then_deleted(
    pirsonal_client: PirsonalClient, welcome: Template, done_video: Video
) -> None:
    assert done_video.id is not None
    changes = VideoUpdate(name="Hello Ana", data="crm-43")
    contact = VideoMetaData(
        email="ana@example.com",
        first_name="Ana",
        last_name="Li",
        keywords="welcome,ana",
        ga_tracking_code="UA-1-1",
        form_data=["likes cats"],
    )

    assert await pirsonal_client.video_update(done_video.id, changes) == "OK"
    assert await pirsonal_client.video_update_metadata(done_video.id, contact) == "OK"
    video = await pirsonal_client.video_get(done_video.id)

    assert (video.name, video.description, video.data) == (
        "Hello Ana",
        done_video.description,
        "crm-43",
    )
    assert (video.email, video.first_name, video.last_name) == ("ana@example.com", "Ana", "Li")
    assert (video.keywords, video.ga_tracking_code, video.form_data) == (
        "welcome,ana",
        "UA-1-1",
        ["likes cats"],
    )

    assert await pirsonal_client.video_delete(done_video.id, True) == "OK"
    with pytest.raises(VideoNotFound):
        await pirsonal_client.video_get(done_video.id)
    assert await pirsonal_client.template_video_list(welcome.id) == []


async def test_every_output_file_has_a_link_that_downloads_it(
    pirsonal_client: PirsonalClient, done_video: Video
) -> None:
    assert done_video.id is not None
    assert done_video.out_files is not None

    links = await pirsonal_client.video_get_links(done_video.id)
    storage = done_video.out_files[1].storage
    assert storage is not None
    assert storage.pirsonal_id is not None
    one = await pirsonal_client.video_pirsonal_link(done_video.id, storage.pirsonal_id)

    assert [link.profile for link in links] == PROFILES
    assert one == links[1]
    async with httpx.AsyncClient(trust_env=False) as http:
        for link, out_file in zip(links, done_video.out_files, strict=True):
            download = await http.get(link.url)
            assert download.status_code == 200
            assert download.headers["content-type"] == "video/mp4"
            assert len(download.content) == out_file.size


async def test_media_are_listed_analysed_and_deleted(
    pirsonal_client: PirsonalClient, clip: Media
) -> None:
    level, info = PatternType.audiolevel, PatternAction.info

    assert await pirsonal_client.media_list() == [clip]
    threshold = json.dumps({"threshold": -30})
    assert await pirsonal_client.media_apply_pattern(clip.id, level, info, threshold) == "OK"
    # Pirsonal reports a pattern's own failure as a JSON string inside a successful reply.
    refusal = await pirsonal_client.media_apply_pattern(clip.id, level, info, "[]")
    assert "error" in json.loads(refusal)

    assert await pirsonal_client.media_delete(clip.id) == "OK"
    assert await pirsonal_client.media_list() == []


async def test_deleting_a_template_deletes_its_videos(
    pirsonal_client: PirsonalClient, welcome: Template, done_video: Video
) -> None:
    assert done_video.id is not None

    assert await pirsonal_client.template_delete(welcome.id, False) == "OK"

    assert await pirsonal_client.template_list() == []
    with pytest.raises(TemplateNotFound):
        await pirsonal_client.template_video_list(welcome.id)
    with pytest.raises(VideoNotFound):
        await pirsonal_client.video_get(done_video.id)
