"""The sandbox's in-memory account: every operation, every documented misuse code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import (
    ACCOUNT_ID,
    ACCOUNT_SECRET,
    BAD_WEBHOOK_URLS,
    PROFILE,
    template_spec,
    video_spec,
)

from pirsonal_async.contract import Contract
from pirsonal_async.sandbox import Delivery, SandboxState
from pirsonal_async.sandbox.rpc_server import RpcFault
from pirsonal_async.sandbox.state import (
    RENDER_FAILED,
    Principal,
    check_webhook_url,
    iso_ms,
    new_id,
    url_origin,
)

AddMedia = Callable[..., str]


def fault_code(action: Callable[[], object]) -> int:
    with pytest.raises(RpcFault) as caught:
        action()
    return caught.value.code


def test_ids_look_like_pirsonal_ids() -> None:
    ids = {new_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)


def test_dates_are_iso_8601_with_milliseconds(state: SandboxState) -> None:
    assert iso_ms(state.clock()) == "2014-03-25T11:21:00.047Z"


def test_repr_hides_the_account_secret(state: SandboxState) -> None:
    state.template_new(template_spec())
    assert ACCOUNT_SECRET not in repr(state)
    assert next(iter(state.templates.values()))["secret"] not in repr(state)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, 1015),
        ({"accountSecret": ACCOUNT_SECRET}, 1015),
        ({"accountID": "000000000000000000000000", "accountSecret": ACCOUNT_SECRET}, 1015),
        ({"accountID": ACCOUNT_ID}, 1015),
        ({"accountID": ACCOUNT_ID, "accountSecret": "wrong"}, 1018),
        ({"accountID": ACCOUNT_ID, "templateID": "nope", "templateSecret": "x"}, 1015),
    ],
)
def test_bad_credentials(state: SandboxState, query: dict[str, str], code: int) -> None:
    assert fault_code(lambda: state.authenticate(query)) == code


def test_account_and_template_credentials(state: SandboxState) -> None:
    template_id = state.template_new(template_spec())
    secret = state.templates[template_id]["secret"]
    account = {"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET}
    scoped = {"accountID": ACCOUNT_ID, "templateID": template_id, "templateSecret": secret}
    assert state.authenticate(account) == Principal()
    assert state.authenticate(scoped) == Principal(template_id=template_id)
    assert fault_code(lambda: state.authenticate({**scoped, "templateSecret": "no"})) == 1018
    assert fault_code(lambda: state.authenticate({**scoped, "templateSecret": ""})) == 1018
    without_secret = {"accountID": ACCOUNT_ID, "templateID": template_id}
    assert fault_code(lambda: state.authenticate(without_secret)) == 1015


def test_template_lifecycle(state: SandboxState, contract: Contract) -> None:
    template_id = state.template_new(template_spec(videoInputs={"video": 1, "text": 1}))
    [template] = state.template_list()
    contract.validate_result("SezionAPI.Template_List", [template], strict=True)
    assert template["id"] == template_id
    assert template["status"] == "active"
    assert template["date"] == "2014-03-25T11:21:00.047Z"
    assert len(template["secret"]) == 32
    assert template["videoInputs"] == {"video": 1, "text": 1}

    state.template_update(template_id, {"name": "Renamed", "description": None})
    state.template_set_status(template_id, "inactive")
    [template] = state.template_list()
    assert (template["name"], template["description"]) == ("Renamed", "A welcome video")
    assert template["status"] == "inactive"

    state.template_delete(template_id)
    assert state.template_list() == []


def test_results_are_copies(state: SandboxState) -> None:
    state.template_new(template_spec())
    state.template_list()[0]["name"] = "changed by the caller"
    assert state.template_list()[0]["name"] == "Welcome"


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"inputScripts": []}, 1009, "No scripts"),
        ({"inputScripts": ["not json"]}, 1005, "Bad script"),
        ({"inputScripts": ['{"video": {}}']}, 1005, "Bad script"),
        ({"inputScripts": ['[{"video": {}, "audio": {}}]']}, 1005, "Bad script"),
        ({"inputScripts": ['[{"sparkles": {}}]']}, 1005, "Bad script"),
        (
            {"inputScripts": ['[{"video": {"id": "a"}}, {"audio": {"id": "a"}}]']},
            1005,
            "Bad script",
        ),
        ({"outProfiles": []}, 1032, "No video profiles in template"),
        ({"outProfiles": [PROFILE, PROFILE]}, 1032, "Duplicated profile name"),
        ({"outProfiles": ["HD"]}, 2002, "Video profile not allowed"),
    ],
)
def test_template_rules(
    state: SandboxState, changes: dict[str, Any], code: int, message: str
) -> None:
    with pytest.raises(RpcFault) as new:
        state.template_new(template_spec(**changes))
    assert (new.value.code, new.value.message.split(":")[0]) == (code, message)
    template_id = state.template_new(template_spec())
    with pytest.raises(RpcFault) as update:
        state.template_update(template_id, changes)
    assert update.value.code == code


def test_unknown_template(state: SandboxState) -> None:
    for action in (
        lambda: state.template_update("missing", {}),
        lambda: state.template_delete("missing"),
        lambda: state.template_set_status("missing", "active"),
        lambda: state.template_videos("missing"),
        lambda: state.video_new("missing", {"name": "x"}),
        lambda: state.add_webhook("http://hook.test/", "missing"),
    ):
        with pytest.raises(RpcFault) as caught:
            action()
        assert (caught.value.code, caught.value.message) == (1000, "Template not found: 'missing'")


def test_video_lifecycle(state: SandboxState, add_media: AddMedia, contract: Contract) -> None:
    template_id = state.template_new(template_spec())
    queued: list[str] = []
    state.on_video_queued.append(queued.append)
    spec = video_spec(add_media(), id="client-id", status={"code": "done"}, outFiles=[])
    video_id = state.video_new(template_id, spec)

    assert queued == [video_id]
    video = state.video_get(video_id)
    contract.validate_result("SezionAPI.Video_Get", video, strict=True)
    assert video["id"] == video_id
    assert (video["accountID"], video["templateID"]) == (ACCOUNT_ID, template_id)
    assert video["status"] == {"code": "queued"}
    assert video["date"] == "2014-03-25T11:21:00.047Z"
    assert "outFiles" not in video
    assert (video["name"], video["data"]) == ("Hi Ana", "crm-42")
    assert state.out_files(video_id) == []

    state.video_update(video_id, {"name": "Hello Ana", "data": None})
    state.video_update(video_id, {"email": "ana@example.com", "formData": ["a", "b"]})
    video = state.video_get(video_id)
    assert (video["name"], video["data"], video["email"]) == (
        "Hello Ana",
        "crm-42",
        "ana@example.com",
    )
    assert state.template_videos(template_id) == [video]
    contract.validate_result("SezionAPI.Template_Video_List", [video], strict=True)

    state.video_delete(video_id)
    assert fault_code(lambda: state.video_get(video_id)) == 1007
    assert state.template_videos(template_id) == []


def test_rendering_marks_the_video_done_with_out_files(
    state: SandboxState, add_media: AddMedia, contract: Contract
) -> None:
    second_profile = "WEBM_VP8_VORBIS_640x480_24fps"
    template_id = state.template_new(template_spec(outProfiles=[PROFILE, second_profile]))
    video_id = state.video_new(template_id, video_spec(add_media()))

    assert state.start_processing(video_id)
    assert state.video_get(video_id)["status"] == {"code": "processing"}
    rendered = state.finish_render(video_id)

    assert rendered == state.video_get(video_id)
    contract.validate_result("SezionAPI.Video_Get", rendered, strict=True)
    assert rendered["status"] == {"code": "done"}
    assert rendered["duration"] == 2000
    mp4, webm = rendered["outFiles"]
    assert mp4["name"] == f"{video_id}.MP4_H264_AAC_640x480.mp4"
    assert mp4["profile"] == PROFILE
    assert mp4["storage"] == {"pirsonalID": f"{video_id}.{PROFILE}"}
    assert mp4["size"] > 0
    assert webm["name"] == f"{video_id}.WEBM_VP8_VORBIS_640x480.webm"
    assert state.out_file(video_id, f"{video_id}.{second_profile}") == webm
    assert state.stored_file_exists(f"{video_id}.{second_profile}")
    assert not state.stored_file_exists(f"{video_id}.OTHER")
    assert fault_code(lambda: state.out_file(video_id, f"{video_id}.OTHER")) == 1006


def test_rendering_a_deleted_video_does_nothing(state: SandboxState, add_media: AddMedia) -> None:
    template_id = state.template_new(template_spec())
    video_id = state.video_new(template_id, video_spec(add_media()))
    state.video_delete(video_id)
    assert not state.start_processing(video_id)
    assert state.finish_render(video_id) is None


def test_duration_defaults_when_the_script_has_no_numeric_timing(
    state: SandboxState, add_media: AddMedia
) -> None:
    script = json.dumps([{"video": {"id": "clip", "play": "start", "duration": 10}}])
    template_id = state.template_new(template_spec(inputScripts=[script]))
    spec = video_spec(add_media(), inputMedias=[{"inputID": "clip", "type": "video", "http": "x"}])
    video_id = state.video_new(template_id, spec)
    assert state.finish_render(video_id) is not None
    assert state.video_get(video_id)["duration"] == 5000


def test_a_video_may_bring_its_own_script(state: SandboxState) -> None:
    blank = state.template_new(template_spec(inputScripts=["[]"]))
    script = json.dumps([{"image": {"id": "logo"}}])
    logo = {"inputID": "logo", "type": "image", "http": "https://example.com/logo.png"}
    video_id = state.video_new(
        blank, {"name": "own", "inputScripts": [script], "inputMedias": [logo]}
    )
    assert state.video_get(video_id)["inputScripts"] == [script]


def medias(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return list(items)


CLIP_HTTP = {"inputID": "clip", "type": "video", "http": "https://example.com/clip.mp4"}
NAME_TEXT = {"inputID": "name", "type": "text", "text": "Ana"}


@pytest.mark.parametrize(
    ("input_medias", "code"),
    [
        (medias(CLIP_HTTP, NAME_TEXT, {"inputID": "extra", "type": "video", "http": "x"}), 1002),
        (medias(CLIP_HTTP, {**NAME_TEXT, "type": "image"}), 1004),
        (medias(CLIP_HTTP, NAME_TEXT, NAME_TEXT), 1004),
        (medias(CLIP_HTTP), 1004),
        (medias(CLIP_HTTP, NAME_TEXT, {"inputID": "frame", "type": "image", "http": "x"}), 1004),
        (medias({**CLIP_HTTP, "awsS3": {"bucket": "b", "key": "k"}}, NAME_TEXT), 1029),
        (medias({"inputID": "clip", "type": "video"}, NAME_TEXT), 1029),
        (medias({"inputID": "clip", "type": "video", "text": "x"}, NAME_TEXT), 1029),
        (medias(CLIP_HTTP, {"inputID": "name", "type": "text", "http": "x"}), 1029),
        (medias({"inputID": "clip", "type": "video", "pirsonalID": "missing"}, NAME_TEXT), 1001),
    ],
)
def test_input_media_rules(
    state: SandboxState, input_medias: list[dict[str, Any]], code: int
) -> None:
    template_id = state.template_new(template_spec())
    spec = {"name": "v", "inputMedias": input_medias}
    assert fault_code(lambda: state.video_new(template_id, spec)) == code
    assert state.videos == {}


def test_media_of_the_wrong_kind_is_a_bad_input_media(
    state: SandboxState, add_media: AddMedia
) -> None:
    template_id = state.template_new(template_spec())
    image_id = add_media("image")
    spec = video_spec(image_id)
    assert fault_code(lambda: state.video_new(template_id, spec)) == 1029


def test_medias_for_a_script_without_inputs(state: SandboxState) -> None:
    template_id = state.template_new(template_spec(inputScripts=["[]"]))
    spec = {"name": "v", "inputMedias": [CLIP_HTTP]}
    assert fault_code(lambda: state.video_new(template_id, spec)) == 1003


def test_inactive_template_and_credits(state: SandboxState) -> None:
    template_id = state.template_new(template_spec(inputScripts=["[]"]))
    state.template_set_status(template_id, "inactive")
    assert fault_code(lambda: state.video_new(template_id, {"name": "v"})) == 1028
    state.template_set_status(template_id, "active")
    state.credits = 1
    state.video_new(template_id, {"name": "v"})
    assert state.credits == 0
    assert fault_code(lambda: state.video_new(template_id, {"name": "w"})) == 2004


def test_deleting_a_template_deletes_its_videos(state: SandboxState) -> None:
    template_id = state.template_new(template_spec(inputScripts=["[]"]))
    other_id = state.template_new(template_spec(inputScripts=["[]"]))
    state.add_webhook("http://hook.test/t", template_id)
    video_id = state.video_new(template_id, {"name": "v"})
    kept_id = state.video_new(other_id, {"name": "w"})
    state.template_delete(template_id)
    assert list(state.videos) == [kept_id]
    assert video_id not in state.videos
    assert template_id not in state.webhooks


def test_media_storage(state: SandboxState, add_media: AddMedia, contract: Contract) -> None:
    state.media_quota = 100
    media_id = add_media("audio", size=60)
    [media] = state.media_list()
    contract.validate_result("SezionAPI.Media_List", [media], strict=True)
    assert media == {
        "id": media_id,
        "name": "audio.bin",
        "description": "",
        "size": 60,
        "temp": False,
        "type": "audio",
    }
    assert fault_code(lambda: add_media(size=41)) == 2001
    add_media(size=40)
    state.media_delete(media_id)
    assert fault_code(lambda: state.media_delete(media_id)) == 1001
    assert media_id not in state.media_sha256


def clip_for(media_id: str) -> dict[str, Any]:
    """The fixed media of template_spec()'s `clip` input."""
    return {"inputID": "clip", "type": "video", "sezionID": media_id}


