"""What one IDL file declares, as read (its outline), and the semantic checks of SPEC §2."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from attrs import frozen

from .diagnostics import Diagnostic
from .model import (
    BUILTINS,
    Comment,
    Element,
    Enum,
    Field,
    Interface,
    Pos,
    Struct,
    UserType,
)


@frozen(kw_only=True)
class NamespaceLine:
    name: str
    pos: Pos


@frozen(kw_only=True)
class ImportLine:
    path: str  # as written between the quotes
    pos: Pos


@frozen(kw_only=True)
class TypeRef:
    """A type name written at `pos`, namespace applied: a parent, field, parameter or return."""

    name: str
    pos: Pos
    field: Field | None = None  # set for field types, for the parent-field check


@frozen(kw_only=True)
class Declaration:
    """A struct, enum or interface as read; `end` is None when the text stopped inside it."""

    element: UserType  # the members completed before any stop
    written_name: str  # before the namespace prefix: the reference's duplicate check uses it
    parents: tuple[TypeRef, ...] = ()  # every `extends` target, in order (the last one wins)
    body: Pos | None = None  # the `{`
    uses: tuple[TypeRef, ...] = ()  # field, parameter and return types, in order
    end: Pos | None = None  # the `}`


Item = Comment | NamespaceLine | ImportLine | Declaration


@frozen(kw_only=True)
class Outline:
    items: tuple[Item, ...]
    stop: Diagnostic | None = None  # why reading ended early: syntax error or end of file


@frozen(kw_only=True)
class Imported:
    """What an import line brought in."""

    path: str  # absolute: the reference names files this way in its messages
    exports: tuple[Struct | Enum, ...]
    first: bool  # this line loaded the file, so the file's own errors are reported here


@frozen
class ImportedErrors:
    """Stands for the diagnostics of an imported file, reported where it was first imported.

    The reference wraps each of them in an error on the import line, holding the imported
    file's line and message as a dict (SPEC E17). Here they keep the imported file's own
    path, line and column, which says where to look.
    """

    path: str


Report = Diagnostic | ImportedErrors
ImportLoader = Callable[[ImportLine], Imported | None]


class FileCheck:
    """Checks one file in the reference's two passes (SPEC §2.1) over its outline.

    Pass 1 (`assemble`) builds the output list and the type table, loading imports. Pass 2
    (`reports`) walks the same items again: type references, `extends` targets and cycles are
    checked against everything visible, while duplicate names and parent fields are checked
    against what is registered so far, which is what makes the reference's error lists (and
    its quirks, E7q) come out in the same order.
    """

    def __init__(self, outline: Outline, load_import: ImportLoader) -> None:
        self.outline = outline
        self._load_import = load_import
        self._imports: dict[int, Imported | None] = {}  # pass 2 replays what pass 1 loaded

    def assemble(self) -> tuple[list[Element], dict[str, UserType]]:
        walk = _Walk(self, visible=None)
        walk.run()
        return walk.output, walk.registered

    def reports(self, visible: Mapping[str, UserType]) -> list[Report]:
        walk = _Walk(self, visible=visible)
        walk.run()
        return walk.reports

    def imported(self, index: int, line: ImportLine) -> Imported | None:
        if index not in self._imports:
            self._imports[index] = self._load_import(line)
        return self._imports[index]


class _Walk:
    """One pass over a file's items; `visible` is None in pass 1, which reports nothing."""

    def __init__(self, check: FileCheck, visible: Mapping[str, UserType] | None) -> None:
        self.check = check
        self.visible = visible
        self.output: list[Element] = []
        self.registered: dict[str, UserType] = {}
        self.reports: list[Report] = []
        self.namespace_seen = False
        self.imported_paths: set[str] = set()
        self.inherited: dict[str, tuple[frozenset[str], str | None]] = {}
        self.cyclic: set[str] | None = None

    def run(self) -> None:
        for index, item in enumerate(self.check.outline.items):
            if isinstance(item, Comment):
                self.output.append(item)
            elif isinstance(item, NamespaceLine):
                self.namespace(item)
            elif isinstance(item, ImportLine):
                self.import_(index, item)
            else:
                self.declaration(item)
        if self.check.outline.stop is not None:
            self.reports.append(self.check.outline.stop)

    def error(self, pos: Pos | None, message: str) -> None:
        """Reports in pass 2 only; `pos` is None for a token the text stopped before."""
        if self.visible is not None and pos is not None:
            self.reports.append(Diagnostic.at(pos, message))

    def namespace(self, line: NamespaceLine) -> None:
        if self.namespace_seen:
            self.error(line.pos, "Cannot redeclare namespace")
        elif self.output:
            self.error(line.pos, "namespace must preceed all struct/enum/interface definitions")
        self.namespace_seen = True

    def import_(self, index: int, line: ImportLine) -> None:
        imported = self.check.imported(index, line)
        if imported is None:
            self.error(line.pos, f"Cannot find import file: {line.path}")
            return
        if imported.path in self.imported_paths:
            return
        self.imported_paths.add(imported.path)
        if imported.first and self.visible is not None:
            self.reports.append(ImportedErrors(imported.path))
        for element in imported.exports:
            known = self.registered.get(element.name)
            if known is None:
                self.registered[element.name] = element
                self.output.append(element)
            elif known.checksum_line() != element.checksum_line():
                self.error(line.pos, f"Include {imported.path} redefined type: {element.name}")

    def declaration(self, declaration: Declaration) -> None:
        element = declaration.element
        # The reference compares the name as written; comparing the prefixed name as well
        # also catches duplicates inside a namespaced file, which it lets through (§2.4).
        for name in (declaration.written_name, element.name):
            if name in self.registered:
                self.error(element.pos, f"type {name} already defined")
                break
        for parent in declaration.parents:
            self.parent(element, parent)
        if isinstance(element, Interface) and self.namespace_seen:
            self.error(declaration.body, "namespace cannot be used in files with interfaces")
        for use in declaration.uses:
            self.type_use(use)
            if isinstance(element, Struct) and use.field is not None:
                self.parent_field(element, use.field)
        if declaration.end is not None:
            self.close(element, declaration.end)

    def parent(self, element: UserType, parent: TypeRef) -> None:
        if not isinstance(element, Struct):
            self.error(parent.pos, "extends is only supported for struct types")
        elif self.visible is not None:
            target = self.visible.get(parent.name)
            if parent.name in BUILTINS:
                self.error(parent.pos, f"{element.name} cannot extend {parent.name}")
            elif target is None:
                self.error(parent.pos, f"{element.name} extends unknown type {parent.name}")
            elif not isinstance(target, Struct):
                kind = _KIND[type(target)]
                self.error(parent.pos, f"{element.name} cannot extend {kind} {parent.name}")

    def type_use(self, use: TypeRef) -> None:
        if self.visible is None or use.name in BUILTINS:
            return
        target = self.visible.get(use.name)
        if target is None:
            self.error(use.pos, f"undefined type: {use.name}")
        elif isinstance(target, Interface):
            self.error(use.pos, f"interface {use.name} cannot be used as a type")

    def parent_field(self, struct: Struct, field: Field) -> None:
        if self.visible is not None and field.name in self.inherited_fields(struct.extends):
            self.error(field.pos, f"{struct.name} cannot redefine parent field {field.name}")

    def inherited_fields(self, name: str) -> frozenset[str]:
        """Field names of struct `name` and its ancestors among the types registered so far.

        Memoised per struct with the first unregistered ancestor, if any: the entry stays good
        until that name is registered, so a long chain of `extends` is walked once.
        """
        chain: list[Struct] = []
        walked: set[str] = set()
        names: frozenset[str] = frozenset()
        gap: str | None = None
        current = name
        while current:
            memo = self.inherited.get(current)
            if memo is not None and (memo[1] is None or memo[1] not in self.registered):
                names, gap = memo
                break
            found = self.registered.get(current)
            if found is None:
                gap = current
                break
            if not isinstance(found, Struct) or current in walked:
                break
            walked.add(current)
            chain.append(found)
            current = found.extends
        for struct in reversed(chain):
            names = names | {f.name for f in struct.fields}
            self.inherited[struct.name] = (names, gap)
        return names

    def close(self, element: UserType, end: Pos) -> None:
        """SPEC §1.4 "Closing a block": the cycle check runs even for an empty struct."""
        members, noun = _members(element)
        if not members:
            self.error(end, f"{element.name} must have at least one {noun}")
        if self.visible is not None:
            self.duplicate_members(element)
            if isinstance(element, Struct) and self.on_cycle(element, self.visible):
                self.error(end, f"cycle detected in struct: {element.name}")
        if not members:
            return  # empty elements are dropped
        if element.name in self.registered:
            self.inherited.clear()
        self.registered[element.name] = element
        self.output.append(element)

    def on_cycle(self, struct: Struct, visible: Mapping[str, UserType]) -> bool:
        if visible.get(struct.name) is struct:
            return struct.name in self.cyclic_structs(visible)
        # Empty, or declared twice: not the struct its name means, so not in the graph.
        return struct.name in reached_types(struct, visible)

    def cyclic_structs(self, visible: Mapping[str, UserType]) -> set[str]:
        if self.cyclic is None:
            local = (
                item.element.name
                for item in self.check.outline.items
                if isinstance(item, Declaration) and isinstance(item.element, Struct)
            )
            self.cyclic = structs_on_cycles(visible, local)
        return self.cyclic

    def duplicate_members(self, element: UserType) -> None:
        for message, pos in duplicate_members(element):
            self.error(pos, message)


