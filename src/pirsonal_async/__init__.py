"""Asyncio client for the Pirsonal Personalized Videos API."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Every error class is exported; errors.py is light, so it loads at once.
from pirsonal_async import errors as _errors
from pirsonal_async.errors import *  # noqa: F403

if TYPE_CHECKING:
    from pirsonal_async.client import PirsonalClient
    from pirsonal_async.generated import DecodeError, UnknownEnumValue
    from pirsonal_async.retry import NO_RETRY, RetryPolicy
    from pirsonal_async.rpc import RpcClient
    from pirsonal_async.uploads import UploadSourceChanged
    from pirsonal_async.waiting import RenderFailedError, VideoWaiters, WaitPolicy
    from pirsonal_async.webhooks import WebhookError, parse_webhook, webhook_app

__all__ = [
    *_errors.__all__,
    "NO_RETRY",
    "DecodeError",
    "PirsonalClient",
    "RenderFailedError",
    "RetryPolicy",
    "RpcClient",
    "UnknownEnumValue",
    "UploadSourceChanged",
    "VideoWaiters",
    "WaitPolicy",
    "WebhookError",
    "parse_webhook",
    "webhook_app",
]

# Exports are imported on first use, so that importing a submodule (the code generator uses
# the RPC layer; the pytest plugin loads in every test run) never loads the generated bindings
# it may be about to rewrite. The modules that define them, lightest first:
_DEFINED_IN = ("retry", "rpc", "generated", "uploads", "waiting", "webhooks", "client")


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
