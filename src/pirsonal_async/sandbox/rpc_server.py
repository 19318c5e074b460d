"""A generic Barrister JSON-RPC 2.0 server: envelopes, batches, contract checks and error codes.

It knows nothing of Pirsonal: give it an IDL JSON contract and, per request, one handler object
per interface whose methods are named like the IDL functions and take the positional params.
A handler refuses a call by raising `RpcFault`; anything else it raises becomes -32000 (logged).

Error codes (SPEC §4.5, with the choices where the reference servers disagree):
-32700 the body is not JSON (NaN and Infinity included) · -32600 a request that is not an
object, has no string `method`, or an empty batch (one error object, as the Python reference) ·
-32601 no dot in the method, unknown interface, unknown or unimplemented function · -32602
`params` that is not an array (a missing or null `params` counts as none), or params that fail
the contract · -32001 a result that fails the contract (strict: unknown keys too) · -32000 an
unexpected handler exception · -32600 a batch of more than `max_batch` calls (100) · -32003 a
reply past `max_reply_bytes` (16,000,000 for the whole body, a batch's replies together).
"""

from __future__ import annotations

import inspect
import json
import logging
import reprlib
from collections.abc import Callable, Mapping
from typing import Any

from pirsonal_async.contract import (
    IDL_METHOD,
    Contract,
    ContractViolation,
    Function,
    UnknownMethod,
)

logger = logging.getLogger("pirsonal_async.sandbox")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000
INVALID_RESPONSE = -32001
REPLY_TOO_LARGE = -32003
# Limits a public server needs (see RpcServer); generous for any real use of the API.
MAX_BATCH_CALLS = 100
MAX_REPLY_BYTES = 16_000_000
_EXCERPT = 80

# Called with "Interface.function" before the params are checked; raises RpcFault to refuse.
Guard = Callable[[str], None]


class RpcFault(Exception):
    """An error reply: application errors (positive codes) and the JSON-RPC codes alike."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def reply(self, request_id: Any) -> dict[str, Any]:
        """The JSON-RPC error reply to the request `request_id`."""
        return {"jsonrpc": "2.0", "id": request_id, "error": self.to_json()}


class RpcServer:
    """Dispatches JSON-RPC requests to handlers, checking params and results with the contract.

    A batch of more than `max_batch` calls is refused whole (-32600), nothing run. Replies are
    bounded by `max_reply_bytes`: a result that would take a reply past it is dropped for error
    -32003, and the calls of a batch after it are not run (also -32003, saying so), so the
    error replies add at most a few hundred bytes per call.
    """

    def __init__(
        self,
        idl: list[dict[str, Any]],
        *,
        max_batch: int = MAX_BATCH_CALLS,
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ) -> None:
        self.idl = idl
        self.contract = Contract(idl)
        self.max_batch = max_batch
        self.max_reply_bytes = max_reply_bytes

    async def handle_body(
        self, body: bytes, handlers: Mapping[str, object], guard: Guard | None = None
    ) -> bytes:
        """Answers a raw HTTP body with the raw reply body (ASCII JSON, like the reference):
        one response object, or a list of them for a batch."""
        try:
            request = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            fault = RpcFault(PARSE_ERROR, f"Unable to parse JSON: {_cut(body)}")
            return encode_reply(fault.reply(None))
        if not isinstance(request, list):
            reply = encode_reply(await self._reply(request, handlers, guard))
            return reply if len(reply) <= self.max_reply_bytes else self._dropped(request, reply)
        if not request:
            fault = RpcFault(INVALID_REQUEST, "Invalid Request. Empty batch.")
            return encode_reply(fault.reply(None))
        if len(request) > self.max_batch:
            message = f"Invalid Request. A batch of {len(request)} calls; at most {self.max_batch}."
            return encode_reply(RpcFault(INVALID_REQUEST, message).reply(None))
        replies: list[bytes] = []
        room: int | None = self.max_reply_bytes  # None once full: later calls are not run
        for item in request:
            if room is None:
                reply = self._too_large(item, "not run")
            else:
                reply = encode_reply(await self._reply(item, handlers, guard))
                if len(reply) > room:
                    reply, room = self._dropped(item, reply), None
                else:
                    room -= len(reply)
            replies.append(reply)
        return b"[" + b",".join(replies) + b"]"

    def _dropped(self, request: object, reply: bytes) -> bytes:
        logger.warning("a reply of %d bytes was dropped: over the limit", len(reply))
        return self._too_large(request, "the call ran, its result is dropped")

    def _too_large(self, request: object, outcome: str) -> bytes:
        message = f"Server error. The reply would be over {self.max_reply_bytes} bytes: {outcome}"
        return encode_reply(RpcFault(REPLY_TOO_LARGE, message).reply(_request_id(request)))

    async def _reply(
        self, request: object, handlers: Mapping[str, object], guard: Guard | None
    ) -> dict[str, Any]:
        if not isinstance(request, dict):
            message = f"Invalid Request. {_cut(request)} is not an object."
            return RpcFault(INVALID_REQUEST, message).reply(None)
        request_id = request.get("id")
        method = request.get("method")
        try:
            result = await self._call(method, request.get("params"), handlers, guard)
        except RpcFault as fault:
            logger.info("%.80s -> error %d", method, fault.code)
            return fault.reply(request_id)
        logger.info("%.80s -> ok", method)
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    async def _call(
        self, method: object, params: object, handlers: Mapping[str, object], guard: Guard | None
    ) -> Any:
        if not isinstance(method, str):
            raise RpcFault(INVALID_REQUEST, "Invalid Request. No 'method' string.")
        if method == IDL_METHOD:
            return self.idl
        function = self._function(method)
        implementation = getattr(handlers.get(function.interface), function.name, None)
        if not callable(implementation):
            raise RpcFault(METHOD_NOT_FOUND, f"Function '{method}' is not implemented")
        if guard is not None:
            guard(method)
        args = self._check_params(function, params)
        try:
            result = implementation(*args)
            if inspect.isawaitable(result):
                result = await result
        except RpcFault:
            raise
        except Exception:
            logger.exception("%s failed", method)
            raise RpcFault(SERVER_ERROR, "Server error. Check logs for details.") from None
        self._check_result(function, result)
        return result

    def _function(self, method: str) -> Function:
        try:
            return self.contract.function(method)
        except UnknownMethod as unknown:
            raise RpcFault(METHOD_NOT_FOUND, f"Method not found: {unknown}") from None

    def _check_params(self, function: Function, params: object) -> list[Any]:
        try:
            function.validate_params(params)
        except ContractViolation as violation:
            message = f"Function '{function.method}' invalid params: {violation}"
            raise RpcFault(INVALID_PARAMS, message) from None
        # validate_params accepted it, so it is a list or None (no params).
        return params if isinstance(params, list) else []

    def _check_result(self, function: Function, result: Any) -> None:
        try:
            function.validate_result(result, strict=True)
        except ContractViolation as violation:
            logger.error("%s returned an invalid result: %s", function.method, violation)
            message = f"Function '{function.method}' invalid response: {violation}"
            raise RpcFault(INVALID_RESPONSE, message) from None


def _request_id(request: object) -> Any:
    return request.get("id") if isinstance(request, dict) else None


def encode_reply(reply: dict[str, Any]) -> bytes:
    """A reply as an HTTP body: compact ASCII JSON, like the reference server's."""
    return json.dumps(reply, separators=(",", ":")).encode("ascii")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _cut(value: object) -> str:
    """A short, printable excerpt of a value, for error messages and logs."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else reprlib.repr(value)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
