"""The sandbox's Starlette application: JSON-RPC, uploads, rendered files and sandbox controls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pirsonal_async.generated.contract import CONTRACT
from pirsonal_async.sandbox import control, outputs
from pirsonal_async.sandbox.bodies import BODY_TOO_LARGE, CLOSE, read_body
from pirsonal_async.sandbox.chaos import Chaos, ChaosMiddleware
from pirsonal_async.sandbox.handler import INTERFACE, SezionHandler
from pirsonal_async.sandbox.render import Renderer, Sleep
from pirsonal_async.sandbox.rpc_server import RpcFault, RpcServer, encode_reply
from pirsonal_async.sandbox.state import Principal, SandboxState
from pirsonal_async.sandbox.uploads import upload_endpoint

DEFAULT_RENDER_DELAY = 1.0

logger = logging.getLogger("pirsonal_async.sandbox")


def create_app(
    state: SandboxState,
    *,
    render_delay: float = DEFAULT_RENDER_DELAY,
    sleep: Sleep = asyncio.sleep,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    chaos: Chaos | None = None,
) -> Starlette:
    """A Starlette app serving `state`.

    Videos are rendered only while its lifespan runs: serve it with lifespan on, or enter
    `app.router.lifespan_context(app)` around an `httpx.ASGITransport`. Renderings still running
    at exit are cancelled. The lifespan fails to start (RuntimeError) while another app renders
    the same state, which would render and deliver every video twice.

    With `chaos`, the API misbehaves on purpose (see `pirsonal_async.sandbox.chaos`); its
    `sleep` is the same injectable one as the renderer's.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        renderer = Renderer(
            state,
            delay=render_delay,
            sleep=sleep,
            transport=webhook_transport,
            fails=None if chaos is None else chaos.render_fails,
        )
        renderer.attach()
        try:
            yield
        finally:
            await renderer.aclose()

    app = Starlette(
        routes=[
            Route("/api", rpc_endpoint, methods=["POST"]),
            Route("/api/upload", upload_endpoint, methods=["POST"]),
            Route("/files/{pirsonal_id}", file_endpoint, methods=["GET"]),
            Route("/sandbox/webhooks", control.add_webhook, methods=["POST"]),
            Route("/sandbox/webhooks", control.list_webhooks, methods=["GET"]),
            Route("/sandbox/notifications", control.list_notifications, methods=["GET"]),
        ],
        lifespan=lifespan,
        exception_handlers={ClientDisconnect: client_left},
        middleware=[] if chaos is None else [Middleware(ChaosMiddleware, chaos=chaos, sleep=sleep)],
    )
    app.state.sandbox = state
    app.state.rpc = RpcServer(CONTRACT)
    return app


async def rpc_endpoint(request: Request) -> Response:
    """`POST /api`: always HTTP 200 with a JSON-RPC reply, as Barrister servers answer; a body
    over `bodies.MAX_BODY_BYTES` is refused (-32600) unread, and the connection closed."""
    state: SandboxState = request.app.state.sandbox
    access: Principal | RpcFault
    try:
        access = state.authenticate(request.query_params)
    except RpcFault as fault:
        access = fault
    handler = SezionHandler(state, access, files_url=f"{request.base_url}files")
    server: RpcServer = request.app.state.rpc
    body = await read_body(request)
    if body is None:
        reply = encode_reply(BODY_TOO_LARGE.reply(None))
        return Response(reply, media_type="application/json", headers=CLOSE)
    reply = await server.handle_body(body, {INTERFACE: handler}, handler.authorize)
    return Response(reply, media_type="application/json")


async def client_left(request: Request, exc: Exception) -> Response:
    """A client that hangs up mid-request (an aborted upload, say) is routine, not a crash:
    nothing was stored, and the reply goes nowhere."""
    logger.info(
        "%s %s: the client disconnected before the body ended", request.method, request.url.path
    )
    return Response(status_code=400)


async def file_endpoint(request: Request) -> Response:
    """`GET /files/<pirsonalID>`: a small stand-in body for a rendered output file."""
    state: SandboxState = request.app.state.sandbox
    pirsonal_id: str = request.path_params["pirsonal_id"]
    if not state.stored_file_exists(pirsonal_id):
        return PlainTextResponse("file not found", status_code=404)
    body = outputs.fake_file_body(pirsonal_id)
    return Response(body, media_type=outputs.file_content_type(pirsonal_id))
