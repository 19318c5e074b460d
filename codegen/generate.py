"""Render a contract into a Python package: attrs types, async stubs, decode helpers, contract."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from attrs import frozen

from pirsonal_async._redact import is_secret_name

from . import naming
from .checks import duplicate_members
from .model import (
    REFERENCE_VERSION,
    Contract,
    Enum,
    Field,
    Function,
    Interface,
    Param,
    Struct,
)
from .text import chunks, docstring, literal, prose, wrap

# The class of enum values a contract does not list (defined in the generated `_json`).
UNKNOWN_ENUM = "UnknownEnumValue"
PACKAGE_FILES = ("__init__.py", "_json.py", "api.py", "contract.py", "types.py")

# IDL built-in -> (Python type, what the message says it expected, decoder in `_json`).
_SCALARS = {
    "string": ("str", "a string", "_json.string"),
    "int": ("int", "an integer", "_json.integer"),
    "float": ("float", "a number", "_json.number"),
    "bool": ("bool", "a boolean", "_json.boolean"),
}


@frozen
class TypeUse:
    """How one IDL type reference is spelled, checked and encoded in Python."""

    kind: str  # a built-in IDL name, "enum" or "struct"
    py: str  # the Python class of one element
    is_array: bool
    optional: bool
    # A received enum value (a field's or a result's) may be one the contract does not list;
    # a parameter's is the caller's, so it must be a member.
    closed: bool = False

    @property
    def element(self) -> str:
        """The Python type of one element."""
        return f"{self.py} | {UNKNOWN_ENUM}" if self.kind == "enum" and not self.closed else self.py

    @property
    def annotation(self) -> str:
        spelled = f"list[{self.element}]" if self.is_array else self.element
        return f"{spelled} | None" if self.optional else spelled

    @property
    def expected(self) -> str:
        return _SCALARS[self.kind][1] if self.kind in _SCALARS else ""

    @property
    def item_decoder(self) -> str:
        """A `_json.Decoder` for one element (used on error paths and for results)."""
        if self.kind == "enum":
            return f"_json.member({self.py})"
        if self.kind == "struct":
            return f"{self.py}.from_json"
        return _SCALARS[self.kind][2]

    @property
    def decoder(self) -> str:
        """A `_json.Decoder` for the whole value, e.g. `_json.array(_json.string)`."""
        decoder = self.item_decoder
        if self.is_array:
            decoder = f"_json.array({decoder})"
        return f"_json.optional({decoder})" if self.optional else decoder

    def encode(self, value: str) -> str:
        """The expression turning `value` into plain JSON.

        Only a value of the declared Python type is converted; any other value is passed
        through unchanged, so the contract check reports it by path instead of it being
        mangled (`list("ab")`) or crashing without a name (`"video".value`).
        """
        if not self.is_array:
            return self._encode_one(value)
        # Arrays are copied, so the JSON never aliases the caller's list.
        copied = (
            f"[*{value}]"
            if self.kind in _SCALARS
            else f"[{self._encode_one('item')} for item in {value}]"
        )
        return f"{copied} if isinstance({value}, list) else {value}"

    def encode_argument(self, value: str, method: str, param: str) -> str:
        """The expression turning the argument `value` of wire parameter `param` into JSON.

        Typed methods take typed values: a struct or enum parameter refuses anything else (a
        dict, a wire string) by name, before anything is sent. Other mistakes, such as a
        number for a string, are left to the contract check, which names their path.
        """
        if self.kind in _SCALARS:
            return self.encode(value)
        helper = "_json.arguments" if self.is_array else "_json.argument"
        return f"{helper}({value}, {self.py}, {literal(method)}, {literal(param)})"

    def _encode_one(self, value: str) -> str:
        if self.kind == "enum":
            # `_value_` is what `.value` returns, without the cost of the property.
            return f"{value}._value_ if isinstance({value}, {self.py}) else _json.raw({value})"
        if self.kind == "struct":
            return f"{value}.to_json() if isinstance({value}, {self.py}) else {value}"
        return value


@frozen
class FieldView:
    field: Field
    wire: str
    attr: str
    local: str
    use: TypeUse
    doc: str  # comment lines for the attribute docstring
    secret: bool


@frozen
class StructView:
    struct: Struct
    name: str
    base: str
    doc: str
    own_fields: tuple[FieldView, ...]
    fields: tuple[FieldView, ...]  # inherited first, as the wire object carries them all

    @property
    def required_count(self) -> int:
        return sum(not f.use.optional for f in self.fields)

    @property
    def has_optional(self) -> bool:
        return any(f.use.optional for f in self.fields)


@frozen
class MemberView:
    name: str
    value: str
    doc: str


@frozen
class EnumView:
    enum: Enum
    name: str
    doc: str
    members: tuple[MemberView, ...]


@frozen
class ParamView:
    param: Param
    name: str
    use: TypeUse


@frozen
class MethodView:
    function: Function
    name: str
    wire: str
    doc: str
    params: tuple[ParamView, ...]
    returns: TypeUse | None

    @property
    def result_annotation(self) -> str:
        return self.returns.annotation if self.returns else "None"

    @property
    def result_decoder(self) -> str:
        return self.returns.decoder if self.returns else "_json.ignore"


@frozen
class InterfaceView:
    interface: Interface
    name: str
    doc: str
    methods: tuple[MethodView, ...]


class Namer:
    """The Python names of one contract's types, and how each IDL type reference is spelled."""

    def __init__(self, contract: Contract) -> None:
        declared = list(contract.types())
        picked = naming.type_names([t.name for t in declared])
        self.by_element = {id(t): name for t, name in zip(declared, picked, strict=True)}
        self.kinds: dict[str, tuple[str, str]] = {}
        for t, name in zip(declared, picked, strict=True):
            if isinstance(t, (Struct, Enum)):
                # With duplicate declarations the first one is the one references mean.
                self.kinds.setdefault(t.name, ("struct" if isinstance(t, Struct) else "enum", name))
        self.reserved = naming.BUILTINS | naming.MODULE_NAMES | set(picked)

    def use(
        self, type_name: str, *, is_array: bool, optional: bool, closed: bool = False
    ) -> TypeUse:
        if type_name in _SCALARS:
            return TypeUse(type_name, _SCALARS[type_name][0], is_array, optional)
        kind, py = self.kinds[type_name]
        return TypeUse(kind, py, is_array, optional, closed)


