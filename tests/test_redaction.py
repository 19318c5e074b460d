"""Secrets never reach an exception, a repr, a traceback or a log record, whatever fails."""

from __future__ import annotations

import asyncio
import gc
import html
import importlib
import json
import logging
import pkgutil
import re
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import respx

import pirsonal_async
from pirsonal_async import PirsonalClient
from pirsonal_async._redact import (
    LOG_FILTER,
    MASK,
    Redactor,
    guard_logs,
    is_secret_name,
)
from pirsonal_async.errors import (
    BadSecret,
    HttpStatusError,
    PirsonalAsyncError,
    ProtocolError,
    RequestValidationError,
    TransportError,
)
from pirsonal_async.retry import NO_RETRY, RetryPolicy
from pirsonal_async.rpc import RpcClient

URL = "https://rpc.example/api"
CONFORM = json.loads((Path(__file__).parent / "data/barrister/conform.json").read_text())
# Characters that URLs, JSON and reprs each spell differently, around a core no text may show.
CORE = "Zq9canary"
ACCOUNT_SECRET = f"{CORE}/+ &=é'\"x"
TEMPLATE_SECRET = f"tmpl-{CORE}-2"
SPELLINGS = [CORE, quote(ACCOUNT_SECRET, safe=""), quote_plus(ACCOUNT_SECRET)]


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("key=abc123secret", "key=***"),
        (
            "https://h/api?accountID=1&accountSecret=abc123secret",
            "https://h/api?accountID=1&accountSecret=***",
        ),
        ("https://h/api?templateSecret=other&x=1", "https://h/api?templateSecret=***&x=1"),
        ('{"secret": "other", "id": 1}', '{"secret": "***", "id": 1}'),
        ('{"templateSecret":"o\\"ther"}', '{"templateSecret":"***"}'),
        ("{'accountSecret': 'other'}", "{'accountSecret': '***'}"),
        ("abc123secret%21", "***"),
        ("abc123secret!", "***"),
        ("ftp://user:pass@h/x", "ftp://user:***@h/x"),
        ("nothing here", "nothing here"),
    ],
)
def test_the_redactor_masks_values_and_secret_named_fields(text: str, redacted: str) -> None:
    assert Redactor(["abc123secret", "abc123secret!"])(text) == redacted


def test_the_longest_secret_wins_over_one_inside_it() -> None:
    assert Redactor(["abc", "abcdef"])("x abcdef y abc") == "x *** y ***"


def test_json_data_is_masked_by_value_and_by_key() -> None:
    data = {"note": "has abc123secret", "items": [{"secret": "t-1"}, 3], "ok": None}

    assert Redactor(["abc123secret"]).data(data) == {
        "note": "has ***",
        "items": [{"secret": "***"}, 3],
        "ok": None,
    }


def test_an_excerpt_is_redacted_before_it_is_cut() -> None:
    body = "x" * 195 + "abc123secret" + "y" * 100

    excerpt = Redactor(["abc123secret"]).excerpt(body, 200)

    assert "abc" not in excerpt
    assert excerpt == "x" * 195 + "**..."


SPLIT = "f00dfacecafe"
KNOWN_VALUE = (Redactor([SPLIT]), "")
NAMED_VALUE = (Redactor(), '"templateSecret":"')
# Where an excerpt may cut a text of its limit: at the "..." it adds, at the limit, at the
# redaction window of old (10,000 characters), and at the current one's end.
CUTS: dict[str, Callable[[int], int]] = {
    "dots": lambda limit: limit - 3,
    "limit": lambda limit: limit,
    "old-window": lambda limit: 10_000,
    "window": lambda limit: limit + 10_000,
}


