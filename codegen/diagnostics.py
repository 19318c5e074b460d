"""Problems found in an IDL, each pointing at a file, line and column."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from .model import Pos


@frozen
class Diagnostic:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    message: str

    @classmethod
    def at(cls, pos: Pos, message: str) -> Diagnostic:
        return cls(pos.file, pos.line, pos.col, message)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class IdlError(Exception):
    """An IDL that cannot be turned into a contract; `str()` gives one diagnostic per line."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))
