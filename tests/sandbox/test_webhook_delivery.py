"""Simulated rendering and webhook delivery: timeline, headers, body, failures, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import (
    ACCOUNT_ID,
    ACCOUNT_SECRET,
    NOW,
    Webhooks,
    call,
    template_spec,
)

from pirsonal_async import webhook_app
from pirsonal_async.sandbox import SandboxState, create_app, serve_asgi, serve_sandbox
from pirsonal_async.types import Video

BLANK = template_spec(inputScripts=["[]"])
# A proxy nobody listens on: traffic sent through it fails.
DEAD_PROXY = "http://127.0.0.1:9"


class SteppedSleep:
    """A sleep that returns only when the test says so, recording each requested delay."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.asleep = asyncio.Event()
        self._wake = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.asleep.set()
        await self._wake.wait()
        self._wake.clear()

    async def step(self) -> None:
        """Wakes the sleeper and waits until it sleeps again (or is done)."""
        self.asleep.clear()
        self._wake.set()


@pytest.fixture
async def stepped(
    state: SandboxState, webhooks: Webhooks
) -> AsyncIterator[tuple[httpx.AsyncClient, SteppedSleep]]:
    sleep = SteppedSleep()
    app = create_app(
        state, render_delay=3.0, sleep=sleep, webhook_transport=httpx.MockTransport(webhooks.handle)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s.test") as http,
    ):
        yield http, sleep


async def test_a_video_goes_queued_processing_done(
    stepped: tuple[httpx.AsyncClient, SteppedSleep], state: SandboxState, webhooks: Webhooks
) -> None:
    client, sleep = stepped
    template_id = await call(client, "Template_New", BLANK)
    state.add_webhook("http://hook.test/", template_id)
    video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})

    await sleep.asleep.wait()
    assert (await call(client, "Video_Get", video_id))["status"] == {"code": "queued"}
    await sleep.step()
    await sleep.asleep.wait()
    assert (await call(client, "Video_Get", video_id))["status"] == {"code": "processing"}
    assert webhooks.requests == []
    await sleep.step()
    await state.wait_rendered(video_id)

    assert (await call(client, "Video_Get", video_id))["status"] == {"code": "done"}
    assert sleep.delays == [1.5, 1.5]
    assert len(webhooks.requests) == 1


async def test_shutdown_cancels_unfinished_renderings(state: SandboxState) -> None:
    sleep = SteppedSleep()
    app = create_app(state, render_delay=60, sleep=sleep)
    state.add_webhook("http://hook.test/")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s.test") as http,
    ):
        template_id = await call(http, "Template_New", BLANK)
        video_id = await call(http, "Template_Video_New", template_id, {"name": "v"})
        await sleep.asleep.wait()
    await state.wait_rendered(video_id)
    assert state.videos[video_id]["status"] == {"code": "queued"}
    assert state.deliveries == []
    assert state.on_video_queued == []


async def test_a_video_deleted_while_rendering_is_not_delivered(
    stepped: tuple[httpx.AsyncClient, SteppedSleep], state: SandboxState, webhooks: Webhooks
) -> None:
    client, sleep = stepped
    state.add_webhook("http://hook.test/")
    template_id = await call(client, "Template_New", BLANK)
    video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})
    await sleep.asleep.wait()
    assert await call(client, "Video_Delete", video_id, False) == "OK"
    await sleep.step()
    await state.wait_rendered(video_id)
    assert webhooks.requests == []
    assert state.deliveries == []


async def test_the_webhook_call_looks_like_pirsonals(
    client: httpx.AsyncClient, state: SandboxState, webhooks: Webhooks
) -> None:
    template_id = await call(client, "Template_New", BLANK)
    state.add_webhook("http://hook.test/pirsonal?token=t0ken", template_id)
    video = {"name": "Test video", "description": "Test video for webhook", "data": "crm-42"}
    video_id = await call(client, "Template_Video_New", template_id, video)
    await state.wait_rendered(video_id)

    [request] = webhooks.requests
    assert request.method == "POST"
    assert str(request.url) == "http://hook.test/pirsonal?token=t0ken"
    assert dict(request.headers) == {
        "host": "hook.test",
        "accept": "*/*",
        "connection": "close",
        "user-agent": "Pirsonal",
        "content-type": "application/json",
        "content-length": str(len(request.content)),
    }
    body = json.loads(request.content)
    assert body == await call(client, "Video_Get", video_id)
    assert body["accountID"] == ACCOUNT_ID
    assert body["templateID"] == template_id
    assert body["status"] == {"code": "done"}
    assert body["data"] == "crm-42"
    assert body["date"] == "2014-03-25T11:21:00.047Z"
    assert body["outFiles"][0]["storage"] == {
        "pirsonalID": f"{video_id}.MP4_H264_AAC_640x480_24fps"
    }
    [delivery] = state.deliveries
    assert (delivery.status_code, delivery.error) == (200, None)
    assert state.notifications == []


