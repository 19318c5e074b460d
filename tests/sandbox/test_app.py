"""The sandbox over HTTP (in memory): raw JSON-RPC posts for every method, auth, files, controls."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sandbox_helpers import (
    ACCOUNT_ID,
    ACCOUNT_SECRET,
    BAD_WEBHOOK_URLS,
    PROFILE,
    account_query,
    call,
    rpc,
    template_spec,
    video_spec,
)

from pirsonal_async.generated.contract import CONTRACT
from pirsonal_async.sandbox import SandboxState, serve_sandbox
from pirsonal_async.sandbox.__main__ import parse_args

AddMedia = Callable[..., str]


async def test_every_method_through_http(
    client: httpx.AsyncClient, state: SandboxState, add_media: AddMedia
) -> None:
    template_id = await call(client, "Template_New", template_spec())
    assert len(template_id) == 24
    assert await call(client, "Template_Update", template_id, {"name": "New name"}) == "OK"
    assert await call(client, "Template_SetStatus", template_id, "active") == "OK"
    [template] = await call(client, "Template_List")
    assert template["name"] == "New name"

    media_id = add_media()
    video_id = await call(client, "Template_Video_New", template_id, video_spec(media_id))
    await state.wait_rendered(video_id)
    video = await call(client, "Video_Get", video_id)
    assert video["status"] == {"code": "done"}
    assert await call(client, "Template_Video_List", template_id) == [video]
    assert await call(client, "Video_Update", video_id, {"description": "changed"}) == "OK"
    assert await call(client, "Video_Update_Metadata", video_id, {"firstName": "Ana"}) == "OK"
    video = await call(client, "Video_Get", video_id)
    assert (video["description"], video["firstName"]) == ("changed", "Ana")

    pirsonal_id = f"{video_id}.{PROFILE}"
    link = {
        "id": pirsonal_id,
        "profile": PROFILE,
        "url": f"http://sandbox.test/files/{pirsonal_id}",
    }
    assert await call(client, "Video_Get_Links", video_id) == [link]
    assert await call(client, "Video_Pirsonal_Link", video_id, pirsonal_id) == link

    [media] = await call(client, "Media_List")
    assert media["id"] == media_id
    pattern = await call(client, "Media_Apply_Pattern", media_id, "audiolevel", "info", "{}")
    assert pattern == "OK"
    assert await call(client, "Media_Delete", media_id) == "OK"
    assert await call(client, "Video_Delete", video_id, True) == "OK"
    assert await call(client, "Template_Delete", template_id, False) == "OK"
    assert await call(client, "Template_List") == []


async def test_a_new_video_is_queued_until_rendered(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    template_id = await call(client, "Template_New", template_spec(inputScripts=["[]"]))
    video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})
    assert (await call(client, "Video_Get", video_id))["status"] == {"code": "queued"}
    assert await call(client, "Video_Get_Links", video_id) == []
    await state.wait_rendered(video_id)
    assert (await call(client, "Video_Get", video_id))["status"] == {"code": "done"}


async def test_the_rendered_file_can_be_downloaded(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    template_id = await call(client, "Template_New", template_spec(inputScripts=["[]"]))
    video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})
    await state.wait_rendered(video_id)
    [link] = await call(client, "Video_Get_Links", video_id)
    [out_file] = (await call(client, "Video_Get", video_id))["outFiles"]

    response = await client.get(link["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert len(response.content) == out_file["size"]
    assert (await client.get(f"/files/{video_id}.OTHER_PROFILE")).status_code == 404
    assert (await client.get("/files/unknown")).status_code == 404


async def test_pirsonal_misuse_codes(client: httpx.AsyncClient) -> None:
    reply = await rpc(client, "SezionAPI.Video_Get", "000000000000000000000000")
    assert reply["error"] == {
        "code": 1007,
        "message": "Video not found: '000000000000000000000000'",
    }
    reply = await rpc(client, "SezionAPI.Template_New", template_spec(outProfiles=[]))
    assert reply["error"] == {"code": 1032, "message": "No video profiles in template"}


async def test_credentials(client: httpx.AsyncClient) -> None:
    cases = [
        ({}, 1015),
        ({"accountID": ACCOUNT_ID}, 1015),
        ({"accountID": "x", "accountSecret": ACCOUNT_SECRET}, 1015),
        ({"accountID": ACCOUNT_ID, "accountSecret": "wrong"}, 1018),
    ]
    for query, code in cases:
        reply = await rpc(client, "SezionAPI.Template_List", query=query)
        assert reply["error"]["code"] == code


async def test_credentials_never_reach_replies(client: httpx.AsyncClient) -> None:
    query = {"accountID": ACCOUNT_ID, "accountSecret": "canary-wrong-secret"}
    reply = await rpc(client, "SezionAPI.Template_List", query=query)
    assert "canary" not in json.dumps(reply)


async def test_template_scoped_calls(client: httpx.AsyncClient, state: SandboxState) -> None:
    template_id = await call(client, "Template_New", template_spec(inputScripts=["[]"]))
    other_id = await call(client, "Template_New", template_spec(inputScripts=["[]"]))
    secret = state.templates[template_id]["secret"]
    scoped = {"accountID": ACCOUNT_ID, "templateID": template_id, "templateSecret": secret}

    reply = await rpc(
        client, "SezionAPI.Template_Video_New", template_id, {"name": "v"}, query=scoped
    )
    assert reply["result"] in state.videos
    reply = await rpc(client, "SezionAPI.Template_Video_New", other_id, {"name": "v"}, query=scoped)
    assert reply["error"]["code"] == 1015
    reply = await rpc(client, "SezionAPI.Template_List", query=scoped)
    assert reply["error"]["code"] == 1015
    bad_secret = {**scoped, "templateSecret": "wrong"}
    reply = await rpc(
        client, "SezionAPI.Template_Video_New", template_id, {"name": "v"}, query=bad_secret
    )
    assert reply["error"]["code"] == 1018


async def test_the_contract_is_served_with_or_without_credentials(
    client: httpx.AsyncClient,
) -> None:
    for query in (account_query(), {}):
        response = await client.post(
            "/api", params=query, json={"jsonrpc": "2.0", "method": "barrister-idl", "id": "1"}
        )
        assert response.json()["result"] == CONTRACT


async def test_params_are_checked_against_the_contract(client: httpx.AsyncClient) -> None:
    reply = await rpc(client, "SezionAPI.Template_SetStatus", "id", "paused")
    assert reply["error"]["code"] == -32602
    assert "param 'status'" in reply["error"]["message"]
    reply = await rpc(client, "SezionAPI.Template_Video_New", "id", {"name": "v", "colour": "red"})
    assert reply["error"]["code"] == -32602
    reply = await rpc(client, "SezionAPI.Video_Transcode", "id")
    assert reply["error"]["code"] == -32601


async def test_batch_over_http(client: httpx.AsyncClient) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "SezionAPI.Template_List", "params": []},
        {"jsonrpc": "2.0", "id": "b", "method": "SezionAPI.Video_Get", "params": ["nope"]},
        {"jsonrpc": "2.0", "id": "c", "method": "SezionAPI.Media_List", "params": []},
    ]
    response = await client.post("/api", params=account_query(), json=batch)
    assert [r["id"] for r in response.json()] == ["a", "b", "c"]
    assert [("result" in r, r.get("error", {}).get("code")) for r in response.json()] == [
        (True, None),
        (False, 1007),
        (True, None),
    ]


async def test_protocol_errors_are_http_200_json(client: httpx.AsyncClient) -> None:
    for body in (b"{", b"[]"):
        response = await client.post("/api", params=account_query(), content=body)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] in (-32700, -32600)
    assert (await client.get("/api")).status_code == 405


async def test_webhook_controls(client: httpx.AsyncClient, state: SandboxState) -> None:
    template_id = await call(client, "Template_New", template_spec(inputScripts=["[]"]))
    for spec in (
        {"url": "http://hook.test/all"},
        {"url": "http://hook.test/t", "templateID": template_id},
    ):
        response = await client.post("/sandbox/webhooks", params=account_query(), json=spec)
        assert response.json()["error"] is None
    response = await client.get("/sandbox/webhooks", params=account_query())
    assert response.json() == {
        "error": None,
        "webhooks": [
            {"templateID": None, "url": "http://hook.test/all"},
            {"templateID": template_id, "url": "http://hook.test/t"},
        ],
    }
    assert state.webhook_urls(template_id) == ["http://hook.test/all", "http://hook.test/t"]


async def test_webhook_control_errors(client: httpx.AsyncClient, state: SandboxState) -> None:
    async def post(body: Any, query: dict[str, str]) -> httpx.Response:
        return await client.post("/sandbox/webhooks", params=query, content=json.dumps(body))

    template_id = await call(client, "Template_New", template_spec(inputScripts=["[]"]))
    scoped = {
        "accountID": ACCOUNT_ID,
        "templateID": template_id,
        "templateSecret": state.templates[template_id]["secret"],
    }
    cases: list[tuple[Any, dict[str, str], int, int]] = [
        ({"url": "http://x"}, {}, 200, 1015),
        ({"url": "http://x"}, scoped, 200, 1015),
        ({"url": "http://x", "templateID": "missing"}, account_query(), 200, 1000),
        ({"url": "ftp://x"}, account_query(), 400, -32602),
        ({"url": 5}, account_query(), 400, -32602),
        ({"url": "http://x", "templateID": 5}, account_query(), 400, -32602),
        (["http://x"], account_query(), 400, -32602),
    ]
    for body, query, status, code in cases:
        response = await post(body, query)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert (await client.get("/sandbox/webhooks")).json()["error"]["code"] == 1015
    assert state.webhooks == {}


@pytest.mark.parametrize(("url", "problem"), BAD_WEBHOOK_URLS.items())
async def test_a_webhook_url_httpx_cannot_post_to_is_a_400(
    client: httpx.AsyncClient, state: SandboxState, url: str, problem: str
) -> None:
    response = await client.post("/sandbox/webhooks", params=account_query(), json={"url": url})
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": -32602, "message": f"'url': bad webhook URL: {problem}"}
    }
    assert "s3cr3t" not in response.text
    assert state.webhooks == {}


async def test_failed_deliveries_are_listed_as_notifications(
    client: httpx.AsyncClient, state: SandboxState, webhooks: Any
) -> None:
    webhooks.status_code = 503
    template_id = await call(client, "Template_New", template_spec(inputScripts=["[]"]))
    state.add_webhook("http://hook.test/down", template_id)
    video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})
    await state.wait_rendered(video_id)
    response = await client.get("/sandbox/notifications", params=account_query())
    assert response.json() == {
        "error": None,
        "notifications": [
            {
                "videoID": video_id,
                "templateID": template_id,
                "url": "http://hook.test/down",
                "statusCode": 503,
                "error": "HTTP 503",
            }
        ],
    }
    assert (await client.get("/sandbox/notifications")).json()["error"]["code"] == 1015


async def test_serve_sandbox_on_a_real_port() -> None:
    async with serve_sandbox(render_delay=0) as sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:")
        assert sandbox.account_secret not in repr(sandbox)
        query = {"accountID": sandbox.account_id, "accountSecret": sandbox.account_secret}
        async with httpx.AsyncClient(base_url=sandbox.base_url, trust_env=False) as http:
            spec = template_spec(inputScripts=["[]"])
            body = {"jsonrpc": "2.0", "id": 1, "method": "SezionAPI.Template_New", "params": [spec]}
            template_id = (await http.post("/api", params=query, json=body)).json()["result"]
            body = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "SezionAPI.Template_Video_New",
                "params": [template_id, {"name": "v"}],
            }
            video_id = (await http.post("/api", params=query, json=body)).json()["result"]
            await sandbox.state.wait_rendered(video_id)
            [link] = sandbox.state.out_files(video_id)
            download = await http.get(f"/files/{link['storage']['pirsonalID']}")
            assert download.status_code == 200
            upload = await http.post(
                "/api/upload",
                params=query,
                content=_chunks(b"x" * 100_000, 3),
                headers={
                    "Content-Type": "video/mp4",
                    "Content-Length": "300000",
                    "X-SZN-Filename": "UTF-8''caf%C3%A9.mp4",
                    "X-SZN_DESCRIPTION": "underscore header",
                },
            )
            media = upload.json()["media"]
            assert (media["name"], media["description"]) == ("caf\u00e9.mp4", "underscore header")
            assert media["size"] == 300_000
    assert sandbox.state.videos[video_id]["status"] == {"code": "done"}


async def _chunks(chunk: bytes, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield chunk


async def test_serve_sandbox_uses_the_given_state() -> None:
    state = SandboxState(account_id="a" * 24, account_secret="s")
    async with serve_sandbox(state=state, webhooks=["http://hook.test/all"]) as sandbox:
        assert (sandbox.account_id, sandbox.account_secret, sandbox.state) == ("a" * 24, "s", state)
    assert state.webhook_urls("any") == ["http://hook.test/all"]


async def test_the_command_line_prints_where_it_listens() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pirsonal_async.sandbox",
        "--port",
        "0",
        "--account-id",
        "b" * 24,
        "--account-secret",
        "cli-secret",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines = [
            (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
            for _ in range(3)
        ]
        key, _, base_url = lines[0].partition("=")
        assert key == "export PIRSONAL_BASE_URL"
        assert lines[1:] == [
            f"export PIRSONAL_ACCOUNT_ID={'b' * 24}",
            "export PIRSONAL_ACCOUNT_SECRET=cli-secret",
        ]
        query = {"accountID": "b" * 24, "accountSecret": "cli-secret"}
        body = {"jsonrpc": "2.0", "id": 1, "method": "SezionAPI.Media_List", "params": []}
        # The socket was bound before the URL was printed: this connection cannot be refused.
        async with httpx.AsyncClient(base_url=base_url, timeout=20, trust_env=False) as http:
            reply = (await http.post("/api", params=query, json=body)).json()
        assert reply == {"jsonrpc": "2.0", "id": 1, "result": []}
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert b"cli-secret" not in stderr


@pytest.mark.parametrize(("url", "problem"), BAD_WEBHOOK_URLS.items())
def test_the_command_line_refuses_a_bad_webhook_url_without_echoing_it(
    capsys: pytest.CaptureFixture[str], url: str, problem: str
) -> None:
    with pytest.raises(SystemExit) as stop:
        parse_args(["--webhook", "http://hook.test/ok", "--webhook", url])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith(f"error: argument --webhook: bad webhook URL: {problem}\n")
    assert "s3cr3t" not in err


def test_the_command_line_keeps_good_webhook_urls() -> None:
    urls = ["http://hook.test/a?token=t", "https://hook.test/b"]
    assert parse_args(["--webhook", urls[0], "--webhook", urls[1]]).webhook == urls
