"""Running the sandbox under uvicorn: in-process for tests, or from the command line."""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, Literal

import h11
import uvicorn
from attrs import frozen
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from pirsonal_async.sandbox.app import DEFAULT_RENDER_DELAY, create_app
from pirsonal_async.sandbox.chaos import ABORT_EXTENSION, Chaos, ChaosSpec
from pirsonal_async.sandbox.state import SandboxState

STARTUP_TIMEOUT = 10.0
# How long a request's headers may take to arrive (from the connection's start, or the previous
# response's end): what keeps a slow or stalled peer from holding a connection.
HEADER_TIMEOUT = 10.0
_STARTUP_POLL = 0.005

AsgiApp = Callable[..., Awaitable[None]]


@frozen
class Sandbox:
    """A running sandbox: where it listens, the account to call it with, and its live state;
    `chaos` (with its seed) when it misbehaves on purpose."""

    base_url: str
    state: SandboxState
    chaos: Chaos | None = None

    @property
    def account_id(self) -> str:
        return self.state.account_id

    @property
    def account_secret(self) -> str:
        return self.state.account_secret


@asynccontextmanager
async def serve_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    state: SandboxState | None = None,
    render_delay: float = DEFAULT_RENDER_DELAY,
    webhooks: Iterable[str] = (),
    chaos: ChaosSpec | str | None = None,
    chaos_seed: int | None = None,
) -> AsyncIterator[Sandbox]:
    """Serves a sandbox on `host:port` (0: a free port) until the block exits.

    A fresh `SandboxState` with random credentials is used unless `state` is given; `webhooks`
    receive the videos of every template. `chaos` (a `ChaosSpec` or its text, such as
    `"drop-reply=0.1,http-503=0.05,latency-ms=20,render-fail=0.02"`) injects faults into RPC
    calls and uploads, and failures into renders, drawn from `chaos_seed` (None: a random seed,
    kept in `Sandbox.chaos.seed`); see `pirsonal_async.sandbox.chaos`.
    """
    state = state if state is not None else SandboxState()
    for url in webhooks:
        state.add_webhook(url)
    chaos_mode = make_chaos(chaos, chaos_seed)
    app = create_app(state, render_delay=render_delay, chaos=chaos_mode)
    async with serve_asgi(app, host=host, port=port, lifespan="on") as url:
        yield Sandbox(base_url=url, state=state, chaos=chaos_mode)


def make_chaos(spec: ChaosSpec | str | None, seed: int | None) -> Chaos | None:
    """The `Chaos` of a spec (parsed if text; ValueError if bad), or None without one."""
    if spec is None:
        return None
    return Chaos(ChaosSpec.parse(spec) if isinstance(spec, str) else spec, seed)


@asynccontextmanager
async def serve_asgi(
    app: AsgiApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    lifespan: Literal["auto", "on", "off"] = "auto",
    header_timeout: float = HEADER_TIMEOUT,
) -> AsyncIterator[str]:
    """Serves any ASGI app (a `webhook_app`, say) under uvicorn until the block exits; yields
    its base URL once it accepts connections. Port 0 picks a free port.

    An exception raised by the app's lifespan startup is raised here.
    """
    listener = bind_socket(host, port)
    lifespan_errors: list[Exception] = []

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except Exception as exc:
            if scope["type"] == "lifespan":
                lifespan_errors.append(exc)
            raise

    server = _server(watched, lifespan, _InProcessServer, header_timeout)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await _wait_started(server, task, lifespan_errors)
        yield base_url(listener)
    finally:
        server.should_exit = True
        await task
        listener.close()


def run_asgi(app: AsgiApp, listener: socket.socket) -> None:
    """Serves an ASGI app (lifespan on) on a `bind_socket` listener until Ctrl-C; for commands."""
    with listener:
        _server(app, "on", uvicorn.Server, HEADER_TIMEOUT).run(sockets=[listener])


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket, bound before uvicorn starts so the real port is known at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family)
    # Accepted sockets inherit this; asyncio only sets it itself when proto is IPPROTO_TCP,
    # and without it every keep-alive reply waits ~40 ms for delayed ACKs (Nagle).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def base_url(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(
    app: AsgiApp,
    lifespan: Literal["auto", "on", "off"],
    server_class: type[uvicorn.Server],
    header_timeout: float,
) -> uvicorn.Server:
    """A uvicorn server for `app` that offers it the `pirsonal.abort` extension: a callable
    that aborts the TCP connection of the request (the sandbox's chaos mode drops with it),
    and closes a connection whose request headers take over `header_timeout` seconds."""

    async def with_abort(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            abort = functools.partial(_abort_connection, server.server_state, client)
            scope.setdefault("extensions", {})[ABORT_EXTENSION] = abort
        await app(scope, receive, send)

    # No access log: request lines can carry secrets (Pirsonal's query, a webhook token). No
    # proxy headers: they would rewrite the client address that finds the connection to abort.
    config = uvicorn.Config(
        with_abort,
        log_config=None,
        access_log=False,
        lifespan=lifespan,
        proxy_headers=False,
        http=type(
            "HeaderDeadlineProtocol", (_HeaderDeadlineProtocol,), {"timeout": header_timeout}
        ),
    )
    server = server_class(config)
    return server


class _HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline on each request's headers (uvicorn has none:
    a peer trickling a header byte now and then would hold the connection forever). The clock
    starts when the connection opens or the previous response ends, and the connection is
    closed if the headers are not all in when it runs out."""

    timeout = HEADER_TIMEOUT  # each server gets a subclass with its own

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._await_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        """Runs the deadline while the peer owes request headers, and only then."""
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            self._cancel_deadline()
        elif self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.timeout, self._expire)

    def _expire(self) -> None:
        self._header_deadline = None
        self.transport.close()

    def _cancel_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None


def _abort_connection(server_state: ServerState, client: object) -> None:
    for connection in list(server_state.connections):
        if getattr(connection, "client", None) == client:
            connection.transport.abort()


class _InProcessServer(uvicorn.Server):
    """A uvicorn server whose failed startup just ends `serve()`: uvicorn raises SystemExit,
    which asyncio re-raises out of the event loop, ending the whole program."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        except SystemExit:
            self.should_exit = True


async def _wait_started(
    server: uvicorn.Server, task: asyncio.Task[None], lifespan_errors: list[Exception]
) -> None:
    # uvicorn offers no startup event, only a flag: poll it briefly.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while not server.started:
        if task.done():
            task.result()
            if lifespan_errors:
                raise lifespan_errors[0]
            raise RuntimeError("the server stopped while starting")
        if loop.time() > deadline:
            raise TimeoutError(f"the server did not start in {STARTUP_TIMEOUT} s")
        await asyncio.sleep(_STARTUP_POLL)
