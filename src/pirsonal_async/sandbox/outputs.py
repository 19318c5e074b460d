"""Output profiles and the fake files a simulated rendering produces."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pirsonal_async.sandbox import faults

# CONTAINER_VCODEC_ACODEC_WxH[_NNfps], e.g. MP4_H264_AAC_640x480_24fps (the names seen in clients).
PROFILE = re.compile(r"(?P<base>(?P<container>[A-Z0-9]+)_[A-Z0-9]+_[A-Z0-9]+_\d+x\d+)(_\d+fps)?")
CONTENT_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}
_FAKE_FILE_REPEAT = 32


def check_profiles(profiles: Sequence[str]) -> None:
    """Applies the template rules for output profiles (codes 1032 and 2002)."""
    if not profiles:
        raise faults.NO_VIDEO_PROFILES.fault()
    if len(set(profiles)) != len(profiles):
        raise faults.DUPLICATED_PROFILE.fault()
    for profile in profiles:
        if PROFILE.fullmatch(profile) is None:
            raise faults.PROFILE_NOT_ALLOWED.fault(repr(profile))


def out_file(video_id: str, profile: str) -> dict[str, Any]:
    """The `OutFile` of one rendered profile, named like Pirsonal's own files."""
    pirsonal_id = f"{video_id}.{profile}"
    return {
        "name": f"{video_id}.{_base_name(profile)}",
        "profile": profile,
        "size": len(fake_file_body(pirsonal_id)),
        "storage": {"pirsonalID": pirsonal_id},
    }


def fake_file_body(pirsonal_id: str) -> bytes:
    """The bytes served for a rendered file: small, but stable, so `size` matches the download."""
    return f"pirsonal-sandbox rendering {pirsonal_id}\n".encode() * _FAKE_FILE_REPEAT


def file_content_type(pirsonal_id: str) -> str:
    """The media type of a rendered file, from the container of its profile."""
    match = PROFILE.fullmatch(pirsonal_id.rpartition(".")[2])
    container = match.group("container").lower() if match else ""
    return CONTENT_TYPES.get(container, "application/octet-stream")


def _base_name(profile: str) -> str:
    match = PROFILE.fullmatch(profile)
    if match is None:
        return profile
    return f"{match.group('base')}.{match.group('container').lower()}"
