"""Simulated rendering of queued videos, then webhook delivery as Pirsonal does it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from pirsonal_async.sandbox.state import RENDER_FAILED, Delivery, SandboxState, url_origin

logger = logging.getLogger("pirsonal_async.sandbox")

# The headers of docAPI.txt's webhook example; httpx adds Host and Content-Length.
WEBHOOK_HEADERS = {
    "Accept": "*/*",
    "Connection": "close",
    "User-Agent": "Pirsonal",
    "Content-Type": "application/json",
}
WEBHOOK_TIMEOUT = httpx.Timeout(10.0)

Sleep = Callable[[float], Awaitable[None]]
# Called once per queued video: True makes its rendering fail (chaos mode).
FailureDraw = Callable[[], bool]


class Renderer:
    """Renders each queued video after `delay` seconds (half queued, half processing), from
    `attach()` until `aclose()`.

    `sleep` is injectable so tests never wait; `transport` lets tests receive webhooks in memory.
    A video for which `fails()` is True ends with status `RENDER_FAILED` instead of `done`.
    """

    def __init__(
        self,
        state: SandboxState,
        *,
        delay: float,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        fails: FailureDraw | None = None,
    ) -> None:
        self._state = state
        self._fails = fails
        self._delay = delay
        self._sleep = sleep
        self._transport = transport
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    def attach(self) -> None:
        """Starts rendering the state's queued videos; RuntimeError if another renderer does."""
        if self._state.renderer_attached:
            raise RuntimeError(
                "this SandboxState is already served by a running sandbox app: two apps on one "
                "state would render and deliver every video twice"
            )
        self._state.renderer_attached = True
        self._state.on_video_queued.append(self.submit)

    def submit(self, video_id: str) -> None:
        """Starts rendering a video in the background (needs a running event loop)."""
        # Drawn here, in the order videos are queued, so a seeded run repeats its failures.
        failing = self._fails is not None and self._fails()
        task = asyncio.get_running_loop().create_task(self._render(video_id, failing))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Detaches from the state, cancels unfinished renderings, closes the webhook client."""
        if self.submit in self._state.on_video_queued:
            self._state.on_video_queued.remove(self.submit)
            self._state.renderer_attached = False
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    async def _render(self, video_id: str, failing: bool) -> None:
        try:
            await self._sleep(self._delay / 2)
            if not self._state.start_processing(video_id):
                return
            await self._sleep(self._delay / 2)
            if failing:
                video = self._state.fail_render(video_id, RENDER_FAILED)
            else:
                video = self._state.finish_render(video_id)
            if video is not None:
                for url in self._state.webhook_urls(video["templateID"]):
                    self._state.deliveries.append(await self._deliver(url, video))
        finally:
            self._state.mark_settled(video_id)

    async def _deliver(self, url: str, video: dict[str, Any]) -> Delivery:
        body = json.dumps(video, separators=(",", ":")).encode()
        status_code: int | None = None
        try:
            response = await self._client().post(url, content=body)
            status_code = response.status_code
            error = None if status_code == 200 else f"HTTP {status_code}"
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
            # A URL put into `state.webhooks` directly skips registration's check and fails
            # here (InvalidURL, or UnicodeError for a bad IDNA host). The exception's text may
            # repeat the URL, whose path or query can hold a token: only its class is kept.
            error = type(exc).__name__
        if error is not None:
            logger.warning(
                "webhook for video %s to %s failed: %s", video["id"], url_origin(url), error
            )
        return Delivery(video["id"], video["templateID"], url, status_code, error)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # trust_env=False: receivers are often on loopback, which an HTTP_PROXY
            # from the environment would not reach.
            self._http = httpx.AsyncClient(
                headers=WEBHOOK_HEADERS,
                timeout=WEBHOOK_TIMEOUT,
                transport=self._transport,
                trust_env=False,
            )
            # httpx adds Accept-Encoding by default; Pirsonal's calls carry none.
            del self._http.headers["Accept-Encoding"]
        return self._http
