"""The pure halves of a JSON-RPC call: build the request envelope, read the reply envelope."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pirsonal_async._redact import Redactor
from pirsonal_async.contract import IDL_METHOD, Contract, ContractViolation
from pirsonal_async.errors import ProtocolError, RequestValidationError, RpcError, error_from_reply

_NO_REDACTION = Redactor()


def to_request(
    method: str,
    params: list[Any],
    request_id: str,
    contract: Contract | None,
    redactor: Redactor = _NO_REDACTION,
) -> dict[str, Any]:
    """The request envelope; checks `params` against the contract first when one is given."""
    if not isinstance(params, list):
        raise RequestValidationError(
            f"params must be a list of positional values, got {type(params).__name__}",
            method=method,
        )
    if contract is not None and method != IDL_METHOD:
        violation = _violation(contract, method, params)
        if violation is not None:
            raise RequestValidationError(
                redactor(violation.reason),
                method=method,
                param=violation.param,
                path=redactor(violation.path),
            )
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def _violation(contract: Contract, method: str, params: list[Any]) -> ContractViolation | None:
    try:
        contract.validate_params(method, params)
    except ContractViolation as violation:
        return violation
    return None


def encode(envelope: dict[str, Any]) -> bytes:
    """The request body as the reference sends it: compact, non-ASCII escaped, no NaN."""
    try:
        return json.dumps(envelope, separators=(",", ":"), allow_nan=False).encode("ascii")
    except (TypeError, ValueError, RecursionError):
        pass
    raise RequestValidationError(_unencodable(envelope["params"]), method=envelope["method"])


def _unencodable(params: list[Any]) -> str:
    for index, value in enumerate(params):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            return f"param #{index} is not JSON-serialisable: {error}"
    return "params are not JSON-serialisable"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_body(body: bytes, method: str | None, redactor: Redactor = _NO_REDACTION) -> Any:
    """The JSON value of a reply body; a ProtocolError with a redacted excerpt if it is not JSON."""
    if not body.strip():
        raise ProtocolError("empty reply body", method=method)
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        reason = str(error)
    # Raised outside the except block so the decoder's error (holding the body) is not chained.
    raise ProtocolError(f"reply is not JSON ({reason}): {redactor.excerpt(body)}", method=method)


def to_result(
    reply: Any,
    method: str,
    request_id: str,
    contract: Contract | None,
    *,
    strict: bool = False,
    redactor: Redactor = _NO_REDACTION,
) -> Any:
    """The result of a reply envelope, after envelope and contract checks.

    Raises the server's error as an `RpcError` subclass, and a `ProtocolError` when the
    envelope is malformed or the result breaks the contract.
    """
    if not isinstance(reply, dict):
        raise ProtocolError(f"reply is a JSON {_kind(reply)}, not an object", method=method)
    if reply.get("jsonrpc") != "2.0":
        shown = redactor.excerpt(json.dumps(reply.get("jsonrpc")), 40)
        raise ProtocolError(f'reply "jsonrpc" is {shown}, not "2.0"', method=method)
    has_result, has_error = "result" in reply, "error" in reply
    if has_result == has_error:
        which = "both" if has_result else "neither"
        raise ProtocolError(f'reply has {which} of "result" and "error"', method=method)
    reply_id = reply.get("id")
    # A server that could not read the id answers an error with id null (JSON-RPC 2.0 §5).
    if reply_id != request_id and not (has_error and reply_id is None):
        shown = redactor.excerpt(json.dumps(reply_id), 60)
        raise ProtocolError(
            f"reply id {shown} does not match request id {request_id!r}", method=method
        )
    if has_error:
        raise decode_error(reply["error"], method, redactor)
    result = reply["result"]
    if contract is not None and method != IDL_METHOD:
        violation = _result_violation(contract, method, result, strict)
        if violation is not None:
            raise ProtocolError(f"invalid result: {redactor(str(violation))}", method=method)
    return result


def _result_violation(
    contract: Contract, method: str, result: Any, strict: bool
) -> ContractViolation | None:
    try:
        contract.validate_result(method, result, strict=strict)
    except ContractViolation as violation:
        return violation
    return None


def decode_error(error: Any, method: str | None, redactor: Redactor) -> RpcError | ProtocolError:
    if not isinstance(error, dict):
        return ProtocolError(
            f'reply "error" is a JSON {_kind(error)}, not an object', method=method
        )
    code, message, data = error.get("code"), error.get("message"), error.get("data")
    if code is None:
        # Pirsonal documents an error whose code (and message) are undefined.
        text = (
            message if isinstance(message, str) else "the server reported an error without a code"
        )
        return error_from_reply(None, redactor(text), redactor.data(data), method)
    if not isinstance(code, int) or isinstance(code, bool):
        return ProtocolError(
            f'reply error "code" is a JSON {_kind(code)}, not an integer', method=method
        )
    if not isinstance(message, str):
        return ProtocolError(
            f'reply error {code} has a {_kind(message)} "message", not a string', method=method
        )
    return error_from_reply(code, redactor(message), redactor.data(data), method)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def match_replies(
    replies: Any, calls: Sequence[tuple[str, str]], redactor: Redactor = _NO_REDACTION
) -> tuple[list[dict[str, Any] | ProtocolError], int]:
    """Pairs a batch reply with the calls, given as (request id, method), in call order.

    Each position holds its reply object, or a ProtocolError when the reply for that id is
    missing or duplicated. Also returns how many replies matched no call: they cannot be
    attributed to one, so the caller only reports them. A single error object instead of an
    array (a server rejecting the whole batch) is raised as that error.
    """
    if isinstance(replies, dict) and "error" in replies:
        raise decode_error(replies["error"], None, redactor)
    if not isinstance(replies, list):
        raise ProtocolError(f"batch reply is a JSON {_kind(replies)}, not an array", method=None)
    wanted = {request_id for request_id, _ in calls}
    by_id: dict[str, list[dict[str, Any]]] = {}
    unmatched = 0
    for reply in replies:
        reply_id = reply.get("id") if isinstance(reply, dict) else None
        if isinstance(reply_id, str) and reply_id in wanted:
            by_id.setdefault(reply_id, []).append(reply)
        else:
            unmatched += 1
    paired: list[dict[str, Any] | ProtocolError] = []
    for request_id, method in calls:
        found = by_id.get(request_id, [])
        if len(found) == 1:
            paired.append(found[0])
        else:
            problem = f"{len(found)} replies" if found else "no reply"
            paired.append(
                ProtocolError(f"batch reply has {problem} for id {request_id!r}", method=method)
            )
    return paired, unmatched
