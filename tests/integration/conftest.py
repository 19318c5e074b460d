"""Integration fixtures: a template and an uploaded clip in the sandbox of `pirsonal_sandbox`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from welcome_template import WELCOME

from pirsonal_async import PirsonalClient
from pirsonal_async.types import Media, Template


@pytest.fixture
async def loopback() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the tests' own clients of the sandbox: on loopback, no proxy applies
    (like `pirsonal_client`'s)."""
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


@pytest.fixture
async def welcome(pirsonal_client: PirsonalClient) -> Template:
    """The WELCOME template, as listed (so with its secret)."""
    template_id = await pirsonal_client.template_new(WELCOME)
    [template] = [t for t in await pirsonal_client.template_list() if t.id == template_id]
    return template


@pytest.fixture
async def clip(pirsonal_client: PirsonalClient) -> Media:
    """A small video in the account's storage."""
    return await pirsonal_client.upload_media(
        bytes(range(256)) * 64, filename="clip.mp4", description="A clip"
    )
