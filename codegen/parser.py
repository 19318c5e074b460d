"""Parses Barrister IDL text into a contract, as the reference tool does (SPEC §1, §2)."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attrs import evolve, frozen
from lark import Lark, Token, Tree
from lark.common import LexerConf
from lark.lexer import Lexer, LexerState

from .checks import Declaration, ImportLine, Item, NamespaceLine, Outline, TypeRef
from .diagnostics import Diagnostic
from .imports import Loader, SourceText, read_idl
from .model import (
    BUILTINS,
    Comment,
    Contract,
    Enum,
    EnumValue,
    Field,
    Function,
    Interface,
    Param,
    Pos,
    Returns,
    Struct,
    UserType,
)


def parse_file(path: str | os.PathLike[str]) -> Contract:
    """The contract of an IDL file and its imports; raises `IdlError` listing every problem."""
    file = os.fspath(path)
    source = SourceText(read_idl(file), file, os.path.abspath(file), os.path.dirname(file))
    return Loader(read_outline).load(source)


def parse_text(text: str, filename: str = "<stdin>", *, base_dir: Path | None = None) -> Contract:
    """Like `parse_file` for text in hand; imports are looked up beside it only with `base_dir`."""
    if base_dir is None:
        source = SourceText(text, filename, filename, None)
    else:
        key = os.path.abspath(os.path.join(base_dir, filename))
        source = SourceText(text, filename, key, os.fspath(base_dir))
    return Loader(read_outline).load(source)


def read_outline(text: str, file: str) -> Outline:
    """What one file declares, in order; never raises: a syntax error ends the outline."""
    # Universal newlines, as the reference CLI reads files (SPEC §1.1).
    scan = _Scan(text.replace("\r\n", "\n").replace("\r", "\n"), file)
    tree = _parser().parse(scan)  # lark hands `scan` to _Scanner as is
    builder = _OutlineBuilder(file)
    items, stopped_inside = builder.build(tree)
    stop = scan.stop
    if stop is None and stopped_inside:
        stop = Diagnostic(file, scan.line, scan.col, "Unexpected end of file")
    return Outline(items=items, stop=stop)


@functools.cache
def _parser() -> Lark:
    grammar = Path(__file__).with_name("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer=_Scanner)


# --- scanning -----------------------------------------------------------------------------


class _Scan:
    """One text being scanned: where the scanner is, and why it stopped early, if it did."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.stop: Diagnostic | None = None

    @property
    def col(self) -> int:
        return self.pos - self.line_start + 1

    def advance(self, end: int) -> None:
        newlines = self.text.count("\n", self.pos, end)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.pos, end) + 1
        self.pos = end

    def token(self, kind: str, end: int) -> Token:
        return Token(kind, self.text[self.pos : end], self.pos, self.line, self.col)

    def fail(self, message: str) -> None:
        self.stop = Diagnostic(self.file, self.line, self.col, message)


# Characters that the reference maps to a message in the lexer state where the terminal on the
# left is accepted (SPEC §1.4, F1); None: any character that no terminal or blank matches.
_SCAN_ERRORS: dict[str, tuple[str | None, str]] = {
    "TYPE_NAME": (None, "Missing identifier"),
    "EOL": (None, "Illegal character - expected end of line"),
    "FIELD_NAME": ("{", "invalid"),
    "VALUE": ("{", "invalid"),
    "FUNC_NAME": ("{", "invalid"),
    "FIELD_TYPE": ("\n{}", "invalid"),
    "TYPE_OPTS": ("{", "invalid"),
    "LPAR": ("\n", "invalid"),
}

