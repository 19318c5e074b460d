"""The default engine: aiohttp, measured as the fastest well-kept asyncio HTTP client here.

On the 2-core bench machine one sequential call costs ~660 µs of client CPU through raw httpx
and ~130 µs through raw aiohttp, and httpx's pool (httpcore) wedges after mass cancellation;
aiohttp releases connections on cancellation. While a respx router is active (the design's mocking
library, which only sees httpx), requests go through httpx so that respx sees them.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
from aiohttp import payload
from yarl import URL

from pirsonal_async._http import Body, Deadline, Failed, Post, Reply, failed
from pirsonal_async._httpx import HttpxEngine
from pirsonal_async.errors import ClientClosedError

# Final failures: retrying cannot mend a URL aiohttp refuses or a certificate it distrusts.
_FINAL = (
    aiohttp.InvalidURL,
    aiohttp.ClientConnectorCertificateError,
    aiohttp.ClientConnectorSSLError,
)
# Like httpx's defaults: at most 100 connections, idle ones kept for a while.
_MAX_CONNECTIONS = 100
_KEEPALIVE_SECONDS = 15.0


class AiohttpEngine:
    """Owns one `aiohttp.ClientSession`, opened in the running loop on first use (and again in
    each new loop the client is used from)."""

    def __init__(self, *, trust_env: bool = True) -> None:
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._mocked: HttpxEngine | None = None
        self.closed = False

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # A session belongs to its event loop: a client used from a new loop (a second
        # asyncio.run, the next test) gets a new one; the old loop's connections went with it.
        if self._session is None or self._loop is not loop:
            self._loop = loop
            connector = aiohttp.TCPConnector(
                limit=_MAX_CONNECTIONS, keepalive_timeout=_KEEPALIVE_SECONDS
            )
            # trust_env: proxies from the environment (and NO_PROXY), as httpx does by default.
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=self._trust_env, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def post(self, post: Post, redact: Callable[[str], str]) -> Reply | Failed:
        if self.closed:
            raise ClientClosedError("the client is closed; make a new one")
        if _respx_is_mocking():
            return await self._under_respx().post(post, redact)
        session = self._open()
        body = post.body
        data: Any
        if body.data is not None:
            data, headers = _TrackedBytes(body), post.headers  # aiohttp sets its length
        else:
            data, headers = body.chunks(), {**post.headers, "Content-Length": str(body.size)}
        try:
            # Never redirected: a 307 would send the body (maybe a write) somewhere again.
            async with session.post(
                _url(post.url),
                data=data,
                headers=headers,
                timeout=_client_timeout(post.deadline),
                allow_redirects=False,
            ) as response:
                limit = post.limit if response.status == 200 else post.error_limit
                content, complete = await _read_at_most(response, limit)
                return Reply(
                    response.status,
                    response.reason or "",
                    response.headers.get("Retry-After"),
                    content,
                    complete,
                )
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            if body.error is not None:
                raise body.error from None
            if self.closed:
                raise ClientClosedError("the client was closed during the call") from None
            return failed(error, body.started, isinstance(error, _FINAL), redact)

    def _under_respx(self) -> HttpxEngine:
        if self._mocked is None:
            client = httpx.AsyncClient(trust_env=self._trust_env)
            self._mocked = HttpxEngine(client, owned=True)
        return self._mocked

    async def aclose(self) -> None:
        self.closed = True
        if self._session is not None:
            await self._session.close()
        if self._mocked is not None:
            await self._mocked.aclose()


class _TrackedBytes(payload.BytesPayload):
    """The body's bytes; marks the body started when aiohttp begins writing them (aiohttp
    buffers the headers until then, so nothing of the request has left before)."""

    def __init__(self, body: Body) -> None:
        assert body.data is not None
        super().__init__(body.data, content_type="application/json")
        self._body = body

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        self._body.started = True
        await super().write_with_length(writer, content_length)


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The body, or its first `limit` bytes and False when it is longer (reading stops)."""
    declared = response.content_length
    if declared is not None and declared > limit:
        return b"", False
    if declared is not None:
        return await response.read(), True
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], False
    return b"".join(chunks), True


@functools.lru_cache(maxsize=256)
def _url(url: str) -> URL:
    # Already percent-encoded by the caller: parsed once, never re-encoded.
    return URL(url, encoded=True)


@functools.lru_cache(maxsize=64)
def _client_timeout(deadline: Deadline) -> aiohttp.ClientTimeout:
    # A bound on the whole attempt makes a per-read one redundant (and it costs a timer per
    # read); without one (uploads), each wait for reply bytes is bounded.
    read = deadline.read if deadline.total is None else None
    return aiohttp.ClientTimeout(
        total=deadline.total, sock_connect=deadline.connect, sock_read=read
    )


def _respx_is_mocking() -> bool:
    """Whether a respx router is started: its mockers keep the started routers by kind."""
    mocks = sys.modules.get("respx.mocks")
    if mocks is None:
        return False
    registry = getattr(getattr(mocks, "Mocker", None), "registry", {})
    return any(getattr(mocker, "routers", None) for mocker in registry.values())
