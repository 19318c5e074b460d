"""Python names for IDL names: snake_case members, class names for dotted types, escaping."""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Sequence

# Names the generated modules import or define at module level; a type must not hide them.
MODULE_NAMES = frozenset(
    {"annotations", "Any", "Awaitable", "Caller", "CONTRACT", "DecodeError", "Final", "json"}
    | {"attrs", "enum", "_json", "UnknownEnumValue"}
)
# Parameters and locals of the generated functions (`from_json`, `to_json`, the stubs' list
# comprehensions); a type named like one would be shadowed there, and a field's local must differ.
FUNCTION_LOCAL_NAMES = frozenset(
    {"cls", "data", "exc", "extra", "item", "known", "out", "path", "self", "strict"}
)
# The builtins of Python 3.10-3.13 and the names `site` adds, written out so that generated
# names never depend on the interpreter (its version, or IPython's additions).
BUILTINS = frozenset(
    """
    ArithmeticError AssertionError AttributeError BaseException BaseExceptionGroup
    BlockingIOError BrokenPipeError BufferError BytesWarning ChildProcessError
    ConnectionAbortedError ConnectionError ConnectionRefusedError ConnectionResetError
    DeprecationWarning EOFError Ellipsis EncodingWarning EnvironmentError Exception
    ExceptionGroup False FileExistsError FileNotFoundError FloatingPointError FutureWarning
    GeneratorExit IOError ImportError ImportWarning IndentationError IndexError InterruptedError
    IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError ModuleNotFoundError
    NameError None NotADirectoryError NotImplemented NotImplementedError OSError OverflowError
    PendingDeprecationWarning PermissionError ProcessLookupError PythonFinalizationError
    RecursionError ReferenceError ResourceWarning RuntimeError RuntimeWarning StopAsyncIteration
    StopIteration SyntaxError SyntaxWarning SystemError SystemExit TabError TimeoutError True
    TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError UnicodeError
    UnicodeTranslateError UnicodeWarning UserWarning ValueError Warning ZeroDivisionError abs
    aiter all anext any ascii bin bool breakpoint bytearray bytes callable chr classmethod
    compile complex copyright credits delattr dict dir divmod enumerate eval exec exit filter
    float format frozenset getattr globals hasattr hash help hex id input int isinstance
    issubclass iter len license list locals map max memoryview min next object oct open ord pow
    print property quit range repr reversed round set setattr slice sorted staticmethod str sum
    super tuple type vars zip
    """.split()  # noqa: SIM905 (a word list: 20 lines rather than 150)
)
# Names a generated attrs class body refers to (decorators, annotations, defaults) or defines.
CLASS_BODY_NAMES = frozenset(
    {"str", "int", "float", "bool", "list", "dict", "object", "classmethod", "Any", "attrs"}
    | {"_json", "self", "extra", "from_json", "to_json"}
)
# Names a stub class body refers to or defines.
STUB_BODY_NAMES = frozenset(
    {"str", "int", "float", "bool", "list", "Awaitable", "Caller", "_json", "_caller", "self"}
)
# The public members of pirsonal_async's `PirsonalClient`, which subclasses the generated stub:
# a function named like one would replace it (or be hidden by it). tests/test_reserved_names.py
# fails when the client gains a public member that is not listed here.
CLIENT_NAMES = frozenset(
    {"aclose", "batch", "campaign", "for_template", "http_client", "is_template_scoped", "rpc"}
    | {"upload_media", "wait_for_video", "waiters", "webhook_waiter", "with_options"}
)
ENUM_BODY_NAMES = frozenset({"name", "value", "mro"})
# Names that read like digits (pycodestyle E741-E743, which the project's ruff rules include).
AMBIGUOUS = frozenset({"l", "O", "I"})

_ACRONYM_END = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_HUMP = re.compile(r"([a-z0-9])([A-Z])")
_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]")


def snake_case(name: str) -> str:
    """`inputMedias` -> `input_medias`; `Template_Video_New` -> `template_video_new`."""
    spaced = _CAMEL_HUMP.sub(r"\1_\2", _ACRONYM_END.sub(r"\1_\2", _NOT_IDENT.sub("_", name)))
    return "_".join(word for word in spaced.lower().split("_") if word) or "unnamed"


def class_name(name: str) -> str:
    """`inc.Status` -> `IncStatus`; undotted names stay as they are (when they are identifiers)."""
    parts = [_NOT_IDENT.sub("_", part) for part in name.split(".")]
    if len(parts) > 1:
        parts = [part[:1].upper() + part[1:] for part in parts]
    joined = "".join(parts) or "Unnamed"
    return f"T{joined}" if joined[0].isdigit() else joined


def member_name(value: str) -> str:
    """An enum member name for a wire value: non-identifier characters become `_`."""
    name = _NOT_IDENT.sub("_", value)
    # Leading underscores would make sunder/private names, which Enum treats specially.
    return f"v{name}" if not name or name[0].isdigit() or name[0] == "_" else name


def unique_names(
    bases: Sequence[str], reserved: Collection[str], *, natural: Sequence[bool] | None = None
) -> list[str]:
    """Escape each base with trailing underscores until it is neither reserved nor already taken.

    Keywords and `AMBIGUOUS` names are always reserved. Bases that are the IDL name unchanged
    (`natural`) and need no escaping pick first, so they never lose their name to an escaped
    one; otherwise input order decides, which keeps the result deterministic.
    """
    natural = natural if natural is not None else [True] * len(bases)
    fits = [natural[i] and not _unusable(base, reserved) for i, base in enumerate(bases)]
    order = sorted(range(len(bases)), key=lambda i: not fits[i])
    taken: set[str] = set()
    names = [""] * len(bases)
    for index in order:
        name = bases[index]
        while name in taken or _unusable(name, reserved):
            name += "_"
        taken.add(name)
        names[index] = name
    return names


def _unusable(name: str, reserved: Collection[str]) -> bool:
    return name in reserved or name in AMBIGUOUS or keyword.iskeyword(name)


def type_names(wire_names: Sequence[str]) -> list[str]:
    """Python class names for the contract's types and interfaces, unique and order-independent."""
    bases = [class_name(name) for name in wire_names]
    natural = [base == name for base, name in zip(bases, wire_names, strict=True)]
    # Sort by wire name so adding or moving an unrelated type never renames this one.
    order = sorted(range(len(bases)), key=lambda i: (not natural[i], wire_names[i], i))
    picked = unique_names(
        [bases[i] for i in order],
        BUILTINS | MODULE_NAMES | FUNCTION_LOCAL_NAMES,
        natural=[natural[i] for i in order],
    )
    names = [""] * len(bases)
    for position, index in enumerate(order):
        names[index] = picked[position]
    return names
