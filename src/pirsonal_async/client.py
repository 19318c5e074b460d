"""`PirsonalClient`: every Pirsonal API method as a typed coroutine, plus uploads and batches."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import EllipsisType, TracebackType

import httpx

from pirsonal_async._http import TimeoutTypes
from pirsonal_async.contract import Contract
from pirsonal_async.errors import ConfigurationError, RequestValidationError
from pirsonal_async.generated import CONTRACT, Media, SezionAPI, Video
from pirsonal_async.retry import RetryPolicy
from pirsonal_async.rpc import DEFAULT_RETRY, DEFAULT_TIMEOUT, RpcClient
from pirsonal_async.uploads import Progress, UploadSource, upload_media
from pirsonal_async.waiting import DEFAULT_WAIT, VideoWaiters, WaitPolicy, wait_for_video

DEFAULT_BASE_URL = "https://app.pirsonal.com"
# Where a client and the CLI find what they are not given.
ENV_BASE_URL = "PIRSONAL_BASE_URL"
ENV_ACCOUNT_ID = "PIRSONAL_ACCOUNT_ID"
ENV_ACCOUNT_SECRET = "PIRSONAL_ACCOUNT_SECRET"
ENV_TEMPLATE_SECRET = "PIRSONAL_TEMPLATE_SECRET"


@functools.cache
def bundled_contract() -> Contract:
    """The contract the bindings were generated from, compiled once per process."""
    return Contract(CONTRACT)


def _from_env(given: str | None, variable: str, what: str) -> str:
    value = given if given is not None else os.environ.get(variable)
    if not value:
        raise ConfigurationError(f"no {what}: pass it, or set ${variable}")
    return value


class PirsonalClient(SezionAPI):
    """An authenticated Pirsonal session; use it with `async with`.

    Every API method is inherited from the generated `SezionAPI` stub (`await
    client.template_list()`); `batch()` groups calls into one HTTP request and `upload_media()`
    streams a file to the account's storage. With `validate`, arguments are checked against the
    contract before sending (a wrong value raises `RequestValidationError` naming the parameter
    and path, and nothing is sent) and results after receiving (unknown keys and enum values in
    results are allowed unless `strict`; an unknown enum value decodes to `UnknownEnumValue`).
    With `validate=False`, arguments are sent as given.

    Typed methods take typed values: a struct parameter takes its generated class (`Video`), an
    enum parameter a member (`TemplateStatus.active`). A dict or a wire string there raises
    `RequestValidationError` naming the parameter and the type, whatever `validate`, and
    nothing is sent (`Video.from_json(data)` decodes a JSON object). To send raw wire JSON, use
    `client.rpc.call("SezionAPI.Template_Video_New", [template_id, {"name": "x"}])`.

    Credentials not passed are read from `$PIRSONAL_ACCOUNT_ID` and
    `$PIRSONAL_ACCOUNT_SECRET` (a missing one raises `ConfigurationError` naming it), and the
    base URL from `$PIRSONAL_BASE_URL` (else the production API). Explicit arguments win.

    Requests go through aiohttp's connection pool (up to 100 connections), owned by the client
    and closed by `aclose()`; pass `http_client=httpx.AsyncClient(...)` to send through httpx
    instead (it stays yours to configure and close). `timeout` bounds each attempt: seconds for
    the whole attempt, or an `httpx.Timeout` whose connect and read limits apply and whose
    largest value bounds the attempt. `headers` are sent with every request (a `User-Agent`
    given there replaces the library's `pirsonal-async/<version> ...`).
    """

    def __init__(
        self,
        account_id: str | None = None,
        account_secret: str | None = None,
        *,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        validate: bool = True,
        strict: bool = False,
        log_bodies: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        credentials = {
            "accountID": _from_env(account_id, ENV_ACCOUNT_ID, "account ID"),
            "accountSecret": _from_env(account_secret, ENV_ACCOUNT_SECRET, "account secret"),
        }
        self._init(
            credentials,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            retry=retry,
            validate=validate,
            strict=strict,
            log_bodies=log_bodies,
            headers=headers,
        )

    @classmethod
    def for_template(
        cls,
        account_id: str,
        template_id: str,
        template_secret: str,
        *,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        validate: bool = True,
        strict: bool = False,
        log_bodies: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> PirsonalClient:
        """A session scoped to one template: it can create that template's videos and upload
        their media (deleted once the video is generated) without the account secret."""
        client = cls.__new__(cls)
        client._init(
            {"accountID": account_id, "templateID": template_id, "templateSecret": template_secret},
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            retry=retry,
            validate=validate,
            strict=strict,
            log_bodies=log_bodies,
            headers=headers,
        )
        return client

    def _init(
        self,
        credentials: dict[str, str],
        *,
        base_url: str | None,
        http_client: httpx.AsyncClient | None,
        timeout: TimeoutTypes,
        retry: RetryPolicy,
        validate: bool,
        strict: bool,
        log_bodies: bool,
        headers: Mapping[str, str] | None,
    ) -> None:
        self._credentials = credentials
        base_url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        self._base_url = base_url.rstrip("/")
        self.rpc = RpcClient(
            f"{self._base_url}/api",
            params=credentials,
            http_client=http_client,
            contract=bundled_contract(),
            validate_requests=validate,
            validate_responses=validate,
            strict=strict,
            timeout=timeout,
            retry=retry,
            headers=headers,
            log_bodies=log_bodies,
        )
        super().__init__(self.rpc)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | EllipsisType = ...,
        retry: RetryPolicy | EllipsisType = ...,
        validate: bool | EllipsisType = ...,
    ) -> PirsonalClient:
        """A client for the same account and connection pool with another `timeout`, `retry`
        or `validate`, for one slow or critical call site:

        ```python
        await client.with_options(timeout=120.0).template_video_new(template_id, video)
        ```

        Closing it leaves the pool open: the original client owns it.
        """
        sibling = copy.copy(self)
        sibling.rpc = self.rpc.with_options(timeout=timeout, retry=retry, validate=validate)
        SezionAPI.__init__(sibling, sibling.rpc)
        return sibling

    def __repr__(self) -> str:
        scope = (
            f", template_id={self._credentials['templateID']!r}" if self.is_template_scoped else ""
        )
        base_url = self.rpc.redactor(self._base_url)
        return (
            f"PirsonalClient(account_id={self._credentials['accountID']!r}{scope}, "
            f"base_url={base_url!r})"
        )

    @property
    def is_template_scoped(self) -> bool:
        return "templateID" in self._credentials

    async def __aenter__(self) -> PirsonalClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the connection pool, unless it was passed in as `http_client` or this client
        came from `with_options`. Calls made after this raise `ClientClosedError`."""
        await self.rpc.aclose()

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[SezionAPI]:
        """Calls made on the yielded stub return awaitables; they all go out as ONE HTTP request
        when the `async with` block exits, and are resolved then. Nothing is sent if the block
        raises."""
        async with self.rpc.batch() as batch:
            yield SezionAPI(batch)

    async def upload_media(
        self,
        source: UploadSource,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        description: str | None = None,
        size: int | None = None,
        progress: Progress | None = None,
        template_id: str | None = None,
        template_secret: str | None = None,
    ) -> Media:
        """Streams `source` (a path, bytes, a binary file or an async iterable of bytes with
        `size`) to Pirsonal and returns the stored `Media`; see `pirsonal_async.uploads`.

        The media goes to the account's storage, or, given `template_id` and `template_secret`
        (or on a template-scoped client), is a per-video upload deleted once the video is made.
        """
        self.rpc.ensure_open()
        query = dict(self._credentials)
        if (template_id is None) != (template_secret is None):
            raise RequestValidationError(
                "give both template_id and template_secret, or neither", method="upload"
            )
        if template_id is not None and template_secret is not None:
            query = {
                "accountID": query["accountID"],
                "templateID": template_id,
                "templateSecret": template_secret,
            }
        return await upload_media(
            self.rpc.engine,
            f"{self._base_url}/api/upload",
            query,
            source,
            content_type=content_type,
            filename=filename,
            description=description,
            size=size,
            progress=progress,
            retry=self.rpc.retry,
            timeout=self.rpc.timeout,
            headers=self.rpc.headers,
        )

    @functools.cached_property
    def waiters(self) -> VideoWaiters:
        """Where webhook deliveries wake this client's `wait_for_video` calls: serve it as
        `webhook_app(client.waiters)`, or call `client.waiters.deliver(video)` from your own
        webhook handler."""
        return VideoWaiters()

    async def wait_for_video(
        self, video_id: str, timeout: float = 600.0, *, policy: WaitPolicy = DEFAULT_WAIT
    ) -> Video:
        """The video once rendered (status `done`); raises `RenderFailedError` if rendering
        failed and `TimeoutError` after `timeout` seconds. See `pirsonal_async.waiting`."""
        return await wait_for_video(self, self.waiters, video_id, timeout=timeout, policy=policy)
