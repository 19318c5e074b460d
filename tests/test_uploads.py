"""Media uploads: the exact request, every rule checked before sending, streaming and replies."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx

from pirsonal_async._redact import LOG_FILTER
from pirsonal_async.errors import (
    BadSecret,
    HttpStatusError,
    InvalidContentType,
    MediaStorageFull,
    MissingContentLength,
    ProtocolError,
    RequestValidationError,
    TransportError,
    UnspecifiedError,
)
from pirsonal_async.retry import NO_RETRY, RetryPolicy
from pirsonal_async.sandbox import serve_asgi
from pirsonal_async.uploads import (
    CHUNK_SIZE,
    MAX_UPLOAD_SIZE,
    UploadSourceChanged,
    upload_media,
)

URL = "https://app.pirsonal.com/api/upload"
ACCOUNT_SECRET = "acct-SECRET-5f1e"
TEMPLATE_SECRET = "tmpl-SECRET-9c2a"
ACCOUNT_QUERY = {"accountID": "533154e50fa92a6755582c8c", "accountSecret": ACCOUNT_SECRET}
TEMPLATE_QUERY = {
    "accountID": "533154e50fa92a6755582c8c",
    "templateID": "533155ec0fa92a6755582c8e",
    "templateSecret": TEMPLATE_SECRET,
}
MEDIA = {
    "id": "5331669c0fa92a6755582c9f",
    "name": "intro.mp4",
    "description": "Intro",
    "size": 5,
    "temp": False,
    "type": "video",
}
OK_REPLY = {"error": None, "media": MEDIA}


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def payload(size: int) -> bytes:
    return bytes(index % 251 for index in range(size))


# the request on the wire


async def test_bytes_upload_sends_exact_url_headers_and_body(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = mock.post(URL).respond(200, json=OK_REPLY)
    media = await upload_media(
        http,
        URL,
        ACCOUNT_QUERY,
        b"\x00\x01abc",
        content_type="video/mp4",
        filename="intro.mp4",
        description="Intro",
    )
    assert media.id == "5331669c0fa92a6755582c9f"
    assert media.size == 5
    request = route.calls.last.request
    assert request.url.copy_with(query=None) == URL
    assert dict(request.url.params) == ACCOUNT_QUERY
    assert request.content == b"\x00\x01abc"
    headers = request.headers
    assert headers["content-type"] == "video/mp4"
    assert headers["content-length"] == "5"
    assert "transfer-encoding" not in headers
    assert headers["x-szn-filename"] == "intro.mp4"
    assert headers["x-szn-description"] == "Intro"
    assert headers["x-szn_description"] == "Intro"


async def test_per_video_upload_uses_the_template_query(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = mock.post(URL).respond(200, json=OK_REPLY)
    await upload_media(http, URL, TEMPLATE_QUERY, b"img", content_type="image/png")
    request = route.calls.last.request
    assert dict(request.url.params) == TEMPLATE_QUERY
    assert "x-szn-filename" not in request.headers
    assert "x-szn-description" not in request.headers


async def test_path_is_streamed_in_chunks_with_guessed_type_and_name(
    mock: respx.MockRouter, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    data = payload(150 * 1024)
    path = tmp_path / "intro clip.mp4"
    path.write_bytes(data)
    route = mock.post(URL).respond(200, json=OK_REPLY)
    seen: list[tuple[int, int]] = []
    await upload_media(
        http, URL, ACCOUNT_QUERY, path, progress=lambda sent, total: seen.append((sent, total))
    )
    request = route.calls.last.request
    assert request.content == data
    assert request.headers["content-length"] == str(len(data))
    assert request.headers["content-type"] == "video/mp4"
    assert request.headers["x-szn-filename"] == "intro clip.mp4"
    assert seen == [(65536, 153600), (131072, 153600), (153600, 153600)]


async def test_str_path_and_explicit_names_override_the_defaults(
    mock: respx.MockRouter, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "raw.bin"
    path.write_bytes(b"RIFF....WAVE")
    route = mock.post(URL).respond(200, json=OK_REPLY)
    await upload_media(http, URL, ACCOUNT_QUERY, str(path), content_type="audio/wav", filename="")
    request = route.calls.last.request
    assert request.headers["content-type"] == "audio/wav"
    assert "x-szn-filename" not in request.headers


async def test_file_object_is_read_from_its_position_in_bounded_chunks(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    class RecordingFile(io.BytesIO):
        reads: list[int] = []

        def read(self, size: int | None = -1, /) -> bytes:
            self.reads.append(-1 if size is None else size)
            return super().read(size)

    data = payload(3 * CHUNK_SIZE + 10)
    source = RecordingFile(b"skip" + data)
    source.seek(4)
    route = mock.post(URL).respond(200, json=OK_REPLY)
    await upload_media(http, URL, ACCOUNT_QUERY, source, content_type="video/webm")
    assert route.calls.last.request.content == data
    assert route.calls.last.request.headers["content-length"] == str(len(data))
    assert set(source.reads) == {CHUNK_SIZE}  # memory use never depends on the size


async def test_open_binary_file_gives_its_name(
    mock: respx.MockRouter, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "logo.png"
    path.write_bytes(b"\x89PNG")
    route = mock.post(URL).respond(200, json=OK_REPLY)
    with path.open("rb") as file:
        await upload_media(http, URL, ACCOUNT_QUERY, file)
    request = route.calls.last.request
    assert (request.headers["x-szn-filename"], request.headers["content-type"]) == (
        "logo.png",
        "image/png",
    )


async def test_async_iterable_with_size_and_async_progress(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b""
        yield b"defg"

    seen: list[tuple[int, int]] = []

    async def progress(sent: int, total: int) -> None:
        seen.append((sent, total))

    route = mock.post(URL).respond(200, json=OK_REPLY)
    await upload_media(
        http, URL, ACCOUNT_QUERY, chunks(), content_type="audio/mpeg", size=7, progress=progress
    )
    assert route.calls.last.request.content == b"abcdefg"
    assert route.calls.last.request.headers["content-length"] == "7"
    assert seen == [(3, 7), (7, 7)]


async def test_the_upload_secrets_are_masked_in_the_engines_logs_while_it_runs(
    mock: respx.MockRouter, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    mock.post(URL).respond(200, json=OK_REPLY)
    registered = LOG_FILTER.redactor.secret_count

    async def echo(sent: int, total: int) -> None:  # as an engine logging a header would
        logging.getLogger("httpcore.http11").debug("header X-Echo: %s", TEMPLATE_SECRET)

    with caplog.at_level(logging.DEBUG):
        await upload_media(http, URL, TEMPLATE_QUERY, b"x", content_type="video/mp4", progress=echo)
    [logged] = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert "templateSecret=***" in logged
    assert "header X-Echo: ***" in caplog.messages
    assert TEMPLATE_SECRET not in caplog.text
    assert LOG_FILTER.redactor.secret_count == registered


# non-ASCII names


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("café ñ.mp4", "UTF-8''caf%C3%A9%20%C3%B1.mp4"),
        ("日本", "UTF-8''%E6%97%A5%E6%9C%AC"),
        ("100% ünïcode", "UTF-8''100%25%20%C3%BCn%C3%AFcode"),
        ("plain ascii, 100%", "plain ascii, 100%"),
    ],
)
async def test_non_ascii_names_are_sent_rfc8187_percent_encoded(
    mock: respx.MockRouter, http: httpx.AsyncClient, text: str, sent: str
) -> None:
    route = mock.post(URL).respond(200, json=OK_REPLY)
    await upload_media(
        http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4", filename=text, description=text
    )
    headers = route.calls.last.request.headers
    assert headers["x-szn-filename"] == sent
    assert headers["x-szn-description"] == sent
    assert headers["x-szn_description"] == sent
    decoded = unquote(sent.removeprefix("UTF-8''")) if sent != text else sent
    assert decoded == text


async def test_length_limits_count_the_value_as_sent(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = mock.post(URL).respond(200, json=OK_REPLY)
    await upload_media(
        http,
        URL,
        ACCOUNT_QUERY,
        b"x",
        content_type="video/mp4",
        filename="f" * 200,
        description="d" * 1000,
    )
    assert route.called
    with pytest.raises(RequestValidationError, match="percent-encoded") as caught:
        await upload_media(
            http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4", filename="é" * 40
        )
    assert caught.value.param == "filename"


# every rule checked before a byte is sent


class Unreadable:
    """An async iterable that fails the test if the upload starts reading it."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        raise AssertionError("the source was read although the upload was invalid")


