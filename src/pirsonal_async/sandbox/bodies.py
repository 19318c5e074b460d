"""Reading request bodies as a public server must: incrementally, and never past a cap."""

from __future__ import annotations

from starlette.requests import Request

from pirsonal_async.sandbox.rpc_server import INVALID_REQUEST, RpcFault

# JSON-RPC and control bodies: a batch of 100 video creations takes well under 100 KB.
MAX_BODY_BYTES = 1_000_000
BODY_TOO_LARGE = RpcFault(
    INVALID_REQUEST, f"Invalid Request. The body is over {MAX_BODY_BYTES} bytes."
)
# Sent with a refusal that left the body unread: the connection cannot serve another request.
CLOSE = {"Connection": "close"}


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None as soon as it is known to be over `limit` bytes: from its
    Content-Length before a byte is read, else once the bytes read pass it."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
