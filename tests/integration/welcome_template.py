"""The template the integration tests render: a video clip and a name over a frame."""

from __future__ import annotations

import asyncio
import json

from pirsonal_async.sandbox import Sandbox
from pirsonal_async.types import (
    InputMedia,
    MediaType,
    TemplateNew,
    Video,
    VideoOutput,
    VideoOutputType,
)

PROFILES = ["MP4_H264_AAC_640x480_24fps", "MP4_H264_AAC_1280x720_24fps"]
SCRIPT = json.dumps(
    [
        {"video": {"id": "clip", "play": 0, "duration": 3000}},
        {"text": {"id": "name", "play": 500, "duration": 2000}},
        {"rectangle": {"id": "frame"}},
    ]
)
WELCOME = TemplateNew(
    name="Welcome",
    description="A clip with the viewer's name",
    input_scripts=[SCRIPT],
    out_profiles=PROFILES,
    video_output=VideoOutput(type=VideoOutputType.sezion),
)
# The bound on every wait for the sandbox: rendering takes a few hundredths of a second.
WAIT_SECONDS = 10.0


def welcome_video(clip_id: str, name: str = "Ana") -> Video:
    """A video of WELCOME: the uploaded clip `clip_id` and `name` as the text."""
    return Video(
        name=f"Hi {name}",
        description=f"For {name}",
        data=f"crm-{name.lower()}",
        input_medias=[
            InputMedia(input_id="clip", type=MediaType.video, sezion_id=clip_id),
            InputMedia(input_id="name", type=MediaType.text, text=name),
        ],
    )


async def rendered(sandbox: Sandbox, *video_ids: str) -> None:
    """Waits until every video is rendered and its webhooks were called."""
    waits = asyncio.gather(*(sandbox.state.wait_rendered(video_id) for video_id in video_ids))
    await asyncio.wait_for(waits, WAIT_SECONDS)
