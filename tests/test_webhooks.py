"""Webhook decoding and the ASGI receiver: every reply status, handler kinds, a real server."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from pirsonal_async.errors import PirsonalAsyncError
from pirsonal_async.generated.types import Video
from pirsonal_async.sandbox import serve_asgi
from pirsonal_async.webhooks import WebhookError, parse_webhook, webhook_app

# The "Webhook call example" body of the vendor docs, verbatim.
DOCS_EXAMPLE = """
  {
    "accountID":"533154e50fa92a6755582c8c",
    "description":"Test video for webhoook",
    "duration":2000,
    "name":"Test video",
    "templateID":"533155ec0fa92a6755582c8e",
    "outFiles":[
      {
        "name":"5331669c0fa92a6755582c9e.MP4_H264_AAC_640x480.mp4",
        "profile":"MP4_H264_AAC_640x480_24fps",
        "size":27841,
        "storage":{
          "pirsonalID":"5331669c0fa92a6755582c9e.MP4_H264_AAC_640x480_24fps"
        }
      }
    ],
    "status": {"code":"done"},
    "date":"2014-03-25T11:21:00.047Z",
    "id":"5331669c0fa92a6755582c9e",
    "data" : "String passed as data parameter to Video Object when Template_VideoNew was called"
  }
"""
TOKEN = "s3cr3t-hook-token"
# Arrays nested deeper than the JSON decoder can recurse.
DEEP = b"[" * 100_000 + b"]" * 100_000


def example_with(**changes: Any) -> bytes:
    video = json.loads(DOCS_EXAMPLE)
    video.update(changes)
    return json.dumps(video).encode()


class Recorder:
    """An async handler that remembers the videos it was given."""

    def __init__(self) -> None:
        self.videos: list[Video] = []
        self.threads: list[int] = []

    async def __call__(self, video: Video) -> None:
        self.videos.append(video)
        self.threads.append(threading.get_ident())


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hooks")


# parse_webhook


def test_docs_example_parses() -> None:
    video = parse_webhook(DOCS_EXAMPLE.encode())
    assert video.id == "5331669c0fa92a6755582c9e"
    assert video.name == "Test video"
    assert video.account_id == "533154e50fa92a6755582c8c"
    assert video.template_id == "533155ec0fa92a6755582c8e"
    assert video.duration == 2000
    assert video.status is not None
    assert video.status.code == "done"
    assert video.data is not None
    assert video.data.startswith("String passed as data")
    assert video.out_files is not None
    [out_file] = video.out_files
    assert out_file.profile == "MP4_H264_AAC_640x480_24fps"
    assert out_file.size == 27841
    assert out_file.storage is not None
    assert out_file.storage.pirsonal_id == "5331669c0fa92a6755582c9e.MP4_H264_AAC_640x480_24fps"


def test_text_body_parses_like_bytes() -> None:
    assert parse_webhook(DOCS_EXAMPLE) == parse_webhook(DOCS_EXAMPLE.encode())


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\xfa", "not valid JSON"),
        (b"", "not valid JSON"),
        (DEEP, "not valid JSON"),
        (b"[1, 2]", "not a Video object but a JSON list"),
        (b'"done"', "not a Video object but a JSON str"),
        (example_with(name=None), "video.name"),
        (example_with(outFiles=[{"name": "a.mp4", "profile": "p", "size": "big"}]), "size"),
        (example_with(status={"code": 7}), "video.status.code"),
    ],
)
def test_bad_body_raises_webhook_error_naming_the_problem(body: bytes, problem: str) -> None:
    with pytest.raises(WebhookError, match=problem.replace(".", r"\.")) as caught:
        parse_webhook(body)
    assert isinstance(caught.value, PirsonalAsyncError)


def test_bad_field_error_names_the_json_path() -> None:
    body = example_with(outFiles=[{"name": "a.mp4", "profile": "p", "size": "big"}])
    with pytest.raises(WebhookError, match=r"video\.outFiles\[0\]\.size"):
        parse_webhook(body)


# webhook_app: accepted deliveries


async def test_async_handler_gets_the_video_and_reply_is_empty_200() -> None:
    handler = Recorder()
    async with client_for(webhook_app(handler)) as client:
        response = await client.post("/", content=DOCS_EXAMPLE)
    assert response.status_code == 200
    assert response.content == b""
    assert [video.id for video in handler.videos] == ["5331669c0fa92a6755582c9e"]
    assert handler.threads == [threading.get_ident()]  # awaited on the loop, not in a thread


async def test_sync_handler_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    def handler(video: Video) -> None:
        threads.append(threading.get_ident())

    async with client_for(webhook_app(handler)) as client:
        response = await client.post("/", content=DOCS_EXAMPLE)
    assert response.status_code == 200
    assert threads
    assert threads != [threading.get_ident()]


async def test_async_function_handler_runs_on_the_event_loop() -> None:
    threads: list[int] = []

    async def handler(video: Video) -> None:
        threads.append(threading.get_ident())

    async with client_for(webhook_app(handler)) as client:
        response = await client.post("/", content=DOCS_EXAMPLE)
    assert response.status_code == 200
    assert threads == [threading.get_ident()]


async def test_sync_callable_returning_an_awaitable_is_awaited() -> None:
    handler = Recorder()

    def wrapper(video: Video) -> Any:
        return handler(video)

    async with client_for(webhook_app(wrapper)) as client:
        response = await client.post("/", content=DOCS_EXAMPLE)
    assert response.status_code == 200
    assert len(handler.videos) == 1


# webhook_app: token


@pytest.mark.parametrize(
    "path",
    [
        f"/?token={TOKEN}",
        f"/{TOKEN}",
        f"/hooks/pirsonal/{TOKEN}",
        f"/{TOKEN}/",
        f"/x?token={TOKEN}",
    ],
)
async def test_right_token_in_query_or_last_path_segment_is_accepted(path: str) -> None:
    handler = Recorder()
    async with client_for(webhook_app(handler, token=TOKEN)) as client:
        response = await client.post(path, content=DOCS_EXAMPLE)
    assert response.status_code == 200
    assert len(handler.videos) == 1


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 401),
        ("", 401),
        ("/?other=1", 401),
        ("/?token=wrong", 403),
        ("/wrong", 403),
        (f"/{TOKEN}x", 403),
        (f"/{TOKEN}/extra", 403),
        ("/?token=" + TOKEN[:-1], 403),
    ],
)
async def test_missing_token_is_401_and_wrong_token_403(path: str, status: int) -> None:
    handler = Recorder()
    async with client_for(webhook_app(handler, token=TOKEN)) as client:
        response = await client.post(path, content=DOCS_EXAMPLE)
    assert response.status_code == status
    assert handler.videos == []


async def test_non_ascii_token_is_compared_safely() -> None:
    handler = Recorder()
    async with client_for(webhook_app(handler, token="clé-secrète")) as client:
        wrong = await client.post("/?token=clé", content=DOCS_EXAMPLE)
        right = await client.post("/clé-secrète", content=DOCS_EXAMPLE)
    assert (wrong.status_code, right.status_code) == (403, 200)


async def test_token_is_the_path_below_the_mount_point() -> None:
    handler = Recorder()
    outer = Starlette(routes=[Mount("/hooks", app=webhook_app(handler, token=TOKEN))])
    async with client_for(outer) as client:
        missing = await client.post("/hooks/", content=DOCS_EXAMPLE)
        right = await client.post(f"/hooks/{TOKEN}", content=DOCS_EXAMPLE)
    assert (missing.status_code, right.status_code) == (401, 200)
    assert len(handler.videos) == 1


async def test_token_never_reaches_logs_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    async def failing(video: Video) -> None:
        raise RuntimeError("handler broke")

    app = webhook_app(failing, token=TOKEN)
    caplog.set_level(logging.DEBUG)
    async with client_for(app) as client:
        for path in ("/", "/wrong", f"/{TOKEN}", f"/?token={TOKEN}"):
            await client.post(path, content=DOCS_EXAMPLE)
        await client.post(f"/{TOKEN}", content=b"{")
    ours = [r for r in caplog.records if r.name.startswith("pirsonal_async")]
    assert len(ours) == 5
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.exc_info}" for r in ours)
    assert TOKEN not in logged
    assert TOKEN not in repr(app)


# webhook_app: rejected requests


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
async def test_any_method_but_post_is_405_with_allow(method: str) -> None:
    handler = Recorder()
    async with client_for(webhook_app(handler)) as client:
        response = await client.request(method, "/")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert handler.videos == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>oops</html>", "not valid JSON"),
        (DEEP, "not valid JSON"),
        (b"[]", "not a Video object"),
        (example_with(status="done"), "video.status"),
    ],
)
async def test_body_that_is_not_a_video_is_400_with_plain_reason(body: bytes, reason: str) -> None:
    handler = Recorder()
    async with client_for(webhook_app(handler)) as client:
        response = await client.post("/", content=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert reason in response.text
    assert len(response.text) <= 200
    assert handler.videos == []


async def test_declared_length_over_the_limit_is_413_before_reading() -> None:
    handler = Recorder()
    pulled: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for chunk in (b"{", b"}"):
            pulled.append(chunk)
            yield chunk

    app = webhook_app(handler, max_body=100)
    async with client_for(app) as client:
        response = await client.post("/", content=body(), headers={"Content-Length": "101"})
    assert response.status_code == 413
    assert pulled == []
    assert handler.videos == []


async def test_streamed_body_over_the_limit_is_413_without_reading_further() -> None:
    handler = Recorder()
    pulled: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(10):
            chunk = b" " * 40
            pulled.append(chunk)
            yield chunk

    app = webhook_app(handler, max_body=100)
    async with client_for(app) as client:
        response = await client.post("/", content=body())  # chunked: no Content-Length
    assert response.status_code == 413
    assert len(pulled) == 3  # 120 bytes: the first chunk past the limit
    assert handler.videos == []


async def test_body_exactly_at_the_limit_is_accepted() -> None:
    handler = Recorder()
    body = DOCS_EXAMPLE.encode()
    async with client_for(webhook_app(handler, max_body=len(body))) as client:
        response = await client.post("/", content=body)
    assert response.status_code == 200


async def test_invalid_content_length_is_400() -> None:
    sent: list[Any] = []
    app = webhook_app(Recorder())
    # "²" passes str.isdigit() but is no Content-Length.
    headers = [(b"content-length", "²".encode("latin-1"))]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 400


async def test_handler_failure_is_500_and_logged_with_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(video: Video) -> None:
        raise ValueError("database down")

    async with client_for(webhook_app(handler)) as client:
        response = await client.post("/", content=DOCS_EXAMPLE)
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    assert "database down" in caplog.text
    assert "5331669c0fa92a6755582c9e" in record.getMessage()


async def test_client_disconnect_while_reading_calls_no_handler() -> None:
    handler = Recorder()
    sent: list[Any] = []
    messages = iter([{"type": "http.request", "body": b"{", "more_body": True}])
    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}

    async def receive() -> Any:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: Any) -> None:
        sent.append(message)

    await webhook_app(handler)(scope, receive, send)
    assert sent == []
    assert handler.videos == []


# webhook_app: construction and ASGI plumbing


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"token": ""}, "token"),
        ({"max_body": 0}, "max_body"),
        ({"max_body": True}, "max_body"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        webhook_app(Recorder(), **kwargs)


def test_handler_must_be_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        webhook_app("not a function")  # type: ignore[arg-type]


async def test_lifespan_handshake_completes() -> None:
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[Any] = []

    async def receive() -> Any:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message)

    await webhook_app(Recorder())({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_websocket_scope_is_refused() -> None:
    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        raise AssertionError("nothing should be sent")

    with pytest.raises(RuntimeError, match="HTTP only"):
        await webhook_app(Recorder())({"type": "websocket"}, receive, send)


# a real server


async def test_real_uvicorn_server_delivers_to_the_handler() -> None:
    handler = Recorder()
    async with serve_asgi(webhook_app(handler, token=TOKEN)) as base_url:
        headers = {"User-Agent": "Pirsonal", "Accept": "*/*", "Connection": "close"}
        async with httpx.AsyncClient(base_url=base_url) as client:
            accepted = await client.post(
                f"/webhook/{TOKEN}",
                content=DOCS_EXAMPLE,
                headers={**headers, "Content-Type": "application/json"},
            )
            refused = await client.post("/webhook/nope", content=DOCS_EXAMPLE, headers=headers)
    assert (accepted.status_code, accepted.content) == (200, b"")
    assert refused.status_code == 403
    assert [video.id for video in handler.videos] == ["5331669c0fa92a6755582c9e"]
