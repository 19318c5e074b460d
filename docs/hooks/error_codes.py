"""MkDocs hook: the Error codes page, made from `ERROR_CLASSES` at each build, so it cannot drift
from the classes the client raises."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from pirsonal_async.errors import ERROR_CLASSES, RpcError

PAGE = "error-codes.md"
_INTRO = """\
# Error codes

An error reply raises the class of its code; each class derives from the kind of failure it
is (`NotFoundError`, `AuthError`, `LimitError`, ...), so `except` can catch one code or a whole
kind. A code not listed raises `PirsonalError` (or `JsonRpcError` in the JSON-RPC range),
with `.code` set. Every error the client raises is a
[`PirsonalAsyncError`][pirsonal_async.errors.PirsonalAsyncError]; see [Errors](errors.md).
"""


def render() -> str:
    """The page: one row per code of `ERROR_CLASSES`, in its order."""
    rows = [_row(code, cls) for code, cls in ERROR_CLASSES.items()]
    return "\n".join([_INTRO, "| Code | Class | Kind | Meaning |", "|---|---|---|---|", *rows, ""])


def _row(code: int | None, cls: type[RpcError]) -> str:
    summary = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    summary = summary.removeprefix(f"{code}: ")
    summary = summary[:1].upper() + summary[1:]
    kinds = ", ".join(f"`{base.__name__}`" for base in cls.__bases__)
    shown = "none" if code is None else str(code)
    link = f"[`{cls.__name__}`][pirsonal_async.errors.{cls.__name__}]"  # to its Errors entry
    return f"| {shown} | {link} | {kinds} | {summary} |"


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, PAGE, content=render()))
    return files