# What a terminal looks like to someone reading a syntax error.
_EXPECTED = {
    "STRUCT": "'struct '",
    "ENUM": "'enum '",
    "INTERFACE": "'interface '",
    "NAMESPACE": "'namespace NAME'",
    "IMPORT": "'import \"FILE\"'",
    "EXTENDS": "'extends'",
    "TYPE_NAME": "a type name",
    "PARENT": "a struct name",
    "FIELD_NAME": "a field name",
    "VALUE": "an enum value",
    "FUNC_NAME": "a function name",
    "PARAM_NAME": "a parameter name",
    "FIELD_TYPE": "a type",
    "PARAM_TYPE": "a type",
    "RETURN_TYPE": "a return type",
    "TYPE_OPTS": "'[optional]'",
    "COMMENT": "a '//' comment",
    "NL": "end of line",
    "EOL": "end of line",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
}

# Tokens that close what is open soonest, to finish the parse of a text that stopped early.
_FILL_ORDER = ("RBRACE", "RPAR", "NL", "EOL", "LBRACE", "LPAR")


@frozen
class _StateRule:
    """How the scanner behaves in one parser state."""

    terminals: tuple[tuple[str, re.Pattern[str]], ...]
    error_chars: str  # each of these is the F1 error "invalid"
    any_char_message: str | None  # F1 for any other character no terminal matches
    expected: str
    fill: str | None  # the token that finishes the parse soonest; None when it may end here


class _Scanner(Lexer):
    """Offers the parser only the terminals its state accepts, longest match first.

    That is how the reference's Plex lexer behaves in its states (SPEC §1.2): blanks are
    skipped unless the state accepts a newline token, and a few characters are errors of
    their own (F1). Scanning stops at the first error; then, and at an end of file that
    leaves a declaration open, fill-in tokens with empty text complete the parse so that
    everything read before the stop still reaches the checks.
    """

    __future_interface__ = 2

    def __init__(self, conf: LexerConf) -> None:
        self._patterns = {t.name: re.compile(t.pattern.to_regexp()) for t in conf.terminals}
        self._rules: dict[Any, _StateRule] = {}

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        scan: _Scan = lexer_state.text  # type: ignore[assignment]
        text = scan.text
        while scan.pos < len(text):
            rule = self._rule(parser_state)
            kind, end = self._longest_match(rule, text, scan.pos)
            if kind:
                token = scan.token(kind, end)
                if kind == "TYPE_OPTS" and token[1:-1] not in ("", "optional"):
                    scan.fail(f"Invalid type option: {token} (only [optional] is allowed)")
                    break
                yield token
                scan.advance(end)
                continue
            char = text[scan.pos]
            if char in rule.error_chars:
                scan.fail("invalid")
                break
            if char in " \t\n":
                scan.advance(scan.pos + 1)
                continue
            if rule.any_char_message:
                scan.fail(rule.any_char_message)
            else:
                what = "byte order mark (U+FEFF)" if char == "\ufeff" else repr(char)
                scan.fail(f"unexpected {what}; expected {rule.expected}")
            break
        while fill := self._rule(parser_state).fill:
            yield Token(fill, "", scan.pos, scan.line, scan.col)

    def _longest_match(self, rule: _StateRule, text: str, pos: int) -> tuple[str, int]:
        best, best_end = "", pos
        for kind, pattern in rule.terminals:
            match = pattern.match(text, pos)
            if match and match.end() > best_end:
                best, best_end = kind, match.end()
        return best, best_end

    def _rule(self, parser_state: Any) -> _StateRule:
        state = parser_state.position
        rule = self._rules.get(state)
        if rule is None:
            actions = parser_state.parse_conf.states[state]  # also holds rule names
            accepted = [t for t in actions if t in self._patterns or t == "$END"]
            rule = self._rules[state] = self._make_rule(accepted)
        return rule

    def _make_rule(self, accepted: list[str]) -> _StateRule:
        errors = [_SCAN_ERRORS[t] for t in accepted if t in _SCAN_ERRORS]
        fills = sorted(
            (t for t in accepted if t != "COMMENT"),
            key=lambda t: _FILL_ORDER.index(t) if t in _FILL_ORDER else len(_FILL_ORDER),
        )
        return _StateRule(
            terminals=tuple((t, self._patterns[t]) for t in accepted if t in self._patterns),
            error_chars="".join(chars for chars, _ in errors if chars),
            any_char_message=next((m for chars, m in errors if chars is None), None),
            expected=_one_of(sorted({_EXPECTED[t] for t in accepted if t != "$END"})),
            fill=None if "$END" in accepted else fills[0],
        )


