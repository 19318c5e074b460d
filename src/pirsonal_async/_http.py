"""The one HTTP seam: a POST in, a reply or a failure (as values) out, and the one retry loop.

An engine (`_aiohttp.AiohttpEngine` by default, `_httpx.HttpxEngine` over a user's
`httpx.AsyncClient`) sends a `Post` and classifies what went wrong by one fact it observes
itself: whether the request's body had started to go out. Before that nothing can have reached
the server (*not sent*, safe to resend for any method); after it, the outcome is unknown.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Protocol, TypeAlias

import httpx
from attrs import evolve, field, frozen

from pirsonal_async.errors import HttpStatusError, TransportError
from pirsonal_async.retry import Failure, HttpStatus, Outcome, RetryPolicy, parse_retry_after

Sleep = Callable[[float], Awaitable[None]]
TimeoutTypes: TypeAlias = "float | httpx.Timeout | None"
"""Seconds for the whole attempt, an `httpx.Timeout`, or None for no limit."""

logger = logging.getLogger("pirsonal_async")

# asyncio's TimeoutError is the builtin one only from Python 3.11 on.
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError, httpx.TimeoutException)


@frozen
class Deadline:
    """How long one attempt may take: `total` bounds the whole attempt (connect, send, reply),
    `connect` the connection and `read` each wait for reply bytes. None: no limit."""

    total: float | None
    connect: float | None
    read: float | None
    as_httpx: httpx.Timeout = field(eq=False)

    @classmethod
    def of(cls, timeout: TimeoutTypes) -> Deadline:
        """A float is the whole attempt's limit; an `httpx.Timeout` keeps its parts and the
        attempt is bounded by the largest of them."""
        if isinstance(timeout, httpx.Timeout):
            parts = [timeout.connect, timeout.read, timeout.write, timeout.pool]
            for part in parts:
                _check_seconds(part)
            limits = [part for part in parts if part is not None]
            total = max(limits) if len(limits) == len(parts) else None
            return cls(total, timeout.connect, timeout.read, timeout)
        _check_seconds(timeout)
        return cls(timeout, timeout, timeout, httpx.Timeout(timeout))

    def without_total(self) -> Deadline:
        """The same per-step limits with no bound on the whole attempt (for uploads)."""
        return evolve(self, total=None)


def _check_seconds(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"timeout must be seconds (a number), an httpx.Timeout or None, "
            f"not {type(value).__name__}"
        )
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"timeout must be a positive number of seconds, got {value!r}")


class Body:
    """A request body that records whether its first byte was handed to the connection.

    `data` is sent as is and can be sent again; a `stream` is read once, so it can be resent
    only while it has not started. An error raised by the stream itself (a source that
    changed) is kept in `error`, so an engine that wraps it can still raise the original.
    """

    __slots__ = ("_stream", "data", "error", "size", "started")

    def __init__(
        self,
        size: int,
        *,
        data: bytes | None = None,
        stream: Callable[[], AsyncIterator[bytes]] | None = None,
    ) -> None:
        self.size = size
        self.data = data
        self._stream = stream
        self.started = False
        self.error: BaseException | None = None

    @property
    def replayable(self) -> bool:
        return self.data is not None or not self.started

    async def chunks(self) -> AsyncIterator[bytes]:
        self.started = True
        if self.data is not None:
            yield self.data
            return
        assert self._stream is not None
        try:
            async for chunk in self._stream():
                yield chunk
        except Exception as error:
            self.error = error
            raise


@frozen
class Post:
    """One POST: `url` carries its query; replies longer than `limit` (`error_limit` for a
    status other than 200) are cut there and marked incomplete."""

    url: str
    headers: Mapping[str, str]
    body: Body
    deadline: Deadline
    limit: int
    error_limit: int


@frozen
class Reply:
    status: int
    reason: str
    retry_after: str | None
    content: bytes
    complete: bool


@frozen
class Failed:
    """An attempt that got no reply. `kind` is None for a failure that no retry can mend;
    `sent` says whether the request may have reached the server."""

    kind: Failure | None
    description: str
    sent: bool


class Engine(Protocol):
    """Sends one POST; every failure comes back as a `Failed` value, redacted by `redact`."""

    async def post(self, post: Post, redact: Callable[[str], str]) -> Reply | Failed: ...

    async def aclose(self) -> None: ...


def failed(error: BaseException, sent: bool, final: bool, redact: Callable[[str], str]) -> Failed:
    """The failure as a value; `sent` says whether the request may have reached the server."""
    detail = redact(str(error))
    timed_out = isinstance(error, _TIMEOUTS)
    name = f"timed out ({type(error).__name__})" if timed_out else type(error).__name__
    description = name + (f": {detail}" if detail else "")
    if final:
        return Failed(None, description, sent=sent)
    if not sent:
        return Failed(Failure.NOT_SENT, description, sent=False)
    kind = Failure.TIMEOUT if timed_out else Failure.CONNECTION_LOST
    return Failed(kind, description, sent=True)


async def send(
    engine: Engine,
    post: Post,
    *,
    methods: str | Sequence[str],
    label: str | None,
    retry: RetryPolicy,
    sleep: Sleep,
    random: Callable[[], float],
    redact: Callable[[str], str],
) -> tuple[Reply, int]:
    """Posts until a 200, a reply the policy does not retry, or a failure it does not retry.

    Returns the last reply and the number of attempts; raises `TransportError` for a failure.
    A resend happens only when the policy allows it for `methods` and the body can be sent
    again. `label` names the call in errors (None: a batch).
    """
    attempt = 1
    while True:
        result = await engine.post(post, redact)
        outcome: Outcome | None
        if isinstance(result, Reply):
            if result.status == 200:
                return result, attempt
            retry_after = parse_retry_after(result.retry_after, datetime.now(timezone.utc))
            outcome = HttpStatus(result.status, retry_after)
        else:
            outcome = result.kind
        delay = None
        if outcome is not None and post.body.replayable:
            delay = retry.delay(methods, attempt, outcome, random())
        if delay is None:
            if isinstance(result, Reply):
                return result, attempt
            raise transport_error(result, label, attempt)
        shown = result.description if isinstance(result, Failed) else f"HTTP {result.status}"
        logger.warning(
            "%s: %s; retrying in %.2f s (attempt %d of %d)",
            label or "batch",
            shown,
            delay,
            attempt + 1,
            retry.max_attempts,
        )
        await sleep(delay)
        attempt += 1


def transport_error(failure: Failed, method: str | None, attempts: int) -> TransportError:
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    if failure.sent:
        consequence = "the request may have reached the server: its outcome is unknown"
    else:
        consequence = "the request was not sent"
    return TransportError(
        f"{failure.description}{tries}; {consequence}",
        method=method,
        outcome_unknown=failure.sent,
        attempts=attempts,
    )


def status_error(reply: Reply, excerpt: str, method: str | None, attempts: int) -> HttpStatusError:
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    retry_after = parse_retry_after(reply.retry_after, datetime.now(timezone.utc))
    return HttpStatusError(
        f"HTTP {reply.status} {reply.reason}" + (f": {excerpt}" if excerpt else "") + tries,
        method=method,
        status=reply.status,
        retry_after=retry_after,
        attempts=attempts,
    )
