"""Upload media to Pirsonal: one streamed raw-body POST to `/api/upload`, checked before sending.

The body is the file's bytes (not multipart), streamed with an exact `Content-Length` (never
chunked encoding) in 64 KiB chunks, or 128 KiB blocks read from a path when no progress callback
is given, so memory use does not depend on the file size.

Headers sent:
- `Content-Type`: `video/*`, `image/*` or `audio/*`; guessed from the file name when not given.
- `Content-Length`: 1 to 50,000,000.
- `X-SZN-Filename` (at most 200 characters). The docs spell it `X-SZN-FILENAME`; header names
  are case-insensitive.
- The description (at most 1000 characters) twice: as `X-SZN-Description`, which real clients
  send, and as `X-SZN_DESCRIPTION`, the docs' spelling. Some proxies drop header names with an
  underscore, so whichever one the server reads arrives.

Header values are ASCII. A filename or description holding non-ASCII characters is sent
losslessly in the RFC 8187 form `UTF-8''<percent-encoded UTF-8>` (e.g. `café.mp4` becomes
`UTF-8''caf%C3%A9.mp4`), and the length limits apply to the value as sent. Control characters
(CR, LF, TAB, ...) are rejected.

Every rule above is checked before a byte is sent. A source whose size changes while it is read
(a file still being written) aborts the upload before the server gets a complete body.
An upload is never retried once the source has been read from; a connection that fails before
that (nothing was sent) is retried as the `RetryPolicy` allows, after its delay.

The reply is read up to 1 MB. Its `error` goes through the same mapping as a JSON-RPC reply's
(`_envelope.decode_error`): a code gives the same class, and a malformed error object (a code
that is not an integer, a message that is not a string) is a `ProtocolError`. The upload
reply's looser envelope needs no other mapping: it has no `jsonrpc` member, which
`decode_error` never reads, and an `error` that is a plain string is passed on as the message
of Pirsonal's error without a code (`UnspecifiedError`). A Pirsonal error wins over the HTTP
status; a malformed one in a non-200 reply gives way to the `HttpStatusError`.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import logging
import mimetypes
import os
import random as random_module
import re
import stat
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import IO, Any
from urllib.parse import quote

import httpx

from pirsonal_async._envelope import decode_error
from pirsonal_async._http import Body, Deadline, Engine, Post, Reply, Sleep, TimeoutTypes, send
from pirsonal_async._httpx import HttpxEngine
from pirsonal_async._redact import Redactor, guard_logs
from pirsonal_async.errors import (
    HttpStatusError,
    ProtocolError,
    RequestValidationError,
    RpcError,
)
from pirsonal_async.generated import DecodeError
from pirsonal_async.generated.types import Media
from pirsonal_async.retry import RetryPolicy
from pirsonal_async.rpc import DEFAULT_RETRY, DEFAULT_TIMEOUT, USER_AGENT

__all__ = [
    "CHUNK_SIZE",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_FILENAME_LENGTH",
    "MAX_UPLOAD_SIZE",
    "Progress",
    "UploadSource",
    "UploadSourceChanged",
    "upload_media",
]

MAX_UPLOAD_SIZE = 50_000_000
MAX_FILENAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 1000
CHUNK_SIZE = 64 * 1024
# Chunks read per worker-thread hop when no progress callback watches. Measured on aiohttp with a
# 50 MB file (wall time vs raw aiohttp reading on the loop, peak RSS growth): 64 KiB per hop
# 1.47x, 1.1 MB; 128 KiB 0.87x, 1.0 MB; 256 KiB 1.22x, 2.4 MB; 512 KiB 1.19x, 3.2 MB. Each hop
# costs ~90 µs of CPU, and aiohttp drains its writer past 64 KiB, so larger writes help until
# the blocks outgrow the socket's pace.
_BLOCK_CHUNKS = 2
# The reply is a small `{error, media}` object; anything bigger is not read into memory.
_MAX_REPLY_BYTES = 1024 * 1024

UploadSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
)
"""A path, the bytes themselves, a binary file object, or an async iterable of bytes."""

Progress = Callable[[int, int], object]
"""Called as `progress(bytes_sent, total)` after each chunk; may be async."""

_MEDIA_TYPE = re.compile(r"(?:video|image|audio)/[A-Za-z0-9!#$&^_.+-]+(?:\s*;[ -~]*)?", re.I)
# RFC 8187 attr-char besides ALPHA / DIGIT (quote() always keeps those and "_.-~").
_ATTR_CHAR_PUNCTUATION = "!#$&+-.^_`|~"
_SECRET_PARAMS = ("accountSecret", "templateSecret")
# The `.method` of errors raised here: uploads are plain HTTP, not an RPC method.
_METHOD = "upload"

logger = logging.getLogger("pirsonal_async")


class UploadSourceChanged(RequestValidationError):
    """The source held more or fewer bytes than announced; the upload was aborted mid-body.

    The server never received a complete body, so nothing was stored.
    """


def _invalid(param: str, reason: str) -> RequestValidationError:
    return RequestValidationError(reason, method=_METHOD, param=param)


def _changed(reason: str) -> UploadSourceChanged:
    return UploadSourceChanged(reason, method=_METHOD, param="source")


async def upload_media(
    http: httpx.AsyncClient | Engine,
    url: str,
    query: Mapping[str, str],
    source: UploadSource,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    description: str | None = None,
    size: int | None = None,
    progress: Progress | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    sleep: Sleep = asyncio.sleep,
    random: Callable[[], float] = random_module.random,
) -> Media:
    """Upload one media file and return the stored `Media` (its `id` goes in `InputMedia`).

    `url` is `{base}/api/upload`; `query` is `{accountID, accountSecret}` for the account's
    storage or `{accountID, templateID, templateSecret}` for a per-video upload (deleted once
    the video is generated). `size` is required for async iterables and non-seekable file
    objects, and is checked against paths, bytes and seekable files. A path also gives the
    default `filename` (pass `filename=""` to send none), and the file name gives the default
    `content_type`. A file object is read from its current position. Opening a path raises
    `OSError` as `open()` does, in a worker thread (a FIFO or a slow disk never blocks the
    event loop). A connection that fails before the source is read is retried as `retry`
    allows; `sleep` and `random` are the delay's sleep and jitter source. `http` is an
    `httpx.AsyncClient` or the engine of a client (`PirsonalClient.rpc.engine`). Of `timeout`,
    the connect and read limits apply, not a bound on the whole attempt: a large file takes as
    long as the link needs. `headers` are added to the request (the upload's own win).

    Raises `RequestValidationError` (nothing sent), `UploadSourceChanged`, `TransportError`
    (`HttpStatusError` for a status other than 200), `ProtocolError`, or the `PirsonalError`
    matching the server's error code (e.g. 1020 Invalid Content-Type, 2001 Stored medias size
    limit reached).
    """
    source_ = await _open_source(source, size)
    # The secrets (a per-call template secret too) are masked by value in errors, and in the
    # engines' logs while the upload runs (in URLs they are masked by name as well).
    redact = Redactor(query[key] for key in _SECRET_PARAMS if query.get(key))
    unguard_logs = guard_logs(redact, redact.secrets)
    try:
        name = source_.name if filename is None else filename
        upload_headers = _upload_headers(
            content_type=content_type, size=source_.size, filename=name, description=description
        )
        post = Post(
            str(httpx.URL(url).copy_merge_params(dict(query))),
            {"User-Agent": USER_AGENT, **(headers or {}), **upload_headers},
            Body(source_.size, stream=lambda: _stream(source_, progress)),
            Deadline.of(timeout).without_total(),
            _MAX_REPLY_BYTES,
            _MAX_REPLY_BYTES,
        )
        engine = HttpxEngine(http) if isinstance(http, httpx.AsyncClient) else http
        reply, _ = await send(
            engine,
            post,
            methods=_METHOD,
            label=_METHOD,
            retry=retry,
            sleep=sleep,
            random=random,
            redact=redact,
        )
    finally:
        unguard_logs()
        source_.close()
    return _decode_reply(reply, redact)


_ChunkReader = Callable[[bool], AsyncIterator[bytes]]
"""Starts reading a source; its argument says whether reads must keep in step with progress."""


class _Source:
    """An upload source reduced to its size, a chunk reader and an optional default file name."""

    def __init__(
        self,
        size: int,
        read_chunks: _ChunkReader,
        *,
        name: str | None = None,
        close: Callable[[], None] = lambda: None,
    ) -> None:
        self.size = size
        self.read_chunks = read_chunks
        self.name = name
        self.close = close


async def _open_source(source: UploadSource, size: int | None) -> _Source:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _bytes_source(memoryview(source).cast("B"), size)
    if isinstance(source, (str, os.PathLike)):
        return await asyncio.to_thread(_path_source, os.fspath(source), size)
    if isinstance(source, io.TextIOBase):
        raise _invalid("source", "a text-mode file; open the file in binary mode")
    if isinstance(source, AsyncIterable):
        if size is None:
            raise _invalid("size", "required when the source is an async iterable")
        iterable: AsyncIterable[bytes] = source
        return _Source(size, lambda in_step: aiter(iterable))
    if hasattr(source, "read"):
        return _file_source(source, size)
    raise _invalid(
        "source",
        f"expected a path, bytes, a binary file or an async iterable of bytes, "
        f"not {type(source).__name__}",
    )


def _bytes_source(view: memoryview, size: int | None) -> _Source:
    _check_declared_size(size, len(view), "the bytes given")

    async def chunks(in_step: bool) -> AsyncIterator[bytes]:
        for start in range(0, len(view), CHUNK_SIZE):
            yield bytes(view[start : start + CHUNK_SIZE])

    return _Source(len(view), chunks)


def _path_source(path: str | bytes, size: int | None) -> _Source:
    # Opened without blocking: a FIFO with no writer would otherwise hold the thread forever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _invalid("source", f"{os.fsdecode(path)!r} is not a regular file")
        _check_declared_size(size, info.st_size, "the file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return _Source(
        info.st_size,
        # We own this file, so one read fetches a whole block.
        lambda in_step: _file_chunks(file, CHUNK_SIZE * (1 if in_step else _BLOCK_CHUNKS), 1),
        name=os.path.basename(os.fsdecode(path)),
        close=file.close,
    )


def _file_source(file: IO[bytes], size: int | None) -> _Source:
    if file.seekable():
        start = file.tell()
        remaining = max(0, file.seek(0, io.SEEK_END) - start)
        file.seek(start)
        _check_declared_size(size, remaining, "the file")
        size = remaining
    elif size is None:
        raise _invalid("size", "required when the file object is not seekable")
    name = getattr(file, "name", None)
    default_name = os.path.basename(name) if isinstance(name, str) else None
    # The caller's object is read in bounded CHUNK_SIZE reads: its own cost per read is unknown.
    return _Source(
        size,
        lambda in_step: _file_chunks(file, CHUNK_SIZE, 1 if in_step else _BLOCK_CHUNKS),
        name=default_name,
    )


def _check_declared_size(declared: int | None, actual: int, what: str) -> None:
    if declared is not None and declared != actual:
        raise _invalid("size", f"{declared} given, but {what} holds {actual} bytes")


async def _file_chunks(file: IO[bytes], read_size: int, reads_per_hop: int) -> AsyncIterator[bytes]:
    """`file`'s bytes from `read_size` reads, made `reads_per_hop` at a time in a worker thread.

    The thread keeps slow disks from stalling the event loop.
    """
    while chunks := await asyncio.to_thread(_read_some, file, read_size, reads_per_hop):
        for chunk in chunks:
            yield chunk


def _read_some(file: IO[bytes], read_size: int, reads: int) -> list[bytes]:
    chunks: list[bytes] = []
    while len(chunks) < reads and (chunk := file.read(read_size)):
        chunks.append(chunk)
    return chunks


def _upload_headers(
    *, content_type: str | None, size: int, filename: str | None, description: str | None
) -> dict[str, str]:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_UPLOAD_SIZE:
        raise _invalid("size", f"must be 1 to {MAX_UPLOAD_SIZE} bytes (50 MB), got {size!r}")
    headers = {
        "Content-Type": _media_type(content_type, filename),
        "Content-Length": str(size),
    }
    if filename:
        headers["X-SZN-Filename"] = _header_text(filename, "filename", MAX_FILENAME_LENGTH)
    if description:
        text = _header_text(description, "description", MAX_DESCRIPTION_LENGTH)
        headers["X-SZN-Description"] = text
        headers["X-SZN_DESCRIPTION"] = text
    return headers


def _media_type(content_type: str | None, filename: str | None) -> str:
    if content_type is None:
        if not filename:
            raise _invalid("content_type", "required when there is no file name to guess it from")
        guessed = mimetypes.guess_type(filename, strict=False)[0]
        if guessed is None or not _MEDIA_TYPE.fullmatch(guessed):
            raise _invalid(
                "content_type",
                f"{filename!r} does not look like video, image or audio "
                f"(guessed {guessed or 'nothing'}); give its media type, such as video/mp4",
            )
        return guessed
    _reject_controls(content_type, "content_type")
    if not _MEDIA_TYPE.fullmatch(content_type):
        raise _invalid(
            "content_type", f"Pirsonal accepts video/*, image/* or audio/*, not {content_type!r}"
        )
    return content_type


def _header_text(value: str, field: str, limit: int) -> str:
    _reject_controls(value, field)
    sent = value if value.isascii() else "UTF-8''" + quote(value, safe=_ATTR_CHAR_PUNCTUATION)
    if len(sent) > limit:
        how = "" if sent is value else " once non-ASCII characters are percent-encoded"
        raise _invalid(field, f"at most {limit} characters{how}, got {len(sent)}")
    return sent


def _reject_controls(value: str, field: str) -> None:
    for index, char in enumerate(value):
        if unicodedata.category(char) == "Cc":
            raise _invalid(field, f"control character {char!r} at index {index} is not allowed")


async def _stream(body: _Source, progress: Progress | None) -> AsyncIterator[bytes]:
    """The source's bytes, exactly `body.size` of them, or an `UploadSourceChanged` error.

    The last chunk is held back until the source is known to be exhausted, so a source that
    grew never yields a complete (and wrong) body.
    """
    sent = 0
    held: bytes | None = None
    # A progress callback may change the source (a file still being written): with one, chunks
    # are read one at a time, each after the report before it, so the size checks see the
    # change. Without one, nothing ties changes to the reads, so blocks are read ahead.
    async for chunk in body.read_chunks(progress is not None):
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise _invalid("source", f"gave {type(chunk).__name__} instead of bytes")
        if not chunk:
            continue
        pending = 0 if held is None else len(held)
        if sent + pending + len(chunk) > body.size:
            raise _changed(f"holds more than the {body.size} bytes announced; upload aborted")
        if held is not None:
            yield held
            sent += len(held)
            await _report(progress, sent, body.size)
        held = bytes(chunk)
    if held is None or sent + len(held) != body.size:
        got = sent + (0 if held is None else len(held))
        raise _changed(f"ended after {got} of the {body.size} bytes announced; upload aborted")
    yield held
    await _report(progress, body.size, body.size)


async def _report(progress: Progress | None, sent: int, total: int) -> None:
    if progress is not None:
        result = progress(sent, total)
        if inspect.isawaitable(result):
            await result


def _decode_reply(reply: Reply, redact: Redactor) -> Media:
    """The `{error, media}` reply as `Media`, or the error it carries.

    A Pirsonal error code wins over the HTTP status; otherwise a status other than 200 is an
    `HttpStatusError` (like every other call of the library) and a 200 that is not a
    `{error, media}` object is a `ProtocolError`.
    """
    body = _parse(reply.content) if reply.complete else None
    error = _reply_error(body, redact)
    if isinstance(error, RpcError):
        raise error
    if reply.status != 200:
        excerpt = redact.excerpt(reply.content)
        raise HttpStatusError(
            f"upload answered HTTP {reply.status}" + (f": {excerpt}" if excerpt else ""),
            method=_METHOD,
            status=reply.status,
        )
    if not reply.complete:
        raise ProtocolError(f"upload reply is larger than {_MAX_REPLY_BYTES} bytes", method=_METHOD)
    if error is not None:
        raise error
    if not isinstance(body, dict):
        raise ProtocolError(
            f"upload reply is not a JSON object: {redact.excerpt(reply.content)}", method=_METHOD
        )
    media = body.get("media")
    if not isinstance(media, dict):
        raise ProtocolError("upload reply has neither an error nor a media object", method=_METHOD)
    try:
        return Media.from_json(media, path="media")
    except DecodeError as exc:
        problem = str(exc)
    raise ProtocolError(f"upload reply: {problem}", method=_METHOD, data=redact.data(body))


def _parse(content: bytes) -> Any:
    """The reply's JSON value, or None when it is not JSON (an HTML error page, say)."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


def _reply_error(body: Any, redact: Redactor) -> RpcError | ProtocolError | None:
    error = body.get("error") if isinstance(body, dict) else None
    if not error:
        return None
    if isinstance(error, str):
        # Some servers send the message alone: Pirsonal's documented error without a code.
        error = {"message": error}
    return decode_error(error, _METHOD, redact)