async def test_each_webhook_of_the_template_and_for_all_templates_is_called(
    client: httpx.AsyncClient, state: SandboxState, webhooks: Webhooks
) -> None:
    template_id = await call(client, "Template_New", BLANK)
    other_id = await call(client, "Template_New", BLANK)
    state.add_webhook("http://hook.test/all")
    state.add_webhook("http://hook.test/mine", template_id)
    state.add_webhook("http://hook.test/other", other_id)
    video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})
    await state.wait_rendered(video_id)
    assert [str(r.url) for r in webhooks.requests] == [
        "http://hook.test/all",
        "http://hook.test/mine",
    ]


async def test_a_rejected_call_becomes_a_notification(
    client: httpx.AsyncClient, state: SandboxState, webhooks: Webhooks
) -> None:
    webhooks.status_code = 500
    template_id = await call(client, "Template_New", BLANK)
    state.add_webhook("http://hook.test/broken")
    video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})
    await state.wait_rendered(video_id)
    [notification] = state.notifications
    assert (notification.video_id, notification.template_id) == (video_id, template_id)
    assert (notification.status_code, notification.error) == (500, "HTTP 500")


async def test_an_unreachable_webhook_is_recorded_without_leaking_its_token(
    state: SandboxState, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    app = create_app(state, render_delay=0, webhook_transport=httpx.MockTransport(refuse))
    state.add_webhook("http://user:pw@hook.test/hooks/s3cr3t-token?key=s3cr3t-key")
    with caplog.at_level(logging.DEBUG):
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://s.test"
            ) as http,
        ):
            template_id = await call(http, "Template_New", BLANK)
            video_id = await call(http, "Template_Video_New", template_id, {"name": "v"})
            await state.wait_rendered(video_id)
    [notification] = state.notifications
    assert (notification.status_code, notification.error) == (None, "ConnectError")
    # Only the sandbox's own records: httpx's are the test client's, and the CLI silences them.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("pirsonal"))
    assert "to http://hook.test failed: ConnectError" in logged
    assert "s3cr3t" not in logged
    assert "pw" not in logged
    assert ACCOUNT_SECRET not in logged