def test_a_media_a_template_uses_cannot_be_deleted(
    state: SandboxState, add_media: AddMedia
) -> None:
    template_id = state.template_new(template_spec())
    media_id = add_media()
    state.template_media_assign(template_id, [clip_for(media_id)])

    with pytest.raises(RpcFault) as caught:
        state.media_delete(media_id)

    assert (caught.value.code, caught.value.message) == (
        1008,
        f"Media in use in templates: template {template_id} uses it",
    )
    state.template_delete(template_id)
    state.media_delete(media_id)
    assert state.media == {}


def test_a_template_that_lets_a_media_go_frees_it(state: SandboxState, add_media: AddMedia) -> None:
    template_id = state.template_new(template_spec())
    media_id = add_media()
    state.template_media_assign(template_id, [clip_for(media_id)])

    state.template_media_assign(template_id, [])

    state.media_delete(media_id)
    assert state.media == {}


def test_a_template_s_fixed_media_fill_the_inputs_a_video_leaves_out(
    state: SandboxState, add_media: AddMedia
) -> None:
    template_id = state.template_new(template_spec())
    fixed, own = add_media(), add_media()
    state.template_media_assign(template_id, [clip_for(fixed)])
    name_only = [{"inputID": "name", "type": "text", "text": "Ana"}]

    state.video_new(template_id, video_spec(fixed, inputMedias=name_only))
    state.video_new(template_id, video_spec(own))  # its own clip wins over the fixed one

    assert fault_code(lambda: state.video_new(template_id, video_spec(fixed, inputMedias=[]))) == (
        1004  # the text input has no fixed media
    )


