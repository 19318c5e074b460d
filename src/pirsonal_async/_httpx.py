"""The engine over an `httpx.AsyncClient`: a user's own client, or the default one under respx."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import httpx

from pirsonal_async._http import Failed, Post, Reply, failed
from pirsonal_async.errors import ClientClosedError

if sys.version_info >= (3, 11):
    from asyncio import timeout as deadline_scope
else:  # pragma: no cover - aiohttp requires async-timeout on 3.10
    from async_timeout import timeout as deadline_scope

# Final failures: retrying cannot mend a bad URL scheme, a refused proxy or our own misuse.
_FINAL = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)
# What httpx's own transport (httpcore) raises only before a request is sent. Other transports
# may map their errors loosely (httpx-aiohttp reports a dropped connection as ConnectTimeout),
# so for them only the body tells: nothing was sent while it had not started.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, *_FINAL)


class HttpxEngine:
    """Sends through `client`, which stays its owner's to configure and close (unless `owned`).

    The `Post`'s timeout is passed with each request, and the whole attempt is bounded by its
    deadline too, since httpx's timeouts bound each read, not the attempt.
    """

    def __init__(self, client: httpx.AsyncClient, *, owned: bool = False) -> None:
        self.client = client
        self._owned = owned

    async def post(self, post: Post, redact: Callable[[str], str]) -> Reply | Failed:
        body = post.body
        trusted = self._is_httpx_transport(post.url)
        # Bytes where the transport's errors tell what was sent (event hooks and respx can read
        # them); elsewhere a stream, whose start is the only sure sign.
        content = body.data if trusted and body.data is not None else body.chunks()
        try:
            async with (
                deadline_scope(post.deadline.total),
                self.client.stream(
                    "POST",
                    post.url,
                    content=content,
                    headers={**post.headers, "Content-Length": str(body.size)},
                    timeout=post.deadline.as_httpx,
                ) as response,
            ):
                limit = post.limit if response.status_code == 200 else post.error_limit
                received, complete = await read_at_most(response, limit)
                return Reply(
                    response.status_code,
                    response.reason_phrase,
                    response.headers.get("retry-after"),
                    received,
                    complete,
                )
        except (httpx.HTTPError, asyncio.TimeoutError) as error:
            if body.error is not None:
                raise body.error from None
            # Not sent only when every sign says so.
            sent = body.started or (trusted and not isinstance(error, _BEFORE_SENDING))
            return failed(error, sent, isinstance(error, _FINAL), redact)
        except RuntimeError as error:
            if self.client.is_closed:
                raise ClientClosedError("the http_client passed in is closed") from None
            raise error

    def _is_httpx_transport(self, url: str) -> bool:
        try:
            transport = self.client._transport_for_url(httpx.URL(url))
        except AttributeError:  # pragma: no cover - a future httpx without it
            return False
        return isinstance(transport, httpx.AsyncHTTPTransport)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


async def read_at_most(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The body, or its first `limit` bytes and False when it is longer (reading stops)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return b"", False
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], False
    return b"".join(chunks), True
