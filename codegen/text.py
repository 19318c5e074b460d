"""Text as the generated code spells it: docstrings, literals and comments within 100 columns."""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata


def docstring(text: str, indent: int) -> str:
    """A docstring literal for `text` at `indent` columns; long lines wrapped to fit 100 columns
    (a word longer than a line stays whole: the line-length rule exempts a line of one word)."""
    lines = _doc_lines(text, 96 - indent)
    if len(lines) == 1:
        one_line = f'"""{_escape_final_quote(lines[0])}"""'
        if indent + _columns(one_line) <= 100:
            return one_line
        lines = _doc_lines(text, 94 - indent)  # too long with both sets of quotes: two lines
        if len(lines) == 1:  # one long word
            return one_line
    pad = " " * indent
    body = "\n".join(f"{pad}{line}" if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{body}\n{pad}"""'


def _doc_lines(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for line in _escape_doc(text).strip("\n").splitlines():
        line = line.rstrip()
        lead = line[: len(line) - len(line.lstrip())]
        lines.extend(wrap(line, width, lead=lead) or [""])
    return lines


def wrap(text: str, width: int, *, lead: str = "", break_long_words: bool = False) -> list[str]:
    """`textwrap.wrap` to `width` columns as ruff counts them: a wide character takes two."""
    for chars in range(width, 0, -1):  # one pass unless wide characters make lines too wide
        lines = textwrap.wrap(
            text,
            chars,
            subsequent_indent=lead,
            break_long_words=break_long_words,
            break_on_hyphens=False,
        )
        # A line of one word is exempt from the rule, unless long words are to be broken.
        one_word_ok = not break_long_words
        if all(
            _columns(line) <= width or (one_word_ok and len(line.split()) == 1) for line in lines
        ):
            break
    return lines


def _columns(text: str) -> int:
    """The display width of `text` (an upper bound of what ruff's line-length rule counts)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _escape_final_quote(line: str) -> str:
    """A quote right before the closing quotes would end the literal early, unless escaped:
    preceded by an odd number of backslashes (an even number only escape each other)."""
    if not line.endswith('"'):
        return line
    backslashes = len(line[:-1]) - len(line[:-1].rstrip("\\"))
    return line if backslashes % 2 else line[:-1] + '\\"'


def _escape_doc(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return "".join(c if c in "\n\t" or c.isprintable() else repr(c)[1:-1] for c in text)


def literal(text: str) -> str:
    """A Python string literal for any text (JSON string syntax is valid Python)."""
    return json.dumps(text, ensure_ascii=False)


def prose(text: str) -> str:
    """Comment text for Markdown: trailing spaces would turn into hard line breaks."""
    return "\n".join(line.rstrip() for line in text.splitlines())


def chunks(text: str, width: int = 88) -> list[str]:
    """String literals whose concatenation is `text`, broken after `, ` where possible.

    `width` bounds each literal as written (quotes and escapes included), so lines stay short.
    """
    lines: list[str] = []
    current, cost = "", 2

    def add(part: str, part_cost: int) -> None:
        nonlocal current, cost
        if current and cost + part_cost > width:
            lines.append(current)
            current, cost = "", 2
        current += part
        cost += part_cost

    for piece in re.split(r"(?<=, )", text):
        piece_cost = len(literal(piece)) - 2
        if piece_cost + 2 <= width:
            add(piece, piece_cost)
        else:  # longer than a line on its own: split anywhere
            for char in piece:
                add(char, len(literal(char)) - 2)
    lines.append(current)
    return [literal(line) for line in lines]
