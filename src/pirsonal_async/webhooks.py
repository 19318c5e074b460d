"""Receive Pirsonal webhooks: decode the posted Video and serve a receiver as a plain ASGI app."""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from pirsonal_async.errors import PirsonalAsyncError
from pirsonal_async.generated import DecodeError
from pirsonal_async.generated.types import Video

__all__ = ["WebhookApp", "WebhookError", "WebhookHandler", "parse_webhook", "webhook_app"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

WebhookHandler = Callable[[Video], object]
"""Called once per accepted delivery: an async callable, or a sync one (run in a worker thread)."""

_REASON_LIMIT = 200
# Pirsonal posts a few kilobytes at once: a body that takes longer is a stalled or hostile peer.
DEFAULT_BODY_TIMEOUT = 10.0


class WebhookError(PirsonalAsyncError):
    """A webhook body that is not a JSON-encoded Video object; the message names the problem."""


def parse_webhook(body: bytes | str, *, strict: bool = False) -> Video:
    """Decode a webhook body (the JSON Video that Pirsonal posts) into a `Video`.

    Decoding is the typed decode of the generated bindings: required fields and types are
    checked, unknown keys are kept, and an enum value the contract does not list becomes an
    `UnknownEnumValue` (refused when `strict`). No separate contract validation is run, since
    it would check the same rules a second time.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # also undecodable bytes, or nesting too deep
        raise WebhookError(f"webhook body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WebhookError(f"webhook body is not a Video object but a JSON {type(data).__name__}")
    try:
        return Video.from_json(data, path="video", strict=strict)
    except DecodeError as exc:
        raise WebhookError(f"webhook body is not a Video: {exc}") from None


def webhook_app(
    handler: WebhookHandler,
    *,
    token: str | None = None,
    max_body: int = 1_000_000,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> WebhookApp:
    """An ASGI app that accepts Pirsonal's webhook POSTs and calls `handler(video)` for each.

    Pirsonal signs nothing, so put a secret `token` in the webhook URL, either as the `token`
    query parameter (`https://host/hooks/pirsonal?token=...`) or as the last path segment below
    the app's mount point (`https://host/hooks/pirsonal/<token>`).

    Replies: 200 (empty body) once the handler has returned; 401 without a token; 403 with a
    wrong one; 405 for any method but POST; 413 for a body over `max_body` bytes; 408 (and the
    connection closed) for a body not received within `body_timeout` seconds, whatever the
    server; 400 for a body that is not a Video; 500 when the handler raises (logged with its
    traceback, so Pirsonal records a failed delivery). The handler is only called for accepted
    deliveries. How long the *headers* may take is the server's to bound (see the README).

    An async handler is awaited on the event loop. A sync handler runs in a worker thread
    (`asyncio.to_thread`), so a blocking handler (a database write, a queue put) never stalls
    the server; it must therefore be thread-safe.
    """
    return WebhookApp(handler, token=token, max_body=max_body, body_timeout=body_timeout)


class WebhookApp:
    """The ASGI application made by `webhook_app`; its repr never shows the token."""

    __slots__ = ("_body_timeout", "_handler", "_max_body", "_token")

    def __init__(
        self,
        handler: WebhookHandler,
        *,
        token: str | None,
        max_body: int,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {type(handler).__name__}")
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("token must be a non-empty string, or None for no token check")
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
            raise ValueError(f"max_body must be a positive number of bytes, not {max_body!r}")
        if isinstance(body_timeout, bool) or not 0 < body_timeout < math.inf:
            raise ValueError(
                f"body_timeout must be a positive number of seconds, not {body_timeout!r}"
            )
        self._body_timeout = body_timeout
        self._handler = handler
        self._token = None if token is None else token.encode("utf-8")
        self._max_body = max_body

    def __repr__(self) -> str:
        guard = "token" if self._token is not None else "no token"
        return (
            f"<WebhookApp {self._handler!r}, {guard}, max_body={self._max_body}, "
            f"body_timeout={self._body_timeout:g}>"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _serve_lifespan(receive, send)
        elif scope["type"] == "http":
            await self._serve_http(scope, receive, send)
        else:
            raise RuntimeError(f"webhook_app serves HTTP only, not {scope['type']!r}")

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Never log the path or query: they carry the token.
        if scope["method"] != "POST":
            await _respond(send, 405, "only POST is allowed", [(b"allow", b"POST")])
            return
        denial = self._check_token(scope)
        if denial is not None:
            logger.warning("webhook rejected: %s", denial[1])
            await _respond(send, *denial)
            return
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        try:
            video = parse_webhook(body)
        except WebhookError as exc:
            logger.warning("webhook rejected: %s", exc)
            await _respond(send, 400, str(exc)[:_REASON_LIMIT])
            return
        try:
            await self._run_handler(video)
        except Exception:
            logger.exception("webhook handler failed for video %r", video.id)
            await _respond(send, 500, "webhook handler failed")
            return
        await _respond(send, 200, "")

    def _check_token(self, scope: Scope) -> tuple[int, str] | None:
        if self._token is None:
            return None
        presented = _presented_tokens(scope)
        if not presented:
            return 401, "missing token"
        # Compare every candidate, so timing does not reveal which one was tried.
        matches = [hmac.compare_digest(candidate, self._token) for candidate in presented]
        return None if any(matches) else (403, "wrong token")

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The request body, or None once a rejection has been sent (or the client left)."""
        try:
            return await asyncio.wait_for(
                self._receive_body(scope, receive, send), self._body_timeout
            )
        except asyncio.TimeoutError:  # the builtin TimeoutError from Python 3.11
            logger.warning("webhook rejected: body not received in %g s", self._body_timeout)
            reason = f"body not received in {self._body_timeout:g} s"
            await _respond(send, 408, reason, [(b"connection", b"close")])
            return None

    async def _receive_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                await _respond(send, 400, "invalid Content-Length")
                return None
            if int(declared) > self._max_body:
                await _respond(send, 413, f"body over {self._max_body} bytes")
                return None
        chunks: list[bytes] = []
        received = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self._max_body:
                await _respond(send, 413, f"body over {self._max_body} bytes")
                return None
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        return b"".join(chunks)

    async def _run_handler(self, video: Video) -> None:
        if _is_async_callable(self._handler):
            result = self._handler(video)
        else:
            result = await asyncio.to_thread(self._handler, video)
        if inspect.isawaitable(result):  # a sync wrapper, e.g. a lambda around an async function
            await result


def _is_async_callable(handler: object) -> bool:
    # The second test catches instances of a class with an `async def __call__`.
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        type(handler).__call__
    )


def _presented_tokens(scope: Scope) -> list[bytes]:
    query = scope.get("query_string", b"").decode("latin-1")
    tokens = [value.encode("utf-8") for key, value in parse_qsl(query) if key == "token"]
    segment = _relative_path(scope).rstrip("/").rpartition("/")[2]
    if segment:
        tokens.append(segment.encode("utf-8"))
    return tokens


def _relative_path(scope: Scope) -> str:
    """The path below the app's mount point (ASGI puts `root_path` in front of `path`)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None


async def _respond(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = text.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _serve_lifespan(receive: Receive, send: Send) -> None:
    """Nothing to set up or tear down, but servers expect the startup/shutdown handshake."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
