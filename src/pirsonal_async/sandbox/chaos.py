"""Fault injection for the sandbox: a parsed chaos spec, its seeded draws, and the ASGI wrapper.

`ChaosSpec.parse("drop-reply=0.1,drop-request=0.05,http-503=0.05,latency-ms=20,render-fail=0.02")`
gives the spec; `Chaos(spec, seed=7)` draws from it. Request faults apply to the API endpoints,
`POST /api` (JSON-RPC; a batch is one request) and `POST /api/upload`, one draw per HTTP
request; the rendered files and the `/sandbox/...` controls are never disturbed:

- `drop-request`: the connection is aborted before the method runs (nothing happens);
- `http-503`: the body is read and discarded, and HTTP 503 answered without running the method;
- `drop-reply`: the method runs and keeps its effect, then the connection is aborted instead of
  replying, so the client sees the connection lost after sending (outcome unknown);
- `latency-ms`: every API reply (and every drop) waits this long first;
- `render-fail`: that share of renders end with status `{"code": "error"}` (`RENDER_FAILED`),
  delivered to the webhooks like a finished video; drawn when a video is queued.

Requests and renders draw from two `random.Random` streams seeded from the seed, so a run with
the same seed and the same order of requests repeats its faults exactly.
"""

from __future__ import annotations

import asyncio
import enum
import math
import random
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from attrs import Attribute, field, fields, frozen

from pirsonal_async.sandbox.state import RENDER_FAILED

__all__ = ["RENDER_FAILED", "Chaos", "ChaosMiddleware", "ChaosSpec", "Fault"]

# Where serve_sandbox's server puts a callable that aborts the request's TCP connection.
ABORT_EXTENSION = "pirsonal.abort"
CHAOS_PATHS = frozenset({"/api", "/api/upload"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


def _rate(_: object, attribute: Attribute[float], value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{_key(attribute)} must be a rate between 0 and 1, got {value}")


def _non_negative(_: object, attribute: Attribute[float], value: float) -> None:
    if not 0 <= value < math.inf:
        raise ValueError(f"{_key(attribute)} must be a finite number >= 0, got {value}")


def _key(attribute: Attribute[Any]) -> str:
    """The spec key of a field: `drop_reply` is written `drop-reply`."""
    return attribute.name.replace("_", "-")


@frozen
class ChaosSpec:
    """What goes wrong and how often: rates per request (per render for `render_fail`).

    The three request faults exclude each other (one draw picks at most one), so their rates
    must add up to 1 at most.
    """

    drop_reply: float = field(default=0.0, converter=float, validator=_rate)
    drop_request: float = field(default=0.0, converter=float, validator=_rate)
    http_503: float = field(default=0.0, converter=float, validator=_rate)
    latency_ms: float = field(default=0.0, converter=float, validator=_non_negative)
    render_fail: float = field(default=0.0, converter=float, validator=_rate)

    def __attrs_post_init__(self) -> None:
        if self.drop_request + self.http_503 + self.drop_reply > 1:
            raise ValueError("drop-request, http-503 and drop-reply must add up to 1 at most")

    @classmethod
    def parse(cls, text: str) -> ChaosSpec:
        """Reads `key=value,...` (keys as in `str(spec)`); ValueError naming a bad part."""
        known = {_key(a): a.name for a in fields(cls)}
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, equals, value = (s.strip() for s in part.partition("="))
            if key not in known:
                raise ValueError(f"unknown chaos key {key!r}; known: {', '.join(known)}")
            if not equals:
                raise ValueError(f"chaos key {key!r} needs a value: {key}=NUMBER")
            if known[key] in values:
                raise ValueError(f"chaos key {key!r} is given twice")
            try:
                values[known[key]] = float(value)
            except ValueError:
                raise ValueError(f"chaos {key} must be a number, got {value!r}") from None
        return cls(**values)

    def __str__(self) -> str:
        return ",".join(f"{_key(a)}={getattr(self, a.name):g}" for a in fields(type(self)))


class Fault(enum.Enum):
    """What happens to one API request."""

    NONE = "none"
    DROP_REQUEST = "drop-request"
    HTTP_503 = "http-503"
    DROP_REPLY = "drop-reply"


class Chaos:
    """A `ChaosSpec` with its seeded draws; `seed` None picks one (see `.seed`).

    `spec` may be replaced while the sandbox runs, e.g. to turn faults on after a test's setup.
    """

    def __init__(self, spec: ChaosSpec, seed: int | None = None) -> None:
        self.spec = spec
        self.seed = secrets.randbits(32) if seed is None else seed
        self._requests = random.Random(f"{self.seed}/requests")
        self._renders = random.Random(f"{self.seed}/renders")

    def __repr__(self) -> str:
        return f"Chaos({str(self.spec)!r}, seed={self.seed})"

    def next_fault(self) -> Fault:
        """The fault for the next request (one draw, whatever the rates)."""
        draw = self._requests.random()
        for fault, rate in (
            (Fault.DROP_REQUEST, self.spec.drop_request),
            (Fault.HTTP_503, self.spec.http_503),
            (Fault.DROP_REPLY, self.spec.drop_reply),
        ):
            if draw < rate:
                return fault
            draw -= rate
        return Fault.NONE

    def render_fails(self) -> bool:
        """Whether the next render fails (one draw per render)."""
        return self._renders.random() < self.spec.render_fail


class ChaosMiddleware:
    """Applies a `Chaos`'s request faults and latency to the API paths of an ASGI app.

    Dropping a connection needs the server's `pirsonal.abort` extension (`serve_sandbox` and
    `pirsonal sandbox` provide it); without it a drop raises ConnectionAbortedError in the app.
    """

    def __init__(self, app: AsgiApp, *, chaos: Chaos, sleep: Sleep = asyncio.sleep) -> None:
        self._app = app
        self._chaos = chaos
        self._sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in CHAOS_PATHS:
            await self._app(scope, receive, send)
            return
        fault = self._chaos.next_fault()
        if fault is Fault.DROP_REQUEST:
            await self._drop(scope, receive)
        elif fault is Fault.HTTP_503:
            await _drain(receive)
            await self._delay()
            await _send_503(send)
        elif fault is Fault.DROP_REPLY:
            await self._app(scope, receive, _discard)
            await self._drop(scope, receive)
        else:
            await self._app(scope, receive, self._delayed(send))

    async def _drop(self, scope: Scope, receive: Receive) -> None:
        await self._delay()
        abort = scope.get("extensions", {}).get(ABORT_EXTENSION)
        if abort is None:
            raise ConnectionAbortedError("chaos: the server cannot abort connections")
        abort()
        # Returning before the server has seen the disconnect would count as a missing reply.
        while (await receive())["type"] != "http.disconnect":
            pass

    def _delayed(self, send: Send) -> Send:
        async def delayed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._delay()
            await send(message)

        return delayed_send

    async def _delay(self) -> None:
        if self._chaos.spec.latency_ms:
            await self._sleep(self._chaos.spec.latency_ms / 1000)


async def _drain(receive: Receive) -> None:
    """Reads the request body to its end, keeping nothing."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _discard(message: Message) -> None:
    """The `send` of a reply that is never sent."""


async def _send_503(send: Send) -> None:
    body = b"Service Unavailable (sandbox chaos)"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
