"""Pytest helpers for code built on pirsonal_async: sandbox fixtures and a JSON-RPC mock.

Installed as a pytest plugin (entry point ``pirsonal_async``), so once pirsonal-async is
installed every test can use these function-scoped asyncio fixtures (pytest-asyncio):

- ``pirsonal_sandbox``: a local Pirsonal (`pirsonal_async.sandbox`, extra ``[sandbox]``) on a
  free loopback port, rendering each video after ``pirsonal_render_delay`` seconds (0.05;
  override that fixture to change it) and misbehaving as ``pirsonal_chaos`` says (None; a
  chaos spec such as ``"drop-reply=0.1,http-503=0.05"``, seeded by ``pirsonal_chaos_seed``);
  yields the running `Sandbox`.
- ``pirsonal_client``: a `PirsonalClient` connected to that sandbox with its account.

```python
async def test_a_video_is_made(pirsonal_client, pirsonal_sandbox):
    template_id = await pirsonal_client.template_new(TemplateNew(...))
    video_id = await pirsonal_client.template_video_new(template_id, Video(name="Hi"))
    await pirsonal_sandbox.state.wait_rendered(video_id)
    assert (await pirsonal_client.video_get(video_id)).status.code == "done"
```

`mock_pirsonal` answers Pirsonal's JSON-RPC methods (batches too) through respx, no server:

```python
async def test_archive(respx_mock):
    pirsonal = mock_pirsonal(respx_mock)
    pirsonal.returns("Video_Get", {"id": "v1", "name": "Hi", "status": {"code": "done"}})
    pirsonal.fails("Video_Delete", code=1007, message="Video not found")
    with pytest.raises(VideoNotFound):
        await my_service.archive("v1")  # calls Video_Get, then Video_Delete
    assert pirsonal.calls("Video_Delete") == [["v1", True]]
```
"""

from __future__ import annotations

import enum
import json
import reprlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from pirsonal_async.client import DEFAULT_BASE_URL, PirsonalClient
from pirsonal_async.generated.contract import CONTRACT

if TYPE_CHECKING:
    import respx

    from pirsonal_async.sandbox import Sandbox

# The plugin loads in every pytest run of an environment holding pirsonal-async, so it must
# import without pytest-asyncio (the fixtures then need another plugin, such as anyio's).
try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:
    async_fixture = pytest.fixture  # type: ignore[assignment]

__all__ = ["SANDBOX_RENDER_DELAY", "PirsonalMock", "mock_pirsonal"]

SANDBOX_RENDER_DELAY = 0.05
INTERFACE = "SezionAPI"
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
_EXCERPT = 80
_FUNCTIONS = frozenset(
    function["name"]
    for entity in CONTRACT
    if entity.get("type") == "interface" and entity.get("name") == INTERFACE
    for function in entity["functions"]
)


@pytest.fixture
def pirsonal_render_delay() -> float:
    """Seconds the `pirsonal_sandbox` takes to render a video; override to change it."""
    return SANDBOX_RENDER_DELAY


@pytest.fixture
def pirsonal_chaos() -> str | None:
    """The `pirsonal_sandbox`'s chaos spec (e.g. `"drop-reply=0.1,http-503=0.05"`): None, no
    faults; override to inject some (`pirsonal_sandbox.chaos` holds the seed)."""
    return None


@pytest.fixture
def pirsonal_chaos_seed() -> int | None:
    """The seed of the `pirsonal_sandbox`'s chaos draws (None: random); override to repeat."""
    return None


@async_fixture
async def pirsonal_sandbox(
    pirsonal_render_delay: float, pirsonal_chaos: str | None, pirsonal_chaos_seed: int | None
) -> AsyncIterator[Sandbox]:
    """A sandbox Pirsonal served on a free loopback port for the test's duration."""
    # Imported here: starlette and uvicorn are an optional extra.
    try:
        from pirsonal_async.sandbox import serve_sandbox
    except ImportError as error:
        raise ImportError(
            "the pirsonal_sandbox fixture needs the sandbox extra "
            f"(pip install 'pirsonal-async[sandbox]'): {error}"
        ) from error
    async with serve_sandbox(
        host="127.0.0.1",
        render_delay=pirsonal_render_delay,
        chaos=pirsonal_chaos,
        chaos_seed=pirsonal_chaos_seed,
    ) as sandbox:
        yield sandbox