async def receive_one_webhook(
    received: asyncio.Future[bytes],
) -> asyncio.Server:
    """A bare TCP server that records the first HTTP request it gets, byte for byte."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        if not received.done():
            received.set_result(head + body)

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_the_webhook_on_the_wire() -> None:
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    receiver = await receive_one_webhook(received)
    port = receiver.sockets[0].getsockname()[1]
    state = SandboxState(account_id=ACCOUNT_ID, account_secret=ACCOUNT_SECRET, clock=lambda: NOW)
    try:
        async with serve_sandbox(
            state=state, render_delay=0, webhooks=[f"http://127.0.0.1:{port}/hook"]
        ) as sandbox:
            async with httpx.AsyncClient(base_url=sandbox.base_url, trust_env=False) as http:
                template_id = await call(http, "Template_New", BLANK)
                video_id = await call(http, "Template_Video_New", template_id, {"name": "v"})
            await state.wait_rendered(video_id)
        raw = await received
    finally:
        receiver.close()
        await receiver.wait_closed()

    head, _, body = raw.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("ascii").split("\r\n")
    assert request_line == "POST /hook HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert headers == {
        "Host": f"127.0.0.1:{port}",
        "Accept": "*/*",
        "Connection": "close",
        "User-Agent": "Pirsonal",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    video: dict[str, Any] = json.loads(body)
    assert (video["id"], video["status"]) == (video_id, {"code": "done"})
    assert [d.error for d in state.deliveries] == [None]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://[::1/hook?token=s3cr3t", "InvalidURL"),
        ("http://hook.test/\x00?token=s3cr3t", "InvalidURL"),
        ("http://xn--/hook?token=s3cr3t", "IDNAError"),
    ],
)
async def test_a_malformed_url_put_in_the_state_directly_is_a_failed_delivery(
    client: httpx.AsyncClient,
    state: SandboxState,
    webhooks: Webhooks,
    caplog: pytest.LogCaptureFixture,
    url: str,
    error: str,
) -> None:
    template_id = await call(client, "Template_New", BLANK)
    # Bypasses add_webhook's check, as code that edits `state.webhooks` itself would.
    state.webhooks[None] = [url, "http://hook.test/after"]
    with caplog.at_level(logging.DEBUG):
        video_id = await call(client, "Template_Video_New", template_id, {"name": "v"})
        await state.wait_rendered(video_id)
    [notification] = state.notifications
    assert (notification.video_id, notification.url) == (video_id, url)
    assert (notification.status_code, notification.error) == (None, error)
    # The delivery went on to the next URL: the rendering task did not die.
    assert [str(r.url) for r in webhooks.requests] == ["http://hook.test/after"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"failed: {error}" in logged
    assert "s3cr3t" not in logged
    assert not any(r.exc_info for r in caplog.records)


# One renderer per state, attached by the app's lifespan


async def test_an_app_renders_only_while_its_lifespan_runs(state: SandboxState) -> None:
    app = create_app(state, render_delay=0)
    assert (state.on_video_queued, state.renderer_attached) == ([], False)
    async with app.router.lifespan_context(app):
        assert len(state.on_video_queued) == 1
        assert state.renderer_attached
    assert (state.on_video_queued, state.renderer_attached) == ([], False)


async def test_a_second_app_on_a_served_state_refuses_to_start(state: SandboxState) -> None:
    first, second = create_app(state), create_app(state)
    async with first.router.lifespan_context(first):
        with pytest.raises(RuntimeError, match="already served by a running sandbox app"):
            async with second.router.lifespan_context(second):
                pass
        with pytest.raises(RuntimeError, match="already served by a running sandbox app"):
            async with serve_sandbox(state=state):
                pass
        assert len(state.on_video_queued) == 1
    assert (state.on_video_queued, state.renderer_attached) == ([], False)


async def test_serve_sandbox_twice_at_once_on_one_state_fails_clearly(
    state: SandboxState,
) -> None:
    with pytest.raises(RuntimeError, match="already served by a running sandbox app"):
        async with serve_sandbox(state=state), serve_sandbox(state=state):
            pass
    assert (state.on_video_queued, state.renderer_attached) == ([], False)


async def test_each_video_is_delivered_once_by_successive_sandboxes_on_one_state(
    state: SandboxState,
) -> None:
    create_app(state)  # never started: it must not render anything
    received: list[str] = []

    async def receive(video: Video) -> None:
        received.append(video.id or "")

    async with serve_asgi(webhook_app(receive)) as hook_url:
        state.add_webhook(f"{hook_url}/hook")
        video_ids = []
        for _ in range(2):
            async with serve_sandbox(state=state, render_delay=0):
                template_id = state.template_new(BLANK)
                video_ids.append(state.video_new(template_id, {"name": "v"}))
                await state.wait_rendered(video_ids[-1])
    assert received == video_ids
    assert [d.video_id for d in state.deliveries] == video_ids


async def test_webhooks_to_loopback_bypass_proxy_variables(
    state: SandboxState, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, DEAD_PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    receiver = await receive_one_webhook(received)
    port = receiver.sockets[0].getsockname()[1]
    try:
        async with serve_sandbox(
            state=state, render_delay=0, webhooks=[f"http://127.0.0.1:{port}/hook"]
        ):
            template_id = state.template_new(BLANK)
            video_id = state.video_new(template_id, {"name": "v"})
            await state.wait_rendered(video_id)
    finally:
        receiver.close()
        await receiver.wait_closed()
    assert [(d.status_code, d.error) for d in state.deliveries] == [(200, None)]
    assert (await received).startswith(b"POST /hook HTTP/1.1\r\n")
