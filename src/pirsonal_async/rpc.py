"""`RpcClient`: calls and batches to any Barrister JSON-RPC server over one pooled httpx client."""

from __future__ import annotations

import asyncio
import copy
import enum
import ipaddress
import itertools
import logging
import platform
import random as random_module
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from importlib import metadata
from types import EllipsisType, TracebackType
from typing import Any, Generic, TypeVar

import httpx

from pirsonal_async._aiohttp import AiohttpEngine
from pirsonal_async._envelope import encode, match_replies, parse_body, to_request, to_result
from pirsonal_async._http import (
    Body,
    Deadline,
    Engine,
    Post,
    Reply,
    Sleep,
    TimeoutTypes,
    send,
    status_error,
)
from pirsonal_async._httpx import HttpxEngine
from pirsonal_async._redact import Redactor, guard_logs, is_secret_name
from pirsonal_async.contract import IDL_METHOD, Contract
from pirsonal_async.errors import (
    BatchNotSentError,
    ClientClosedError,
    PirsonalAsyncError,
    ProtocolError,
    RpcError,
)
from pirsonal_async.retry import RetryPolicy

T = TypeVar("T")

logger = logging.getLogger("pirsonal_async")
# An application that configured no logging sees nothing from the library on stderr.
logger.addHandler(logging.NullHandler())

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_RETRY = RetryPolicy()
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


def _user_agent() -> str:
    try:
        version = metadata.version("pirsonal-async")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "0+unknown"
    return f"pirsonal-async/{version} python/{platform.python_version()}"


USER_AGENT = _user_agent()
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
# How much of a non-200 body is read, for the error's excerpt.
_ERROR_BODY_BYTES = 8192
_LOGGED_BODY_CHARS = 10_000


def _identity(value: Any) -> Any:
    return value