@pytest.mark.parametrize(("redactor", "before"), [KNOWN_VALUE, NAMED_VALUE], ids=["known", "named"])
@pytest.mark.parametrize("pad", ["x", " "], ids=["text", "spaces"])
@pytest.mark.parametrize("limit", [200, 10_000])
@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize("overlap", [1, 6])
def test_an_excerpt_never_shows_part_of_a_secret_it_cuts(
    redactor: Redactor, before: str, pad: str, limit: int, cut: str, overlap: int
) -> None:
    # The secret starts `overlap` characters before the cut.
    start = CUTS[cut](limit) - overlap
    body = pad * (start - len(before)) + before + SPLIT + '"' + "y" * 30_000

    excerpt = redactor.excerpt(body, limit)

    assert SPLIT[:3] not in excerpt
    assert len(excerpt) <= limit


async def test_a_logged_reply_cut_inside_a_secret_does_not_show_it(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    # A reply longer than the logged excerpt, cut inside a secret only its key names.
    head = '{"jsonrpc":"2.0","id":"1","result":{"pad":"'
    tail = f'","secret":"{SPLIT}"}}}}'
    pad = "x" * (9_990 - len(head) - len('","secret":"'))
    respx_mock.post(URL).mock(return_value=httpx.Response(200, text=head + pad + tail))
    rpc = RpcClient(URL, log_bodies=True, retry=NO_RETRY)

    with caplog.at_level(logging.DEBUG, logger="pirsonal_async"):
        result = await rpc.call("Template.get")

    assert result["secret"] == SPLIT
    [logged] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reply")]
    assert '"secret":"***"' in logged
    assert SPLIT[:3] not in caplog.text


def test_empty_secrets_are_ignored() -> None:
    assert Redactor(["", "s3cr3t"])("a s3cr3t b") == "a *** b"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("accountSecret", True),
        ("TEMPLATESECRET", True),
        ("password", True),
        ("youtubeToken", True),
        ("accountID", False),
        ("name", False),
    ],
)
def test_secret_names_mask_their_values_in_urls_json_and_data(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret
    shown = Redactor()(f'?{name}=v1 {{"{name}": "v2"}}') + repr(Redactor().data({name: "v3"}))
    assert [value in shown for value in ("v1", "v2", "v3")] == [not secret] * 3


def test_a_secret_stays_known_until_each_add_is_removed() -> None:
    redactor = Redactor(["s3cr3t"])
    redactor.add(["s3cr3t", "other"])

    redactor.remove(["s3cr3t", "other", "never-added"])
    masked = redactor("s3cr3t other")
    redactor.remove(["s3cr3t"])

    assert (masked, redactor("s3cr3t other")) == ("*** other", "s3cr3t other")
    assert redactor.secret_count == 0


def test_a_secret_added_three_times_stays_known_until_the_third_removal() -> None:
    redactor = Redactor([SPLIT, SPLIT, SPLIT])

    shown = []
    for _ in range(3):
        redactor.remove([SPLIT])
        shown.append(redactor(SPLIT))

    assert shown == [MASK, MASK, SPLIT]


def test_a_longer_secret_wins_even_when_a_shorter_one_sorts_after_it() -> None:
    # Ordered by length, not by text: "zz..." sorts after "az..." but is inside it.
    assert Redactor(["zzzzzzzz1", "azzzzzzzz1"])("x azzzzzzzz1 y") == "x *** y"


def test_a_json_excerpt_keeps_non_ascii_text_as_it_is() -> None:
    assert Redactor().excerpt('{"name": "Zoë", "secret": "x"}') == '{"name":"Zoë","secret":"***"}'


def test_data_nested_too_deep_to_copy_is_masked_whole() -> None:
    deep: list[Any] = []
    for _ in range(5_000):
        deep = [deep]

    assert Redactor().data({"ok": 1, "deep": deep}) == MASK


def nested_lists(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = [leaf]
    return leaf


def test_data_is_copied_up_to_a_fixed_depth_on_every_python() -> None:
    # The same cut whatever the interpreter's frames per level: 100 containers deep, then the
    # whole value is masked.
    redactor = Redactor(["s3cr3t"])

    assert redactor.data(nested_lists(100, "s3cr3t!")) == nested_lists(100, "***!")
    assert redactor.data(nested_lists(101, "x")) == MASK
    assert redactor.data(nested_lists(98, {"a": []})) == nested_lists(98, {"a": []})
    assert redactor.data(nested_lists(99, {"a": []})) == MASK


def test_the_log_filter_redacts_messages_args_and_exceptions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("httpx")
    unguard = guard_logs(logger, [TEMPLATE_SECRET])

    with caplog.at_level(logging.DEBUG):
        logger.info("GET %s", f"https://h/?templateSecret={TEMPLATE_SECRET}")
        try:
            raise RuntimeError(f"failed with {TEMPLATE_SECRET}")
        except RuntimeError:
            logger.exception("boom")
    unguard()

    assert LOG_FILTER in logger.filters
    assert CORE not in caplog.text
    assert caplog.records[0].getMessage() == "GET https://h/?templateSecret=***"


def test_the_log_filter_redacts_a_records_stack() -> None:
    logger = logging.getLogger("httpx")
    unguard = guard_logs(logger, [TEMPLATE_SECRET])
    stack = f"Stack (most recent call last):\n  send({TEMPLATE_SECRET!r})"
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "sent", None, None, sinfo=stack)

    LOG_FILTER.filter(record)
    unguard()

    assert record.stack_info == "Stack (most recent call last):\n  send('***')"


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def leaks(texts: list[str]) -> list[str]:
    """The lines of the texts that show any spelling of a secret."""
    lines = [line for text in texts for line in text.splitlines()]
    return [line for line in lines if any(spelling in line for spelling in SPELLINGS)]


def echo_url(request: httpx.Request) -> str:
    return f"{request.url} {request.url.params} {ACCOUNT_SECRET} {TEMPLATE_SECRET}"


def raise_with_url(cls: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise cls(f"failed for {echo_url(request)}", request=request)

    return answer


def answer_with(body: Callable[[dict[str, Any]], Any]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], **body(call)})

    return answer


