"""Asyncio client for the Pirsonal Personalized Videos API."""

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
from pirsonal_async.generated import DecodeError
from pirsonal_async.retry import NO_RETRY, RetryPolicy
from pirsonal_async.rpc import RpcClient
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
    "RequestValidationError",
    "RetryPolicy",
    "RpcClient",
    "RpcError",
    "TransportError",
    "WebhookError",
    "parse_webhook",
    "webhook_app",
]
