"""Reading VMIX3 template scripts and checking a video's input medias against them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pirsonal_async.sandbox import faults

INPUT_TYPES = frozenset({"video", "audio", "image", "text", "rectangle"})
SOURCES = ("http", "sezionID", "pirsonalID", "awsS3", "text")
DEFAULT_DURATION_MS = 5000


def script_inputs(scripts: Iterable[str]) -> dict[str, str]:
    """Maps each named script input's `id` to its type; raises 1005 for a malformed script."""
    inputs: dict[str, str] = {}
    for number, script in enumerate(scripts):
        for input_type, attributes in _timeline(script, number):
            input_id = attributes.get("id")
            if input_id is None:
                continue
            if not isinstance(input_id, str) or input_id in inputs:
                raise faults.BAD_SCRIPT.fault(f"script {number}: bad or repeated id {input_id!r}")
            inputs[input_id] = input_type
    return inputs


def script_duration_ms(scripts: Iterable[str]) -> int:
    """The end of the last timed input; expressions are not evaluated, so they don't count."""
    ends = [
        attributes["play"] + attributes["duration"]
        for number, script in enumerate(scripts)
        for _, attributes in _timeline(script, number)
        if _is_number(attributes.get("play")) and _is_number(attributes.get("duration"))
    ]
    return int(max(ends)) if ends else DEFAULT_DURATION_MS


def check_input_medias(
    inputs: Mapping[str, str],
    medias: list[dict[str, Any]],
    stored_types: Mapping[str, str],
    *,
    partial: bool = False,
) -> None:
    """Checks the media given for each script input; `stored_types` maps media IDs to types.
    `partial`: some inputs may be left without media (a template's fixed media)."""
    if medias and not inputs:
        raise faults.INPUTS_NOT_ALLOWED.fault("the script has no named inputs")
    given: set[str] = set()
    for media in medias:
        input_id = media["inputID"]
        if input_id not in inputs:
            raise faults.MEDIA_ID_NOT_IN_SCRIPTS.fault(repr(input_id))
        if input_id in given or inputs[input_id] != media["type"]:
            raise faults.INPUTS_MISMATCH.fault(f"input {input_id!r} is a {inputs[input_id]}")
        given.add(input_id)
        _check_source(media, stored_types)
    missing = sorted(i for i, kind in inputs.items() if kind != "rectangle" and i not in given)
    if missing and not partial:
        raise faults.INPUTS_MISMATCH.fault(f"no media for input(s) {', '.join(missing)}")


def media_references(medias: Iterable[Mapping[str, Any]]) -> set[str]:
    """The stored media IDs a list of input medias points at."""
    return {m[key] for m in medias for key in ("sezionID", "pirsonalID") if m.get(key) is not None}


def _check_source(media: Mapping[str, Any], stored_types: Mapping[str, str]) -> None:
    input_id = media["inputID"]
    sources = [key for key in SOURCES if media.get(key) is not None]
    if len(sources) != 1:
        raise faults.BAD_INPUT_MEDIA.fault(f"input {input_id!r} needs exactly one source")
    source = sources[0]
    if (source == "text") != (media["type"] == "text"):
        raise faults.BAD_INPUT_MEDIA.fault(f"input {input_id!r}: {source} source for a text input")
    if source in ("sezionID", "pirsonalID"):
        media_id = media[source]
        if media_id not in stored_types:
            raise faults.MEDIA_NOT_FOUND.fault(repr(media_id))
        if stored_types[media_id] != media["type"]:
            kind = stored_types[media_id]
            raise faults.BAD_INPUT_MEDIA.fault(f"input {input_id!r}: media {media_id} is {kind}")


def _timeline(script: str, number: int) -> list[tuple[str, dict[str, Any]]]:
    try:
        parsed = json.loads(script)
    except ValueError:
        raise faults.BAD_SCRIPT.fault(f"script {number} is not JSON") from None
    if not isinstance(parsed, list):
        raise faults.BAD_SCRIPT.fault(f"script {number} is not a JSON array")
    entries: list[tuple[str, dict[str, Any]]] = []
    for entry in parsed:
        if not (isinstance(entry, dict) and len(entry) == 1):
            raise faults.BAD_SCRIPT.fault(f"script {number}: each input is a one-key object")
        ((input_type, attributes),) = entry.items()
        if input_type not in INPUT_TYPES or not isinstance(attributes, dict):
            raise faults.BAD_SCRIPT.fault(f"script {number}: unknown input {input_type!r}")
        entries.append((input_type, attributes))
    return entries


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