_KIND: dict[type, str] = {Struct: "struct", Enum: "enum", Interface: "interface"}


def duplicate_members(element: UserType) -> list[tuple[str, Pos | None]]:
    """Names the reference accepts twice but generated Python could not hold (§2.4).

    One `(message, position)` per repeat: the parser reports them at the position, the
    generator (whose JSON sources have none) by message.
    """
    where = f"{_KIND[type(element)]} {element.name}"
    if isinstance(element, Struct):
        return _duplicates("field", [(f.name, f.pos) for f in element.fields], where)
    if isinstance(element, Enum):
        return _duplicates("value", [(v.value, v.pos) for v in element.values], where)
    found = _duplicates("function", [(f.name, f.pos) for f in element.functions], where)
    for function in element.functions:
        params = [(p.name, p.pos) for p in function.params]
        found += _duplicates("parameter", params, f"function {function.name} of {where}")
    return found


def _duplicates(
    noun: str, names: list[tuple[str, Pos | None]], where: str
) -> list[tuple[str, Pos | None]]:
    seen: set[str] = set()
    found = []
    for name, pos in names:
        if name in seen:
            found.append((f"duplicate {noun} {name} in {where}", pos))
        seen.add(name)
    return found


def _members(element: UserType) -> tuple[tuple[object, ...], str]:
    if isinstance(element, Struct):
        return element.fields, "field"
    if isinstance(element, Enum):
        return element.values, "value"
    return element.functions, "function"


