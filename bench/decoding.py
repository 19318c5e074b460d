"""Decoding and encoding Video objects: generated from_json/to_json vs cattrs, same classes."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from bench import samples
from bench.common import Goal, Plan, Row, against, interleave
from bench.server import CONTRACT_PATH
from pirsonal_async.generated import _json, types

GOAL = Goal("<=", 1.0)


def wire_converter() -> cattrs.Converter:
    """A cattrs converter mapping every generated struct class to its camelCase wire names.

    Python names are matched to wire names ignoring case and underscores (`GATrackingCode` is
    `ga_tracking_code`); attributes with no wire name (such as kept unknown keys) are left out.
    """
    converter = cattrs.Converter()
    contract = json.loads(CONTRACT_PATH.read_text())
    for enum in (element for element in contract if element.get("type") == "enum"):
        # Enum fields are typed `E | UnknownEnumValue` (optional ones `| None` too).
        members = getattr(types, enum["name"])
        decode = _json.member(members)
        converter.register_structure_hook(members | types.UnknownEnumValue, _hook(decode))
        converter.register_structure_hook(
            members | types.UnknownEnumValue | None, _hook(_json.optional(decode))
        )
    converter.register_unstructure_hook(types.UnknownEnumValue, types.UnknownEnumValue.to_json)
    for struct in (element for element in contract if element.get("type") == "struct"):
        cls = getattr(types, struct["name"])
        wire = {_folded(f["name"]): f["name"] for f in struct["fields"]}
        overrides: dict[str, Any] = {
            a.name: override(rename=wire[_folded(a.name)])
            if _folded(a.name) in wire
            else override(omit=True)
            for a in attrs.fields(cls)
        }
        converter.register_structure_hook(cls, make_dict_structure_fn(cls, converter, **overrides))
        converter.register_unstructure_hook(
            cls,
            make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True, **overrides),
        )
    return converter


def _hook(decode: _json.Decoder[object]) -> Callable[[Any, Any], object]:
    """cattrs passes the type second, where a decoder takes the path for its messages."""
    return lambda value, _: decode(value)


def _folded(name: str) -> str:
    return name.replace("_", "").lower()


def timed(work: Callable[[], object]) -> float:
    """CPU milliseconds of `work`, with the cyclic GC off as in `timeit`: with thousands of live
    objects its passes would dominate and land on whichever variant happened to trigger them."""
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        work()
        return (time.process_time() - start) * 1e3
    finally:
        gc.enable()


def run(plan: Plan, count: int = 10_000) -> list[Row]:
    converter = wire_converter()
    data = [samples.video(index) for index in range(count)]
    decoded = [types.Video.from_json(item) for item in data]
    same_objects = [converter.structure(item, types.Video) for item in data] == decoded
    same_json = (
        [converter.unstructure(video) for video in decoded]
        == data
        == [video.to_json() for video in decoded]
    )
    if not (same_objects and same_json):
        raise RuntimeError("cattrs and the generated code disagree, so they do different work")

    def generated_decode() -> Any:
        return [types.Video.from_json(item) for item in data]

    def cattrs_decode() -> Any:
        return [converter.structure(item, types.Video) for item in data]

    def generated_encode() -> Any:
        return [video.to_json() for video in decoded]

    def cattrs_encode() -> Any:
        return [converter.unstructure(video) for video in decoded]

    decode = interleave(
        {
            "cattrs structure": lambda: timed(cattrs_decode),
            "from_json": lambda: timed(generated_decode),
        },
        plan,
    )
    encode = interleave(
        {
            "cattrs unstructure": lambda: timed(cattrs_encode),
            "to_json": lambda: timed(generated_encode),
        },
        plan,
    )
    unit = f"ms/{count} Video"
    return [
        *against("decode", unit, decode, "cattrs structure", {"from_json": GOAL}),
        *against("encode", unit, encode, "cattrs unstructure", {"to_json": GOAL}),
    ]
