"""A server that starts sending a new enum value breaks nothing, unless the caller asks `strict`."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from pirsonal_async import (
    PirsonalClient,
    ProtocolError,
    RequestValidationError,
    WebhookError,
    parse_webhook,
)
from pirsonal_async.contract import Contract
from pirsonal_async.generated import CONTRACT, DecodeError, UnknownEnumValue
from pirsonal_async.generated import _json as codec
from pirsonal_async.testing import mock_pirsonal
from pirsonal_async.types import InputMedia, MediaType, Video, VideoOutput, VideoOutputType

# A Video as a newer server may send it: a media kind and an output target this contract lacks.
NEWER_VIDEO: dict[str, Any] = {
    "id": "v1",
    "name": "Hi",
    "inputMedias": [
        {"inputID": "a", "type": "hologram"},
        {"inputID": "b", "type": "video"},
    ],
    "videoOutput": {"type": "vimeo"},
}


def check_newer_video(video: Video) -> None:
    first, second = video.input_medias or []
    assert first.type == UnknownEnumValue("hologram")
    assert first.type.value == "hologram"
    assert first.type != MediaType.video
    assert second.type is MediaType.video
    assert video.video_output is not None
    assert isinstance(video.video_output.type, UnknownEnumValue)
    # Written back exactly as received.
    assert video.to_json() == NEWER_VIDEO


@pytest.mark.parametrize("validate", [True, False])
async def test_video_get_keeps_an_unknown_enum_value(
    respx_mock: respx.MockRouter, validate: bool
) -> None:
    mock_pirsonal(respx_mock).returns("Video_Get", NEWER_VIDEO)
    async with PirsonalClient("acc", "secret", validate=validate) as client:
        video = await client.video_get("v1")
    check_newer_video(video)


async def test_a_batch_keeps_an_unknown_enum_value(respx_mock: respx.MockRouter) -> None:
    mock_pirsonal(respx_mock).returns("Template_Video_List", [NEWER_VIDEO])
    async with PirsonalClient("acc", "secret") as client:
        async with client.batch() as batch:
            videos = batch.template_video_list("t1")
        [video] = await videos
    check_newer_video(video)


async def test_a_strict_client_refuses_an_unknown_enum_value(
    respx_mock: respx.MockRouter,
) -> None:
    mock_pirsonal(respx_mock).returns("Video_Get", NEWER_VIDEO)
    async with PirsonalClient("acc", "secret", strict=True) as client:
        with pytest.raises(ProtocolError, match=r"result\.inputMedias\[0\]\.type: 'hologram'"):
            await client.video_get("v1")


def test_a_webhook_with_an_unknown_enum_value_is_accepted() -> None:
    check_newer_video(parse_webhook(json.dumps(NEWER_VIDEO)))


def test_a_strict_webhook_parse_refuses_an_unknown_enum_value() -> None:
    with pytest.raises(WebhookError, match=r"video\.inputMedias\[0\]\.type: expected one of"):
        parse_webhook(json.dumps(NEWER_VIDEO), strict=True)


def test_strict_decoding_names_the_first_unknown_value() -> None:
    with pytest.raises(DecodeError) as caught:
        Video.from_json({**NEWER_VIDEO, "inputMedias": []}, "video", strict=True)
    assert caught.value.path == "video.videoOutput.type"
    assert "got 'vimeo'" in caught.value.problem


def test_a_value_that_is_no_string_still_fails_without_strict() -> None:
    with pytest.raises(DecodeError, match=r"^InputMedia\.type: expected one of .* got an integer"):
        InputMedia.from_json({"inputID": "a", "type": 3})


def test_an_enum_result_decoder_keeps_unknown_values_unless_strict() -> None:
    assert codec.member(MediaType)("video") is MediaType.video
    assert codec.member(MediaType)("hologram") == UnknownEnumValue("hologram")
    with pytest.raises(DecodeError, match=r"^result: expected one of .* got 'hologram'"):
        codec.member(MediaType, strict=True)("hologram")
    decode_list = codec.array(codec.member(MediaType))
    assert decode_list(["hologram", "text"]) == [UnknownEnumValue("hologram"), MediaType.text]


def test_the_lenient_contract_check_accepts_unknown_values_the_strict_one_refuses() -> None:
    contract = Contract(CONTRACT)
    contract.validate_result("SezionAPI.Video_Get", NEWER_VIDEO)
    with pytest.raises(ValueError, match=r"'hologram' is not a value of enum MediaType"):
        contract.validate_result("SezionAPI.Video_Get", NEWER_VIDEO, strict=True)
    # The sandbox checks what clients send as the reference server does: strictly.
    with pytest.raises(ValueError, match=r"inputMedias\[0\]\.type\): 'hologram' is not a value"):
        contract.validate_params("SezionAPI.Template_Video_New", ["t1", NEWER_VIDEO])


def test_a_typed_value_can_hold_an_unknown_value_and_mock_answers_send_it() -> None:
    output = VideoOutput(type=UnknownEnumValue("vimeo"))
    assert output.to_json() == {"type": "vimeo"}
    assert VideoOutput.from_json(output.to_json()) == output
    assert VideoOutput(type=VideoOutputType.youtube) != output


@pytest.mark.parametrize("validate", [True, False])
async def test_sending_an_unknown_value_back_is_checked_like_any_argument(
    respx_mock: respx.MockRouter, validate: bool
) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.returns("Template_Video_New", "v2")
    video = Video.from_json(NEWER_VIDEO)
    async with PirsonalClient("acc", "secret", validate=validate) as client:
        if validate:
            with pytest.raises(RequestValidationError, match=r"inputMedias\[0\]\.type"):
                await client.template_video_new("t1", video)
        else:
            assert await client.template_video_new("t1", video) == "v2"
    assert pirsonal.calls("Template_Video_New") == ([] if validate else [["t1", NEWER_VIDEO]])
