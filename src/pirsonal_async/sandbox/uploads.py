"""`POST /api/upload`: raw-body media uploads with Pirsonal's header rules, streamed not buffered.

Checks, in order, each answered as `{"error": {"code", "message"}, "media": null}`:
credentials (1015, 1018; template-scoped uploads are stored with `temp: true`) · Content-Type
`video/*`, `image/*` or `audio/*` (1020) · Content-Length present, an integer, 1..50,000,000
(1019, also for 0 and for too large: the table has no "too large" code) · `X-SZN-Filename`
≤ 200 and `X-SZN-Description` (or `X-SZN_DESCRIPTION`) ≤ 1000 characters after decoding
`UTF-8''`-prefixed percent-encoded values, RFC 8187 style (1029 when too long or badly encoded)
· the media storage quota (2001) · a body whose length differs from Content-Length (1019, with
HTTP 400: the request itself is broken). Everything else is answered with HTTP 200.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import unquote

from attrs import frozen
from starlette.requests import Request
from starlette.responses import JSONResponse

from pirsonal_async.sandbox import faults
from pirsonal_async.sandbox.rpc_server import RpcFault
from pirsonal_async.sandbox.state import SandboxState

MAX_UPLOAD_BYTES = 50_000_000
MAX_FILENAME = 200
MAX_DESCRIPTION = 1000
MEDIA_KINDS = frozenset({"video", "image", "audio"})
FILENAME_HEADERS = ("x-szn-filename",)
# Clients send the hyphen spelling; the docs spell it with an underscore.
DESCRIPTION_HEADERS = ("x-szn-description", "x-szn_description")
RFC8187_PREFIX = "utf-8''"
DEFAULT_NAME = "untitled"


@frozen
class UploadPlan:
    """What the headers promise: checked before a byte of the body is read."""

    size: int
    kind: str
    name: str
    description: str


def plan_upload(headers: Mapping[str, str]) -> UploadPlan:
    """Applies the header rules; raises the Pirsonal fault for the first one broken."""
    kind, slash, subtype = headers.get("content-type", "").partition(";")[0].strip().partition("/")
    if kind.lower() not in MEDIA_KINDS or not slash or not subtype:
        raise faults.INVALID_CONTENT_TYPE.fault("expected video/*, image/* or audio/*")
    size = _content_length(headers.get("content-length"))
    name = _text_header(headers, FILENAME_HEADERS, MAX_FILENAME, "filename") or DEFAULT_NAME
    description = _text_header(headers, DESCRIPTION_HEADERS, MAX_DESCRIPTION, "description")
    return UploadPlan(size=size, kind=kind.lower(), name=name, description=description)


class BrokenBody(Exception):
    """The body does not match its Content-Length."""

    def __init__(self, fault: RpcFault) -> None:
        super().__init__(fault.message)
        self.fault = fault


async def upload_endpoint(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    try:
        principal = state.authenticate(request.query_params)
        plan = plan_upload(request.headers)
        state.check_media_quota(plan.size)
        digest = await _receive(request, plan.size)
        media = state.media_add(
            name=plan.name,
            description=plan.description,
            size=plan.size,
            media_type=plan.kind,
            temp=principal.template_id is not None,
            sha256=digest,
        )
    except BrokenBody as broken:
        return _error_response(broken.fault, status_code=400)
    except RpcFault as fault:
        return _error_response(fault)
    return JSONResponse({"error": None, "media": media})


async def _receive(request: Request, size: int) -> str:
    """Streams the body, keeping only its length and SHA-256; stops once it overruns `size`."""
    digest = hashlib.sha256()
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > size:
            raise BrokenBody(faults.NO_SIZE.fault(f"the body is longer than {size} bytes"))
        digest.update(chunk)
    if received != size:
        raise BrokenBody(faults.NO_SIZE.fault(f"the body has {received} of {size} bytes"))
    return digest.hexdigest()


def _content_length(value: str | None) -> int:
    if value is None:
        raise faults.NO_SIZE.fault()
    digits = value.isascii() and value.isdigit() and len(value) <= len(str(MAX_UPLOAD_BYTES))
    if not digits or not 1 <= int(value) <= MAX_UPLOAD_BYTES:
        raise faults.NO_SIZE.fault(f"must be 1..{MAX_UPLOAD_BYTES} bytes, got {value[:20]!r}")
    return int(value)


def _text_header(headers: Mapping[str, str], names: tuple[str, ...], limit: int, label: str) -> str:
    raw = next((headers[name] for name in names if name in headers), "")
    text = _decode_header(raw, label)
    if len(text) > limit:
        raise faults.BAD_INPUT_MEDIA.fault(f"{label} longer than {limit} characters")
    return text


def _decode_header(raw: str, label: str) -> str:
    """Undoes `UTF-8''` percent-encoding; other values were sent as raw (UTF-8 or Latin-1) bytes."""
    if raw[: len(RFC8187_PREFIX)].lower() == RFC8187_PREFIX:
        try:
            return unquote(raw[len(RFC8187_PREFIX) :], encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise faults.BAD_INPUT_MEDIA.fault(f"{label} is not valid UTF-8") from None
    # Starlette decodes header bytes as Latin-1; recover UTF-8 text sent raw.
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _error_response(fault: RpcFault, status_code: int = 200) -> JSONResponse:
    error = {"code": fault.code, "message": fault.message}
    return JSONResponse({"error": error, "media": None}, status_code=status_code)
