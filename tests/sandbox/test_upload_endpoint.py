"""`POST /api/upload`: the documented header rules, streaming, quota, template-scoped uploads."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sandbox_helpers import ACCOUNT_ID, account_query, call, template_spec

from pirsonal_async.sandbox import SandboxState, create_app
from pirsonal_async.sandbox.rpc_server import RpcFault
from pirsonal_async.sandbox.uploads import plan_upload


async def upload(
    client: httpx.AsyncClient,
    content: bytes | AsyncIterator[bytes] = b"fake mp4 bytes",
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {"Content-Type": "video/mp4", **(headers or {})}
    return await client.post(
        "/api/upload",
        params=account_query() if query is None else query,
        content=content,
        headers=sent,
    )


def error_code(response: httpx.Response) -> int:
    reply = response.json()
    assert reply["media"] is None
    code: int = reply["error"]["code"]
    return code


async def test_an_account_upload_is_stored(client: httpx.AsyncClient, state: SandboxState) -> None:
    body = b"\x00\x01 video bytes" * 100
    response = await upload(
        client,
        body,
        headers={"X-SZN-Filename": "intro.mp4", "X-SZN-Description": "The intro"},
    )
    assert response.status_code == 200
    reply = response.json()
    assert list(reply) == ["error", "media"]
    assert reply["error"] is None
    media = reply["media"]
    assert media == {
        "id": media["id"],
        "name": "intro.mp4",
        "description": "The intro",
        "size": len(body),
        "temp": False,
        "type": "video",
    }
    assert len(media["id"]) == 24
    assert state.media_sha256[media["id"]] == hashlib.sha256(body).hexdigest()
    # Media_List results are validated strictly by the server, so this also checks the shape.
    assert await call(client, "Media_List") == [media]


async def test_a_streamed_body_is_counted_as_it_arrives(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    chunks = [b"a" * 1000, b"b" * 1000, b"c" * 500]

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    response = await upload(client, stream(), headers={"Content-Length": "2500"})
    media = response.json()["media"]
    assert media["size"] == 2500
    assert state.media_sha256[media["id"]] == hashlib.sha256(b"".join(chunks)).hexdigest()


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [("image/png", "image"), ("audio/mpeg", "audio"), ("VIDEO/MP4; codecs=avc1", "video")],
)
async def test_media_kind_comes_from_the_content_type(
    client: httpx.AsyncClient, content_type: str, kind: str
) -> None:
    response = await upload(client, headers={"Content-Type": content_type})
    assert response.json()["media"]["type"] == kind


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "video", "video/", "videos/mp4", ""]
)
async def test_other_content_types_are_refused(
    client: httpx.AsyncClient, state: SandboxState, content_type: str
) -> None:
    response = await upload(client, headers={"Content-Type": content_type})
    assert response.status_code == 200
    assert error_code(response) == 1020
    assert response.json()["error"]["message"].startswith("Invalid Content-Type")
    assert state.media == {}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-SZN-Filename": "f" * 201}, 1029),
        ({"X-SZN-Description": "d" * 1001}, 1029),
        ({"X-SZN_DESCRIPTION": "d" * 1001}, 1029),
        ({"X-SZN-Filename": "UTF-8''%FF%FE"}, 1029),
    ],
)
async def test_header_limits(
    client: httpx.AsyncClient, state: SandboxState, headers: dict[str, str], code: int
) -> None:
    response = await upload(client, headers=headers)
    assert error_code(response) == code
    assert state.media == {}


async def test_header_limits_count_characters_not_bytes(client: httpx.AsyncClient) -> None:
    name = "\u00e9" * 200
    encoded = "UTF-8''" + "%C3%A9" * 200
    response = await upload(client, headers={"X-SZN-Filename": encoded})
    assert response.json()["media"]["name"] == name


@pytest.mark.parametrize(
    ("headers", "name", "description"),
    [
        ({"X-SZN-Filename": "UTF-8''caf%C3%A9%20cr%C3%A8me.mp4"}, "caf\u00e9 cr\u00e8me.mp4", ""),
        ({"X-SZN-FILENAME": "plain.mp4"}, "plain.mp4", ""),
        ({"X-SZN_DESCRIPTION": "underscore spelling"}, "untitled", "underscore spelling"),
        ({"X-SZN-Description": "utf-8''%E2%9C%93 done"}, "untitled", "\u2713 done"),
        (
            {"X-SZN-Description": "hyphen wins", "X-SZN_DESCRIPTION": "underscore"},
            "untitled",
            "hyphen wins",
        ),
    ],
)
async def test_names_and_descriptions(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, description: str
) -> None:
    media = (await upload(client, headers=headers)).json()["media"]
    assert (media["name"], media["description"]) == (name, description)


def test_raw_utf8_header_bytes_are_read_as_utf8() -> None:
    # Starlette hands header bytes over decoded as Latin-1.
    raw = "caf\u00e9.mp4".encode().decode("latin-1")
    plan = plan_upload({"content-type": "video/mp4", "content-length": "1", "x-szn-filename": raw})
    assert plan.name == "caf\u00e9.mp4"


@pytest.mark.parametrize("length", ["0", "50000001", "-1", "1e3", "\u00b2", "9" * 5000])
def test_content_length_outside_the_documented_range(length: str) -> None:
    with pytest.raises(RpcFault) as caught:
        plan_upload({"content-type": "video/mp4", "content-length": length})
    assert caught.value.code == 1019


def test_the_largest_documented_upload_is_accepted() -> None:
    plan = plan_upload({"content-type": "audio/wav", "content-length": "50000000"})
    assert (plan.size, plan.kind) == (50_000_000, "audio")


async def test_missing_content_length(client: httpx.AsyncClient) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"chunked, so no Content-Length"

    response = await upload(client, stream())
    assert response.json()["error"] == {
        "code": 1019,
        "message": "No size specified (content-length)",
    }


async def test_zero_length_body(client: httpx.AsyncClient) -> None:
    assert error_code(await upload(client, b"")) == 1019


@pytest.mark.parametrize(("declared", "body"), [("10", b"short"), ("3", b"longer than three")])
async def test_a_body_that_does_not_match_its_length_is_broken_http(
    client: httpx.AsyncClient, state: SandboxState, declared: str, body: bytes
) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield body

    response = await upload(client, stream(), headers={"Content-Length": declared})
    assert response.status_code == 400
    assert error_code(response) == 1019
    assert state.media == {}


async def test_the_storage_quota(client: httpx.AsyncClient, state: SandboxState) -> None:
    state.media_quota = 20
    assert (await upload(client, b"x" * 15)).json()["error"] is None
    response = await upload(client, b"x" * 6)
    assert error_code(response) == 2001
    assert response.json()["error"]["message"].startswith("Stored medias size limit reached")
    assert (await upload(client, b"x" * 5)).json()["error"] is None


async def test_uploads_need_credentials(client: httpx.AsyncClient, state: SandboxState) -> None:
    cases: list[tuple[dict[str, str], int]] = [
        ({}, 1015),
        ({"accountID": ACCOUNT_ID, "accountSecret": "wrong"}, 1018),
    ]
    for query, code in cases:
        assert error_code(await upload(client, query=query)) == code
    assert state.media == {}


async def test_a_template_scoped_upload_is_temporary(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    template_id = await call(client, "Template_New", template_spec())
    query = {
        "accountID": ACCOUNT_ID,
        "templateID": template_id,
        "templateSecret": state.templates[template_id]["secret"],
    }
    media: dict[str, Any] = (await upload(client, query=query)).json()["media"]
    assert media["temp"] is True
    wrong = {**query, "templateSecret": "wrong"}
    assert error_code(await upload(client, query=wrong)) == 1018


async def test_an_aborted_upload_is_logged_without_a_traceback_and_not_stored(
    state: SandboxState, caplog: pytest.LogCaptureFixture
) -> None:
    # Called as a server would: 10 of the 1,000 bytes announced, then the client hangs up.
    messages = iter(
        [
            {"type": "http.request", "body": b"x" * 10, "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/upload",
        "query_string": urlencode(account_query()).encode(),
        "headers": [(b"content-type", b"video/mp4"), (b"content-length", b"1000")],
    }
    caplog.set_level(logging.DEBUG)

    await create_app(state)(scope, receive, send)  # raises nothing for the server to log

    assert state.media == {}
    [record] = [r for r in caplog.records if r.name.startswith("pirsonal_async")]
    assert (record.levelno, record.exc_info) == (logging.INFO, None)
    assert record.getMessage() == (
        "POST /api/upload: the client disconnected before the body ended"
    )
