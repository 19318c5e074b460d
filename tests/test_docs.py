"""The reference site's Error codes page, generated from `ERROR_CLASSES` at each build by the
MkDocs hook docs/hooks/error_codes.py (`make test` builds the whole site with --strict)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from pirsonal_async.errors import ERROR_CLASSES

HOOK = Path(__file__).parents[1] / "docs" / "hooks" / "error_codes.py"


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("error_codes_hook", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_rows(page: str) -> list[list[str]]:
    lines = [line for line in page.splitlines() if line.startswith("|")]
    assert lines[:2] == ["| Code | Class | Kind | Meaning |", "|---|---|---|---|"]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def test_the_error_codes_page_has_a_row_for_each_code_naming_its_class() -> None:
    rows = table_rows(load_hook().render())

    assert len(rows) == len(ERROR_CLASSES)
    for (code, cls), (shown, name, kinds, meaning) in zip(ERROR_CLASSES.items(), rows, strict=True):
        assert shown == ("none" if code is None else str(code))
        assert name == f"[`{cls.__name__}`][pirsonal_async.errors.{cls.__name__}]"
        assert kinds == ", ".join(f"`{base.__name__}`" for base in cls.__bases__)
        assert meaning
        assert meaning.lower() in " ".join((cls.__doc__ or "").split()).lower()
    by_code = {row[0]: row for row in rows}
    assert by_code["1007"][1:] == [
        "[`VideoNotFound`][pirsonal_async.errors.VideoNotFound]",
        "`NotFoundError`",
        "Video not found.",
    ]
    assert by_code["1010"][2] == "`NotFoundError`, `AuthError`"