class RpcClient:
    """A Barrister JSON-RPC 2.0 client for one endpoint.

    `params` are query parameters added to every request (Pirsonal's credentials); any whose
    name contains "secret", "password" or "token" (any case), and every value in `secrets`, is
    kept out of logs, reprs and errors. With a `contract` (a `Contract` or its IDL JSON list),
    params are checked before sending and results after receiving; unknown keys and enum values
    in results are allowed unless `strict`. Request ids are "1", "2", ... per client.

    Requests go through aiohttp, or through `http_client` when one is passed (it is used as is
    and left open by `aclose()`). `timeout` bounds each attempt: a number of seconds for the
    whole attempt, or an `httpx.Timeout` (its connect and read limits apply, and the attempt
    is bounded by the largest of its values). `headers` are sent with every request (a
    `User-Agent` given there wins over the library's). `sleep` and `random` are the retry
    delay's sleep and jitter source (replace them in tests).
    """

    def __init__(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        http_client: httpx.AsyncClient | None = None,
        contract: Contract | list[Any] | None = None,
        validate_requests: bool = True,
        validate_responses: bool = True,
        strict: bool = False,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        headers: Mapping[str, str] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        log_bodies: bool = False,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        query = dict(params or {})
        in_params = [value for name, value in query.items() if is_secret_name(name)]
        self._redactor = Redactor([*secrets, *in_params])
        base = self._parse_url(url)
        if max_response_bytes < 1:
            raise ValueError(f"max_response_bytes must be >= 1, got {max_response_bytes}")
        self._timeout = timeout
        self._deadline = Deadline.of(timeout)
        in_url = [value for name, value in base.params.items() if is_secret_name(name)]
        self._redactor.add([*in_url, base.password or ""])
        # The engines log URLs and headers, where a server may echo a secret: the log filter
        # masks these values until this client is closed or collected.
        self._unguard_logs = guard_logs(self, self._redactor.secrets)
        self._url = base.copy_merge_params(query)
        self._url_text = str(self._url)
        self._engine: Engine
        if http_client is None:
            # A loopback server (a sandbox, a test) is never reached through a proxy.
            self._engine = AiohttpEngine(trust_env=not _is_loopback(base.host))
        else:
            self._engine = HttpxEngine(http_client)
        self._owns_engine = True
        self._headers = {"User-Agent": USER_AGENT, **_HEADERS, **_checked(headers or {})}
        if isinstance(contract, list):
            contract = Contract(contract)
        self.contract: Contract | None = contract
        self._request_contract = contract if validate_requests else None
        self._response_contract = contract if validate_responses else None
        self._strict = strict
        self._retry = retry
        self._max_response_bytes = max_response_bytes
        self._log_bodies = log_bodies
        self._sleep = sleep
        self._random = random
        self._ids = itertools.count(1)
        self._closed = False

    def __repr__(self) -> str:
        return f"RpcClient({self._redactor(str(self._url))!r})"

    def _parse_url(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = None
        # Raised outside the except block: httpx's error may quote the URL.
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            shown = self._redactor(url)
            raise ValueError(f"RpcClient url must be an absolute http(s) URL, got {shown!r}")
        return parsed

    @property
    def engine(self) -> Engine:
        """What sends this client's requests (shared with uploads and `with_options` copies)."""
        return self._engine

    @property
    def timeout(self) -> TimeoutTypes:
        """The timeout of each attempt, as given."""
        return self._timeout

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers sent with every request."""
        return self._headers

    @property
    def redactor(self) -> Redactor:
        """Masks this client's secrets in text."""
        return self._redactor

    @property
    def is_closed(self) -> bool:
        return self._closed or getattr(self._engine, "closed", False)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | EllipsisType = ...,
        retry: RetryPolicy | EllipsisType = ...,
        validate: bool | EllipsisType = ...,
    ) -> RpcClient:
        """A client for the same endpoint and connection pool with other options; closing it
        leaves the pool open (the original client owns it). `validate` switches both the
        params' and the results' contract checks."""
        sibling = copy.copy(self)
        sibling._owns_engine = False
        # Registered for its own life, which may outlast the original's.
        sibling._unguard_logs = guard_logs(sibling, sibling._redactor.secrets)
        if timeout is not ...:
            sibling._timeout, sibling._deadline = timeout, Deadline.of(timeout)
        if retry is not ...:
            sibling._retry = retry
        if validate is not ...:
            checked = self.contract if validate else None
            sibling._request_contract = sibling._response_contract = checked
        return sibling

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the connection pool if this client opened it; unregisters its log secrets.

        An `http_client` passed in is left open. Calls made after this raise
        `ClientClosedError`."""
        self._unguard_logs()
        self._closed = True
        if self._owns_engine:
            await self._engine.aclose()

    def ensure_open(self) -> None:
        """Raises `ClientClosedError` once the client (or the pool it shares) is closed."""
        if self.is_closed:
            raise ClientClosedError("the client is closed; make a new one")

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        """Calls `Interface.function` with positional params; returns the JSON result."""
        return await self.request(method, [] if params is None else params, _identity)

    async def request(self, method: str, params: list[Any], decode: Callable[[Any], T]) -> T:
        """The `Caller` protocol: calls now and returns `decode(result)`."""
        self.ensure_open()
        request_id = str(next(self._ids))
        envelope = to_request(method, params, request_id, self._request_contract, self._redactor)
        body = encode(envelope)
        started = time.perf_counter()
        try:
            reply_body = await self._exchange(body, method, method)
            reply = parse_body(reply_body, method, self._redactor)
            result = to_result(
                reply,
                method,
                request_id,
                self._response_contract,
                strict=self._strict,
                redactor=self._redactor,
            )
            value = self._decode(decode, result, method)
        except PirsonalAsyncError as error:
            self._log_failure(f"{method} id={request_id}", started, error)
            raise
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s id=%s ok in %.1f ms", method, request_id, _elapsed_ms(started))
        return value

    def batch(self) -> Batch:
        """Calls queued on the batch go out as one HTTP request when its `async with` exits."""
        self.ensure_open()
        return Batch(self)

    async def fetch_contract(self) -> list[Any]:
        """The server's contract: the IDL JSON list returned by `barrister-idl`."""
        return await self.request(IDL_METHOD, [], _idl_list)

    def _queue(
        self, method: str, params: list[Any], decode: Callable[[Any], T], batch: Batch
    ) -> _Queued[T]:
        request_id = str(next(self._ids))
        envelope = to_request(method, params, request_id, self._request_contract, self._redactor)
        future: BatchFuture[T] = BatchFuture(batch, loop=asyncio.get_running_loop())
        return _Queued(request_id, method, encode(envelope), decode, future)

    async def _send_batch(self, calls: Sequence[_Queued[Any]]) -> None:
        label = f"batch of {len(calls)} (ids {calls[0].request_id}..{calls[-1].request_id})"
        body = b"[" + b",".join(call.body for call in calls) + b"]"
        started = time.perf_counter()
        try:
            self.ensure_open()
            reply_body = await self._exchange(body, [call.method for call in calls], None)
            replies = parse_body(reply_body, None, self._redactor)
            paired, unmatched = match_replies(
                replies, [(call.request_id, call.method) for call in calls], self._redactor
            )
        except PirsonalAsyncError as error:
            self._log_failure(label, started, error)
            for call in calls:
                if not call.future.done():
                    call.future.set_exception(error)
                    # The same error is raised at the batch's exit: not "never retrieved".
                    call.future.exception()
            raise
        if unmatched:
            logger.warning("%s: %d replies matched no request and were ignored", label, unmatched)
        for call, reply in zip(calls, paired, strict=True):
            self._settle(call, reply)
        logger.debug("%s sent in %.1f ms", label, _elapsed_ms(started))

    def _settle(self, call: _Queued[Any], reply: dict[str, Any] | ProtocolError) -> None:
        if call.future.done():  # the caller cancelled it
            return
        if isinstance(reply, ProtocolError):
            call.future.set_exception(reply)
            return
        try:
            result = to_result(
                reply,
                call.method,
                call.request_id,
                self._response_contract,
                strict=self._strict,
                redactor=self._redactor,
            )
            value = self._decode(call.decode, result, call.method)
        except PirsonalAsyncError as error:
            call.future.set_exception(error)
        else:
            call.future.set_result(value)

    def _decode(self, decode: Callable[[Any], T], result: Any, method: str) -> T:
        try:
            return decode(result)
        except ValueError as error:
            problem = self._redactor(str(error))
        # Raised outside the except block: the decoder's error is not chained.
        raise ProtocolError(f"cannot decode the result: {problem}", method=method)

    async def _exchange(
        self, body: bytes, methods: str | Sequence[str], method: str | None
    ) -> bytes:
        """Posts the body, retrying as the policy allows; returns the 200 reply's body.

        `methods` decide what may be retried; `method` names the call in errors (None: a batch).
        """
        if self._log_bodies and logger.isEnabledFor(logging.DEBUG):
            logger.debug("request body: %s", self._redactor.excerpt(body, _LOGGED_BODY_CHARS))
        post = Post(
            self._url_text,
            self._headers,
            Body(len(body), data=body),
            self._deadline,
            self._max_response_bytes,
            _ERROR_BODY_BYTES,
        )
        reply, attempts = await send(
            self._engine,
            post,
            methods=methods,
            label=method,
            retry=self._retry,
            sleep=self._sleep,
            random=self._random,
            redact=self._redactor,
        )
        if reply.status != 200:
            raise status_error(reply, self._redactor.excerpt(reply.content), method, attempts)
        return self._accept(reply, method)

    def _accept(self, reply: Reply, method: str | None) -> bytes:
        if self._log_bodies and logger.isEnabledFor(logging.DEBUG):
            shown = self._redactor.excerpt(reply.content, _LOGGED_BODY_CHARS)
            logger.debug("reply body: %s", shown)
        if not reply.complete:
            limit = self._max_response_bytes
            raise ProtocolError(f"reply is larger than {limit} bytes", method=method)
        return reply.content

    def _log_failure(self, label: str, started: float, error: Exception) -> None:
        level = logging.INFO if isinstance(error, RpcError) else logging.WARNING
        logger.log(level, "%s failed in %.1f ms: %s", label, _elapsed_ms(started), error)


def _checked(headers: Mapping[str, str]) -> Mapping[str, str]:
    for name, value in headers.items():
        if not (isinstance(name, str) and isinstance(value, str)):
            raise TypeError(f"header names and values must be strings, got {name!r}")
        if any(char in name + value for char in "\r\n\0"):
            raise ValueError(f"header {name!r} holds a line break or NUL")
    return headers


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _idl_list(result: Any) -> list[Any]:
    if not isinstance(result, list):
        raise ValueError(f"barrister-idl returned a {type(result).__name__}, not an array")
    return result


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class _Queued(Generic[T]):
    """A call waiting in a batch: its encoded envelope and the future it will settle."""

    __slots__ = ("body", "decode", "future", "method", "request_id")

    def __init__(
        self,
        request_id: str,
        method: str,
        body: bytes,
        decode: Callable[[Any], T],
        future: BatchFuture[T],
    ) -> None:
        self.request_id = request_id
        self.method = method
        self.body = body
        self.decode = decode
        self.future = future


class BatchFuture(asyncio.Future[T]):
    """The result of a batched call: an asyncio future that refuses to be waited on too early.

    The batch is only sent when its `async with` block exits, so waiting on a result inside
    the block (with `await`, `asyncio.gather`, `asyncio.wait`, ...) would wait forever: it
    raises `BatchNotSentError` at once instead.
    """

    def __init__(self, batch: Batch, *, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._batch = batch

    def _refuse_while_open(self) -> None:
        if not self.done() and self._batch.is_open:
            raise BatchNotSentError(
                "a batched call's result is awaited inside its `async with` block; "
                "results resolve when the block exits"
            )

    def __await__(self) -> Generator[Any, None, T]:
        self._refuse_while_open()
        return super().__await__()

    def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
        # How asyncio.gather, wait and wait_for wait on a future.
        self._refuse_while_open()
        super().add_done_callback(fn, context=context)


class _BatchState(enum.Enum):
    NEW = "new"
    OPEN = "open"
    DONE = "done"


class Batch:
    """Calls queued inside `async with rpc.batch() as batch:`, sent as one request at its exit.

    `request`/`call` check the params at once (nothing is sent when one is bad) and return
    futures settled at exit, each with its own result or error; replies are matched by id.
    A failure of the whole exchange (transport, HTTP status, a reply that is not a batch
    reply) is set on every future and also raised at exit. If the block raises, nothing is
    sent and the futures are cancelled. Implements `Caller`, so generated stubs work on it.
    """

    def __init__(self, client: RpcClient) -> None:
        self._client = client
        self._calls: list[_Queued[Any]] = []
        self._state = _BatchState.NEW

    def __repr__(self) -> str:
        return f"<Batch {self._state.value}, {len(self._calls)} calls>"

    async def __aenter__(self) -> Batch:
        if self._state is not _BatchState.NEW:
            raise RuntimeError("a batch is used in one `async with` block; start a new one")
        self._state = _BatchState.OPEN
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state = _BatchState.DONE
        if exc_type is not None or not self._calls:
            self._cancel()
            return
        try:
            await self._client._send_batch(self._calls)
        finally:
            self._cancel()

    @property
    def is_open(self) -> bool:
        """Whether calls can be queued: inside the `async with` block, before it exits."""
        return self._state is _BatchState.OPEN

    def request(self, method: str, params: list[Any], decode: Callable[[Any], T]) -> BatchFuture[T]:
        """Queues a call; the future yields `decode(result)` once the batch is sent."""
        if not self.is_open:
            raise RuntimeError("batch calls are queued inside its `async with` block only")
        queued = self._client._queue(method, params, decode, self)
        self._calls.append(queued)
        return queued.future

    def call(self, method: str, params: list[Any] | None = None) -> BatchFuture[Any]:
        """Queues a call; the future yields the JSON result once the batch is sent."""
        return self.request(method, [] if params is None else params, _identity)

    def _cancel(self) -> None:
        for call in self._calls:
            if not call.future.done():
                call.future.cancel()