def raise_value_error(data: Any) -> Any:
    raise ValueError(f"cannot use {data!r} near {ACCOUNT_SECRET}")


Call = Callable[[RpcClient], Awaitable[Any]]
Server = Callable[[httpx.Request], httpx.Response]


def echo(rpc: RpcClient) -> Awaitable[Any]:
    return rpc.call("B.echo", ["x"])


BAD_SECRET = {
    "code": 1018,
    "message": f"Bad secret {ACCOUNT_SECRET}",
    "data": {"templateSecret": "t", "echo": TEMPLATE_SECRET},
}
REPEAT = {"to_repeat": "a", "count": 1, "force_uppercase": True}

# Every path that builds an error or a log record: (server behaviour, call, error raised).
SCENARIOS = [
    pytest.param(raise_with_url(httpx.ConnectError), echo, TransportError, id="connect"),
    pytest.param(raise_with_url(httpx.ReadTimeout), echo, TransportError, id="timeout"),
    pytest.param(raise_with_url(httpx.RemoteProtocolError), echo, TransportError, id="dropped"),
    pytest.param(
        lambda request: httpx.Response(500, text=f"<pre>{echo_url(request)}</pre>"),
        echo,
        HttpStatusError,
        id="error-page",
    ),
    pytest.param(
        lambda request: httpx.Response(429, json={"url": echo_url(request)}),
        lambda rpc: rpc.fetch_contract(),
        HttpStatusError,
        id="rate-limited-json",
    ),
    pytest.param(
        lambda request: httpx.Response(200, text=echo_url(request)),
        echo,
        ProtocolError,
        id="not-json",
    ),
    pytest.param(answer_with(lambda call: {"error": BAD_SECRET}), echo, BadSecret, id="rpc-error"),
    pytest.param(
        answer_with(
            lambda call: {"result": {"status": "ok", "count": ACCOUNT_SECRET, "items": []}},
        ),
        lambda rpc: rpc.call("A.repeat", [REPEAT]),
        ProtocolError,
        id="invalid-result",
    ),
    pytest.param(
        answer_with(lambda call: {"result": TEMPLATE_SECRET}),
        lambda rpc: rpc.request("B.echo", ["x"], raise_value_error),
        ProtocolError,
        id="decode-error",
    ),
    pytest.param(
        answer_with(lambda call: {"result": 1.0}),
        lambda rpc: rpc.call("A.calc", [[1.0], TEMPLATE_SECRET]),
        RequestValidationError,
        id="invalid-param",
    ),
    pytest.param(
        answer_with(lambda call: {"result": [{"secret": TEMPLATE_SECRET}]}),
        echo,
        ProtocolError,
        id="secret-field-in-result",
    ),
    pytest.param(
        lambda request: httpx.Response(200, json={"jsonrpc": "2.0", "id": ACCOUNT_SECRET}),
        echo,
        ProtocolError,
        id="bad-id",
    ),
    pytest.param(answer_with(lambda call: {"result": "fine"}), echo, None, id="success"),
]


