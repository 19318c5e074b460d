"""Waiting for renders: poll `Video_Get` with jittered backoff, woken early by webhooks.

Where webhook deliveries and waiting calls meet is one `VideoWaiters` registry, owned by the
client (`client.waiters`). Every `wait_for_video` registers there for its video; a webhook
receiver hands each delivered video to it, either by serving it directly
(`webhook_app(client.waiters)`) or by calling `client.waiters.deliver(video)` from its own
handler. A delivery with a final status ends every wait for that video at once.

Status codes: Pirsonal documents only `done`. `FAILED_STATUS_CODES` (`failed`, `error`) are
the codes read as a failed render; every other code (`queued`, `processing`, or one nobody has
seen yet) keeps the wait going, so a new status never ends a wait early or wrongly.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from attrs import frozen

from pirsonal_async.errors import PirsonalAsyncError, TransportError
from pirsonal_async.generated.api import SezionAPI
from pirsonal_async.generated.types import Video

__all__ = [
    "DEFAULT_WAIT",
    "DONE_STATUS_CODE",
    "FAILED_STATUS_CODES",
    "RenderFailedError",
    "RenderOutcome",
    "VideoWaiters",
    "WaitPolicy",
    "render_outcome",
    "wait_for_video",
]

logger = logging.getLogger("pirsonal_async")

DONE_STATUS_CODE = "done"
# `failed` is what the sandbox's render-fail chaos sets; `error` is the other spelling a
# render farm is likely to use. Pirsonal documents neither (only `done`).
FAILED_STATUS_CODES = frozenset({"failed", "error"})


class RenderOutcome(enum.Enum):
    DONE = "done"
    FAILED = "failed"
    PENDING = "pending"


def render_outcome(video: Video) -> RenderOutcome:
    """Where a video's rendering stands; any unknown status code counts as still pending."""
    code = video.status.code if video.status is not None else None
    if code == DONE_STATUS_CODE:
        return RenderOutcome.DONE
    if code in FAILED_STATUS_CODES:
        return RenderOutcome.FAILED
    return RenderOutcome.PENDING


class RenderFailedError(PirsonalAsyncError):
    """The video's status says its rendering failed; `.video` is the video as last read."""

    video: Video

    def __init__(self, video: Video) -> None:
        code = video.status.code if video.status is not None else None
        super().__init__(f"video {video.id} failed to render (status {code!r})")
        self.video = video


Sleep = Callable[[float], Awaitable[None]]


@frozen(kw_only=True)
class WaitPolicy:
    """How `wait_for_video` spaces its polls: `first` seconds, times `factor` after each poll,
    at most `cap`, each delay scaled by a random factor in [1 - jitter, 1 + jitter] so that
    many waits do not poll in step. `sleep`, `random` and `clock` are injectable for tests."""

    first: float = 1.0
    factor: float = 1.5
    cap: float = 15.0
    jitter: float = 0.2
    sleep: Sleep = asyncio.sleep
    random: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic

    def delay(self, poll: int) -> float:
        """Seconds to wait after the `poll`-th poll (0 for the first)."""
        base = min(self.cap, self.first * self.factor**poll)
        return base * (1 - self.jitter + 2 * self.jitter * self.random())


DEFAULT_WAIT = WaitPolicy()


class VideoWaiters:
    """The registry where webhook deliveries wake waiting calls; many waits share one.

    It is itself a webhook handler: `webhook_app(client.waiters)`. A receiver with its own
    handler calls `deliver(video)` from it instead. Deliveries may come from any thread or
    event loop (a sync handler runs in a worker thread): each wait is woken on its own loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Future[Video]]]] = {}

    def __repr__(self) -> str:
        with self._lock:
            return f"<VideoWaiters waiting for {len(self._waiting)} video(s)>"

    async def __call__(self, video: Video) -> None:
        self.deliver(video)

    def deliver(self, video: Video) -> bool:
        """Ends the waits for `video.id` if its status is final (done or failed); True if any
        wait was woken. A delivery with a pending or unknown status is ignored."""
        if video.id is None or render_outcome(video) is RenderOutcome.PENDING:
            return False
        with self._lock:
            entries = list(self._waiting.get(video.id, ()))
        for loop, future in entries:
            loop.call_soon_threadsafe(_settle, future, video)
        return bool(entries)

    def register(self, video_id: str) -> asyncio.Future[Video]:
        """A future that the next final delivery for `video_id` resolves; `unregister` it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Video] = loop.create_future()
        with self._lock:
            self._waiting.setdefault(video_id, set()).add((loop, future))
        return future

    def unregister(self, video_id: str, future: asyncio.Future[Video]) -> None:
        with self._lock:
            entries = self._waiting.get(video_id, set())
            entries.discard((future.get_loop(), future))
            if not entries:
                self._waiting.pop(video_id, None)


def _settle(future: asyncio.Future[Video], video: Video) -> None:
    if not future.done():
        future.set_result(video)


async def wait_for_video(
    api: SezionAPI,
    waiters: VideoWaiters,
    video_id: str,
    *,
    timeout: float = 600.0,
    policy: WaitPolicy = DEFAULT_WAIT,
) -> Video:
    """The video once its status is `done`; `RenderFailedError` once it failed; `TimeoutError`
    after `timeout` seconds.

    It polls `Video_Get` at once, then after each of `policy`'s delays, until a webhook
    delivery through `waiters` ends the wait (no poll follows it). A poll that fails in
    transport (after the client's own retries) only costs that poll: the wait goes on.
    """
    deadline = policy.clock() + timeout
    wake = waiters.register(video_id)
    try:
        poll = 0
        while not wake.done():
            try:
                video: Video | None = await api.video_get(video_id)
            except TransportError as error:
                logger.info("polling video %s failed, will poll again: %s", video_id, error)
                video = None
            if wake.done():
                break
            if video is not None and _finished(video):
                return video
            remaining = deadline - policy.clock()
            if remaining <= 0:
                code = video.status.code if video and video.status else None
                raise TimeoutError(
                    f"video {video_id} not rendered after {timeout:g}s (last status {code!r})"
                )
            await _sleep_or_wake(policy.sleep(min(policy.delay(poll), remaining)), wake)
            poll += 1
    finally:
        waiters.unregister(video_id, wake)
    delivered = wake.result()
    _finished(delivered)  # a delivery is final: done, or this raises RenderFailedError
    return delivered


def _finished(video: Video) -> bool:
    """True once the video is done; raises `RenderFailedError` once it failed."""
    outcome = render_outcome(video)
    if outcome is RenderOutcome.FAILED:
        raise RenderFailedError(video)
    return outcome is RenderOutcome.DONE


async def _sleep_or_wake(sleep: Awaitable[None], wake: asyncio.Future[Video]) -> None:
    """Sleeps, or less if `wake` resolves first."""
    sleeper = asyncio.ensure_future(sleep)
    either: set[asyncio.Future[Any]] = {sleeper, wake}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