@frozen
class Views:
    """What the templates render: the contract's types and interfaces with their Python names."""

    types: tuple[StructView | EnumView, ...]
    interfaces: tuple[InterfaceView, ...]


class GenerationError(ValueError):
    """A contract that cannot become Python code; `str()` is one problem per line."""


def views(contract: Contract) -> Views:
    """Raises `GenerationError` for unknown types and impossible `extends` (JSON sources skip
    the parser's checks)."""
    structs: dict[str, Struct] = {}
    for element in contract.types():
        if isinstance(element, Struct):
            structs.setdefault(element.name, element)  # with duplicates, references mean the first
    problems = _problems(contract, structs)
    if problems:
        raise GenerationError("\n".join(problems))
    namer = Namer(contract)
    types: list[StructView | EnumView] = []
    interfaces: list[InterfaceView] = []
    built: dict[int, StructView] = {}  # by id: a subclass reuses its parent's view
    for element in _parents_first(contract, structs):
        if isinstance(element, Struct):
            parent = structs.get(element.extends)
            base = built[id(parent)] if parent is not None else None
            built[id(element)] = _struct_view(element, base, namer)
            types.append(built[id(element)])
        elif isinstance(element, Enum):
            types.append(_enum_view(element, namer))
        else:
            interfaces.append(_interface_view(element, namer))
    return Views(tuple(types), tuple(interfaces))


def _problems(contract: Contract, structs: Mapping[str, Struct]) -> list[str]:
    """What Python cannot represent, one line each: the parser reports most of it for IDL
    sources, but JSON sources and its reference-compatible quirks (SPEC E7q) get here."""
    known = set(_SCALARS) | set(structs) | {e.name for e in contract.types() if isinstance(e, Enum)}
    problems = []
    for element in contract.types():
        problems += [message for message, _ in duplicate_members(element)]
        if isinstance(element, Struct):
            chain = _ancestry(element, structs)
            if element.extends and element.extends not in structs:
                problems.append(f"struct {element.name}: extends unknown struct {element.extends}")
            elif any(e is element for e in chain[:-1]):
                problems.append(f"struct {element.name}: its extends chain loops")
            else:
                problems += _redefined_fields(chain)
            uses = [(f"{element.name}.{f.name}", f.type) for f in element.fields]
        elif isinstance(element, Interface):
            uses = [
                (f"{element.name}.{function.name}({p.name})", p.type)
                for function in element.functions
                for p in function.params
            ]
            uses += [
                (f"{element.name}.{function.name}()", function.returns.type)
                for function in element.functions
                if function.returns is not None
            ]
        else:
            uses = []
        problems += [f"{where}: unknown type {name}" for where, name in uses if name not in known]
    return problems


