"""Quickstart: upload a clip, make a template, render personalized videos and collect them."""

# It runs against the local sandbox: `make demo` does it all, or by hand
#
#     pirsonal sandbox --port 8000      # prints the three variables below; export them
#     export PIRSONAL_BASE_URL=http://127.0.0.1:8000
#     export PIRSONAL_ACCOUNT_ID=... PIRSONAL_ACCOUNT_SECRET=...
#     python examples/quickstart.py
#
# Everything but the webhook step works as written on Pirsonal itself: there, webhooks are set
# per template, via the API or in the web interface, to a public URL where you mount
# `webhook_app`. Pirsonal's doc does not publish the names of the API's webhook methods, so the
# bindings leave them out and the sandbox offers its own endpoint, used below. Receiving
# webhooks here needs uvicorn: `pip install 'pirsonal-async[sandbox]'`.

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from pirsonal_async import PirsonalAsyncError, PirsonalClient, webhook_app
from pirsonal_async.sandbox import serve_asgi
from pirsonal_async.types import (
    InputMedia,
    Link,
    MediaType,
    TemplateNew,
    Video,
    VideoOutput,
    VideoOutputType,
)

RECIPIENTS = ("Ana", "Ben", "Chloé")
PROFILE = "MP4_H264_AAC_640x480_24fps"
# A VMIX3 timeline: a 4 s clip with a greeting over it. Each video fills the inputs by `id`.
SCRIPT = [
    {"video": {"id": "clip", "play": 0, "duration": 4000}},
    {"text": {"id": "greeting", "play": 500, "duration": 3000}},
]
WEBHOOK_TIMEOUT = 30.0  # seconds to wait for every video's webhook


@dataclass(frozen=True)
class RenderedVideo:
    id: str
    name: str
    data: str | None
    status: str
    links: list[Link]


@dataclass(frozen=True)
class Summary:
    media_id: str
    template_id: str
    videos: list[RenderedVideo]

    def __str__(self) -> str:
        lines = [
            f"media {self.media_id}",
            f"template {self.template_id}: {len(self.videos)} videos",
        ]
        for video in self.videos:
            lines.append(f"  {video.id}  {video.status:<6} {video.name} (data: {video.data})")
            lines.extend(f"      {link.profile}  {link.url}" for link in video.links)
        return "\n".join(lines)


async def main(base_url: str, account_id: str, account_secret: str) -> Summary:
    async with PirsonalClient(account_id, account_secret, base_url=base_url) as pirsonal:
        # 1. Upload the clip every video starts with (from a path, an open file, bytes or an
        #    async iterator). The sandbox does not decode media: random bytes will do.
        clip = os.urandom(300_000)
        media = await pirsonal.upload_media(clip, filename="intro.mp4", description="Intro clip")
        print(f"uploaded {media.name} ({media.size} bytes) as media {media.id}")

        # 2. A template whose script takes that clip and a text, rendered in one profile.
        template_id = await pirsonal.template_new(
            TemplateNew(
                name="Welcome",
                description="A personal welcome",
                input_scripts=[json.dumps(SCRIPT)],
                out_profiles=[PROFILE],
                video_output=VideoOutput(type=VideoOutputType.sezion),
            )
        )
        print(f"created template {template_id}")

        # 3. Pirsonal POSTs each rendered video to the template's webhook: receive them.
        arrived: asyncio.Queue[Video] = asyncio.Queue()
        async with receive_webhooks(arrived) as webhook_url:
            await register_webhook(base_url, account_id, account_secret, template_id, webhook_url)

            # 4. Queue one video per recipient, concurrently.
            video_ids = await asyncio.gather(
                *(
                    pirsonal.template_video_new(template_id, welcome_video(name, media.id, n))
                    for n, name in enumerate(RECIPIENTS, start=1)
                )
            )
            print(f"queued {len(video_ids)} videos")
            await wait_for_webhooks(arrived, video_ids)

        # 5. Each video and its download links, all fetched in ONE HTTP request.
        async with pirsonal.batch() as batch:
            pending = [(batch.video_get(id), batch.video_get_links(id)) for id in video_ids]
        videos = []
        for video_call, links_call in pending:
            video, links = await video_call, await links_call
            status = video.status.code if video.status else "?"
            videos.append(RenderedVideo(video.id or "?", video.name, video.data, status, links))
    return Summary(media.id, template_id, videos)


def welcome_video(name: str, clip_id: str, number: int) -> Video:
    return Video(
        name=f"Welcome {name}",
        data=f"crm-{number}",  # your own record ID: echoed back by Video_Get and webhooks
        input_medias=[
            InputMedia(input_id="clip", type=MediaType.video, sezion_id=clip_id),
            InputMedia(input_id="greeting", type=MediaType.text, text=f"Hello {name}!"),
        ],
    )


@asynccontextmanager
async def receive_webhooks(arrived: asyncio.Queue[Video]) -> AsyncIterator[str]:
    """Serves a webhook receiver on a free loopback port; yields the URL to register."""
    # Pirsonal signs nothing: a secret token in the URL tells its calls from anyone else's.
    # In production, mount `webhook_app` in your web server at a public HTTPS URL instead.
    token = secrets.token_urlsafe(16)
    async with serve_asgi(webhook_app(arrived.put, token=token)) as base_url:
        yield f"{base_url}/pirsonal?token={token}"


async def register_webhook(
    base_url: str, account_id: str, account_secret: str, template_id: str, url: str
) -> None:
    # On Pirsonal you enter the webhook URL (a public one) in the template's settings in the
    # web interface (or call the API's webhook method, whose name the doc does not publish).
    # The sandbox takes it on this endpoint instead.
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{base_url}/sandbox/webhooks",
            params={"accountID": account_id, "accountSecret": account_secret},
            json={"url": url, "templateID": template_id},
        )
    # Build the message by hand: httpx's own errors would quote the URL, and its secret.
    ok = response.status_code == 200
    error = response.json().get("error") if ok else f"HTTP {response.status_code}"
    if error:
        raise RuntimeError(f"could not register the webhook: {error}")


async def wait_for_webhooks(arrived: asyncio.Queue[Video], video_ids: Iterable[str]) -> None:
    pending = set(video_ids)

    async def collect() -> None:
        while pending:
            video = await arrived.get()
            if video.id in pending:
                pending.discard(video.id)
                print(f"webhook: video {video.id} for {video.name!r} is ready")

    try:
        await asyncio.wait_for(collect(), WEBHOOK_TIMEOUT)
    except asyncio.TimeoutError:
        missing = ", ".join(sorted(pending))
        raise RuntimeError(f"no webhook after {WEBHOOK_TIMEOUT:.0f} s for {missing}") from None


if __name__ == "__main__":
    settings = ("PIRSONAL_BASE_URL", "PIRSONAL_ACCOUNT_ID", "PIRSONAL_ACCOUNT_SECRET")
    unset = [name for name in settings if not os.environ.get(name)]
    if unset:
        sys.exit(f"set {', '.join(unset)} first (`pirsonal sandbox` prints them)")
    try:
        summary = asyncio.run(
            main(
                os.environ["PIRSONAL_BASE_URL"],
                os.environ["PIRSONAL_ACCOUNT_ID"],
                os.environ["PIRSONAL_ACCOUNT_SECRET"],
            )
        )
    except (PirsonalAsyncError, httpx.HTTPError, RuntimeError) as error:
        sys.exit(f"quickstart failed: {type(error).__name__}: {error}")
    print(summary)