@pytest.mark.parametrize(
    ("medias", "code"),
    [
        ([clip_for("unknown")], 1001),
        ([{"inputID": "nope", "type": "video", "sezionID": "m"}], 1002),
        ([{"inputID": "clip", "type": "image", "sezionID": "m"}], 1004),
    ],
)
def test_a_template_s_fixed_media_are_checked(
    state: SandboxState, add_media: AddMedia, medias: list[dict[str, Any]], code: int
) -> None:
    template_id = state.template_new(template_spec())
    media_id = add_media()
    medias = json.loads(json.dumps(medias).replace('"m"', f'"{media_id}"'))

    assert fault_code(lambda: state.template_media_assign(template_id, medias)) == code
    assert state.template_media == {}


def test_a_media_a_queued_video_uses_may_go_and_its_render_then_fails(
    state: SandboxState, add_media: AddMedia
) -> None:
    template_id = state.template_new(template_spec())
    media_id = add_media()
    video_id = state.video_new(template_id, video_spec(media_id))

    state.media_delete(media_id)
    video = state.finish_render(video_id)

    assert video is not None
    assert video["status"] == {"code": RENDER_FAILED}
    assert "outFiles" not in video


def test_temporary_media_is_deleted_once_its_video_is_rendered(
    state: SandboxState, add_media: AddMedia
) -> None:
    template_id = state.template_new(template_spec())
    temp_id = add_media(temp=True)
    first = state.video_new(template_id, video_spec(temp_id))
    second = state.video_new(template_id, video_spec(temp_id))
    state.finish_render(first)
    assert temp_id in state.media, "still needed by the second video"
    state.finish_render(second)
    assert temp_id not in state.media