def _redefined_fields(chain: list[Struct]) -> list[str]:
    """The last struct's fields that an ancestor in `chain` (root first) already has: a JSON
    object cannot carry the key twice, nor a class the attribute."""
    struct = chain[-1]
    owners = {f.name: s.name for s in chain[:-1] for f in s.fields}  # the nearest one wins
    return [
        f"struct {struct.name}: field {f.name} redefines a field of struct {owners[f.name]}"
        for f in struct.fields
        if f.name in owners
    ]


def _parents_first(contract: Contract, structs: Mapping[str, Struct]) -> list[Any]:
    """IDL order, except that a struct's parent moves before it (a class needs its base)."""
    ordered: list[Any] = []
    placed: set[int] = set()
    for element in contract.types():
        for e in _ancestry(element, structs) if isinstance(element, Struct) else [element]:
            if id(e) not in placed:
                placed.add(id(e))
                ordered.append(e)
    return ordered


def render_package(
    contract: Contract,
    *,
    source_name: str,
    barrister_version: str = REFERENCE_VERSION,
    date_generated: int = 0,
    require_ruff: bool = False,
) -> dict[str, str]:
    """The generated package: file name -> text. Same contract and options, same bytes.

    Raises `GenerationError` for a contract Python cannot represent, and for output that
    would not compile or format; see `format_python` for `require_ruff`.
    """
    seen = views(contract)
    context = {
        "header": header(source_name, contract.checksum()),
        "types": seen.types,
        "interfaces": seen.interfaces,
        "stub_imports": sorted(_stub_imports(seen.interfaces)),
        "stub_modules": _stub_modules(seen.interfaces),
        "has_enums": any(isinstance(t, EnumView) for t in seen.types),
        "has_structs": any(isinstance(t, StructView) for t in seen.types),
        "contract_chunks": chunks(
            contract.dumps(barrister_version=barrister_version, date_generated=date_generated)
        ),
    }
    files = {name: render(f"{name}.jinja", context) for name in PACKAGE_FILES}
    _compile(files)
    return format_python(files, require_ruff=require_ruff)


def header(source_name: str, checksum: str) -> str:
    """The comment heading every generated file; a long source name moves to lines of its own
    (a comment line holding one word is exempt from the line-length rule)."""
    name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in source_name)
    lines = wrap(f"Generated by codegen from {name}; do not edit.", 98, break_long_words=True)
    return "\n".join(f"# {line}" for line in [*lines, f"Contract checksum: {checksum}"])


def _struct_view(struct: Struct, base: StructView | None, namer: Namer) -> StructView:
    """The parent's fields keep their names; the struct's own fields take names the parent's
    do not use, so a subclass always accepts every keyword its base class does."""
    inherited = base.fields if base is not None else ()
    own = struct.fields
    attrs = naming.unique_names(
        [naming.snake_case(f.name) for f in own],
        naming.CLASS_BODY_NAMES | namer.reserved - naming.BUILTINS | {f.attr for f in inherited},
        natural=[naming.snake_case(f.name) == f.name for f in own],
    )
    taken_locals = {f.local for f in inherited}
    locals_ = naming.unique_names(
        attrs, naming.FUNCTION_LOCAL_NAMES | naming.BUILTINS | namer.reserved | taken_locals
    )
    own_views = tuple(
        _field_view(f, attr, local, namer)
        for f, attr, local in zip(own, attrs, locals_, strict=True)
    )
    lines = [struct.comment, ""] if struct.comment else []
    extends = f" extends {struct.extends}" if struct.extends else ""
    lines.append(f"IDL: ``struct {struct.name}{extends}``.")
    return StructView(
        struct=struct,
        name=namer.by_element[id(struct)],
        base=base.name if base is not None else "",
        doc="\n".join(lines),
        own_fields=own_views,
        fields=inherited + own_views,
    )