@pytest.mark.parametrize(
    ("source", "options", "param", "problem"),
    [
        (b"x", {"content_type": "text/plain"}, "content_type", "video/\\*, image/\\* or audio/\\*"),
        (b"x", {"content_type": "application/octet-stream"}, "content_type", "accepts"),
        (b"x", {"content_type": "video/"}, "content_type", "accepts"),
        (b"x", {"content_type": "video/mp4\r\nX-Evil: 1"}, "content_type", "control character"),
        (b"x", {}, "content_type", "required"),
        (b"x", {"filename": "notes.txt"}, "content_type", "text/plain"),
        (b"x", {"filename": "noextension"}, "content_type", "guessed nothing"),
        (b"", {"content_type": "video/mp4"}, "size", "1 to 50000000"),
        (Unreadable(), {"content_type": "video/mp4", "size": 0}, "size", "1 to 50000000"),
        (
            Unreadable(),
            {"content_type": "video/mp4", "size": MAX_UPLOAD_SIZE + 1},
            "size",
            "1 to 50000000",
        ),
        (Unreadable(), {"content_type": "video/mp4"}, "size", "required"),
        (b"abc", {"content_type": "video/mp4", "size": 4}, "size", "4 given, but the bytes"),
        (
            io.BytesIO(b"x" * 1000),
            {"content_type": "video/mp4", "size": 2000},
            "size",
            "2000 given, but the file holds 1000 bytes",
        ),
        (b"x", {"content_type": "video/mp4", "filename": "f" * 201}, "filename", "at most 200"),
        (b"x", {"content_type": "video/mp4", "description": "d" * 1001}, "description", "1000"),
        (b"x", {"content_type": "video/mp4", "filename": "a\nb.mp4"}, "filename", "control"),
        (b"x", {"content_type": "video/mp4", "filename": "a\rb"}, "filename", "control"),
        (b"x", {"content_type": "video/mp4", "description": "tab\there"}, "description", "control"),
        (b"x", {"content_type": "video/mp4", "description": "del\x7f"}, "description", "control"),
        (b"x", {"content_type": "video/mp4", "description": "c1\x85"}, "description", "control"),
        (12345, {"content_type": "video/mp4"}, "source", "not int"),
        (io.StringIO("text"), {"content_type": "video/mp4"}, "source", "binary mode"),
    ],
)
async def test_invalid_upload_is_rejected_before_sending(
    mock: respx.MockRouter,
    http: httpx.AsyncClient,
    source: Any,
    options: dict[str, Any],
    param: str,
    problem: str,
) -> None:
    route = mock.post(URL).respond(200, json=OK_REPLY)
    with pytest.raises(RequestValidationError, match=problem) as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, source, **options)
    assert caught.value.param == param
    assert not route.called
    assert not mock.calls


