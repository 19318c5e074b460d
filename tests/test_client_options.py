"""Configuration like the best SDKs: environment, timeouts, with_options, headers, closing."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import subprocess
import sys
import threading
from typing import Any

import httpx
import pytest
import respx

import pirsonal_async
from pirsonal_async import (
    BatchNotSentError,
    ClientClosedError,
    ConfigurationError,
    PirsonalClient,
    RetryPolicy,
)
from pirsonal_async.errors import ERROR_CLASSES
from pirsonal_async.retry import NO_RETRY
from pirsonal_async.rpc import USER_AGENT

ENV_URL = "https://env.example"


def echo(result: Any) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], "result": result})

    return answer


async def test_a_client_reads_what_it_is_not_given_from_the_environment(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIRSONAL_ACCOUNT_ID", "env-id")
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", "env-secret")
    monkeypatch.setenv("PIRSONAL_BASE_URL", ENV_URL)
    route = respx_mock.post(f"{ENV_URL}/api").mock(side_effect=echo([]))

    async with PirsonalClient() as client:
        assert await client.template_list() == []
    async with PirsonalClient("given-id", base_url="https://given.example") as given:
        assert "given-id" in repr(given)
        assert "given.example" in repr(given)

    assert dict(route.calls.last.request.url.params) == {
        "accountID": "env-id",
        "accountSecret": "env-secret",
    }


@pytest.mark.parametrize("missing", ["PIRSONAL_ACCOUNT_ID", "PIRSONAL_ACCOUNT_SECRET"])
def test_a_missing_credential_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setenv("PIRSONAL_ACCOUNT_ID", "env-id")
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", "env-secret")
    monkeypatch.delenv(missing)

    with pytest.raises(ConfigurationError, match=rf"\${missing}"):
        PirsonalClient()


@pytest.mark.parametrize(
    ("timeout", "problem"),
    [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("30", TypeError)],
)
def test_a_bad_timeout_is_refused_at_once(timeout: Any, problem: type[Exception]) -> None:
    with pytest.raises(problem, match="timeout"):
        PirsonalClient("id", "secret", timeout=timeout)


async def test_with_options_shares_the_pool_and_changes_only_what_it_names(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post("https://app.pirsonal.com/api").mock(side_effect=echo([]))
    client = PirsonalClient("id", "secret", retry=NO_RETRY)
    patient = RetryPolicy(max_attempts=5)

    sibling = client.with_options(timeout=120.0, retry=patient)

    assert sibling.rpc.engine is client.rpc.engine
    assert sibling.rpc.timeout == 120.0
    assert sibling.rpc._deadline.total == 120.0
    assert sibling.rpc.retry is patient
    assert client.rpc.retry is NO_RETRY
    assert await sibling.template_list() == []
    await sibling.aclose()  # the original owns the pool: it stays open
    assert await client.template_list() == []
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.with_options(timeout=5.0).template_list()


async def test_every_request_carries_the_library_user_agent_unless_the_user_sets_one(
    respx_mock: respx.MockRouter,
) -> None:
    rpc = respx_mock.post("https://app.pirsonal.com/api").mock(side_effect=echo([]))
    upload = respx_mock.post("https://app.pirsonal.com/api/upload").mock(
        return_value=httpx.Response(200, json={"error": None, "media": {"id": "m1"}})
    )

    async with PirsonalClient("id", "secret") as client:
        await client.template_list()
        await client.upload_media(b"x", content_type="video/mp4")
    async with PirsonalClient("id", "secret", headers={"User-Agent": "crm-sync/2"}) as mine:
        await mine.template_list()

    assert USER_AGENT.startswith(f"pirsonal-async/{pirsonal_async_version()} python/")
    agents = [call.request.headers["user-agent"] for call in [*rpc.calls, *upload.calls]]
    assert agents == [USER_AGENT, "crm-sync/2", USER_AGENT]


def pirsonal_async_version() -> str:
    from importlib.metadata import version

    return version("pirsonal-async")


def test_an_application_without_logging_config_sees_nothing_on_stderr() -> None:
    script = (
        "import asyncio, logging\n"
        "from pirsonal_async import PirsonalClient, TransportError, RetryPolicy\n"
        "async def main():\n"
        "    policy = RetryPolicy(base_delay=0)\n"
        "    url = 'http://127.0.0.1:9'\n"
        "    async with PirsonalClient('id', 's', base_url=url, retry=policy) as c:\n"
        "        try:\n"
        "            await c.template_list()\n"
        "        except TransportError:\n"
        "            print('failed after retries')\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout == "failed after retries\n"
    assert result.stderr == ""
    assert any(
        isinstance(handler, logging.NullHandler)
        for handler in logging.getLogger("pirsonal_async").handlers
    )


async def test_a_closed_client_refuses_calls_uploads_and_batches() -> None:
    client = PirsonalClient("id", "secret")
    await client.aclose()

    with pytest.raises(ClientClosedError, match="closed"):
        await client.template_list()
    with pytest.raises(ClientClosedError, match="closed"):
        await client.upload_media(b"x", content_type="video/mp4")
    with pytest.raises(ClientClosedError, match="closed"):
        async with client.batch() as batch:
            batch.template_list()


async def test_a_closed_user_http_client_is_reported_as_ours() -> None:
    http = httpx.AsyncClient()
    await http.aclose()
    client = PirsonalClient("id", "secret", http_client=http)

    with pytest.raises(ClientClosedError, match="http_client"):
        await client.template_list()


async def test_waiting_on_a_batch_result_inside_the_block_fails_at_once(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post("https://app.pirsonal.com/api").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=[
                {"jsonrpc": "2.0", "id": call["id"], "result": []}
                for call in json.loads(request.content)
            ],
        )
    )
    async with PirsonalClient("id", "secret") as client:
        async with client.batch() as batch:
            templates = batch.template_list()
            with pytest.raises(BatchNotSentError, match="resolve when the block exits"):
                await asyncio.gather(templates)
        assert await templates == []


def test_every_error_class_imports_from_the_top_level() -> None:
    names = {cls.__name__ for cls in ERROR_CLASSES.values()}
    names |= {"UploadSourceChanged", "WebhookError", "ClientClosedError", "BatchNotSentError"}
    names |= {"TransportError", "HttpStatusError", "ProtocolError", "RequestValidationError"}

    for name in sorted(names):
        exported = getattr(pirsonal_async, name)
        assert isinstance(exported, type)
        assert issubclass(exported, pirsonal_async.PirsonalAsyncError)
        assert name in pirsonal_async.__all__


@pytest.mark.parametrize(
    ("headers", "problem"),
    [({"X-Tag": "a\r\nInjected: 1"}, ValueError), ({"X-Tag": 3}, TypeError)],
)
def test_bad_extra_headers_are_refused_at_once(headers: Any, problem: type[Exception]) -> None:
    with pytest.raises(problem, match="X-Tag"):
        PirsonalClient("id", "secret", headers=headers)


class _JsonRpcHandler(http.server.BaseHTTPRequestHandler):
    """Answers every call with an empty list, on its own thread (it outlives event loops)."""

    def do_POST(self) -> None:
        call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({"jsonrpc": "2.0", "id": call["id"], "result": []}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_client_serves_one_event_loop_after_another() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JsonRpcHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = PirsonalClient("id", "secret", base_url=f"http://127.0.0.1:{server.server_port}")
    try:
        # Two asyncio.run calls (or two tests with their own loops) share one client.
        assert asyncio.run(client.template_list()) == []
        assert asyncio.run(client.template_list()) == []
        asyncio.run(client.aclose())
    finally:
        server.shutdown()
        server.server_close()