@async_fixture
async def pirsonal_client(pirsonal_sandbox: Sandbox) -> AsyncIterator[PirsonalClient]:
    """A `PirsonalClient` for the `pirsonal_sandbox` account, closed after the test."""
    # A loopback base URL never goes through an environment proxy.
    async with PirsonalClient(
        pirsonal_sandbox.account_id,
        pirsonal_sandbox.account_secret,
        base_url=pirsonal_sandbox.base_url,
    ) as client:
        yield client


def mock_pirsonal(router: respx.MockRouter, *, base_url: str = DEFAULT_BASE_URL) -> PirsonalMock:
    """Routes `POST {base_url}/api` on a respx router to a `PirsonalMock` and returns it.

    `router` is pytest's `respx_mock` fixture or any `respx.mock` router. Methods given no
    answer reply with JSON-RPC error -32601 (`MethodNotFound`), naming the method.
    """
    mock = PirsonalMock()
    url = httpx.URL(base_url)
    lookups: dict[str, Any] = {"scheme": url.scheme, "host": url.host}
    if url.port is not None:
        lookups["port"] = url.port
    route = router.route(method="POST", path=url.path.rstrip("/") + "/api", **lookups)
    route.mock(side_effect=mock.answer)
    return mock


class PirsonalMock:
    """Answers Pirsonal JSON-RPC calls by method name and records the params of each call.

    Methods are named as in the IDL, with or without the interface (`Video_Get` or
    `SezionAPI.Video_Get`). Results may be JSON values or the generated types (anything with
    `to_json()`, enums, and lists of them). Replies echo each request's id. A malformed body
    or request gets the sandbox's JSON-RPC error (same code and message). `answer` also serves
    as an `httpx.MockTransport` handler.
    """

    def __init__(self) -> None:
        self._answers: dict[str, dict[str, Any]] = {}
        self._calls: dict[str, list[list[Any]]] = {}

    def returns(self, method: str, result: Any) -> None:
        """From now on, every call of `method` succeeds with `result`."""
        self._answers[_wire_name(method)] = {"result": _to_json(result)}

    def fails(self, method: str, *, code: int, message: str, data: Any = None) -> None:
        """From now on, every call of `method` fails with this JSON-RPC error."""
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = _to_json(data)
        self._answers[_wire_name(method)] = {"error": error}

    def calls(self, method: str) -> list[list[Any]]:
        """The params of each call of `method` received so far, oldest first."""
        return [list(params) for params in self._calls.get(_wire_name(method), [])]

    def answer(self, request: httpx.Request) -> httpx.Response:
        """The respx side effect: one reply per request of the body, a list for a batch."""
        try:
            body = json.loads(request.content, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            message = f"Unable to parse JSON: {_excerpt(request.content)}"
            return _response(_error_reply(None, PARSE_ERROR, message))
        if not isinstance(body, list):
            return _response(self._reply(body))
        if not body:
            return _response(_error_reply(None, INVALID_REQUEST, "Invalid Request. Empty batch."))
        return _response([self._reply(item) for item in body])

    def _reply(self, call: Any) -> dict[str, Any]:
        if not isinstance(call, dict):
            message = f"Invalid Request. {_excerpt(call)} is not an object."
            return _error_reply(None, INVALID_REQUEST, message)
        if not isinstance(call.get("method"), str):
            message = "Invalid Request. No 'method' string."
            return _error_reply(call.get("id"), INVALID_REQUEST, message)
        method: str = call["method"]
        params = call.get("params")
        self._calls.setdefault(method, []).append(params if isinstance(params, list) else [])
        answer = self._answers.get(method)
        if answer is None:
            hint = "give it an answer with .returns() or .fails()"
            return _error_reply(call.get("id"), METHOD_NOT_FOUND, f"{method} is not mocked: {hint}")
        return {"jsonrpc": "2.0", "id": call.get("id"), **answer}


def _wire_name(method: str) -> str:
    """`SezionAPI.<function>` for a function of the contract; ValueError for anything else."""
    name = method.removeprefix(f"{INTERFACE}.")
    if name not in _FUNCTIONS:
        raise ValueError(f"{method!r} is not a {INTERFACE} function of the Pirsonal contract")
    return f"{INTERFACE}.{name}"


def _to_json(value: Any) -> Any:
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    return value


# The envelope errors below copy `pirsonal_async.sandbox.rpc_server`'s, which this module
# cannot import: the sandbox needs the optional Starlette, and the mock must work without it.


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _excerpt(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else reprlib.repr(value)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _error_reply(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _response(reply: Any) -> httpx.Response:
    return httpx.Response(200, json=reply)