async def test_non_seekable_file_needs_a_size(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    class Stream(io.BytesIO):
        def seekable(self) -> bool:
            return False

    with pytest.raises(RequestValidationError, match="not seekable"):
        await upload_media(http, URL, ACCOUNT_QUERY, Stream(b"abc"), content_type="video/mp4")
    route = mock.post(URL).respond(200, json=OK_REPLY)
    await upload_media(http, URL, ACCOUNT_QUERY, Stream(b"abc"), content_type="video/mp4", size=3)
    assert route.calls.last.request.content == b"abc"


async def test_seekable_file_size_is_checked_from_its_position_before_sending(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = mock.post(URL).respond(200, json=OK_REPLY)
    source = io.BytesIO(b"skip" + b"x" * 1000)
    source.seek(4)
    with pytest.raises(RequestValidationError) as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, source, content_type="video/mp4", size=1004)
    assert type(caught.value) is RequestValidationError  # not UploadSourceChanged mid-body
    assert caught.value.reason == "1004 given, but the file holds 1000 bytes"
    assert source.tell() == 4
    assert not mock.calls
    await upload_media(http, URL, ACCOUNT_QUERY, source, content_type="video/mp4", size=1000)
    assert route.calls.last.request.content == b"x" * 1000


async def test_path_checks_happen_before_sending(
    mock: respx.MockRouter, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(RequestValidationError, match="not a regular file"):
        await upload_media(http, URL, ACCOUNT_QUERY, os.devnull, content_type="video/mp4")
    with pytest.raises(RequestValidationError, match="1 to 50000000"):
        await upload_media(http, URL, ACCOUNT_QUERY, empty)
    with pytest.raises(FileNotFoundError):
        await upload_media(http, URL, ACCOUNT_QUERY, tmp_path / "missing.mp4")
    assert not mock.calls


async def test_a_fifo_with_no_writer_is_refused_without_blocking_the_loop(
    mock: respx.MockRouter, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(ticking())
    # Opening a FIFO for reading blocks until a writer comes; the loop must not wait for one.
    with pytest.raises(RequestValidationError, match="not a regular file"):
        await asyncio.wait_for(upload_media(http, URL, ACCOUNT_QUERY, fifo), 10.0)  # a safety net
    ticker.cancel()
    assert ticks > 0
    assert not mock.calls


# a source that changes while it is read


async def test_file_growing_while_read_aborts_before_a_complete_body(
    mock: respx.MockRouter, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "recording.mp4"
    path.write_bytes(payload(2 * CHUNK_SIZE))

    def append_more(sent: int, total: int) -> None:
        with path.open("ab") as file:
            file.write(b"late bytes")

    route = mock.post(URL).respond(200, json=OK_REPLY)
    with pytest.raises(UploadSourceChanged, match="more than the 131072 bytes"):
        await upload_media(http, URL, ACCOUNT_QUERY, path, progress=append_more)
    assert not route.called


async def test_file_shrinking_while_read_aborts(
    mock: respx.MockRouter, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "recording.mp4"
    path.write_bytes(payload(3 * CHUNK_SIZE))

    def truncate(sent: int, total: int) -> None:
        os.truncate(path, CHUNK_SIZE + 1)

    route = mock.post(URL).respond(200, json=OK_REPLY)
    with pytest.raises(UploadSourceChanged, match="ended after 131072 of the 196608") as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, path, progress=truncate)
    assert isinstance(caught.value, RequestValidationError)
    assert not route.called


@pytest.mark.parametrize(
    ("chunks", "problem"), [([b"abc", b"de"], "more than"), ([b"ab"], "ended")]
)
async def test_async_iterable_with_the_wrong_size_aborts(
    mock: respx.MockRouter, http: httpx.AsyncClient, chunks: list[bytes], problem: str
) -> None:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    route = mock.post(URL).respond(200, json=OK_REPLY)
    with pytest.raises(UploadSourceChanged, match=problem):
        await upload_media(http, URL, ACCOUNT_QUERY, source(), content_type="video/mp4", size=4)
    assert not route.called


async def test_async_iterable_of_text_is_rejected(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    async def source() -> AsyncIterator[Any]:
        yield "text"

    mock.post(URL).respond(200, json=OK_REPLY)
    with pytest.raises(RequestValidationError, match="str instead of bytes"):
        await upload_media(http, URL, ACCOUNT_QUERY, source(), content_type="video/mp4", size=4)


# replies


@pytest.mark.parametrize("falsy", [None, "", False, 0, {}])
async def test_falsy_error_with_media_decodes(
    mock: respx.MockRouter, http: httpx.AsyncClient, falsy: Any
) -> None:
    mock.post(URL).respond(200, json={"error": falsy, "media": MEDIA})
    media = await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert (media.id, media.name, media.temp) == ("5331669c0fa92a6755582c9f", "intro.mp4", False)


@pytest.mark.parametrize(
    ("status", "error", "expected", "code"),
    [
        (
            200,
            {"code": 1019, "message": "No size specified (content-length)"},
            MissingContentLength,
            1019,
        ),
        (200, {"code": 1020, "message": "Invalid Content-Type"}, InvalidContentType, 1020),
        (
            200,
            {"code": 2001, "message": "Stored medias size limit reached"},
            MediaStorageFull,
            2001,
        ),
        (400, {"code": 1020, "message": "Invalid Content-Type"}, InvalidContentType, 1020),
        (200, "Invalid Content-Type", UnspecifiedError, None),
        (200, {"message": "Invalid Content-Type"}, UnspecifiedError, None),
        (500, "Internal Error", UnspecifiedError, None),
    ],
)
async def test_error_reply_maps_to_the_pirsonal_error_class(
    mock: respx.MockRouter,
    http: httpx.AsyncClient,
    status: int,
    error: Any,
    expected: type[Exception],
    code: int | None,
) -> None:
    mock.post(URL).respond(status, json={"error": error, "media": None})
    with pytest.raises(expected) as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert getattr(caught.value, "code", None) == code
    message = error["message"] if isinstance(error, dict) else error
    assert caught.value.message == message  # type: ignore[attr-defined]
    assert caught.value.method == "upload"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        ({"code": "1020", "message": "odd code"}, 'error "code" is a JSON string, not an integer'),
        ({"code": 1.5, "message": "odd code"}, 'error "code" is a JSON number, not an integer'),
        ({"code": 1020}, 'error 1020 has a null "message", not a string'),
        (7, '"error" is a JSON number, not an object'),
        (["Invalid Content-Type"], '"error" is a JSON array, not an object'),
    ],
)
async def test_malformed_error_reply_is_a_protocol_error_as_for_rpc_replies(
    mock: respx.MockRouter, http: httpx.AsyncClient, error: Any, problem: str
) -> None:
    mock.post(URL).respond(200, json={"error": error, "media": None})
    with pytest.raises(ProtocolError) as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert type(caught.value) is ProtocolError
    assert caught.value.message == f"reply {problem}"
    assert caught.value.method == "upload"


async def test_malformed_error_reply_with_a_failure_status_is_an_http_status_error(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    mock.post(URL).respond(502, json={"error": {"code": "bad"}})
    with pytest.raises(HttpStatusError, match="HTTP 502") as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert caught.value.status == 502


def nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = {"inner": leaf}
    return leaf


async def test_error_data_nested_too_deep_is_masked(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    error = {"code": 1018, "message": "Bad secret", "data": nested(500, ACCOUNT_SECRET)}
    mock.post(URL).respond(200, content=json.dumps({"error": error}).encode())
    with pytest.raises(BadSecret) as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert (caught.value.code, caught.value.message) == (1018, "Bad secret")
    assert ACCOUNT_SECRET not in json.dumps(caught.value.data)
    assert ACCOUNT_SECRET not in repr(caught.value)


@pytest.mark.parametrize(("status", "expected"), [(200, ProtocolError), (502, HttpStatusError)])
async def test_reply_nested_too_deep_for_json_is_a_clear_error(
    mock: respx.MockRouter, http: httpx.AsyncClient, status: int, expected: type[Exception]
) -> None:
    mock.post(URL).respond(status, content=b"[" * 200_000)
    with pytest.raises(expected, match=r"upload (reply is not a JSON object|answered HTTP 502)"):
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")


class LongReply:
    """A 4 MiB reply body streamed in chunks; counts the chunks the client pulled."""

    def __init__(self) -> None:
        self.chunks = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(64):
            self.chunks += 1
            yield b" " * CHUNK_SIZE


@pytest.mark.parametrize(
    ("status", "expected", "problem"),
    [
        (200, ProtocolError, "upload reply is larger than 1048576 bytes"),
        (503, HttpStatusError, "upload answered HTTP 503"),
    ],
)
async def test_reply_body_is_read_up_to_one_megabyte(
    mock: respx.MockRouter,
    http: httpx.AsyncClient,
    status: int,
    expected: type[Exception],
    problem: str,
) -> None:
    reply = LongReply()
    mock.post(URL).mock(return_value=httpx.Response(status, content=reply))
    with pytest.raises(expected, match=problem):
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert reply.chunks == 1024 * 1024 // CHUNK_SIZE + 1


async def test_reply_declaring_a_length_over_one_megabyte_is_not_read(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    reply = LongReply()
    headers = {"Content-Length": str(1024 * 1024 + 1)}
    mock.post(URL).mock(return_value=httpx.Response(200, headers=headers, content=reply))
    with pytest.raises(ProtocolError, match="larger than 1048576 bytes"):
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert reply.chunks == 0


async def test_html_reply_is_a_protocol_error_with_a_redacted_excerpt(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    page = f"<html><body>Cannot POST /api/upload?accountSecret={ACCOUNT_SECRET}</body></html>"
    mock.post(URL).respond(200, html=page + "<p>filler</p>" * 100)
    with pytest.raises(ProtocolError, match="not a JSON object: <html>") as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    text = str(caught.value)
    assert ACCOUNT_SECRET not in text
    assert ACCOUNT_SECRET not in repr(caught.value)
    assert "accountSecret=***" in text
    assert len(text) < 300


async def test_non_200_without_error_code_is_an_http_status_error(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    mock.post(URL).respond(502, text=f"Bad gateway {TEMPLATE_SECRET}")
    with pytest.raises(HttpStatusError, match="HTTP 502: Bad gateway") as caught:
        await upload_media(http, URL, TEMPLATE_QUERY, b"x", content_type="video/mp4")
    assert caught.value.status == 502
    assert TEMPLATE_SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ({"error": None}, "neither an error nor a media"),
        ({"error": None, "media": "m1"}, "neither an error nor a media"),
        ({"error": None, "media": {"name": "no id"}}, "media.id"),
        ([MEDIA], "not a JSON object"),
    ],
)
async def test_malformed_success_reply_is_a_protocol_error(
    mock: respx.MockRouter, http: httpx.AsyncClient, reply: Any, problem: str
) -> None:
    mock.post(URL).respond(200, json=reply)
    with pytest.raises(ProtocolError, match=problem.replace(".", r"\.")):
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")


# transport failures and retries


class Sleeps:
    """A fake `sleep` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class FlakyConnect(httpx.AsyncBaseTransport):
    """Fails `failures` times with `error` without touching the body, then answers OK."""

    def __init__(self, failures: int, error: type[httpx.TransportError] = httpx.ConnectError):
        self.failures = failures
        self.error = error
        self.attempts = 0
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise self.error(f"refused for {request.url}")
        self.bodies.append(await request.aread())
        return httpx.Response(200, json=OK_REPLY)


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_failure_before_sending_is_retried_with_the_policy_backoff(
    tmp_path: Path, error: type[httpx.TransportError]
) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(b"video")
    transport = FlakyConnect(failures=2, error=error)
    sleeps = Sleeps()
    async with httpx.AsyncClient(transport=transport) as client:
        media = await upload_media(
            client, URL, ACCOUNT_QUERY, path, sleep=sleeps, random=lambda: 0.5
        )
    assert media.id == MEDIA["id"]
    assert transport.bodies == [b"video"]
    # The default policy: 0.5 s doubling, less a jitter of half of it times random() = 0.5.
    assert sleeps.delays == [0.375, 0.75]


async def test_retries_stop_at_the_policy_max_attempts_with_a_redacted_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = FlakyConnect(failures=5)
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=3.0, jitter=0.0)
    async with httpx.AsyncClient(transport=transport) as client:
        with caplog.at_level(logging.WARNING), pytest.raises(TransportError) as caught:
            await upload_media(
                client,
                URL,
                ACCOUNT_QUERY,
                b"x",
                content_type="video/mp4",
                retry=policy,
                sleep=sleeps,
            )
    error = caught.value
    assert (transport.attempts, error.attempts, error.outcome_unknown) == (4, 4, False)
    assert sleeps.delays == [1.0, 2.0, 3.0]
    assert "ConnectError" in str(error)
    assert ACCOUNT_SECRET not in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None  # httpx's error (with the URL) is not reachable at all
    assert "retrying in 2.00 s (attempt 3 of 4)" in caplog.text
    assert ACCOUNT_SECRET not in caplog.text


async def test_no_retry_policy_makes_a_single_attempt() -> None:
    transport = FlakyConnect(failures=1)
    sleeps = Sleeps()
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(TransportError) as caught:
            await upload_media(
                client,
                URL,
                ACCOUNT_QUERY,
                b"x",
                content_type="video/mp4",
                retry=NO_RETRY,
                sleep=sleeps,
            )
    assert (transport.attempts, caught.value.attempts) == (1, 1)
    assert sleeps.delays == []


async def test_failure_after_the_body_was_read_is_never_retried(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = mock.post(URL).mock(side_effect=httpx.ConnectError("reset"))
    sleeps = Sleeps()
    with pytest.raises(TransportError) as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4", sleep=sleeps)
    assert route.call_count == 1
    assert sleeps.delays == []
    assert (caught.value.attempts, caught.value.outcome_unknown) == (1, True)


async def test_read_timeout_is_a_transport_error_with_unknown_outcome(
    mock: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="ReadTimeout") as caught:
        await upload_media(http, URL, ACCOUNT_QUERY, b"x", content_type="video/mp4")
    assert route.call_count == 1
    assert caught.value.outcome_unknown


async def test_unsupported_scheme_is_final_and_never_sent() -> None:
    sleeps = Sleeps()
    async with httpx.AsyncClient() as client:
        with pytest.raises(TransportError, match="UnsupportedProtocol") as caught:
            await upload_media(
                client,
                "ftp://app.pirsonal.com/api/upload",
                ACCOUNT_QUERY,
                b"x",
                content_type="video/mp4",
                sleep=sleeps,
            )
    assert (caught.value.attempts, caught.value.outcome_unknown) == (1, False)
    assert sleeps.delays == []
    assert caught.value.__context__ is None


# a real server


class UploadReceiver:
    """An ASGI app that records each upload's headers and whether its whole body arrived."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes, bool]] = []
        self.finished = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body, complete = b"", False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                complete = True
                break
        self.requests.append((headers, body, complete))
        self.finished.set()
        if complete:
            reply = json.dumps(OK_REPLY).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": reply})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[UploadReceiver, str]]:
    app = UploadReceiver()
    async with serve_asgi(app, lifespan="off") as base_url:
        yield app, f"{base_url}/api/upload"


async def test_real_server_gets_the_exact_body_without_chunked_encoding(
    receiver: tuple[UploadReceiver, str], tmp_path: Path
) -> None:
    app, url = receiver
    data = payload(5 * CHUNK_SIZE + 123)
    path = tmp_path / "clip.webm"
    path.write_bytes(data)
    async with httpx.AsyncClient() as client:
        media = await upload_media(client, url, ACCOUNT_QUERY, path, description="née")
    assert media.id == MEDIA["id"]
    [(headers, body, complete)] = app.requests
    assert complete
    assert body == data
    assert headers["content-length"] == str(len(data))
    assert "transfer-encoding" not in headers
    assert headers["content-type"] == "video/webm"
    assert headers["x-szn_description"] == headers["x-szn-description"] == "UTF-8''n%C3%A9e"


async def test_real_server_never_gets_a_complete_body_from_a_shrinking_file(
    receiver: tuple[UploadReceiver, str], tmp_path: Path
) -> None:
    app, url = receiver
    path = tmp_path / "recording.mp4"
    path.write_bytes(payload(4 * CHUNK_SIZE))

    def truncate(sent: int, total: int) -> None:
        os.truncate(path, 2 * CHUNK_SIZE)

    async with httpx.AsyncClient() as client:
        with pytest.raises(UploadSourceChanged):
            await upload_media(client, url, ACCOUNT_QUERY, path, progress=truncate)
    await asyncio.wait_for(app.finished.wait(), timeout=10)
    [(_, body, complete)] = app.requests
    assert not complete
    assert len(body) < 4 * CHUNK_SIZE


async def test_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    async with httpx.AsyncClient() as client:
        with pytest.raises(TransportError) as caught:
            await upload_media(
                client,
                f"http://127.0.0.1:{port}/api/upload",
                ACCOUNT_QUERY,
                b"x",
                content_type="video/mp4",
                sleep=sleeps,
            )
    assert (caught.value.attempts, caught.value.outcome_unknown) == (3, False)
    assert len(sleeps.delays) == 2