@pytest.mark.parametrize(("server", "make_call", "raised"), SCENARIOS)
async def test_a_canary_secret_never_leaks(
    respx_mock: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    server: Server,
    make_call: Call,
    raised: type[PirsonalAsyncError] | None,
) -> None:
    respx_mock.post(url__startswith=URL).mock(side_effect=server)
    rpc = RpcClient(
        f"{URL}?accountID=acc",
        params={"accountSecret": ACCOUNT_SECRET},
        secrets={TEMPLATE_SECRET},
        contract=CONFORM,
        log_bodies=True,
        retry=RetryPolicy(max_attempts=2, base_delay=0.0),
    )
    texts = [repr(rpc), repr(rpc.batch())]

    failure: PirsonalAsyncError | None = None

    with caplog.at_level(logging.DEBUG):
        try:
            texts.append(repr(await make_call(rpc)))
        except PirsonalAsyncError as error:
            failure = error
            texts += [*texts_of(error), repr(vars(error))]

    assert (type(failure) if failure else None) is raised
    texts.append(caplog.text)
    texts += [record.getMessage() for record in caplog.records]
    assert leaks(texts) == []


async def test_httpx_logs_the_url_but_without_the_secret(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    respx_mock.post(url__startswith=URL).mock(side_effect=answer_with(lambda call: {"result": 1}))
    rpc = RpcClient(URL, params={"accountID": "acc", "accountSecret": ACCOUNT_SECRET})

    with caplog.at_level(logging.DEBUG):
        await rpc.call("A.add", [0, 1])

    [logged] = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert logged.startswith(f"HTTP Request: POST {URL}?accountID=acc&accountSecret=*** ")


async def test_a_batch_failure_does_not_leak(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    respx_mock.post(url__startswith=URL).mock(side_effect=raise_with_url(httpx.ReadTimeout))
    rpc = RpcClient(URL, params={"accountSecret": ACCOUNT_SECRET}, secrets=[TEMPLATE_SECRET])
    texts: list[str] = []

    with caplog.at_level(logging.DEBUG):
        try:
            async with rpc.batch() as batch:
                future = batch.call("A.say_hi")
        except PirsonalAsyncError as raised:
            texts += texts_of(raised)
        settled = future.exception()

    assert settled is not None
    texts += [*texts_of(settled), caplog.text]
    assert len(texts) == 7
    assert leaks(texts) == []


async def test_secrets_in_the_url_itself_are_kept_out_of_repr_and_errors(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    # Not registered with the log filter: httpx's log line is masked by names and places.
    url = f"https://user:{TEMPLATE_SECRET}@rpc.example/api?accountSecret=x'{CORE}"
    attempts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        if len(attempts) <= 2:
            raise httpx.ConnectError(f"cannot reach {request.url}", request=request)
        return answer_with(lambda call: {"result": "fine"})(request)

    respx_mock.post(url__startswith="https://rpc.example/api").mock(side_effect=answer)
    rpc = RpcClient(url, retry=RetryPolicy(max_attempts=2, base_delay=0.0))

    with caplog.at_level(logging.DEBUG):
        with pytest.raises(TransportError) as caught:
            await echo(rpc)
        assert await echo(rpc) == "fine"

    assert all(CORE in attempt for attempt in attempts)
    assert any(r.name == "httpx" and "rpc.example/api?" in r.getMessage() for r in caplog.records)
    texts = [repr(rpc), *texts_of(caught.value), caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    assert leaks(texts) == []


async def test_the_log_filter_forgets_the_secrets_of_clients_dropped_unclosed() -> None:
    gc.collect()
    before = LOG_FILTER.redactor.secret_count
    async with httpx.AsyncClient() as http:
        clients = [
            RpcClient(URL, params={"accountSecret": f"{CORE}-{n}"}, http_client=http)
            for n in range(2_000)
        ]
        during = LOG_FILTER.redactor.secret_count
        del clients
        gc.collect()

    assert (during, LOG_FILTER.redactor.secret_count) == (before + 2_000, before)


def test_forgetting_a_secret_never_waits_for_the_lock() -> None:
    # A client collected unclosed is forgotten in a finalizer, which the garbage collector may
    # run in a thread that holds the lock, in the middle of a redaction.
    redactor = Redactor([SPLIT])
    with redactor._lock:
        redactor.remove([SPLIT])

    assert (redactor(SPLIT), redactor.secret_count) == (SPLIT, 0)


async def test_a_clients_own_secrets_are_unregistered_when_it_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = LOG_FILTER.redactor.secret_count
    async with httpx.AsyncClient() as http:
        clients = [RpcClient(URL, secrets=[f"{CORE}-{n}"], http_client=http) for n in range(2_000)]
        during = LOG_FILTER.redactor.secret_count
        for rpc in clients:
            await rpc.aclose()
        first = RpcClient(URL, secrets=[TEMPLATE_SECRET], http_client=http)
        second = RpcClient(URL, secrets=[TEMPLATE_SECRET], http_client=http)
        await first.aclose()
        await first.aclose()
        with caplog.at_level(logging.INFO, logger="pirsonal_async"):
            logging.getLogger("pirsonal_async").info("still open: %s", TEMPLATE_SECRET)
        await second.aclose()

    assert (during, LOG_FILTER.redactor.secret_count) == (before + 2_000, before)
    assert caplog.messages == ["still open: ***"]


@pytest.mark.parametrize("name", ["pirsonal_async.webhooks", "pirsonal_async.sandbox"])
def test_records_of_the_librarys_child_loggers_are_masked(
    caplog: pytest.LogCaptureFixture, name: str
) -> None:
    logger = logging.getLogger(name)
    unguard = guard_logs(logger, [TEMPLATE_SECRET])
    try:
        with caplog.at_level(logging.DEBUG):
            logger.warning("echo %s ?templateSecret=%s", TEMPLATE_SECRET, CORE)
    finally:
        unguard()

    assert caplog.messages == ["echo *** ?templateSecret=***"]


async def test_every_logger_a_request_may_pass_through_is_guarded() -> None:
    for module in pkgutil.walk_packages(pirsonal_async.__path__, "pirsonal_async."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    logging.getLogger("httpcore.added_later")  # a child logger a newer httpcore may bring
    async with RpcClient(URL):
        loggers = [
            logger
            for name, logger in logging.root.manager.loggerDict.items()
            if name.split(".")[0] in ("pirsonal_async", "httpx", "httpcore", "hpack", "aiohttp")
            and isinstance(logger, logging.Logger)
        ]

    engines = {"httpcore.http11", "httpcore.added_later", "hpack.hpack", "aiohttp.client"}
    assert {"pirsonal_async.webhooks", *engines} <= {log.name for log in loggers}
    assert {"aiohttp.access", "aiohttp.internal", "aiohttp.server"} <= {log.name for log in loggers}
    assert [log.name for log in loggers if LOG_FILTER not in log.filters] == []


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        (f"ftp://rpc.example/?accountSecret={CORE}y", []),
        (f"ftp://user:{CORE}@rpc.example/", []),
        (f"http://[::1/?x={CORE}", [CORE]),
        (f"/api?key={CORE}", [CORE]),
    ],
)
def test_a_refused_url_does_not_show_its_secrets(url: str, secrets: list[str]) -> None:
    with pytest.raises(ValueError) as caught:
        RpcClient(url, secrets=secrets)

    assert str(caught.value).startswith("RpcClient url must be an absolute http(s) URL, got ")
    assert leaks(texts_of(caught.value)) == []


# --- every spelling, every logger, every client ---

# A secret with characters that each encoding spells differently (space, &, =, /, +, é).
SPELLED = "a b&c=d/+é"
SPELLINGS_OF_SPELLED = {
    "lowercase-percent": "a+b%26c%3dd%252f%2b%c3%a9",  # as a hostile run saw it
    "form-encoded": quote_plus(SPELLED, safe=""),
    "percent-encoded": quote(SPELLED, safe=""),
    "double-encoded": quote(quote(SPELLED, safe=""), safe=""),
    "html-escaped": html.escape(SPELLED),
    "html-decimal": "".join(f"&#{ord(char)};" for char in SPELLED),
    "html-hex": "".join(f"&#X{ord(char):04X}" for char in SPELLED),
    "json": json.dumps(SPELLED)[1:-1],
    "json-every-char": "".join(f"\\u{ord(char):04X}" for char in SPELLED),
    "json-in-a-repr": repr(json.dumps(SPELLED))[2:-2],
    "bytes-repr": repr(SPELLED.encode())[2:-1],
}


@pytest.mark.parametrize("spelling", SPELLINGS_OF_SPELLED.values(), ids=SPELLINGS_OF_SPELLED)
async def test_every_spelling_of_a_secret_is_masked_in_a_status_error(
    respx_mock: respx.MockRouter, spelling: str
) -> None:
    respx_mock.post(url__startswith=URL).respond(502, text=f"<p>bad key {spelling}</p>")
    rpc = RpcClient(URL, params={"accountSecret": SPELLED}, retry=NO_RETRY)

    with pytest.raises(HttpStatusError) as caught:
        await echo(rpc)

    assert "<p>bad key ***</p>" in str(caught.value)


# Characters beyond Latin-1 and the BMP, and control characters, as each escaping writes them.
WIDE = "pa$$😀wörd\t€"
WIDE_SPELLINGS = {
    "json-ascii": json.dumps(WIDE)[1:-1],  # a surrogate pair for the emoji
    "python-ascii": ascii(WIDE)[1:-1],  # \U0001f600, \xf6
    "bytes-repr": repr(WIDE.encode())[2:-1],  # \xf0\x9f\x98\x80
    "percent": quote(WIDE, safe="").lower(),
    "html-named": "pa&dollar;&dollar;&#128512;w&ouml;rd&Tab;&euro;",
}


@pytest.mark.parametrize("spelling", WIDE_SPELLINGS.values(), ids=WIDE_SPELLINGS)
def test_every_spelling_of_a_wide_secret_is_masked(spelling: str) -> None:
    assert Redactor([WIDE])(f"[{spelling}]") == "[***]"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Server disconnected", "Server disconnected"),
        ("code s failed", "code *** failed"),
        ("?x=s&y=1", "?x=***&y=1"),
        ('{"echo": "s"}', '{"echo": "***"}'),
    ],
)
def test_a_short_secret_is_masked_only_where_it_stands_alone(text: str, shown: str) -> None:
    assert Redactor(["s"])(text) == shown


def test_a_secret_of_eight_characters_is_masked_even_inside_a_word() -> None:
    assert (
        Redactor(["abcdefg", "12345678"])("xabcdefgx x12345678x abcdefg") == "xabcdefgx x***x ***"
    )


async def test_a_short_secret_is_still_masked_by_name_in_a_url(
    respx_mock: respx.MockRouter,
) -> None:
    def disconnect(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"Server disconnected from {request.url}", request=request)

    respx_mock.post(url__startswith=URL).mock(side_effect=disconnect)
    rpc = RpcClient(URL, params={"accountSecret": "s"}, retry=NO_RETRY)

    with pytest.raises(TransportError) as caught:
        await echo(rpc)

    assert f"Server disconnected from {URL}?accountSecret=***;" in str(caught.value)


async def test_a_long_logged_reply_masks_a_secret_escaped_character_by_character(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    escaped = "".join(f"\\u{ord(char):04x}" for char in TEMPLATE_SECRET)
    result = f'{{"echo":"{escaped}","pad":"{"x" * 25_000}"}}'
    body = f'{{"jsonrpc":"2.0","id":"1","result":{result}}}'
    respx_mock.post(URL).respond(200, text=body)
    rpc = RpcClient(URL, secrets=[TEMPLATE_SECRET], log_bodies=True, retry=NO_RETRY)

    with caplog.at_level(logging.DEBUG, logger="pirsonal_async"):
        result = await rpc.call("A.echo")

    assert result["echo"] == TEMPLATE_SECRET
    [logged] = [message for message in caplog.messages if message.startswith("reply body")]
    assert '"echo":"***"' in logged


async def test_a_secret_echoed_in_a_reply_header_is_masked_in_httpcores_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        call = json.loads(await reader.readexactly(int(length[1]) if length else 0))
        body = json.dumps({"jsonrpc": "2.0", "id": call["id"], "result": "ok"}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nX-Echo: "
            + ACCOUNT_SECRET.encode()
            + b"\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    async with (
        await asyncio.start_server(answer, "127.0.0.1", 0) as server,
        httpx.AsyncClient(trust_env=False) as http,
    ):
        port = server.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/api"
        with caplog.at_level(logging.DEBUG):
            params = {"accountSecret": ACCOUNT_SECRET}
            async with RpcClient(url, params=params, http_client=http) as rpc:
                assert await echo(rpc) == "ok"

    [headers] = [r for r in caplog.records if "X-Echo" in r.getMessage()]
    assert headers.name == "httpcore.http11"
    assert "(b'X-Echo', b'***')" in headers.getMessage()
    assert leaks([caplog.text, *caplog.messages]) == []


@pytest.mark.parametrize("name", ["aiohttp.client", "aiohttp.internal", "hpack.hpack"])
async def test_a_live_clients_secret_values_are_masked_in_every_engines_loggers(
    caplog: pytest.LogCaptureFixture, name: str
) -> None:
    logger = logging.getLogger(name)
    secret = f"{name} {CORE}"
    with caplog.at_level(logging.DEBUG, logger=name):
        async with RpcClient(URL, params={"accountSecret": secret}):
            logger.debug("echo %s", quote(secret))
        logger.debug("closed %s", secret)  # forgotten: the filter holds live clients' values only

    assert caplog.messages == ["echo ***", f"closed {secret}"]


async def test_a_copy_with_options_keeps_the_secrets_masked_once_the_original_is_gone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = f"with_options {CORE}"
    copy = RpcClient(URL, params={"accountSecret": secret}).with_options(retry=NO_RETRY)
    gc.collect()

    with caplog.at_level(logging.DEBUG, logger="httpx"):
        logging.getLogger("httpx").debug("echo %s", secret)
    await copy.aclose()

    assert caplog.messages == ["echo ***"]


def test_a_client_repr_hides_the_password_in_its_base_url() -> None:
    client = PirsonalClient("acc", ACCOUNT_SECRET, base_url=f"https://user:{CORE}@rpc.example/")

    assert (
        repr(client) == "PirsonalClient(account_id='acc', base_url='https://user:***@rpc.example')"
    )
