"""Shared fixtures for the sandbox tests: a state, its app in memory, a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sandbox_helpers import ACCOUNT_ID, ACCOUNT_SECRET, NOW, Webhooks, no_wait

from pirsonal_async.contract import Contract
from pirsonal_async.generated.contract import CONTRACT
from pirsonal_async.sandbox import SandboxState, create_app


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract(CONTRACT)


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(account_id=ACCOUNT_ID, account_secret=ACCOUNT_SECRET, clock=lambda: NOW)


@pytest.fixture
def add_media(state: SandboxState) -> Callable[..., str]:
    """Stores a media directly in the state (as an upload would) and returns its ID."""

    def add(kind: str = "video", *, temp: bool = False, size: int = 10) -> str:
        media = state.media_add(
            name=f"{kind}.bin", description="", size=size, media_type=kind, temp=temp, sha256="0"
        )
        media_id: str = media["id"]
        return media_id

    return add


@pytest.fixture
def webhooks() -> Webhooks:
    return Webhooks()


@pytest.fixture
async def client(state: SandboxState, webhooks: Webhooks) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the sandbox app in memory (lifespan included)."""
    app = create_app(
        state,
        render_delay=0.5,
        sleep=no_wait,
        webhook_transport=httpx.MockTransport(webhooks.handle),
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http,
    ):
        yield http
