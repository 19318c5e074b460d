"""Reading and checking a campaign's recipients: every row is checked before anything is sent.

A file (CSV with a header row, or JSON Lines: one object per line) has the columns `key`
(required, unique: the row's identity, stored in the video's `data`), `name` (required),
optionally `description`, `email`, `first_name`, `last_name`, `keywords`, and one column per
template input, `input:<inputID>:<type>` with `type` a `MediaType` value. An input's value is
the text (for `text`), an http(s) URL, a local file (a path, relative to the recipients file),
or otherwise a media ID. An empty input cell gives that input nothing.

A problem with the file as a whole (no `key` column, an unknown column) raises
`RecipientsFileError`; a problem with one row becomes a `RowProblem` naming its line, and the
other rows go on.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal

from attrs import frozen

from pirsonal_async.errors import PirsonalAsyncError
from pirsonal_async.generated.types import InputMedia, MediaType, Video

__all__ = [
    "InputValue",
    "Recipient",
    "Recipients",
    "RecipientsFileError",
    "RowProblem",
    "check_rows",
    "read_recipients",
]

# The optional columns: each fills the Video field of the same name.
FIELDS = ("description", "email", "first_name", "last_name", "keywords")
REQUIRED = ("key", "name")
INPUT_PREFIX = "input:"
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL = re.compile(r"https?://\S+")


class RecipientsFileError(PirsonalAsyncError):
    """The recipients file cannot be used at all (unreadable, bad header); nothing was sent."""


@frozen
class RowProblem:
    """A row that is not sent: its line in the file, its key if it had one, and why."""

    line: int
    key: str | None
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@frozen
class InputValue:
    """One template input's value: `source` says how `value` reaches Pirsonal."""

    input_id: str
    type: MediaType
    source: Literal["text", "http", "file", "media"]
    value: str  # the text, URL, resolved file path or media ID

    def to_input_media(self, media_ids: Mapping[str, str]) -> InputMedia:
        """The `InputMedia`; a file's uploaded media ID comes from `media_ids` by its path."""
        if self.source == "text":
            return InputMedia(input_id=self.input_id, type=self.type, text=self.value)
        if self.source == "http":
            return InputMedia(input_id=self.input_id, type=self.type, http=self.value)
        media_id = media_ids[self.value] if self.source == "file" else self.value
        return InputMedia(input_id=self.input_id, type=self.type, sezion_id=media_id)


@frozen
class Recipient:
    """A checked row: everything needed to create its video."""

    line: int
    key: str
    name: str
    inputs: tuple[InputValue, ...]
    description: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    keywords: str | None = None

    @property
    def files(self) -> set[str]:
        return {value.value for value in self.inputs if value.source == "file"}

    def to_video(self, media_ids: Mapping[str, str]) -> Video:
        """The `Template_Video_New` argument; the key goes into `data`."""
        medias = [value.to_input_media(media_ids) for value in self.inputs]
        return Video(
            name=self.name,
            data=self.key,
            input_medias=medias or None,
            description=self.description,
            email=self.email,
            first_name=self.first_name,
            last_name=self.last_name,
            keywords=self.keywords,
        )


@frozen
class Recipients:
    """A checked file: the rows to send, and the rows that will not be."""

    rows: tuple[Recipient, ...]
    problems: tuple[RowProblem, ...]


@frozen
class _Column:
    name: str
    input_id: str | None = None
    type: MediaType | None = None


