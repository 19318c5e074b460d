"""Asyncio client for the Pirsonal Personalized Videos API."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pirsonal_async.client import PirsonalClient
    from pirsonal_async.errors import (
        AuthError,
        ConflictError,
        HttpStatusError,
        InvalidInputError,
        JsonRpcError,
        LimitError,
        NotFoundError,
        PirsonalAsyncError,
        PirsonalError,
        PirsonalServerError,
        ProtocolError,
        RequestValidationError,
        RpcError,
        TransportError,
    )
    from pirsonal_async.generated import DecodeError, UnknownEnumValue
    from pirsonal_async.retry import NO_RETRY, RetryPolicy
    from pirsonal_async.rpc import RpcClient
    from pirsonal_async.waiting import RenderFailedError, VideoWaiters, WaitPolicy
    from pirsonal_async.webhooks import WebhookError, parse_webhook, webhook_app

__all__ = [
    "NO_RETRY",
    "AuthError",
    "ConflictError",
    "DecodeError",
    "HttpStatusError",
    "InvalidInputError",
    "JsonRpcError",
    "LimitError",
    "NotFoundError",
    "PirsonalAsyncError",
    "PirsonalClient",
    "PirsonalError",
    "PirsonalServerError",
    "ProtocolError",
    "RenderFailedError",
    "RequestValidationError",
    "RetryPolicy",
    "RpcClient",
    "RpcError",
    "TransportError",
    "UnknownEnumValue",
    "VideoWaiters",
    "WaitPolicy",
    "WebhookError",
    "parse_webhook",
    "webhook_app",
]

# Exports are imported on first use, so that importing a submodule (the code generator uses
# the RPC layer; the pytest plugin loads in every test run) never loads the generated bindings
# it may be about to rewrite. The modules that define them, lightest first:
_DEFINED_IN = ("errors", "retry", "rpc", "generated", "waiting", "webhooks", "client")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _DEFINED_IN:
            namespace = vars(importlib.import_module(f"pirsonal_async.{module}"))
            if name in namespace:
                globals()[name] = namespace[name]  # later lookups skip __getattr__
                return namespace[name]
    raise AttributeError(f"module 'pirsonal_async' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