def test_temporary_media_of_a_video_deleted_before_rendering_is_freed(
    state: SandboxState, add_media: AddMedia
) -> None:
    state.media_quota = 100
    template_id = state.template_new(template_spec())
    temp_id = add_media(temp=True, size=60)
    first = state.video_new(template_id, video_spec(temp_id))
    second = state.video_new(template_id, video_spec(temp_id))
    state.video_delete(first)
    assert temp_id in state.media, "still needed by the second video"
    state.video_delete(second)
    assert temp_id not in state.media
    assert temp_id not in state.media_sha256
    add_media(size=100)  # the quota counts it no more


def test_deleting_a_template_frees_the_temporary_media_of_its_pending_videos(
    state: SandboxState, add_media: AddMedia
) -> None:
    template_id = state.template_new(template_spec())
    temp_id = add_media(temp=True)
    kept_id = add_media()
    state.video_new(template_id, video_spec(temp_id))
    state.video_new(template_id, video_spec(kept_id))
    state.template_delete(template_id)
    assert list(state.media) == [kept_id], "an account upload stays"


@pytest.mark.parametrize(
    ("kind", "parameters", "result"),
    [
        ("audio", '{"threshold": -30}', "OK"),
        ("video", "{}", "OK"),
        ("image", "{}", '{"error": "audiolevel needs an audio or video media"}'),
        ("audio", "[1]", '{"error": "parameters must be a JSON-encoded object"}'),
        ("audio", "{", '{"error": "parameters must be a JSON-encoded object"}'),
    ],
)
def test_media_apply_pattern(
    state: SandboxState, add_media: AddMedia, kind: str, parameters: str, result: str
) -> None:
    media_id = add_media(kind)
    assert state.media_apply_pattern(media_id, "audiolevel", "info", parameters) == result


