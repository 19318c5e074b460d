"""The `pirsonal_async.testing` pytest plugin: the sandbox fixtures and the JSON-RPC mock."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import httpx
import pytest
import respx

from pirsonal_async import PirsonalClient
from pirsonal_async.errors import HttpStatusError, MethodNotFound, ParseError, VideoNotFound
from pirsonal_async.generated.contract import CONTRACT
from pirsonal_async.retry import NO_RETRY
from pirsonal_async.sandbox import Sandbox
from pirsonal_async.sandbox.rpc_server import RpcServer
from pirsonal_async.testing import SANDBOX_RENDER_DELAY, PirsonalMock, mock_pirsonal
from pirsonal_async.types import (
    Link,
    TemplateNew,
    TemplateStatus,
    Video,
    VideoOutput,
    VideoOutputType,
    VideoStatus,
)

pytest_plugins = ["pytester"]

VIDEO_ID = "5331669c0fa92a6755582c9e"
VIDEO_JSON = {"id": VIDEO_ID, "name": "Hi", "status": {"code": "done"}}
LINK = Link(id=f"{VIDEO_ID}.MP4", profile="MP4_H264_AAC_640x480_24fps", url="https://cdn/x")
BLANK_TEMPLATE = TemplateNew(
    name="Blank",
    description="A template whose videos give their own script",
    input_scripts=["[]"],
    out_profiles=["MP4_H264_AAC_640x480_24fps"],
    video_output=VideoOutput(type=VideoOutputType.sezion),
)


def client(base_url: str = "https://app.pirsonal.com") -> PirsonalClient:
    return PirsonalClient("acc", "secret", base_url=base_url, retry=NO_RETRY)


# mock_pirsonal


async def test_a_mocked_method_returns_its_result_typed(respx_mock: respx.MockRouter) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.returns("Video_Get", VIDEO_JSON)

    async with client() as api:
        video = await api.video_get(VIDEO_ID)

    assert video == Video(id=VIDEO_ID, name="Hi", status=VideoStatus(code="done"))
    assert pirsonal.calls("Video_Get") == [[VIDEO_ID]]


async def test_a_failing_method_raises_the_class_of_its_code(
    respx_mock: respx.MockRouter,
) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.fails("Video_Delete", code=1007, message="Video not found", data={"id": VIDEO_ID})

    async with client() as api:
        with pytest.raises(VideoNotFound) as caught:
            await api.video_delete(VIDEO_ID, True)

    assert (caught.value.message, caught.value.data) == ("Video not found", {"id": VIDEO_ID})
    assert pirsonal.calls("SezionAPI.Video_Delete") == [[VIDEO_ID, True]]


async def test_a_method_without_an_answer_fails_naming_it(respx_mock: respx.MockRouter) -> None:
    pirsonal = mock_pirsonal(respx_mock)

    async with client() as api:
        with pytest.raises(MethodNotFound, match=r"SezionAPI\.Media_List is not mocked"):
            await api.media_list()

    assert pirsonal.calls("Media_List") == [[]]


async def test_the_latest_answer_wins_and_every_call_is_recorded(
    respx_mock: respx.MockRouter,
) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.fails("Template_SetStatus", code=1000, message="Template not found")
    pirsonal.returns("Template_SetStatus", "OK")

    async with client() as api:
        first = await api.template_set_status("t1", TemplateStatus.inactive)
        second = await api.template_set_status("t2", TemplateStatus.active)

    assert (first, second) == ("OK", "OK")
    assert pirsonal.calls("Template_SetStatus") == [["t1", "inactive"], ["t2", "active"]]


async def test_results_may_be_generated_types(respx_mock: respx.MockRouter) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.returns("Video_Get_Links", [LINK])
    pirsonal.returns("Video_Get", Video(id=VIDEO_ID, name="Hi"))

    async with client() as api:
        assert await api.video_get_links(VIDEO_ID) == [LINK]
        assert await api.video_get(VIDEO_ID) == Video(id=VIDEO_ID, name="Hi")


async def test_a_batch_gets_one_reply_per_call(respx_mock: respx.MockRouter) -> None:
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.returns("Video_Get", VIDEO_JSON)
    pirsonal.fails("Video_Get_Links", code=1007, message="Video not found")

    async with client() as api, api.batch() as batch:
        video = batch.video_get(VIDEO_ID)
        links = batch.video_get_links("gone")
        templates = batch.template_list()

    assert (await video).status == VideoStatus(code="done")
    with pytest.raises(VideoNotFound):
        await links
    with pytest.raises(MethodNotFound):
        await templates
    assert respx_mock.calls.call_count == 1
    assert pirsonal.calls("Video_Get_Links") == [["gone"]]


async def test_the_mock_answers_at_its_base_url_only(respx_mock: respx.MockRouter) -> None:
    pirsonal = mock_pirsonal(respx_mock, base_url="http://127.0.0.1:8080/pirsonal")
    pirsonal.returns("Media_List", [])
    respx_mock.post("https://app.pirsonal.com/api").respond(502)

    async with client("http://127.0.0.1:8080/pirsonal") as local:
        assert await local.media_list() == []
    async with client() as default:
        with pytest.raises(HttpStatusError) as caught:
            await default.media_list()

    assert caught.value.status == 502
    assert pirsonal.calls("Media_List") == [[]]


@pytest.mark.parametrize("method", ["Video_Gett", "OtherAPI.Video_Get", "video_get"])
def test_a_name_outside_the_contract_is_refused(method: str) -> None:
    pirsonal = PirsonalMock()

    with pytest.raises(ValueError, match="is not a SezionAPI function of the Pirsonal contract"):
        pirsonal.returns(method, "OK")


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        (
            b"{not json",
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32700, "message": "Unable to parse JSON: {not json"},
            },
        ),
        (
            b"[]",
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32600, "message": "Invalid Request. Empty batch."},
            },
        ),
        (
            b"[1]",
            [
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32600, "message": "Invalid Request. 1 is not an object."},
                }
            ],
        ),
    ],
    ids=["not-json", "empty-batch", "not-an-object"],
)
def test_malformed_requests_get_json_rpc_errors(body: bytes, reply: Any) -> None:
    response = PirsonalMock().answer(httpx.Request("POST", "https://x/api", content=body))

    assert response.status_code == 200
    assert json.loads(response.content) == reply


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"NaN",
        b"[" * 100_000,
        b"{" + b"x" * 500,
        b"[]",
        b"[1, null, [2]]",
        b'{"id": 7}',
        b'[{"id": "a", "method": 5}]',
        json.dumps([{"k": "v" * 200}]).encode(),
    ],
)
async def test_malformed_requests_get_the_sandbox_s_replies(body: bytes) -> None:
    mocked = PirsonalMock().answer(httpx.Request("POST", "https://x/api", content=body))

    assert json.loads(mocked.content) == json.loads(await RpcServer(CONTRACT).handle_body(body, {}))


async def test_the_mock_also_serves_as_an_httpx_transport() -> None:
    pirsonal = PirsonalMock()
    pirsonal.returns("Media_Delete", "OK")

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(pirsonal.answer)) as http,
        PirsonalClient("acc", "secret", http_client=http) as api,
    ):
        assert await api.media_delete("m1") == "OK"

    assert pirsonal.calls("Media_Delete") == [["m1"]]


async def test_a_parse_error_reaches_the_client_as_its_class() -> None:
    def garble(request: httpx.Request) -> httpx.Response:
        return PirsonalMock().answer(httpx.Request("POST", request.url, content=b"{"))

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(garble)) as http,
        PirsonalClient("acc", "secret", http_client=http) as api,
    ):
        with pytest.raises(ParseError):
            await api.media_list()


# the fixtures, used directly


async def test_the_sandbox_fixture_serves_on_loopback(
    pirsonal_sandbox: Sandbox, pirsonal_render_delay: float
) -> None:
    assert pirsonal_sandbox.base_url.startswith("http://127.0.0.1:")
    assert pirsonal_render_delay == SANDBOX_RENDER_DELAY
    assert pirsonal_sandbox.chaos is None
    async with httpx.AsyncClient(trust_env=False) as http:
        files = await http.get(f"{pirsonal_sandbox.base_url}/files/nothing")
    assert files.status_code == 404


async def test_the_client_fixture_renders_a_video_end_to_end(
    pirsonal_client: PirsonalClient, pirsonal_sandbox: Sandbox
) -> None:
    template_id = await pirsonal_client.template_new(BLANK_TEMPLATE)
    video_id = await pirsonal_client.template_video_new(template_id, Video(name="Hi"))

    await pirsonal_sandbox.state.wait_rendered(video_id)

    video = await pirsonal_client.video_get(video_id)
    assert video.status == VideoStatus(code="done")
    assert video.account_id == pirsonal_sandbox.account_id


# the plugin, in a fresh project

USER_TEST = """
    import pytest

    from pirsonal_async.errors import VideoNotFound
    from pirsonal_async.testing import mock_pirsonal
    from pirsonal_async.types import TemplateNew, Video, VideoOutput, VideoOutputType

    BLANK = TemplateNew(
        name="Blank", description="", input_scripts=["[]"],
        out_profiles=["MP4_H264_AAC_640x480_24fps"],
        video_output=VideoOutput(type=VideoOutputType.sezion),
    )


    @pytest.mark.asyncio
    async def test_sandbox(pirsonal_client, pirsonal_sandbox, pirsonal_render_delay):
        assert pirsonal_render_delay == 0.0
        template_id = await pirsonal_client.template_new(BLANK)
        video_id = await pirsonal_client.template_video_new(template_id, Video(name="Hi"))
        await pirsonal_sandbox.state.wait_rendered(video_id)
        assert (await pirsonal_client.video_get(video_id)).status.code == "done"


    @pytest.mark.asyncio
    async def test_mock(respx_mock):
        from pirsonal_async import PirsonalClient

        pirsonal = mock_pirsonal(respx_mock)
        pirsonal.fails("Video_Get", code=1007, message="Video not found")
        async with PirsonalClient("acc", "secret") as client:
            with pytest.raises(VideoNotFound):
                await client.video_get("v1")
        assert pirsonal.calls("Video_Get") == [["v1"]]
"""


def test_the_plugin_works_in_a_fresh_strict_mode_project(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def pirsonal_render_delay():
            return 0.0
        """
    )
    pytester.makepyfile(test_user=textwrap.dedent(USER_TEST))

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_the_sandbox_fixture_names_the_missing_extra(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys

        sys.modules["uvicorn"] = None  # as if the [sandbox] extra were not installed
        """
    )
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.asyncio
        async def test_needs_the_sandbox(pirsonal_sandbox):
            pass
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*the pirsonal_sandbox fixture needs the sandbox extra (pip install *[sandbox]*"]
    )


def test_the_plugin_imports_without_optional_packages() -> None:
    script = textwrap.dedent(
        """
        import sys

        for name in ("starlette", "uvicorn", "respx", "pytest_asyncio"):
            sys.modules[name] = None
        import pirsonal_async.testing as plugin

        assert "pirsonal_async.sandbox" not in sys.modules
        print(plugin.async_fixture.__module__)
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )

    assert done.stdout.strip() == "_pytest.fixtures"