def reached_types(struct: Struct, types: Mapping[str, UserType]) -> set[str]:
    """The reference's cycle walk (SPEC §2.3 E8) from one struct, names looked up in `types`:
    its parent and required, non-array struct fields, followed; other named types, noted."""
    reached: set[str] = set()
    pending = [struct]
    while pending:
        current = pending.pop()
        for f in current.fields:
            target = types.get(f.type)
            if target is None or f.type in reached:
                continue
            if not isinstance(target, Struct):
                reached.add(f.type)
            elif not f.is_array and not f.optional:
                reached.add(f.type)
                pending.append(target)
        parent = types.get(current.extends)
        if isinstance(parent, Struct) and current.extends not in reached:
            reached.add(current.extends)
            pending.append(parent)
    return reached


def structs_on_cycles(types: Mapping[str, UserType], roots: Iterable[str]) -> set[str]:
    """Structs that can reach themselves through `extends` and required, non-array fields.

    That is the reference's rule (SPEC §2.3 E8). Tarjan's algorithm, iterative so that long
    chains of structs cannot exhaust the stack, visiting only what `roots` reach.
    """

    def successors(name: str) -> list[str]:
        struct = types[name]
        assert isinstance(struct, Struct)
        edges = [struct.extends]
        edges += [f.type for f in struct.fields if not f.is_array and not f.optional]
        return [t for t in edges if isinstance(types.get(t), Struct)]

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cyclic: set[str] = set()

    def enter(name: str) -> tuple[str, Iterator[str]]:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        return name, iter(successors(name))

    for root in roots:
        if root in index or not isinstance(types.get(root), Struct):
            continue
        work = [enter(root)]
        while work:
            node, pending = work[-1]
            for succ in pending:
                if succ not in index:
                    work.append(enter(succ))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in successors(node):
                        cyclic.update(component)
    return cyclic
