"""Realistic wire values (as parsed JSON) for the benchmark server and the decoding benchmark."""

from __future__ import annotations

from typing import Any

ACCOUNT_ID = "bench-account"
ACCOUNT_SECRET = "bench-secret"  # a throwaway credential for the local server
VIDEO_ID = "5a1f00000000000000000000"
PROFILES = ("MP4_H264_AAC_1280x720_24fps", "WEBM_VP8_VORBIS_640x480_24fps")


def video(index: int) -> dict[str, Any]:
    """A generated video as `Video_Get` returns it: input medias of every source, two outputs."""
    video_id = f"5a1f{index:020d}"
    return {
        "id": video_id,
        "accountID": "53a0c6b8e4b0a1b2c3d4e5f6",
        "templateID": "5331c9a2e4b0c1d2e3f4a5b6",
        "name": f"Hi Ana #{index}",
        "description": "Welcome video for a new customer",
        "data": f"crm-{index}",
        "inputMedias": [
            {"inputID": "v1", "type": "video", "name": "intro.mp4", "sezionID": "m-intro"},
            {"inputID": "i1", "type": "image", "http": "https://example.com/ana.jpg"},
            {"inputID": "t1", "type": "text", "text": f"Hello Ana, customer {index}"},
            {"inputID": "a1", "type": "audio", "awsS3": {"bucket": "media", "key": "bg.mp3"}},
        ],
        "videoOutput": {"type": "sezion"},
        "date": "2014-03-25T11:21:00.047Z",
        "duration": 31520.0,
        "status": {"code": "done"},
        "outFiles": [
            {
                "name": f"{video_id}.{profile}.mp4",
                "profile": profile,
                "size": 4_812_345 + index,
                "storage": {"pirsonalID": f"s-{index}-{n}"},
            }
            for n, profile in enumerate(PROFILES)
        ],
        "email": "ana@example.com",
        "firstName": "Ana",
        "lastName": "García",
        "keywords": "welcome,onboarding",
        "GATrackingCode": "UA-12345-1",
        "formData": ["yes", "weekly"],
        "poweredbyPirsonalLogo": False,
        "template_type": "standard",
    }


def template(index: int) -> dict[str, Any]:
    return {
        "id": f"5331{index:020d}",
        "name": f"Welcome {index}",
        "description": "Welcome video",
        "date": "2014-03-25T11:21:00.047Z",
        "status": "active",
        "secret": "bench-template-secret",
        "inputScripts": ['[{"video": {"id": "v1", "play": 0}}]'],
        "outProfiles": list(PROFILES),
        "videoInputs": {"video": 1, "image": 1, "text": 1, "audio": 1},
        "videoOutput": {"type": "sezion"},
        "videosCSV": 0,
    }


def media(index: int, size: int = 1_048_576) -> dict[str, Any]:
    return {
        "id": f"m-{index}",
        "name": f"clip-{index}.mp4",
        "description": "Uploaded clip",
        "size": size,
        "temp": False,
        "type": "video",
    }


def link(index: int) -> dict[str, Any]:
    return {
        "id": f"s-{index}",
        "profile": PROFILES[0],
        "url": f"https://cdn.example.com/{index}.mp4",
    }
