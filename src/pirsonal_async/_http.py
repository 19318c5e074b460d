"""Where the library meets httpx: its failures as redacted values, and bounded body reads."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from attrs import frozen

from pirsonal_async.retry import Failure

# httpx failures by what they mean for a retry; anything else is final.
_FAILURES: tuple[tuple[type[httpx.HTTPError], Failure], ...] = (
    (httpx.ConnectTimeout, Failure.NOT_SENT),
    (httpx.PoolTimeout, Failure.NOT_SENT),
    (httpx.ConnectError, Failure.NOT_SENT),
    (httpx.TimeoutException, Failure.TIMEOUT),
    (httpx.ReadError, Failure.CONNECTION_LOST),
    (httpx.WriteError, Failure.CONNECTION_LOST),
    (httpx.CloseError, Failure.CONNECTION_LOST),
    (httpx.RemoteProtocolError, Failure.CONNECTION_LOST),
)
# Final failures raised before anything was sent (bad URL scheme, proxy, our own HTTP misuse).
_NEVER_SENT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)


@frozen
class HttpFailure:
    """An httpx error as a value: `kind` for the retry policy (None: final), a description
    redacted because httpx's text quotes the URL and its secret, and whether it is a final
    failure raised before anything was sent."""

    kind: Failure | None
    description: str
    never_sent: bool


def http_failure(error: httpx.HTTPError, redact: Callable[[str], str]) -> HttpFailure:
    kind = next((kind for cls, kind in _FAILURES if isinstance(error, cls)), None)
    detail = redact(str(error))
    description = type(error).__name__ + (f": {detail}" if detail else "")
    return HttpFailure(kind, description, never_sent=isinstance(error, _NEVER_SENT))


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
