"""Helpers for the sandbox tests: sample templates and videos, raw JSON-RPC calls."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx

ACCOUNT_ID = "5331000000000000000000aa"
ACCOUNT_SECRET = "account-secret-canary"
NOW = datetime(2014, 3, 25, 11, 21, 0, 47000, tzinfo=timezone.utc)
PROFILE = "MP4_H264_AAC_640x480_24fps"
SCRIPT = json.dumps(
    [
        {"video": {"id": "clip", "play": 0, "duration": 2000}},
        {"text": {"id": "name", "play": 500, "duration": 1000}},
        {"rectangle": {"id": "frame"}},
    ]
)


def template_spec(**changes: Any) -> dict[str, Any]:
    """A valid TemplateNew whose script takes a video `clip` and a text `name`."""
    spec: dict[str, Any] = {
        "name": "Welcome",
        "description": "A welcome video",
        "inputScripts": [SCRIPT],
        "outProfiles": [PROFILE],
        "videoOutput": {"type": "sezion"},
    }
    spec.update(changes)
    return spec


def video_spec(media_id: str, **changes: Any) -> dict[str, Any]:
    """A valid Video input for `template_spec()`'s script, using an uploaded video media."""
    spec: dict[str, Any] = {
        "name": "Hi Ana",
        "description": "For Ana",
        "data": "crm-42",
        "inputMedias": [
            {"inputID": "clip", "type": "video", "sezionID": media_id},
            {"inputID": "name", "type": "text", "text": "Ana"},
        ],
    }
    spec.update(changes)
    return spec


class Webhooks:
    """An in-memory webhook receiver: records each request, answers with `status_code`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.status_code = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status_code)


async def no_wait(seconds: float) -> None:
    """Stands in for asyncio.sleep: rendering proceeds without real delays."""


def account_query() -> dict[str, str]:
    return {"accountID": ACCOUNT_ID, "accountSecret": ACCOUNT_SECRET}


async def rpc(
    http: httpx.AsyncClient, method: str, *params: Any, query: dict[str, str] | None = None
) -> Any:
    """Posts one JSON-RPC call and returns the whole reply object (checked to be HTTP 200 JSON)."""
    body = {"jsonrpc": "2.0", "id": "1", "method": method, "params": list(params)}
    response = await http.post(
        "/api", params=account_query() if query is None else query, json=body
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def call(http: httpx.AsyncClient, method: str, *params: Any) -> Any:
    """Calls `SezionAPI.<method>` with the account credentials and returns its result."""
    reply = await rpc(http, f"SezionAPI.{method}", *params)
    assert "error" not in reply, reply
    return reply["result"]


# Webhook URLs that registration refuses, with the problem it names; none may echo the token.
BAD_WEBHOOK_URLS = {
    "http://[::1/hook?token=s3cr3t": "Invalid port: ':1'",
    "http://hook.test/\x00?token=s3cr3t": (
        "Invalid non-printable ASCII character in URL, '\\x00' at position 17."
    ),
    "http://xn--/hook?token=s3cr3t": "Malformed A-label, no Punycode eligible content found",
    "ftp://hook.test/hook?token=s3cr3t": "not an absolute http:// or https:// URL",
    "/hook?token=s3cr3t": "not an absolute http:// or https:// URL",
    "http:///hook?token=s3cr3t": "not an absolute http:// or https:// URL",
}
