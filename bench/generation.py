"""Codegen speed: parse, check and generate synthetic IDLs of two sizes (linear growth: ~10x)."""

from __future__ import annotations

import time
from functools import partial

from bench.common import Goal, Plan, Row, against, interleave
from pirsonal_async_codegen.generate import render_package
from pirsonal_async_codegen.parser import parse_text


def synthetic_idl(lines: int) -> str:
    """An IDL of exactly `lines` lines: documented enums, structs (with extends) and interfaces."""
    out = ["// A synthetic contract for the codegen benchmark.", ""]
    block = 0
    while True:
        parent = f" extends Item{block - 1}" if block % 4 == 1 else ""
        # Field names are numbered because a child struct cannot redefine its parent's fields.
        lines_of_block = [
            f"// The kinds of item {block}.",
            f"enum Kind{block} {{",
            "    // The first kind.",
            "    alpha",
            "    beta",
            "    gamma",
            "}",
            "",
            f"// Item {block}, documented.",
            f"struct Item{block}{parent} {{",
            "    // The identifier.",
            f"    key{block} string",
            f"    count{block} int [optional]",
            f"    ratio{block} float",
            f"    flag{block} bool [optional]",
            f"    kind{block} Kind{block}",
            "    // Labels, in order.",
            f"    tags{block} []string [optional]",
            *([f"    previous{block} Item{block - 1} [optional]"] if block else []),
            "}",
            "",
            f"// Operations on item {block}.",
            f"interface Service{block} {{",
            "    // Returns one item.",
            f"    Item_Get(key string) Item{block}",
            "    // Lists the items of a kind.",
            f"    Item_List(kind Kind{block}, limit int) []Item{block}",
            "    // Stores an item; returns its key.",
            f"    Item_Put(item Item{block}) string",
            "}",
            "",
        ]
        if len(out) + len(lines_of_block) > lines:
            return "".join(f"{line}\n" for line in out + [""] * (lines - len(out)))
        out += lines_of_block
        block += 1


def parse_ms(text: str) -> float:
    start = time.perf_counter()
    parse_text(text, "synthetic.idl")
    return (time.perf_counter() - start) * 1e3


def generate_ms(text: str) -> float:
    """Wall milliseconds, since formatting the output runs ruff in a child process."""
    start = time.perf_counter()
    contract = parse_text(text, "synthetic.idl")
    render_package(contract, source_name="synthetic.idl")
    return (time.perf_counter() - start) * 1e3


def run(plan: Plan, sizes: tuple[int, int] = (500, 5000)) -> list[Row]:
    small, large = sizes
    texts = {f"{size} lines": synthetic_idl(size) for size in sizes}
    # Growth is about large/small when linear; allow 30% on top for the noise of a shared machine.
    goal = {f"{large} lines": Goal("<=", round(large / small * 1.3, 1))}
    rows = []
    for benchmark, measure in (("parse+check", parse_ms), ("parse+check+generate", generate_ms)):
        stats = interleave({name: partial(measure, text) for name, text in texts.items()}, plan)
        rows += against(f"codegen {benchmark}", "ms", stats, f"{small} lines", goal)
    return rows
