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
unexpected handler exception.
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


class RpcServer:
    """Dispatches JSON-RPC requests to handlers, checking params and results with the contract."""

    def __init__(self, idl: list[dict[str, Any]]) -> None:
        self.idl = idl
        self.contract = Contract(idl)

    async def handle_body(
        self, body: bytes, handlers: Mapping[str, object], guard: Guard | None = None
    ) -> bytes:
        """Answers a raw HTTP body with the raw reply body (ASCII JSON, like the reference)."""
        reply = await self.handle(body, handlers, guard)
        return json.dumps(reply, separators=(",", ":")).encode("ascii")

    async def handle(
        self, body: bytes, handlers: Mapping[str, object], guard: Guard | None = None
    ) -> Any:
        """The reply for a body: one response object, or a list of them for a batch."""
        try:
            request = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return _error_reply(None, RpcFault(PARSE_ERROR, f"Unable to parse JSON: {_cut(body)}"))
        if not isinstance(request, list):
            return await self._reply(request, handlers, guard)
        if not request:
            return _error_reply(None, RpcFault(INVALID_REQUEST, "Invalid Request. Empty batch."))
        return [await self._reply(item, handlers, guard) for item in request]

    async def _reply(
        self, request: object, handlers: Mapping[str, object], guard: Guard | None
    ) -> dict[str, Any]:
        if not isinstance(request, dict):
            message = f"Invalid Request. {_cut(request)} is not an object."
            return _error_reply(None, RpcFault(INVALID_REQUEST, message))
        request_id = request.get("id")
        method = request.get("method")
        try:
            result = await self._call(method, request.get("params"), handlers, guard)
        except RpcFault as fault:
            logger.info("%.80s -> error %d", method, fault.code)
            return _error_reply(request_id, fault)
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


def _error_reply(request_id: Any, fault: RpcFault) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": fault.to_json()}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _cut(value: object) -> str:
    """A short, printable excerpt of a value, for error messages and logs."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else reprlib.repr(value)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
