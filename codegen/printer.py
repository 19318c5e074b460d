"""Writes a contract back as Barrister IDL text that parses to the same contract."""

from __future__ import annotations

from .model import Comment, Contract, Element, Enum, Function, Struct

INDENT = "    "


def print_idl(contract: Contract) -> str:
    """One IDL file without a namespace: qualified names such as `inc.Status` stay as written.

    Comments must be representable (SPEC §1.9): no leading empty line and, for a comment
    element, not empty. Every element ends with a blank line, which is also what turns a
    pending comment into a comment element of its own.
    """
    return "".join(_element(e) + "\n" for e in contract.elements)


def _element(element: Element) -> str:
    if isinstance(element, Comment):
        return _comment(element.value, "")
    if isinstance(element, Struct):
        extends = f" extends {element.extends}" if element.extends else ""
        body = [
            _comment(f.comment, INDENT)
            + f"{INDENT}{f.name} {_type(f.type, f.is_array)}{_optional(f.optional)}\n"
            for f in element.fields
        ]
        return _block(element.comment, f"struct {element.name}{extends}", body)
    if isinstance(element, Enum):
        body = [_comment(v.comment, INDENT) + f"{INDENT}{v.value}\n" for v in element.values]
        return _block(element.comment, f"enum {element.name}", body)
    body = [_comment(f.comment, INDENT) + _function(f) for f in element.functions]  # interface
    return _block(element.comment, f"interface {element.name}", body)


def _block(comment: str, head: str, body: list[str]) -> str:
    return _comment(comment, "") + f"{head} {{\n" + "".join(body) + "}\n"


def _function(function: Function) -> str:
    params = ", ".join(f"{p.name} {_type(p.type, p.is_array)}" for p in function.params)
    line = f"{INDENT}{function.name}({params})"
    if function.returns is not None:  # otherwise the newline after `)` makes it a notification
        r = function.returns
        line += f" {_type(r.type, r.is_array)}{_optional(r.optional)}"
    return line + "\n"


def _type(name: str, is_array: bool) -> str:
    return f"[]{name}" if is_array else name


def _optional(optional: bool) -> str:
    return " [optional]" if optional else ""


def _comment(text: str, indent: str) -> str:
    if not text:
        return ""
    # `//` alone stands for an empty line; `// ` is stripped once, so a leading space survives.
    return "".join(f"{indent}// {line}\n" if line else f"{indent}//\n" for line in text.split("\n"))
