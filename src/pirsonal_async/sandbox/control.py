"""Sandbox-only endpoints: webhook registration and the failed-delivery notifications.

Pirsonal manages webhooks per template via the API or its web interface, but its doc does not
publish the webhook methods' names, so the contract leaves them out and the sandbox offers
`POST /sandbox/webhooks` with `{"url": ..., "templateID": ...}` (templateID optional: omit
it for every template), `GET /sandbox/webhooks` and `GET /sandbox/notifications`, all with the
account credentials in the query string like `/api`. Replies are `{"error": null, ...}`, or
`{"error": {"code", "message"}}` (HTTP 400 with code -32602 for a malformed body or URL, 413
with -32600 for a body over 1,000,000 bytes, left unread).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from pirsonal_async.sandbox import faults
from pirsonal_async.sandbox.bodies import BODY_TOO_LARGE, CLOSE, read_body
from pirsonal_async.sandbox.rpc_server import INVALID_PARAMS, RpcFault
from pirsonal_async.sandbox.state import SandboxState, check_webhook_url


async def add_webhook(request: Request) -> JSONResponse:
    state = _account_state(request)
    if isinstance(state, JSONResponse):
        return state
    body = await read_body(request)
    if body is None:
        return JSONResponse({"error": BODY_TOO_LARGE.to_json()}, status_code=413, headers=CLOSE)
    try:
        url, template_id = _webhook_spec(body)
        state.add_webhook(url, template_id)
    except RpcFault as fault:
        return _error(fault, status_code=400 if fault.code == INVALID_PARAMS else 200)
    return JSONResponse({"error": None, "webhooks": _webhooks(state)})


async def list_webhooks(request: Request) -> JSONResponse:
    state = _account_state(request)
    if isinstance(state, JSONResponse):
        return state
    return JSONResponse({"error": None, "webhooks": _webhooks(state)})


async def list_notifications(request: Request) -> JSONResponse:
    state = _account_state(request)
    if isinstance(state, JSONResponse):
        return state
    notifications = [
        {
            "videoID": d.video_id,
            "templateID": d.template_id,
            "url": d.url,
            "statusCode": d.status_code,
            "error": d.error,
        }
        for d in state.notifications
    ]
    return JSONResponse({"error": None, "notifications": notifications})


def _account_state(request: Request) -> SandboxState | JSONResponse:
    """The state if the query holds the account's own credentials, else the error reply."""
    state: SandboxState = request.app.state.sandbox
    try:
        if state.authenticate(request.query_params).template_id is not None:
            raise faults.AUTHENTICATION_ERROR.fault("webhooks need the account secret")
    except RpcFault as fault:
        return _error(fault)
    return state


def _webhook_spec(body: bytes) -> tuple[str, str | None]:
    try:
        spec = json.loads(body)
    except ValueError:
        spec = None
    if not isinstance(spec, dict):
        raise RpcFault(INVALID_PARAMS, 'expected a JSON object {"url": ..., "templateID": ...}')
    url, template_id = spec.get("url"), spec.get("templateID")
    if not isinstance(url, str):
        raise RpcFault(INVALID_PARAMS, "'url' must be a string")
    try:
        check_webhook_url(url)
    except ValueError as exc:
        raise RpcFault(INVALID_PARAMS, f"'url': {exc}") from None
    if template_id is not None and not isinstance(template_id, str):
        raise RpcFault(INVALID_PARAMS, "'templateID' must be a string")
    return url, template_id


def _webhooks(state: SandboxState) -> list[dict[str, Any]]:
    return [
        {"templateID": template_id, "url": url}
        for template_id, urls in state.webhooks.items()
        for url in urls
    ]


def _error(fault: RpcFault, status_code: int = 200) -> JSONResponse:
    error = {"code": fault.code, "message": fault.message}
    return JSONResponse({"error": error}, status_code=status_code)