def _ancestry(struct: Struct, structs: Mapping[str, Struct]) -> list[Struct]:
    """The struct and its ancestors, root first; a loop ends the chain with a repeat."""
    chain = [struct]
    while chain[0].extends in structs and not any(chain[0] is s for s in chain[1:]):
        chain.insert(0, structs[chain[0].extends])
    return chain


def _field_view(field: Field, attr: str, local: str, namer: Namer) -> FieldView:
    notes = [field.comment] if field.comment else []
    if attr != field.name:
        notes.append(f"JSON key ``{field.name}``.")
    return FieldView(
        field=field,
        wire=field.name,
        attr=attr,
        local=local,
        use=namer.use(field.type, is_array=field.is_array, optional=field.optional),
        doc="\n\n".join(notes),
        secret=is_secret_name(field.name),
    )


def _enum_view(enum: Enum, namer: Namer) -> EnumView:
    bases = [naming.member_name(v.value) for v in enum.values]
    names = naming.unique_names(
        bases,
        naming.ENUM_BODY_NAMES,
        natural=[base == v.value for base, v in zip(bases, enum.values, strict=True)],
    )
    lines = [enum.comment, ""] if enum.comment else []
    lines.append(f"IDL: ``enum {enum.name}``.")
    members = tuple(
        MemberView(name=name, value=v.value, doc=v.comment)
        for name, v in zip(names, enum.values, strict=True)
    )
    return EnumView(
        enum=enum, name=namer.by_element[id(enum)], doc="\n".join(lines), members=members
    )


def _interface_view(interface: Interface, namer: Namer) -> InterfaceView:
    bases = [naming.snake_case(f.name) for f in interface.functions]
    names = naming.unique_names(
        bases,
        naming.STUB_BODY_NAMES | naming.CLIENT_NAMES | namer.reserved - naming.BUILTINS,
        natural=[base == f.name for base, f in zip(bases, interface.functions, strict=True)],
    )
    for function, base, name in zip(interface.functions, bases, names, strict=True):
        if base in naming.CLIENT_NAMES:
            warnings.warn(
                f"{interface.name}.{function.name}: generated as `{name}`, since `{base}` is a "
                "member of PirsonalClient, which subclasses the stubs",
                stacklevel=2,
            )
    methods = tuple(
        _method_view(interface, function, name, namer)
        for function, name in zip(interface.functions, names, strict=True)
    )
    lines = [interface.comment, ""] if interface.comment else []
    lines.append(f"IDL: ``interface {interface.name}``.")
    return InterfaceView(
        interface=interface,
        name=namer.by_element[id(interface)],
        doc="\n".join(lines),
        methods=methods,
    )


def _method_view(interface: Interface, function: Function, name: str, namer: Namer) -> MethodView:
    bases = [naming.snake_case(p.name) for p in function.params]
    param_names = naming.unique_names(
        bases,
        {"self"} | naming.BUILTINS | namer.reserved,
        natural=[base == p.name for base, p in zip(bases, function.params, strict=True)],
    )
    params = tuple(
        ParamView(
            param=p,
            name=param_name,
            use=namer.use(p.type, is_array=p.is_array, optional=False, closed=True),
        )
        for p, param_name in zip(function.params, param_names, strict=True)
    )
    returns = function.returns
    signature = ", ".join(f"{p.name} {'[]' if p.is_array else ''}{p.type}" for p in function.params)
    result = ""
    if returns is not None:
        result = f" {'[]' if returns.is_array else ''}{returns.type}"
        result += " [optional]" if returns.optional else ""
    lines = [function.comment, ""] if function.comment else []
    lines.append(f"Calls ``{interface.name}.{function.name}({signature}){result}``.")
    return MethodView(
        function=function,
        name=name,
        wire=f"{interface.name}.{function.name}",
        doc="\n".join(lines),
        params=params,
        returns=(
            namer.use(returns.type, is_array=returns.is_array, optional=returns.optional)
            if returns is not None
            else None
        ),
    )


def _stub_imports(interfaces: tuple[InterfaceView, ...]) -> set[str]:
    """The type classes the stubs mention (params and results)."""
    uses = [p.use for i in interfaces for m in i.methods for p in m.params]
    uses += [m.returns for i in interfaces for m in i.methods if m.returns is not None]
    names = {u.py for u in uses if u.kind in ("enum", "struct")}
    return names | {UNKNOWN_ENUM for u in uses if u.element != u.py}


