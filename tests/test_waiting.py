"""`wait_for_video`: backoff, webhook wake-ups via `VideoWaiters`, final and unknown statuses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from pirsonal_async import PirsonalClient, RenderFailedError, WaitPolicy, webhook_app
from pirsonal_async.retry import NO_RETRY
from pirsonal_async.testing import PirsonalMock, mock_pirsonal
from pirsonal_async.types import Video, VideoStatus
from pirsonal_async.waiting import RenderOutcome, VideoWaiters, render_outcome

VIDEO_ID = "v1"


def video(code: str | None, video_id: str = VIDEO_ID) -> Video:
    status = None if code is None else VideoStatus(code=code)
    return Video(id=video_id, name="Hi Ana", status=status)


class FakeTime:
    """A clock that only the injected sleep moves; records each sleep's length."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def policy(self, random: float = 0.5) -> WaitPolicy:
        return WaitPolicy(sleep=self.sleep, clock=self.clock, random=lambda: random)


@pytest.fixture
async def client() -> AsyncIterator[PirsonalClient]:
    async with PirsonalClient("acc", "secret", retry=NO_RETRY) as client:
        yield client


@pytest.fixture
def pirsonal(respx_mock: respx.MockRouter) -> PirsonalMock:
    return mock_pirsonal(respx_mock)


async def test_polls_with_growing_backoff_until_done(
    client: PirsonalClient, pirsonal: PirsonalMock
) -> None:
    time = FakeTime()
    pirsonal.returns("Video_Get", video("processing"))

    async def sleep(seconds: float) -> None:
        await time.sleep(seconds)
        if len(time.sleeps) == 9:
            pirsonal.returns("Video_Get", video("done"))

    policy = WaitPolicy(sleep=sleep, clock=time.clock, random=lambda: 0.5)
    result = await client.wait_for_video(VIDEO_ID, policy=policy)

    assert result.status == VideoStatus(code="done")
    assert time.sleeps == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 11.390625, 15.0, 15.0]
    assert pirsonal.calls("Video_Get") == [[VIDEO_ID]] * 10


def test_jitter_spreads_each_delay_by_a_fifth_either_way() -> None:
    low = WaitPolicy(random=lambda: 0.0)
    high = WaitPolicy(random=lambda: 1.0)
    assert [low.delay(n) for n in (0, 1, 20)] == pytest.approx([0.8, 1.2, 12.0])
    assert [high.delay(n) for n in (0, 1, 20)] == pytest.approx([1.2, 1.8, 18.0])


async def test_returns_at_once_when_already_done(
    client: PirsonalClient, pirsonal: PirsonalMock
) -> None:
    time = FakeTime()
    pirsonal.returns("Video_Get", video("done"))
    assert (await client.wait_for_video(VIDEO_ID, policy=time.policy())).id == VIDEO_ID
    assert time.sleeps == []


async def test_a_failed_status_raises_with_the_video(
    client: PirsonalClient, pirsonal: PirsonalMock
) -> None:
    time = FakeTime()
    pirsonal.returns("Video_Get", video("failed"))
    with pytest.raises(RenderFailedError, match="v1 failed to render") as caught:
        await client.wait_for_video(VIDEO_ID, policy=time.policy())
    assert caught.value.video.status == VideoStatus(code="failed")


@pytest.mark.parametrize("code", ["queued", "processing", "rendering-v2", None])
async def test_unknown_or_pending_status_keeps_waiting(
    client: PirsonalClient, pirsonal: PirsonalMock, code: str | None
) -> None:
    time = FakeTime()
    pirsonal.returns("Video_Get", video(code))

    async def sleep(seconds: float) -> None:
        await time.sleep(seconds)
        pirsonal.returns("Video_Get", video("done"))

    policy = WaitPolicy(sleep=sleep, clock=time.clock, random=lambda: 0.5)
    assert (await client.wait_for_video(VIDEO_ID, policy=policy)).status == VideoStatus(code="done")
    assert len(pirsonal.calls("Video_Get")) == 2


async def test_times_out_after_the_timeout(client: PirsonalClient, pirsonal: PirsonalMock) -> None:
    time = FakeTime()
    pirsonal.returns("Video_Get", video("processing"))
    with pytest.raises(TimeoutError, match=r"v1 not rendered after 4s .*'processing'"):
        await client.wait_for_video(VIDEO_ID, 4.0, policy=time.policy())
    # 1 + 1.5, then only the 1.5 s left of the timeout; one last poll at the deadline.
    assert time.sleeps == [1.0, 1.5, 1.5]
    assert len(pirsonal.calls("Video_Get")) == 4


