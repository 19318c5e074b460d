"""The one thing generated stubs need from the runtime: something that performs a call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Caller(Protocol):
    """Performs a JSON-RPC call; implemented by `RpcClient` (sends now) and a batch (sends later).

    `params` are the encoded arguments: generated types become JSON, and a value of the wrong
    type is passed through as given, for the caller's contract check to reject with its path.
    `decode` turns the JSON result into the typed value.
    The returned awaitable yields `decode(result)` or raises the call's error.
    """

    def request(
        self, method: str, params: list[Any], decode: Callable[[Any], T]
    ) -> Awaitable[T]: ...