def test_media_apply_pattern_on_unknown_media(state: SandboxState) -> None:
    assert fault_code(lambda: state.media_apply_pattern("x", "audiolevel", "info", "{}")) == 1001


def test_webhooks_per_template_and_for_all(state: SandboxState) -> None:
    first = state.template_new(template_spec())
    second = state.template_new(template_spec())
    state.add_webhook("http://hook.test/all")
    state.add_webhook("http://hook.test/first", first)
    state.add_webhook("http://hook.test/first", first)
    assert state.webhook_urls(first) == ["http://hook.test/all", "http://hook.test/first"]
    assert state.webhook_urls(second) == ["http://hook.test/all"]


async def test_wait_rendered(state: SandboxState) -> None:
    template_id = state.template_new(template_spec(inputScripts=["[]"]))
    video_id = state.video_new(template_id, {"name": "v"})
    state.mark_settled(video_id)
    await state.wait_rendered(video_id)
    with pytest.raises(KeyError, match="no video 'unknown'"):
        await state.wait_rendered("unknown")


async def test_deleting_a_video_releases_its_waiters(state: SandboxState) -> None:
    template_id = state.template_new(template_spec(inputScripts=["[]"]))
    video_id = state.video_new(template_id, {"name": "v"})
    state.video_delete(video_id)
    await state.wait_rendered(video_id)


@pytest.mark.parametrize(("url", "problem"), BAD_WEBHOOK_URLS.items())
def test_a_webhook_url_httpx_cannot_post_to_is_refused_without_echoing_it(
    state: SandboxState, url: str, problem: str
) -> None:
    template_id = state.template_new(template_spec())
    for target in (None, template_id):
        with pytest.raises(ValueError) as caught:
            state.add_webhook(url, target)
        assert str(caught.value) == f"bad webhook URL: {problem}"
        # Not chained: a traceback shows no httpx error that could quote the URL.
        assert caught.value.__context__ is None
    assert state.webhooks == {}


def test_a_delivery_repr_shows_only_the_webhook_origin() -> None:
    url = "http://user:pw@hook.test:8080/hooks/path-s3cr3t?token=query-s3cr3t"
    delivery = Delivery("v1", "t1", url, 500, "HTTP 500")
    shown = repr([delivery])
    assert "url=http://hook.test:8080," in shown
    assert "s3cr3t" not in shown
    assert "pw" not in shown
    assert delivery.url == url


def test_url_origin() -> None:
    assert url_origin("https://hook.test/a?token=t") == "https://hook.test"
    assert url_origin("http://u:p@[::1]:9/h") == "http://[::1]:9"
    assert url_origin("http://[::1/hook?token=t") == "a malformed URL"


def test_check_webhook_url_accepts_absolute_http_urls() -> None:
    for url in ("http://hook.test/", "HTTPS://Hook.test:8443/a?token=t", "http://[::1]:9/h"):
        check_webhook_url(url)