def _stub_modules(interfaces: tuple[InterfaceView, ...]) -> set[str]:
    """What the stubs use of `Awaitable` and `_json`: a contract may give them nothing to do."""
    methods = [m for i in interfaces for m in i.methods]
    code = [m.result_decoder for m in methods]
    code += [p.use.encode_argument(p.name, m.wire, p.param.name) for m in methods for p in m.params]
    used = {"Awaitable"} if methods else set()
    return used | {"_json"} if any("_json." in line for line in code) else used


_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(template: str, context: Mapping[str, Any]) -> str:
    return _TEMPLATES.get_template(template).render(context)


_TEMPLATES.filters["docstring"] = docstring
_TEMPLATES.filters["prose"] = prose
_TEMPLATES.filters["literal"] = literal


class RuffMissing(GenerationError):
    """Ruff, which formats the generated code, is not installed."""


def format_python(files: Mapping[str, str], *, require_ruff: bool = False) -> dict[str, str]:
    """Sort imports and format with ruff (line length 100, py310), as the project lints them.

    Ruff is a dev dependency: without it the code is returned unformatted, with a warning,
    or `RuffMissing` is raised when `require_ruff` (committed outputs must stay formatted).
    A ruff failure raises `GenerationError` with ruff's own message.
    """
    settings = ["--isolated", "--line-length", "100", "--target-version", "py310", "--quiet"]
    ruff = _ruff_command()
    with tempfile.TemporaryDirectory() as tmp:
        # A subdirectory, so that a generated `types.py` never shadows the stdlib for ruff.
        root = Path(tmp) / "package"
        root.mkdir()
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        try:
            if ruff is None:
                raise FileNotFoundError("no module named ruff")
            for command in (
                ["check", "--select", "I,RUF022", "--fix-only", "--exit-zero"],
                ["format"],
            ):
                _run(ruff, command, settings, tmp)
            formatted = {name: (root / name).read_text(encoding="utf-8") for name in files}
            if all(text.isascii() for text in formatted.values()):
                return formatted
            report = _run(ruff, [*_AMBIGUITY_CHECK, "--exit-zero"], settings, tmp)
        except FileNotFoundError as exc:
            missing = f"ruff is not installed ({exc}): install the `codegen` extra"
            if require_ruff:
                raise RuffMissing(missing) from None
            warnings.warn(f"{missing}; generated code left unformatted", stacklevel=2)
            return dict(files)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip() or f"exit status {exc.returncode}"
            raise GenerationError(f"ruff failed on the generated code: {detail}") from None
    return _exempt_ambiguity(formatted, json.loads(report or "[]"))


# IDL comments are copied verbatim, and ruff's confusable-character rules (RUF001-RUF003) would
# flag letters of many languages: each file that has some says so in a `ruff: noqa` line.
_AMBIGUITY_CHECK = ["check", "--select", "RUF001,RUF002,RUF003", "--output-format", "json"]


def _exempt_ambiguity(files: dict[str, str], findings: list[dict[str, Any]]) -> dict[str, str]:
    codes: dict[str, set[str]] = {}
    for finding in findings:
        codes.setdefault(Path(finding["filename"]).name, set()).add(finding["code"])
    exempted = dict(files)
    for name, found in codes.items():
        lines = files[name].splitlines(keepends=True)
        after_header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
        lines.insert(after_header, f"# ruff: noqa: {', '.join(sorted(found))}\n")
        exempted[name] = "".join(lines)
    return exempted


def _run(ruff: list[str], command: list[str], settings: list[str], cwd: str) -> str:
    """Ruff's output for `command` on the package in `cwd`; CalledProcessError if it fails."""
    done = subprocess.run(
        [*ruff, *command, *settings, "package"],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _ruff_command() -> list[str] | None:
    """How to run ruff (the one installed with this interpreter), or None when it is missing."""
    return [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else None


def _compile(files: Mapping[str, str]) -> None:
    """Rendered code that is not Python is a generator bug: fail instead of writing it."""
    for name, text in files.items():
        try:
            compile(text, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise GenerationError(f"{name}: generated code does not compile: {exc}") from None
