"""Finding and reading IDL files, and loading a file with its imports, each file once."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from attrs import define, field, frozen

from .checks import (
    FileCheck,
    Imported,
    ImportedErrors,
    ImportLine,
    Outline,
    Report,
)
from .diagnostics import Diagnostic, IdlError
from .model import Contract, Element, Enum, Struct, UserType

# Each level of import nesting costs a few stack frames; stop long before Python would.
MAX_IMPORT_DEPTH = 100

OutlineReader = Callable[[str, str], Outline]  # (text, file name for positions) -> outline


def import_candidates(path: str, importer_dir: str | None, search_path: str = "") -> list[str]:
    """Where `import "path"` may live, in the reference's order (SPEC §1.10).

    As written (relative to the working directory), then beside the importing file (unless
    it came from stdin), then in each directory of `search_path` ($BARRISTER_PATH).
    """
    candidates = [path]
    if importer_dir is not None:
        candidates.append(os.path.join(importer_dir, path))
    candidates += [os.path.join(d, path) for d in search_path.split(os.pathsep) if d]
    return candidates


def find_import(path: str, importer_dir: str | None) -> str | None:
    search_path = os.environ.get("BARRISTER_PATH", "")
    for candidate in import_candidates(path, importer_dir, search_path):
        if os.path.isfile(candidate):
            return candidate
    return None


def read_idl(path: str) -> str:
    """The text of an IDL file, decoded as UTF-8 like the reference CLI does in practice."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise IdlError([Diagnostic(path, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not valid UTF-8: byte 0x{data[exc.start]:02x}"
        raise IdlError([Diagnostic(path, line, exc.start - line_start + 1, message)]) from None


@frozen
class SourceText:
    """A text to parse: `file` names it in positions, `key` identifies it among imports."""

    text: str
    file: str
    key: str
    directory: str | None  # where its relative imports are looked up; None for stdin


@define
class _Unit:
    """One file of the import graph while it is being loaded (Tarjan's bookkeeping)."""

    key: str
    directory: str | None
    check: FileCheck
    index: int
    low: int
    depth: int
    output: list[Element] = field(factory=list)
    registered: dict[str, UserType] = field(factory=dict)
    exports: tuple[Struct | Enum, ...] = ()
    reports: list[Report] = field(factory=list)
    on_stack: bool = True


class Loader:
    """Loads a file and everything it imports; every file is read and checked once.

    The reference recurses forever on an import cycle (SPEC F4). Here an import of a file
    that is still loading adds nothing at that point, and the files of a cycle are checked
    together once the first of them is loaded, each seeing the types of all of them.
    """

    def __init__(self, read_outline: OutlineReader) -> None:
        self._read_outline = read_outline
        self._units: dict[str, _Unit] = {}
        self._stack: list[_Unit] = []

    def load(self, root: SourceText) -> Contract:
        outline = self._read_outline(root.text, root.file)
        unit = self._visit(outline, root.key, root.directory, depth=0)
        diagnostics = list(self._diagnostics(unit))
        if diagnostics:
            raise IdlError(diagnostics)
        return Contract(elements=tuple(unit.output))

    def _visit(self, outline: Outline, key: str, directory: str | None, depth: int) -> _Unit:
        unit: _Unit
        check = FileCheck(outline, lambda line: self._import(unit, line))
        unit = _Unit(key, directory, check, len(self._units), len(self._units), depth)
        self._units[key] = unit
        self._stack.append(unit)
        unit.output, unit.registered = check.assemble()
        unit.exports = tuple(e for e in unit.output if isinstance(e, (Struct, Enum)))
        if unit.low == unit.index:
            self._finish_component(unit)
        return unit

    def _finish_component(self, root: _Unit) -> None:
        members: list[_Unit] = []
        while not members or members[-1] is not root:
            member = self._stack.pop()
            member.on_stack = False
            members.append(member)
        if len(members) == 1:
            root.reports = root.check.reports(root.registered)
            return
        everything = {e.name: e for e in root.exports}
        for member in members:
            member.exports = root.exports
            member.reports = member.check.reports({**everything, **member.registered})

    def _import(self, importer: _Unit, line: ImportLine) -> Imported | None:
        found = find_import(line.path, importer.directory)
        if found is None:
            return None
        key = os.path.abspath(found)
        target = self._units.get(key)
        if target is None:
            if importer.depth >= MAX_IMPORT_DEPTH:
                message = f"imports nested more than {MAX_IMPORT_DEPTH} files deep"
                raise IdlError([Diagnostic.at(line.pos, message)])
            outline = self._read_import(found)
            target = self._visit(outline, key, os.path.dirname(found), importer.depth + 1)
            importer.low = min(importer.low, target.low)
            return Imported(path=key, exports=target.exports, first=True)
        if target.on_stack:
            importer.low = min(importer.low, target.index)
            return Imported(path=key, exports=(), first=False)
        return Imported(path=key, exports=target.exports, first=False)

    def _read_import(self, path: str) -> Outline:
        try:
            text = read_idl(path)
        except IdlError as exc:
            # An unreadable import is reported as that file's own error, like any other.
            return Outline(items=(), stop=exc.diagnostics[0])
        return self._read_outline(text, path)

    def _diagnostics(self, root: _Unit) -> Iterator[Diagnostic]:
        """The root's diagnostics, each imported file's spliced in where it was first imported."""
        pending: list[Iterator[Report]] = [iter(root.reports)]
        while pending:
            for report in pending[-1]:
                if isinstance(report, ImportedErrors):
                    pending.append(iter(self._units[report.path].reports))
                    break
                yield report
            else:
                pending.pop()
