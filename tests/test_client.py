"""PirsonalClient over mocked HTTP: every method's envelope and reply, batches, uploads, secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx
from attrs import frozen

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import (
    AuthenticationError,
    AuthError,
    BadSecret,
    ConflictError,
    HttpStatusError,
    InvalidParams,
    JsonRpcError,
    LimitError,
    MediaInUse,
    NoCredit,
    NotFoundError,
    PirsonalAsyncError,
    ProtocolError,
    RequestValidationError,
    RpcError,
    TemplateInactive,
    TemplateNotFound,
    TransportError,
    VideoNotFound,
)
from pirsonal_async.generated import CONTRACT, SezionAPI
from pirsonal_async.retry import NO_RETRY, RetryPolicy
from pirsonal_async.types import (
    InputMedia,
    Link,
    Media,
    MediaType,
    OutFile,
    OutFileStorage,
    PatternAction,
    PatternType,
    Template,
    TemplateNew,
    TemplateStatus,
    TemplateUpdate,
    Video,
    VideoInputs,
    VideoMetaData,
    VideoOutput,
    VideoOutputType,
    VideoStatus,
    VideoUpdate,
)

BASE_URL = "https://app.pirsonal.com"
API_URL = f"{BASE_URL}/api"
UPLOAD_URL = f"{BASE_URL}/api/upload"
ACCOUNT_ID = "533154e50fa92a6755582c8c"
TEMPLATE_ID = "533155ec0fa92a6755582c8e"
OTHER_TEMPLATE_ID = "533155ec0fa92a6755582c8f"
VIDEO_ID = "5331669c0fa92a6755582c9e"
MEDIA_ID = "5331669c0fa92a6755582c9f"
PROFILE = "MP4_H264_AAC_640x480_24fps"
PIRSONAL_ID = f"{VIDEO_ID}.{PROFILE}"
SCRIPT = json.dumps(
    [
        {"video": {"id": "clip", "play": 0, "duration": 2000}},
        {"text": {"id": "name", "play": 500, "duration": 1000}},
    ]
)
# The canaries: no text the library produces may contain CANARY, however it is spelled.
CANARY = "Zq9canary"
ACCOUNT_SECRET = f"{CANARY}-account/+ &='\"é"
TEMPLATE_SECRET = f"{CANARY}-template"
ACCOUNT_QUERY = [("accountID", ACCOUNT_ID), ("accountSecret", ACCOUNT_SECRET)]
TEMPLATE_QUERY = [
    ("accountID", ACCOUNT_ID),
    ("templateID", TEMPLATE_ID),
    ("templateSecret", TEMPLATE_SECRET),
]

# docAPI.txt's webhook example: the Video that Video_Get returns once a video is done.
DOCS_VIDEO_JSON: dict[str, Any] = {
    "accountID": ACCOUNT_ID,
    "description": "Test video for webhoook",
    "duration": 2000,
    "name": "Test video",
    "templateID": TEMPLATE_ID,
    "outFiles": [
        {
            "name": f"{VIDEO_ID}.MP4_H264_AAC_640x480.mp4",
            "profile": PROFILE,
            "size": 27841,
            "storage": {"pirsonalID": PIRSONAL_ID},
        }
    ],
    "status": {"code": "done"},
    "date": "2014-03-25T11:21:00.047Z",
    "id": VIDEO_ID,
    "data": "String passed as data parameter to Video Object when Template_VideoNew was called",
}
DOCS_VIDEO = Video(
    id=VIDEO_ID,
    account_id=ACCOUNT_ID,
    template_id=TEMPLATE_ID,
    name="Test video",
    description="Test video for webhoook",
    data="String passed as data parameter to Video Object when Template_VideoNew was called",
    date="2014-03-25T11:21:00.047Z",
    duration=2000.0,
    status=VideoStatus(code="done"),
    out_files=[
        OutFile(
            name=f"{VIDEO_ID}.MP4_H264_AAC_640x480.mp4",
            profile=PROFILE,
            size=27841,
            storage=OutFileStorage(pirsonal_id=PIRSONAL_ID),
        )
    ],
)
TEMPLATE_JSON: dict[str, Any] = {
    "id": TEMPLATE_ID,
    "name": "Welcome",
    "description": "A welcome video",
    "date": "2014-03-25T11:20:00.000Z",
    "status": "active",
    "secret": "template-secret-from-list",
    "inputScripts": [SCRIPT],
    "outProfiles": [PROFILE],
    "videoInputs": {"video": 1, "text": 1},
    "videoOutput": {"type": "sezion"},
}
TEMPLATE = Template(
    id=TEMPLATE_ID,
    name="Welcome",
    description="A welcome video",
    date="2014-03-25T11:20:00.000Z",
    status="active",
    secret="template-secret-from-list",
    input_scripts=[SCRIPT],
    out_profiles=[PROFILE],
    video_inputs=VideoInputs(video=1, text=1),
    video_output=VideoOutput(type=VideoOutputType.sezion),
)
LINK_JSON = {"id": PIRSONAL_ID, "profile": PROFILE, "url": f"https://cdn.example/{PIRSONAL_ID}"}
LINK = Link(id=PIRSONAL_ID, profile=PROFILE, url=f"https://cdn.example/{PIRSONAL_ID}")
MEDIA_JSON = {
    "id": MEDIA_ID,
    "name": "intro.mp4",
    "description": "Intro",
    "size": 1000,
    "temp": False,
    "type": "video",
}
MEDIA = Media(
    id=MEDIA_ID, name="intro.mp4", description="Intro", size=1000, temp=False, type="video"
)
NEW_TEMPLATE = TemplateNew(
    name="Welcome",
    description="A welcome video",
    input_scripts=[SCRIPT],
    out_profiles=[PROFILE],
    video_output=VideoOutput(type=VideoOutputType.sezion),
    video_inputs=VideoInputs(video=1, text=1),
)
NEW_VIDEO = Video(
    name="Hi Ana",
    data="crm-42",
    input_medias=[
        InputMedia(input_id="clip", type=MediaType.video, sezion_id=MEDIA_ID),
        InputMedia(input_id="name", type=MediaType.text, text="Ana"),
    ],
)


@frozen
class Case:
    """One IDL function: a call, the params it must send, a reply and its decoded value."""

    call: Callable[[SezionAPI], Awaitable[Any]]
    params: list[Any]
    result: Any
    decoded: Any


CASES: dict[str, Case] = {
    "Template_New": Case(
        lambda api: api.template_new(NEW_TEMPLATE),
        [
            {
                "name": "Welcome",
                "description": "A welcome video",
                "inputScripts": [SCRIPT],
                "outProfiles": [PROFILE],
                "videoOutput": {"type": "sezion"},
                "videoInputs": {"video": 1, "text": 1},
            }
        ],
        TEMPLATE_ID,
        TEMPLATE_ID,
    ),
    "Template_Update": Case(
        lambda api: api.template_update(
            TEMPLATE_ID, TemplateUpdate(name="Renamed", out_profiles=[PROFILE])
        ),
        [TEMPLATE_ID, {"name": "Renamed", "outProfiles": [PROFILE]}],
        "OK",
        "OK",
    ),
    "Template_Delete": Case(
        lambda api: api.template_delete(TEMPLATE_ID, True), [TEMPLATE_ID, True], "OK", "OK"
    ),
    "Template_List": Case(lambda api: api.template_list(), [], [TEMPLATE_JSON], [TEMPLATE]),
    "Template_SetStatus": Case(
        lambda api: api.template_set_status(TEMPLATE_ID, TemplateStatus.inactive),
        [TEMPLATE_ID, "inactive"],
        "OK",
        "OK",
    ),
    "Template_Video_New": Case(
        lambda api: api.template_video_new(TEMPLATE_ID, NEW_VIDEO),
        [
            TEMPLATE_ID,
            {
                "name": "Hi Ana",
                "data": "crm-42",
                "inputMedias": [
                    {"inputID": "clip", "type": "video", "sezionID": MEDIA_ID},
                    {"inputID": "name", "type": "text", "text": "Ana"},
                ],
            },
        ],
        VIDEO_ID,
        VIDEO_ID,
    ),
    "Template_Video_List": Case(
        lambda api: api.template_video_list(TEMPLATE_ID),
        [TEMPLATE_ID],
        [DOCS_VIDEO_JSON],
        [DOCS_VIDEO],
    ),
    "Video_Get": Case(lambda api: api.video_get(VIDEO_ID), [VIDEO_ID], DOCS_VIDEO_JSON, DOCS_VIDEO),
    "Video_Update": Case(
        lambda api: api.video_update(VIDEO_ID, VideoUpdate(description="New", data="crm-43")),
        [VIDEO_ID, {"description": "New", "data": "crm-43"}],
        "OK",
        "OK",
    ),
    "Video_Update_Metadata": Case(
        lambda api: api.video_update_metadata(
            VIDEO_ID,
            VideoMetaData(
                email="ana@example.com",
                first_name="Ana",
                ga_tracking_code="UA-1-1",
                form_data=["yes", "no"],
            ),
        ),
        [
            VIDEO_ID,
            {
                "email": "ana@example.com",
                "firstName": "Ana",
                "GATrackingCode": "UA-1-1",
                "formData": ["yes", "no"],
            },
        ],
        "OK",
        "OK",
    ),
    "Video_Delete": Case(
        lambda api: api.video_delete(VIDEO_ID, False), [VIDEO_ID, False], "OK", "OK"
    ),
    "Video_Get_Links": Case(
        lambda api: api.video_get_links(VIDEO_ID), [VIDEO_ID], [LINK_JSON], [LINK]
    ),
    "Video_Pirsonal_Link": Case(
        lambda api: api.video_pirsonal_link(VIDEO_ID, PIRSONAL_ID),
        [VIDEO_ID, PIRSONAL_ID],
        LINK_JSON,
        LINK,
    ),
    "Media_List": Case(lambda api: api.media_list(), [], [MEDIA_JSON], [MEDIA]),
    "Media_Delete": Case(lambda api: api.media_delete(MEDIA_ID), [MEDIA_ID], "OK", "OK"),
    "Media_Apply_Pattern": Case(
        lambda api: api.media_apply_pattern(
            MEDIA_ID, PatternType.audiolevel, PatternAction.info, '{"threshold": -30}'
        ),
        [MEDIA_ID, "audiolevel", "info", '{"threshold": -30}'],
        "OK",
        "OK",
    ),
}

Answer = Callable[[httpx.Request], httpx.Response]


def reply_with(**envelope: Any) -> Answer:
    """Answers a single call with a JSON-RPC reply echoing its id."""

    def answer(request: httpx.Request) -> httpx.Response:
        request_id = json.loads(request.content)["id"]
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": request_id, **envelope})

    return answer


def upload_reply(request: httpx.Request) -> httpx.Response:
    """Answers an upload with the stored MEDIA."""
    return httpx.Response(200, json={"error": None, "media": MEDIA_JSON})


def account_client(**options: Any) -> PirsonalClient:
    return PirsonalClient(ACCOUNT_ID, ACCOUNT_SECRET, **{"retry": NO_RETRY, **options})


def template_client(**options: Any) -> PirsonalClient:
    return PirsonalClient.for_template(
        ACCOUNT_ID, TEMPLATE_ID, TEMPLATE_SECRET, **{"retry": NO_RETRY, **options}
    )


def url_without_query(request: httpx.Request) -> str:
    return str(request.url.copy_with(query=None))


def test_the_table_covers_every_function_of_the_contract() -> None:
    [interface] = [entity for entity in CONTRACT if entity["type"] == "interface"]

    assert sorted(CASES) == sorted(function["name"] for function in interface["functions"])


@pytest.mark.parametrize("function", CASES)
async def test_every_method_sends_its_envelope_and_decodes_the_reply(
    respx_mock: respx.MockRouter, function: str
) -> None:
    case = CASES[function]
    route = respx_mock.post(API_URL).mock(side_effect=reply_with(result=case.result))

    async with account_client() as client:
        value = await case.call(client)

    request = route.calls.last.request
    assert url_without_query(request) == API_URL
    assert request.url.params.multi_items() == ACCOUNT_QUERY
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "jsonrpc": "2.0",
        "id": "1",
        "method": f"SezionAPI.{function}",
        "params": case.params,
    }
    assert value == case.decoded


async def test_video_get_gives_the_storage_id_of_each_output_file(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(API_URL).mock(side_effect=reply_with(result=DOCS_VIDEO_JSON))

    async with account_client() as client:
        video = await client.video_get(VIDEO_ID)

    assert video.status == VideoStatus(code="done")
    assert video.out_files is not None
    assert video.out_files[0].storage is not None
    assert video.out_files[0].storage.pirsonal_id == PIRSONAL_ID


async def test_a_template_scoped_client_sends_the_template_credentials(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_with(result=VIDEO_ID))

    async with template_client() as client:
        video_id = await client.template_video_new(TEMPLATE_ID, NEW_VIDEO)

    assert video_id == VIDEO_ID
    assert client.is_template_scoped
    assert route.calls.last.request.url.params.multi_items() == TEMPLATE_QUERY


async def test_an_account_client_is_not_template_scoped() -> None:
    async with account_client() as client:
        assert not client.is_template_scoped


async def test_a_base_url_moves_every_endpoint(respx_mock: respx.MockRouter) -> None:
    base = "http://127.0.0.1:8000/pirsonal"
    api = respx_mock.post(f"{base}/api").mock(side_effect=reply_with(result=[]))
    upload = respx_mock.post(f"{base}/api/upload").mock(side_effect=upload_reply)

    async with account_client(base_url=f"{base}/") as client:
        assert await client.media_list() == []
        assert await client.upload_media(b"x", content_type="video/mp4") == MEDIA

    assert (api.call_count, upload.call_count) == (1, 1)


async def test_a_batch_is_one_request_that_settles_every_future(
    respx_mock: respx.MockRouter,
) -> None:
    results = {"SezionAPI.Video_Get": DOCS_VIDEO_JSON, "SezionAPI.Video_Get_Links": [LINK_JSON]}

    def answer(request: httpx.Request) -> httpx.Response:
        calls = json.loads(request.content)
        replies: list[dict[str, Any]] = []
        for call in reversed(calls):  # out of order: replies are matched by id
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call["id"]}
            if call["method"] in results:
                reply["result"] = results[call["method"]]
            else:
                reply["error"] = {"code": 1008, "message": "Media in use in templates"}
            replies.append(reply)
        return httpx.Response(200, json=replies)

    route = respx_mock.post(API_URL).mock(side_effect=answer)

    async with account_client() as client, client.batch() as batch:
        video = batch.video_get(VIDEO_ID)
        links = batch.video_get_links(VIDEO_ID)
        deleted = batch.media_delete(MEDIA_ID)

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.url.params.multi_items() == ACCOUNT_QUERY
    assert [
        (call["id"], call["method"], call["params"]) for call in json.loads(request.content)
    ] == [
        ("1", "SezionAPI.Video_Get", [VIDEO_ID]),
        ("2", "SezionAPI.Video_Get_Links", [VIDEO_ID]),
        ("3", "SezionAPI.Media_Delete", [MEDIA_ID]),
    ]
    assert await video == DOCS_VIDEO
    assert await links == [LINK]
    with pytest.raises(MediaInUse) as caught:
        await deleted
    assert caught.value.method == "SezionAPI.Media_Delete"


BAD_CALLS = [
    pytest.param(
        lambda api: api.video_get(42),
        "SezionAPI.Video_Get",
        "videoID",
        "videoID",
        id="int-for-string",
    ),
    pytest.param(
        lambda api: api.template_delete(TEMPLATE_ID, "yes"),
        "SezionAPI.Template_Delete",
        "removeExternalFiles",
        "removeExternalFiles",
        id="string-for-bool",
    ),
    pytest.param(
        lambda api: api.template_new(
            TemplateNew(
                name="n",
                description="d",
                input_scripts=[SCRIPT],
                out_profiles=[PROFILE],
                video_output=VideoOutput(type=VideoOutputType.sezion),
                video_inputs=VideoInputs(video="1"),  # type: ignore[arg-type]
            )
        ),
        "SezionAPI.Template_New",
        "template",
        "template.videoInputs.video",
        id="string-for-int-in-a-struct",
    ),
    pytest.param(
        lambda api: api.template_video_new(TEMPLATE_ID, Video(name=None)),  # type: ignore[arg-type]
        "SezionAPI.Template_Video_New",
        "video",
        "video.name",
        id="missing-required-field",
    ),
    pytest.param(
        lambda api: api.template_video_new(
            TEMPLATE_ID,
            Video(name="v", input_medias=[InputMedia(input_id=7, type=MediaType.video)]),  # type: ignore[arg-type]
        ),
        "SezionAPI.Template_Video_New",
        "video",
        "video.inputMedias[0].inputID",
        id="nested-field",
    ),
]


@pytest.mark.parametrize(("make_call", "method", "param", "path"), BAD_CALLS)
async def test_bad_arguments_are_refused_before_sending(
    respx_mock: respx.MockRouter,
    make_call: Callable[[Any], Awaitable[Any]],
    method: str,
    param: str,
    path: str,
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_with(result="OK"))

    async with account_client() as client:
        with pytest.raises(RequestValidationError) as caught:
            await make_call(client)

    assert (caught.value.method, caught.value.param, caught.value.path) == (method, param, path)
    assert route.call_count == 0


@pytest.mark.parametrize(("make_call", "method", "param", "path"), BAD_CALLS)
async def test_a_bad_call_in_a_batch_sends_nothing(
    respx_mock: respx.MockRouter,
    make_call: Callable[[Any], Awaitable[Any]],
    method: str,
    param: str,
    path: str,
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_with(result="OK"))

    queued: list[Awaitable[Any]] = []

    async def queue_calls(client: PirsonalClient) -> None:
        async with client.batch() as batch:
            queued.append(batch.media_list())
            make_call(batch)

    async with account_client() as client:
        with pytest.raises(RequestValidationError) as caught:
            await queue_calls(client)

    assert (caught.value.method, caught.value.param, caught.value.path) == (method, param, path)
    [listed] = queued
    assert isinstance(listed, asyncio.Future)
    assert listed.cancelled()
    assert route.call_count == 0


async def test_unknown_keys_in_results_are_kept_in_extra(respx_mock: respx.MockRouter) -> None:
    reply = {
        **DOCS_VIDEO_JSON,
        "landingInfo": {"title": "Hi"},
        "inputVariables": [{"name": "first"}],
        "outFiles": [{**DOCS_VIDEO_JSON["outFiles"][0], "cdn": "eu"}],
    }
    respx_mock.post(API_URL).mock(side_effect=reply_with(result=reply))

    async with account_client() as client:
        video = await client.video_get(VIDEO_ID)

    assert video.extra == {"landingInfo": {"title": "Hi"}, "inputVariables": [{"name": "first"}]}
    assert video.out_files is not None
    assert video.out_files[0].extra == {"cdn": "eu"}
    assert video.to_json() == reply


async def test_a_strict_client_refuses_unknown_keys(respx_mock: respx.MockRouter) -> None:
    reply = {**DOCS_VIDEO_JSON, "landingInfo": {"title": "Hi"}}
    respx_mock.post(API_URL).mock(side_effect=reply_with(result=reply))

    async with account_client(strict=True) as client:
        with pytest.raises(ProtocolError, match="landingInfo"):
            await client.video_get(VIDEO_ID)


async def test_a_result_breaking_the_contract_is_a_protocol_error(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(API_URL).mock(side_effect=reply_with(result={"id": VIDEO_ID}))

    async with account_client() as client:
        with pytest.raises(ProtocolError) as caught:
            await client.video_get(VIDEO_ID)

    assert caught.value.method == "SezionAPI.Video_Get"
    assert "name" in str(caught.value)


ERROR_CASES = [
    pytest.param(
        lambda api: api.template_video_list(TEMPLATE_ID),
        1000,
        "Template not found",
        TemplateNotFound,
        NotFoundError,
        id="1000",
    ),
    pytest.param(
        lambda api: api.video_get(VIDEO_ID),
        1007,
        "Video not found",
        VideoNotFound,
        NotFoundError,
        id="1007",
    ),
    pytest.param(
        lambda api: api.media_delete(MEDIA_ID),
        1008,
        "Media in use in templates",
        MediaInUse,
        ConflictError,
        id="1008",
    ),
    pytest.param(
        lambda api: api.template_list(),
        1015,
        "Authentication error",
        AuthenticationError,
        AuthError,
        id="1015",
    ),
    pytest.param(lambda api: api.media_list(), 1018, "Bad secret", BadSecret, AuthError, id="1018"),
    pytest.param(
        lambda api: api.template_video_new(TEMPLATE_ID, NEW_VIDEO),
        1028,
        "Template inactive",
        TemplateInactive,
        ConflictError,
        id="1028",
    ),
    pytest.param(
        lambda api: api.template_video_new(TEMPLATE_ID, NEW_VIDEO),
        2004,
        "No credit",
        NoCredit,
        LimitError,
        id="2004",
    ),
    pytest.param(
        lambda api: api.video_get(VIDEO_ID),
        -32602,
        "Function 'SezionAPI.Video_Get' invalid params",
        InvalidParams,
        JsonRpcError,
        id="-32602",
    ),
]


@pytest.mark.parametrize(("make_call", "code", "message", "cls", "group"), ERROR_CASES)
async def test_error_codes_raise_their_class(
    respx_mock: respx.MockRouter,
    make_call: Callable[[SezionAPI], Awaitable[Any]],
    code: int,
    message: str,
    cls: type[RpcError],
    group: type[RpcError],
) -> None:
    error = {"code": code, "message": message, "data": {"hint": "x"}}
    respx_mock.post(API_URL).mock(side_effect=reply_with(error=error))

    async with account_client() as client:
        with pytest.raises(cls) as caught:
            await make_call(client)

    assert isinstance(caught.value, group)
    assert (caught.value.code, caught.value.message) == (code, message)
    assert caught.value.data == {"hint": "x"}
    assert caught.value.method is not None
    assert caught.value.method.startswith("SezionAPI.")
    assert str(caught.value) == f"{caught.value.method}: {message} (code {code})"


async def test_an_http_error_is_a_transport_error_of_the_call(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(API_URL).mock(return_value=httpx.Response(502, text="Bad Gateway"))

    async with account_client() as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.template_list()

    assert caught.value.status == 502
    assert caught.value.method == "SezionAPI.Template_List"


@pytest.mark.parametrize(
    ("make_client", "template_id", "template_secret", "query"),
    [
        pytest.param(account_client, None, None, ACCOUNT_QUERY, id="account"),
        pytest.param(
            account_client,
            TEMPLATE_ID,
            TEMPLATE_SECRET,
            TEMPLATE_QUERY,
            id="per-video-on-an-account-client",
        ),
        pytest.param(template_client, None, None, TEMPLATE_QUERY, id="template-scoped-client"),
    ],
)
async def test_upload_media_posts_the_bytes_with_the_right_credentials(
    respx_mock: respx.MockRouter,
    make_client: Callable[[], PirsonalClient],
    template_id: str | None,
    template_secret: str | None,
    query: list[tuple[str, str]],
) -> None:
    route = respx_mock.post(UPLOAD_URL).mock(side_effect=upload_reply)
    data = bytes(range(256)) * 4

    async with make_client() as client:
        media = await client.upload_media(
            data,
            filename="intro.mp4",
            description="Intro",
            template_id=template_id,
            template_secret=template_secret,
        )

    assert media == MEDIA
    request = route.calls.last.request
    assert url_without_query(request) == UPLOAD_URL
    assert request.url.params.multi_items() == query
    assert request.headers["content-type"] == "video/mp4"
    assert request.headers["content-length"] == "1024"
    assert request.headers["x-szn-filename"] == "intro.mp4"
    assert request.headers["x-szn-description"] == "Intro"
    assert request.content == data


async def test_a_template_scoped_client_can_upload_for_another_template(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(UPLOAD_URL).mock(side_effect=upload_reply)

    async with template_client() as client:
        await client.upload_media(
            b"x", content_type="image/png", template_id=OTHER_TEMPLATE_ID, template_secret="t2"
        )

    assert route.calls.last.request.url.params.multi_items() == [
        ("accountID", ACCOUNT_ID),
        ("templateID", OTHER_TEMPLATE_ID),
        ("templateSecret", "t2"),
    ]


@pytest.mark.parametrize(
    ("template_id", "template_secret"),
    [(TEMPLATE_ID, None), (None, TEMPLATE_SECRET)],
    ids=["id-only", "secret-only"],
)
async def test_half_a_template_credential_is_refused_before_sending(
    respx_mock: respx.MockRouter, template_id: str | None, template_secret: str | None
) -> None:
    route = respx_mock.post(UPLOAD_URL).mock(side_effect=upload_reply)

    async with account_client() as client:
        with pytest.raises(RequestValidationError, match="both template_id and template_secret"):
            await client.upload_media(
                b"x",
                content_type="video/mp4",
                template_id=template_id,
                template_secret=template_secret,
            )

    assert route.call_count == 0


async def test_an_upload_error_code_raises_its_class(respx_mock: respx.MockRouter) -> None:
    error = {"code": 1018, "message": "Bad secret"}
    respx_mock.post(UPLOAD_URL).mock(return_value=httpx.Response(200, json={"error": error}))

    async with account_client() as client:
        with pytest.raises(BadSecret) as caught:
            await client.upload_media(b"x", content_type="video/mp4")

    assert caught.value.method == "upload"


class RefusedUploads(httpx.AsyncBaseTransport):
    """Refuses every connection, as a server that is down does; counts the attempts."""

    def __init__(self) -> None:
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        raise httpx.ConnectError("connection refused")


@pytest.mark.parametrize(
    ("retry", "attempts"),
    [(NO_RETRY, 1), (RetryPolicy(max_attempts=3, base_delay=0.0), 3)],
    ids=["no-retry", "three-attempts"],
)
async def test_upload_media_follows_the_client_retry_policy(
    retry: RetryPolicy, attempts: int
) -> None:
    transport = RefusedUploads()

    async with (
        httpx.AsyncClient(transport=transport) as http,
        account_client(http_client=http, retry=retry) as client,
    ):
        with pytest.raises(TransportError) as caught:
            await client.upload_media(b"x", content_type="video/mp4")

    assert (transport.attempts, caught.value.attempts) == (attempts, attempts)
    assert not caught.value.outcome_unknown


async def test_repr_shows_the_account_but_never_the_secret() -> None:
    async with account_client() as client:
        assert repr(client) == (
            f"PirsonalClient(account_id='{ACCOUNT_ID}', base_url='https://app.pirsonal.com')"
        )
        assert CANARY not in repr(client.rpc)


async def test_repr_of_a_template_scoped_client_shows_the_template_but_no_secret() -> None:
    async with template_client() as client:
        assert repr(client) == (
            f"PirsonalClient(account_id='{ACCOUNT_ID}', template_id='{TEMPLATE_ID}', "
            "base_url='https://app.pirsonal.com')"
        )
        assert CANARY not in repr(client.rpc)


async def test_a_supplied_http_client_is_used_and_left_open(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=reply_with(result=[]))

    async with httpx.AsyncClient(headers={"X-Trace": "t-1"}) as http:
        async with account_client(http_client=http) as client:
            await client.media_list()
        assert not http.is_closed

    assert route.calls.last.request.headers["x-trace"] == "t-1"


# The secret sweep: every failure mode, on account and template-scoped clients.

Call = Callable[[PirsonalClient], Awaitable[Any]]


def secrets_sent(request: httpx.Request) -> str:
    """The secrets the request carried (a client can only hide the secrets it knows)."""
    return " ".join(value for name, value in request.url.params.multi_items() if "ecret" in name)


def echo_url(request: httpx.Request) -> str:
    """Text a careless server or proxy might send back: the URL and the secrets in it."""
    return f"{request.url} {request.url.params} {secrets_sent(request)}"


def raise_with_url(cls: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise cls(f"failed for {echo_url(request)}", request=request)

    return answer


def video_get(client: PirsonalClient) -> Awaitable[Any]:
    return client.video_get(VIDEO_ID)


def upload(client: PirsonalClient) -> Awaitable[Any]:
    return client.upload_media(b"0123456789", filename="intro.mp4")


async def batch_of_two(client: PirsonalClient) -> Any:
    async with client.batch() as batch:
        video = batch.video_get(VIDEO_ID)
        links = batch.video_get_links(VIDEO_ID)
    # gather retrieves both outcomes, so no error is left "never retrieved".
    return await asyncio.gather(video, links)


def secret_reply(request: httpx.Request) -> httpx.Response:
    """A 1018 error that quotes the secrets, for each call of a single or batch request."""
    error = {
        "code": 1018,
        "message": f"Bad secret {secrets_sent(request)}",
        "data": {"templateSecret": TEMPLATE_SECRET, "url": echo_url(request)},
    }
    body = json.loads(request.content)
    calls = body if isinstance(body, list) else [body]
    replies = [{"jsonrpc": "2.0", "id": call["id"], "error": error} for call in calls]
    return httpx.Response(200, json=replies if isinstance(body, list) else replies[0])


SWEEP = [
    pytest.param(
        lambda request: httpx.Response(500, text=f"<pre>{echo_url(request)}</pre>"),
        video_get,
        HttpStatusError,
        id="http-500-echoing-the-url",
    ),
    pytest.param(
        lambda request: httpx.Response(503, json={"url": echo_url(request)}),
        video_get,
        HttpStatusError,
        id="http-503-retried",
    ),
    pytest.param(raise_with_url(httpx.ConnectError), video_get, TransportError, id="connect"),
    pytest.param(raise_with_url(httpx.ReadTimeout), video_get, TransportError, id="timeout"),
    pytest.param(
        lambda request: httpx.Response(200, text=echo_url(request)),
        video_get,
        ProtocolError,
        id="reply-not-json",
    ),
    pytest.param(secret_reply, video_get, BadSecret, id="error-reply"),
    pytest.param(
        lambda request: reply_with(
            result={"name": 5, "data": secrets_sent(request), "secret": TEMPLATE_SECRET}
        )(request),
        video_get,
        ProtocolError,
        id="invalid-result",
    ),
    pytest.param(
        reply_with(result=[{**TEMPLATE_JSON, "secret": TEMPLATE_SECRET}]),
        lambda client: client.template_list(),
        None,
        id="template-secret-in-a-result",
    ),
    pytest.param(
        reply_with(result=VIDEO_ID),
        lambda client: client.template_video_new(
            TEMPLATE_ID,
            Video(name=ACCOUNT_SECRET, data=TEMPLATE_SECRET, duration="x"),  # type: ignore[arg-type]
        ),
        RequestValidationError,
        id="validation-error",
    ),
    pytest.param(
        lambda request: httpx.Response(500, text=echo_url(request)),
        batch_of_two,
        HttpStatusError,
        id="batch-http-500",
    ),
    pytest.param(secret_reply, batch_of_two, BadSecret, id="batch-error-reply"),
]
UPLOAD_SWEEP = [
    pytest.param(
        lambda request: httpx.Response(500, text=f"<pre>{echo_url(request)}</pre>"),
        upload,
        HttpStatusError,
        id="upload-http-500",
    ),
    pytest.param(raise_with_url(httpx.ConnectError), upload, TransportError, id="upload-connect"),
    pytest.param(raise_with_url(httpx.WriteTimeout), upload, TransportError, id="upload-timeout"),
    pytest.param(
        lambda request: httpx.Response(200, text=echo_url(request)),
        upload,
        ProtocolError,
        id="upload-reply-not-json",
    ),
    pytest.param(
        lambda request: httpx.Response(
            200,
            json={
                "error": {
                    "code": 1018,
                    "message": f"Bad secret {echo_url(request)}",
                    "data": {"templateSecret": TEMPLATE_SECRET},
                },
                "media": None,
            },
        ),
        upload,
        BadSecret,
        id="upload-error-reply",
    ),
    pytest.param(
        upload_reply,
        lambda client: client.upload_media(
            b"x", content_type="text/plain", template_id=TEMPLATE_ID, template_secret=CANARY
        ),
        RequestValidationError,
        id="upload-validation-error",
    ),
    pytest.param(
        upload_reply,
        lambda client: client.upload_media(
            b"x", content_type="video/mp4", template_id=TEMPLATE_ID, template_secret=CANARY
        ),
        None,
        id="upload-per-video",
    ),
]


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), repr(vars(error)), "".join(traceback.format_exception(error))]


def sweep_client(make: Callable[..., PirsonalClient]) -> PirsonalClient:
    # Zero-delay retries: the retry warnings are swept too, without waiting.
    return make(log_bodies=True, retry=RetryPolicy(max_attempts=2, base_delay=0.0))


@pytest.mark.parametrize("make_client", [account_client, template_client], ids=["acct", "tmpl"])
@pytest.mark.parametrize(("server", "make_call", "raised"), SWEEP + UPLOAD_SWEEP)
async def test_a_canary_secret_never_leaks(
    respx_mock: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    make_client: Callable[..., PirsonalClient],
    server: Answer,
    make_call: Call,
    raised: type[PirsonalAsyncError] | None,
) -> None:
    respx_mock.post(API_URL).mock(side_effect=server)
    respx_mock.post(UPLOAD_URL).mock(side_effect=server)
    texts: list[str] = []
    failure: BaseException | None = None

    with caplog.at_level(logging.DEBUG):
        async with sweep_client(make_client) as client:
            texts += [repr(client), repr(client.rpc)]
            try:
                texts.append(repr(await make_call(client)))
            except PirsonalAsyncError as error:
                failure = error
                texts += texts_of(error)

    assert (type(failure) if failure else None) is raised
    texts += [caplog.text, *(record.getMessage() for record in caplog.records)]
    leaks = [line for text in texts for line in text.splitlines() if CANARY in line]
    assert leaks == []