async def test_a_failed_poll_only_costs_that_poll(
    client: PirsonalClient, respx_mock: respx.MockRouter
) -> None:
    time = FakeTime()
    answers = iter([httpx.ConnectError("refused"), None])
    pirsonal = PirsonalMock()

    def answer(request: httpx.Request) -> httpx.Response:
        failure = next(answers, None)
        if failure is not None:
            raise failure
        return pirsonal.answer(request)

    respx_mock.post("https://app.pirsonal.com/api").mock(side_effect=answer)
    pirsonal.returns("Video_Get", video("done"))
    assert (await client.wait_for_video(VIDEO_ID, policy=time.policy())).id == VIDEO_ID
    assert time.sleeps == [1.0]


async def test_a_webhook_delivery_ends_the_wait_with_no_further_poll(
    client: PirsonalClient, pirsonal: PirsonalMock
) -> None:
    pirsonal.returns("Video_Get", video("processing"))
    sleeping = asyncio.Event()
    sleeps: list[float] = []

    async def sleep_forever(seconds: float) -> None:
        sleeps.append(seconds)
        sleeping.set()
        await asyncio.Event().wait()

    policy = WaitPolicy(sleep=sleep_forever, random=lambda: 0.5)
    wait = asyncio.create_task(client.wait_for_video(VIDEO_ID, policy=policy))
    await sleeping.wait()

    receiver = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=webhook_app(client.waiters, token="t0k")),
        base_url="http://hooks",
    )
    async with receiver:
        delivered = video("done").to_json() | {"outFiles": []}
        response = await receiver.post("/pirsonal?token=t0k", json=delivered)
    assert response.status_code == 200

    result = await wait
    assert result.out_files == []  # the delivered video, not a polled one
    assert pirsonal.calls("Video_Get") == [[VIDEO_ID]]
    assert sleeps == [1.0]
    assert "waiting for 0 video" in repr(client.waiters)


async def test_a_failed_delivery_raises_and_one_delivery_wakes_every_wait(
    client: PirsonalClient, pirsonal: PirsonalMock
) -> None:
    pirsonal.returns("Video_Get", video("queued"))
    asleep = asyncio.Semaphore(0)

    async def sleep_forever(seconds: float) -> None:
        asleep.release()
        await asyncio.Event().wait()

    policy = WaitPolicy(sleep=sleep_forever)
    waits = [asyncio.create_task(client.wait_for_video(VIDEO_ID, policy=policy)) for _ in "ab"]
    for _ in waits:
        await asleep.acquire()
    assert client.waiters.deliver(video("failed"))
    for wait in waits:
        with pytest.raises(RenderFailedError):
            await wait
    assert not client.waiters.deliver(video("failed"))  # nobody waits any more


async def test_a_delivery_from_another_thread_wakes_the_wait(
    client: PirsonalClient, pirsonal: PirsonalMock
) -> None:
    pirsonal.returns("Video_Get", video("processing"))
    sleeping = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        sleeping.set()
        await asyncio.Event().wait()

    wait = asyncio.create_task(
        client.wait_for_video(VIDEO_ID, policy=WaitPolicy(sleep=sleep_forever))
    )
    await sleeping.wait()
    worker = threading.Thread(target=client.waiters.deliver, args=(video("done"),))
    worker.start()
    assert (await wait).status == VideoStatus(code="done")
    worker.join()


def test_deliveries_that_are_not_final_or_have_no_id_are_ignored() -> None:
    waiters = VideoWaiters()
    assert not waiters.deliver(video("processing"))
    assert not waiters.deliver(Video(name="no id", status=VideoStatus(code="done")))


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("done", RenderOutcome.DONE),
        ("failed", RenderOutcome.FAILED),
        ("error", RenderOutcome.FAILED),
        ("queued", RenderOutcome.PENDING),
        ("something-new", RenderOutcome.PENDING),
        (None, RenderOutcome.PENDING),
    ],
)
def test_status_codes(code: str | None, outcome: RenderOutcome) -> None:
    assert render_outcome(video(code)) is outcome
