"""Pirsonal's error codes, raised by the sandbox, surface as the client's exception classes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from attrs import frozen
from welcome_template import PROFILES, WELCOME, welcome_video

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import (
    AuthenticationError,
    BadInputMedia,
    BadScript,
    BadSecret,
    MediaIdNotInScripts,
    MediaInUse,
    MediaNotFound,
    MediaStorageFull,
    NoCredit,
    NoScripts,
    RpcError,
    ScriptInputsMismatch,
    TemplateInactive,
    TemplateNotFound,
    VideoFileNotFound,
    VideoNotFound,
    VideoProfileNotAllowed,
    VideoProfilesError,
)
from pirsonal_async.sandbox import Sandbox
from pirsonal_async.types import (
    InputMedia,
    Media,
    MediaType,
    Template,
    TemplateNew,
    TemplateStatus,
    Video,
)

UNKNOWN_ID = "0" * 24


@frozen
class Account:
    """What a misuse can act on: the client, its sandbox, a template and a stored clip."""

    client: PirsonalClient
    sandbox: Sandbox
    welcome: Template
    clip: Media


Misuse = Callable[[Account], Awaitable[Any]]


@pytest.fixture
def account(
    pirsonal_client: PirsonalClient, pirsonal_sandbox: Sandbox, welcome: Template, clip: Media
) -> Account:
    return Account(pirsonal_client, pirsonal_sandbox, welcome, clip)


def template(**changes: Any) -> TemplateNew:
    fields = {
        "name": WELCOME.name,
        "description": WELCOME.description,
        "input_scripts": WELCOME.input_scripts,
        "out_profiles": WELCOME.out_profiles,
        "video_output": WELCOME.video_output,
        **changes,
    }
    return TemplateNew(**fields)


def video_with(account: Account, *medias: InputMedia) -> Awaitable[str]:
    return account.client.template_video_new(
        account.welcome.id, Video(name="v", input_medias=list(medias))
    )


async def missing_output_file(account: Account) -> Any:
    video_id = await account.client.template_video_new(
        account.welcome.id, welcome_video(account.clip.id)
    )
    return await account.client.video_pirsonal_link(video_id, f"{video_id}.NOT_A_PROFILE")


async def inactive_template(account: Account) -> Any:
    await account.client.template_set_status(account.welcome.id, TemplateStatus.inactive)
    return await account.client.template_video_new(
        account.welcome.id, welcome_video(account.clip.id)
    )


async def no_credit_left(account: Account) -> Any:
    account.sandbox.state.credits = 0
    return await account.client.template_video_new(
        account.welcome.id, welcome_video(account.clip.id)
    )


async def storage_full(account: Account) -> Any:
    account.sandbox.state.media_quota = 1000
    return await account.client.upload_media(b"x" * 2000, content_type="image/png")


def text(input_id: str, value: str = "Ana") -> InputMedia:
    return InputMedia(input_id=input_id, type=MediaType.text, text=value)


def stored_clip(account: Account, media_id: str | None = None) -> InputMedia:
    return InputMedia(input_id="clip", type=MediaType.video, sezion_id=media_id or account.clip.id)


MISUSES = [
    pytest.param(
        lambda a: a.client.template_video_new(UNKNOWN_ID, welcome_video(a.clip.id)),
        TemplateNotFound,
        1000,
        id="1000-unknown-template",
    ),
    pytest.param(lambda a: a.client.media_delete(UNKNOWN_ID), MediaNotFound, 1001, id="1001"),
    pytest.param(
        lambda a: video_with(a, stored_clip(a, UNKNOWN_ID), text("name")),
        MediaNotFound,
        1001,
        id="1001-unknown-media-in-a-video",
    ),
    pytest.param(
        lambda a: video_with(a, stored_clip(a), text("name"), text("ghost")),
        MediaIdNotInScripts,
        1002,
        id="1002-input-not-in-the-script",
    ),
    pytest.param(
        lambda a: video_with(a, stored_clip(a)),
        ScriptInputsMismatch,
        1004,
        id="1004-missing-input",
    ),
    pytest.param(
        lambda a: a.client.template_new(template(input_scripts=[json.dumps({"video": {}})])),
        BadScript,
        1005,
        id="1005-script-not-an-array",
    ),
    pytest.param(missing_output_file, VideoFileNotFound, 1006, id="1006"),
    pytest.param(lambda a: a.client.video_get(UNKNOWN_ID), VideoNotFound, 1007, id="1007"),
    pytest.param(
        lambda a: a.client.template_new(template(input_scripts=[])), NoScripts, 1009, id="1009"
    ),
    pytest.param(inactive_template, TemplateInactive, 1028, id="1028"),
    pytest.param(
        lambda a: video_with(
            a,
            InputMedia(
                input_id="clip", type=MediaType.video, sezion_id=a.clip.id, http="https://x/c.mp4"
            ),
            text("name"),
        ),
        BadInputMedia,
        1029,
        id="1029-two-sources",
    ),
    pytest.param(
        lambda a: a.client.template_new(template(out_profiles=[PROFILES[0], PROFILES[0]])),
        VideoProfilesError,
        1032,
        id="1032-duplicated-profile",
    ),
    pytest.param(storage_full, MediaStorageFull, 2001, id="2001"),
    pytest.param(
        lambda a: a.client.template_new(template(out_profiles=["HD"])),
        VideoProfileNotAllowed,
        2002,
        id="2002",
    ),
    pytest.param(no_credit_left, NoCredit, 2004, id="2004"),
]


@pytest.mark.parametrize(("misuse", "cls", "code"), MISUSES)
async def test_each_misuse_raises_its_class(
    account: Account, misuse: Misuse, cls: type[RpcError], code: int
) -> None:
    with pytest.raises(cls) as caught:
        await misuse(account)

    assert caught.value.code == code


async def test_a_media_a_template_uses_cannot_be_deleted(account: Account) -> None:
    fixed_clip = {"inputID": "clip", "type": "video", "sezionID": account.clip.id}
    account.sandbox.state.template_media_assign(account.welcome.id, [fixed_clip])

    with pytest.raises(MediaInUse) as caught:
        await account.client.media_delete(account.clip.id)

    assert (caught.value.code, caught.value.method) == (1008, "SezionAPI.Media_Delete")
    await account.client.template_delete(account.welcome.id, True)
    assert await account.client.media_delete(account.clip.id) == "OK"


@pytest.mark.parametrize("pirsonal_render_delay", [60.0])  # the video stays queued
async def test_a_media_a_queued_video_uses_may_be_deleted(account: Account) -> None:
    # Only templates hold media (1008); that video's rendering will fail (test_state.py).
    video_id = await account.client.template_video_new(
        account.welcome.id, welcome_video(account.clip.id)
    )

    assert await account.client.media_delete(account.clip.id) == "OK"
    assert await account.client.media_list() == []
    assert account.sandbox.state.videos[video_id]["status"] == {"code": "queued"}


@pytest.mark.parametrize(
    ("account_id", "secret", "cls"),
    [
        pytest.param(UNKNOWN_ID, None, AuthenticationError, id="1015-unknown-account"),
        pytest.param(None, "wrong-secret", BadSecret, id="1018-wrong-secret"),
    ],
)
async def test_bad_account_credentials_are_refused(
    pirsonal_sandbox: Sandbox,
    loopback: httpx.AsyncClient,
    account_id: str | None,
    secret: str | None,
    cls: type[RpcError],
) -> None:
    async with PirsonalClient(
        account_id or pirsonal_sandbox.account_id,
        secret or pirsonal_sandbox.account_secret,
        base_url=pirsonal_sandbox.base_url,
        http_client=loopback,
    ) as client:
        with pytest.raises(cls):
            await client.template_list()
        with pytest.raises(cls):
            await client.upload_media(b"x", content_type="image/png")