def read_recipients(path: str | Path) -> Recipients:
    """Reads and checks a CSV or JSON Lines (`.jsonl`, `.ndjson`) file of recipients."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            records = list(_json_lines(file) if path.suffix in JSON_LINES_SUFFIXES else _csv(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RecipientsFileError(f"cannot read {path}: {error}") from None
    return check_rows(records, base_dir=path.parent)


def check_rows(
    records: Iterable[tuple[int, Mapping[str, object] | str]], *, base_dir: Path = Path()
) -> Recipients:
    """Checks `(line, record)` pairs; a record is a column -> value mapping, or a string saying
    why the line could not be read. Relative file paths are resolved against `base_dir`.

    The first record's columns are the header: every record is checked against them.
    """
    rows: list[Recipient] = []
    problems: list[RowProblem] = []
    columns: list[_Column] | None = None
    first_line: dict[str, int] = {}
    for line, record in records:
        if isinstance(record, str):
            problems.append(RowProblem(line, None, record))
            continue
        if columns is None:
            columns = _parse_header(record)
        checked = _check_record(line, record, columns, base_dir)
        if isinstance(checked, Recipient) and checked.key in first_line:
            reason = f"duplicate key {checked.key!r} (first on line {first_line[checked.key]})"
            checked = RowProblem(line, checked.key, reason)
        if isinstance(checked, Recipient):
            first_line[checked.key] = line
            rows.append(checked)
        else:
            problems.append(checked)
    return Recipients(tuple(rows), tuple(problems))


def _parse_header(names: Iterable[str]) -> list[_Column]:
    names = list(names)
    columns = []
    problems = []
    for name in names:
        if name in REQUIRED or name in FIELDS:
            columns.append(_Column(name))
        elif name.startswith(INPUT_PREFIX):
            column = _input_column(name)
            if column is None:
                types = "/".join(member.value for member in MediaType)
                problems.append(f"column {name!r} is not input:<inputID>:<{types}>")
            else:
                columns.append(column)
        else:
            problems.append(f"unknown column {name!r}")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        problems.append(f"no {' or '.join(repr(name) for name in missing)} column")
    if problems:
        known = ", ".join([*REQUIRED, *FIELDS, "input:<inputID>:<type>"])
        raise RecipientsFileError(f"{'; '.join(problems)} (columns: {known})")
    return columns


def _input_column(name: str) -> _Column | None:
    input_id, _, type_name = name.removeprefix(INPUT_PREFIX).rpartition(":")
    media_type = next((t for t in MediaType if t.value == type_name), None)
    if not input_id or media_type is None:
        return None
    return _Column(name, input_id, media_type)


def _check_record(
    line: int, record: Mapping[str, object], columns: list[_Column], base_dir: Path
) -> Recipient | RowProblem:
    values: dict[str, str] = {}
    for column in columns:
        value = record.get(column.name)
        if value is None:
            value = ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            return RowProblem(line, None, f"{column.name} is not a string: {value!r}")
        values[column.name] = str(value).strip()
    extra = [name for name in record if name not in values]
    if extra:
        return RowProblem(line, None, f"columns not in the header: {', '.join(extra)}")
    key = values["key"] or None
    for name in REQUIRED:
        if not values[name]:
            return RowProblem(line, key, f"{name} is empty")
    if values.get("email") and not _EMAIL.fullmatch(values["email"]):
        return RowProblem(line, key, f"email {values['email']!r} is not an email address")
    inputs = []
    for column in columns:
        if column.input_id is None or column.type is None or not values[column.name]:
            continue
        value = _input_value(column.input_id, column.type, values[column.name], base_dir)
        if isinstance(value, str):
            return RowProblem(line, key, f"{column.name}: {value}")
        inputs.append(value)
    optional = {name: values.get(name) or None for name in FIELDS}
    return Recipient(line, values["key"], values["name"], tuple(inputs), **optional)


def _input_value(
    input_id: str, media_type: MediaType, value: str, base_dir: Path
) -> InputValue | str:
    """The input's value, or why it is wrong."""
    if media_type is MediaType.text:
        return InputValue(input_id, media_type, "text", value)
    if _URL.fullmatch(value):
        return InputValue(input_id, media_type, "http", value)
    path = base_dir / value
    if path.is_file():
        return InputValue(input_id, media_type, "file", str(path.resolve()))
    if "/" in value or "\\" in value or Path(value).suffix:
        return f"no such file: {value}"
    return InputValue(input_id, media_type, "media", value)


def _csv(file: Iterable[str]) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    reader = csv.reader(file)
    header: list[str] | None = None
    last_line = 0
    for fields in reader:
        line, last_line = last_line + 1, reader.line_num  # a quoted field may span lines
        if not fields or fields == [""]:
            continue
        if header is None:
            header = [name.strip() for name in fields]
            if len(set(header)) != len(header):
                raise RecipientsFileError(f"line {line}: the header repeats a column name")
            _parse_header(header)  # a bad header stops the file even with no rows
            continue
        if len(fields) != len(header):
            yield line, f"{len(fields)} fields, but the header has {len(header)}"
        else:
            yield line, dict(zip(header, fields, strict=True))
    if header is None:
        raise RecipientsFileError("the file is empty: it needs a header row")


def _json_lines(file: Iterable[str]) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    for line, text in enumerate(file, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as error:
            yield line, f"not valid JSON: {error}"
            continue
        yield line, record if isinstance(record, dict) else "not a JSON object"