def _one_of(choices: list[str]) -> str:
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]


# --- from parse tree to outline -----------------------------------------------------------


class _Cut(Exception):
    """Raised at the first fill-in token: the text stopped there."""


def _tokens(tree: Tree[Token]) -> list[Token]:
    return [child for child in tree.children if isinstance(child, Token)]


def _real(token: Token) -> Token:
    if not token:
        raise _Cut
    return token


class _PendingComment:
    """Comment lines read since the last consumer, joined as the reference does (SPEC §1.9)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pos: Pos | None = None

    def add(self, token: Token, pos: Pos) -> None:
        text = token[2:].removesuffix("\n")
        text = text.removeprefix(" ")  # `// ` is the longer comment start, so it wins
        if self._parts:
            self._parts += ["\n", text]
        elif text:  # empty lines before the first text are dropped
            self._parts = [text]
            self._pos = pos

    def take(self) -> str:
        text = "".join(self._parts)
        self._parts = []
        return text

    def flush(self) -> Comment | None:
        """A newline at top level makes what is pending a comment element of its own."""
        pos = self._pos
        text = self.take()
        return Comment(value=text, pos=pos) if text else None


class _Draft:
    """The declaration being read."""

    def __init__(self, element: UserType, written_name: str) -> None:
        self.element = element
        self.written_name = written_name
        self.parents: list[TypeRef] = []
        self.body: Pos | None = None
        self.fields: list[Field] = []
        self.values: list[EnumValue] = []
        self.functions: list[Function] = []
        self.uses: list[TypeRef] = []
        self.end: Pos | None = None

    def declaration(self) -> Declaration:
        element = self.element
        if isinstance(element, Struct):
            parent = self.parents[-1].name if self.parents else ""
            element = evolve(element, extends=parent, fields=tuple(self.fields))
        elif isinstance(element, Enum):
            element = evolve(element, values=tuple(self.values))
        else:
            element = evolve(element, functions=tuple(self.functions))
        return Declaration(
            element=element,
            written_name=self.written_name,
            parents=tuple(self.parents),
            body=self.body,
            uses=tuple(self.uses),
            end=self.end,
        )


class _OutlineBuilder:
    """Walks the parse tree in text order, doing what the reference does at each token."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Item] = []
        self.namespace = ""
        self.comment = _PendingComment()
        self.draft: _Draft | None = None

    def build(self, tree: Tree[Token]) -> tuple[tuple[Item, ...], bool]:
        """The items read, and whether the text stopped inside a declaration."""
        try:
            for child in tree.children:
                self.item(child)
        except _Cut:
            if self.draft is not None:
                self.items.append(self.draft.declaration())
                return tuple(self.items), True
        return tuple(self.items), False

    def pos(self, token: Token) -> Pos:
        return Pos(self.file, token.line or 0, token.column or 0)

    def prefix(self, name: str) -> str:
        if self.namespace and "." not in name and name not in BUILTINS:
            return f"{self.namespace}.{name}"
        return name

    def type_of(self, token: Token) -> tuple[str, bool]:
        """The type a type token names, namespace applied, and whether it is an array."""
        is_array = token.startswith("[]")
        return self.prefix(token[2:] if is_array else str(token)), is_array

    def item(self, child: Tree[Token] | Token) -> None:
        if isinstance(child, Tree):
            if child.data in ("namespace", "import"):
                self.line_statement(child)
            else:
                self.declaration(child)
        elif child.type == "COMMENT":
            self.comment.add(child, self.pos(child))
        elif comment := self.comment.flush():  # NL
            self.items.append(comment)

    def line_statement(self, tree: Tree[Token]) -> None:
        keyword, eol = _tokens(tree)
        if tree.data == "namespace":
            # It takes effect even when it is misplaced (SPEC §1.10).
            self.namespace = keyword.removeprefix("namespace").lstrip(" \t")
            self.items.append(NamespaceLine(name=self.namespace, pos=self.pos(keyword)))
        else:
            path = keyword[keyword.index('"') + 1 : -1]
            self.items.append(ImportLine(path=path, pos=self.pos(keyword)))
        _real(eol)

    def declaration(self, tree: Tree[Token]) -> None:
        _keyword, name_token, *rest = tree.children
        assert isinstance(name_token, Token)
        written = str(_real(name_token))
        pos = self.pos(name_token)
        comment = self.comment.take()
        element: UserType
        if tree.data == "struct":
            element = Struct(name=self.prefix(written), comment=comment, pos=pos)
        elif tree.data == "enum":
            element = Enum(name=self.prefix(written), comment=comment, pos=pos)
        else:  # interface names never take the namespace
            element = Interface(name=written, comment=comment, pos=pos)
        draft = self.draft = _Draft(element, written)
        for child in rest:
            if isinstance(child, Tree):
                self.member(child, draft)
            elif child.type == "COMMENT":
                self.comment.add(child, self.pos(child))
            elif child.type == "VALUE":
                value = EnumValue(
                    value=str(child), comment=self.comment.take(), pos=self.pos(child)
                )
                draft.values.append(value)
            elif child.type == "LBRACE":
                draft.body = self.pos(_real(child))
            else:
                draft.end = self.pos(_real(child))
        self.items.append(draft.declaration())
        self.draft = None

    def member(self, tree: Tree[Token], draft: _Draft) -> None:
        tokens = _tokens(tree)
        if tree.data == "extends":
            for token in tokens[1:]:
                draft.parents.append(
                    TypeRef(name=self.prefix(str(_real(token))), pos=self.pos(token))
                )
        elif tree.data in ("field", "last_field"):
            self.field(tokens, draft)
        else:
            self.function(tree, draft)

    def field(self, tokens: list[Token], draft: _Draft) -> None:
        name_token, type_token, *after = tokens
        type_name, is_array = self.type_of(_real(type_token))
        field = Field(
            name=str(name_token),
            type=type_name,
            is_array=is_array,
            comment=self.comment.take(),  # taken at the type, not the name (SPEC §1.8)
            pos=self.pos(name_token),
        )
        draft.uses.append(TypeRef(name=type_name, pos=self.pos(type_token), field=field))
        for token in after:  # `[optional]`, `[]` or a newline
            if _real(token) == "[optional]":
                field = evolve(field, optional=True)
        draft.fields.append(field)

    def function(self, tree: Tree[Token], draft: _Draft) -> None:
        name_token = tree.children[0]
        assert isinstance(name_token, Token)
        comment = self.comment.take()
        params: list[Param] = []
        returns: Returns | None = None
        for child in tree.children[1:]:
            if isinstance(child, Tree):
                param_name, param_type = _tokens(child)
                type_name, is_array = self.type_of(_real(param_type))
                draft.uses.append(TypeRef(name=type_name, pos=self.pos(param_type)))
                pos = self.pos(param_name)
                params.append(
                    Param(name=str(param_name), type=type_name, is_array=is_array, pos=pos)
                )
            elif child.type == "RETURN_TYPE":
                type_name, is_array = self.type_of(_real(child))
                returns = Returns(type=type_name, is_array=is_array, pos=self.pos(child))
                draft.uses.append(TypeRef(name=type_name, pos=self.pos(child)))
            elif _real(child) == "[optional]" and returns is not None:  # or `(`, `,`, `)`, NL
                returns = evolve(returns, optional=True)
        function = Function(
            name=str(name_token),
            comment=comment,
            params=tuple(params),
            returns=returns,  # None: a newline right after `)`, a notification
            pos=self.pos(name_token),
        )
        draft.functions.append(function)
