"""Stub arguments of the wrong Python type: a RequestValidationError naming where, nothing sent."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import RequestValidationError
from pirsonal_async.generated import SezionAPI
from pirsonal_async.retry import NO_RETRY
from pirsonal_async.types import (
    InputMedia,
    MediaType,
    OutFile,
    PatternAction,
    PatternType,
    TemplateNew,
    Video,
    VideoOutput,
    VideoOutputType,
)

API_URL = "https://app.pirsonal.com/api"
ACCOUNT_ID = "533154e50fa92a6755582c8c"
TEMPLATE_ID = "533155ec0fa92a6755582c8e"
PROFILE = "MP4_H264_AAC_640x480_24fps"

Call = Callable[[SezionAPI], Awaitable[Any]]


def client(**options: Any) -> PirsonalClient:
    return PirsonalClient(ACCOUNT_ID, "account-secret", retry=NO_RETRY, **options)


def reply_ok(request: httpx.Request) -> httpx.Response:
    request_id = json.loads(request.content)["id"]
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": request_id, "result": "OK"})


async def in_one_batch(pirsonal: PirsonalClient, calls: list[Call], queued: list[Any]) -> None:
    """Queues the calls in one batch, keeping what each returns in `queued`."""
    async with pirsonal.batch() as batch:
        for call in calls:
            queued.append(call(batch))


def new_template(**changes: Any) -> TemplateNew:
    fields: dict[str, Any] = {
        "name": "Welcome",
        "description": "A welcome video",
        "input_scripts": ["[]"],
        "out_profiles": [PROFILE],
        "video_output": VideoOutput(type=VideoOutputType.sezion),
        **changes,
    }
    return TemplateNew(**fields)


def new_video(**changes: Any) -> Video:
    return Video(name="Hi Ana", **changes)


def template_new(**changes: Any) -> Call:
    return lambda api: api.template_new(new_template(**changes))


def video_new(**changes: Any) -> Call:
    return lambda api: api.template_video_new(TEMPLATE_ID, new_video(**changes))


# Each case: the call, then the param, path and reason the error must name.
BAD_CALLS = [
    pytest.param(
        template_new(input_scripts="[]"),
        "template",
        "template.inputScripts",
        "expected array of string, got string",
        id="str-for-string-array",
    ),
    pytest.param(
        template_new(out_profiles=5),
        "template",
        "template.outProfiles",
        "expected array of string, got int",
        id="int-for-string-array",
    ),
    pytest.param(
        template_new(out_profiles=(PROFILE,)),
        "template",
        "template.outProfiles",
        "expected array of string, got tuple",
        id="tuple-for-array",
    ),
    pytest.param(
        template_new(input_scripts=None),
        "template",
        "template.inputScripts",
        "must not be null (expected array of string)",
        id="none-for-required-array",
    ),
    pytest.param(
        video_new(form_data=["yes", 1]),
        "video",
        "video.formData[1]",
        "expected string, got int",
        id="int-in-string-array",
    ),
    pytest.param(
        video_new(input_medias="clip"),
        "video",
        "video.inputMedias",
        "expected array of InputMedia, got string",
        id="str-for-struct-array",
    ),
    pytest.param(
        video_new(input_medias=[{"inputID": 7, "type": "video"}]),
        "video",
        "video.inputMedias[0].inputID",
        "expected string, got int",
        id="dict-in-struct-array",
    ),
    pytest.param(
        video_new(input_medias=[InputMedia(input_id="clip", type="movie")]),  # type: ignore[arg-type]
        "video",
        "video.inputMedias[0].type",
        "'movie' is not a value of enum MediaType (video, audio, image, text)",
        id="str-for-enum",
    ),
    pytest.param(
        template_new(video_output=VideoOutput(type=MediaType.video)),  # type: ignore[arg-type]
        "template",
        "template.videoOutput.type",
        "expected string (enum VideoOutputType), got MediaType",
        id="other-enum-for-enum",
    ),
    pytest.param(
        template_new(video_output={"type": "ftp"}),
        "template",
        "template.videoOutput.type",
        "'ftp' is not a value of enum VideoOutputType (sezion, pirsonal, youtube)",
        id="dict-for-struct",
    ),
    pytest.param(
        video_new(out_files=[OutFile(name="a.mp4", profile=PROFILE, storage="s-1")]),  # type: ignore[arg-type]
        "video",
        "video.outFiles[0].storage",
        "expected object (struct OutFileStorage), got string",
        id="str-for-nested-struct",
    ),
    pytest.param(
        template_new(video_output=None),
        "template",
        "template.videoOutput",
        "must not be null (expected object (struct VideoOutput))",
        id="none-for-required-struct",
    ),
    pytest.param(
        video_new(duration=math.nan),
        "video",
        "video.duration",
        "nan is not a JSON number",
        id="nan-for-float",
    ),
    pytest.param(
        lambda api: api.template_new(new_video()),
        "template",
        "template",
        "expected TemplateNew, got Video",
        id="other-struct-for-struct-param",
    ),
    pytest.param(
        lambda api: api.template_set_status(TEMPLATE_ID, "on"),
        "status",
        "status",
        "expected TemplateStatus, got str (convert a wire value with TemplateStatus(value))",
        id="str-for-enum-param",
    ),
    pytest.param(
        lambda api: api.template_set_status(TEMPLATE_ID, VideoOutputType.sezion),
        "status",
        "status",
        "expected TemplateStatus, got VideoOutputType",
        id="other-enum-for-enum-param",
    ),
    pytest.param(
        lambda api: api.media_apply_pattern(
            "m-1",
            PatternType.audiolevel,
            PatternAction.info,
            {"threshold": -30},
        ),
        "parameters",
        "parameters",
        "expected string, got object",
        id="dict-for-string-param",
    ),
]


@pytest.mark.parametrize(("make_call", "param", "path", "reason"), BAD_CALLS)
async def test_a_wrong_type_is_refused_by_name_before_sending(
    respx_mock: respx.MockRouter, make_call: Call, param: str, path: str, reason: str
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_ok)

    async with client() as pirsonal:
        with pytest.raises(RequestValidationError) as caught:
            await make_call(pirsonal)

    assert (caught.value.param, caught.value.path, caught.value.reason) == (param, path, reason)
    shown = f" ({path})" if path != param else ""
    assert str(caught.value).endswith(f": param '{param}'{shown}: {reason}")
    assert route.call_count == 0


@pytest.mark.parametrize(("make_call", "param", "path", "reason"), BAD_CALLS)
async def test_a_wrong_type_in_a_batch_sends_nothing(
    respx_mock: respx.MockRouter, make_call: Call, param: str, path: str, reason: str
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_ok)
    queued: list[Awaitable[Any]] = []

    async with client() as pirsonal:
        with pytest.raises(RequestValidationError) as caught:
            await in_one_batch(pirsonal, [lambda api: api.media_list(), make_call], queued)

    assert (caught.value.param, caught.value.path, caught.value.reason) == (param, path, reason)
    [listed] = queued
    assert isinstance(listed, asyncio.Future)
    assert listed.cancelled()
    assert route.call_count == 0


async def test_without_validation_a_wrong_value_is_sent_as_given_not_converted(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(API_URL).mock(side_effect=reply_ok)

    async with client(validate=False) as pirsonal:
        assert await pirsonal.template_new(new_template(input_scripts="[]")) == "OK"

    [call] = respx_mock.calls
    [sent] = json.loads(call.request.content)["params"]
    assert sent["inputScripts"] == "[]"


UNENCODABLE = [
    pytest.param(
        lambda api: api.template_set_status(TEMPLATE_ID, VideoOutputType.sezion),
        "expected TemplateStatus, got VideoOutputType",
        id="other-enum",
    ),
    pytest.param(
        lambda api: api.template_new(new_template(video_output=new_video())),
        "param #0 is not JSON-serialisable: Object of type Video",
        id="other-struct",
    ),
]


@pytest.mark.parametrize(("make_call", "reason"), UNENCODABLE)
async def test_without_validation_a_value_json_cannot_hold_is_still_refused(
    respx_mock: respx.MockRouter, make_call: Call, reason: str
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_ok)

    async with client(validate=False) as pirsonal:
        with pytest.raises(RequestValidationError) as caught:
            await make_call(pirsonal)
        with pytest.raises(RequestValidationError) as in_batch:
            await in_one_batch(pirsonal, [make_call], [])

    assert caught.value.reason.startswith(reason)
    assert in_batch.value.reason.startswith(reason)
    assert route.call_count == 0


async def test_extra_that_is_not_a_dict_is_refused_by_name(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_ok)
    make_call = video_new(extra=["landingInfo"])
    queued: list[Any] = []
    message = r"^Video\.extra: expected a dict, got list$"

    async with client() as pirsonal:
        with pytest.raises(TypeError, match=message):
            await make_call(pirsonal)
        with pytest.raises(TypeError, match=message):
            await in_one_batch(pirsonal, [lambda api: api.media_list(), make_call], queued)

    [listed] = queued
    assert listed.cancelled()
    assert route.call_count == 0
