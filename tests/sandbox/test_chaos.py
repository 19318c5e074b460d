"""The chaos spec, its seeded draws, and latency (in memory); faults over TCP are tested in
tests/integration/test_sandbox_chaos.py."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from sandbox_helpers import account_query

from pirsonal_async.sandbox import SandboxState, create_app
from pirsonal_async.sandbox.chaos import Chaos, ChaosSpec, Fault

SPEC_TEXT = "drop-reply=0.1,drop-request=0.05,http-503=0.05,latency-ms=20,render-fail=0.02"
SPEC = ChaosSpec(drop_reply=0.1, drop_request=0.05, http_503=0.05, latency_ms=20, render_fail=0.02)


def test_the_issue_spec_parses_into_its_fields() -> None:
    assert ChaosSpec.parse(SPEC_TEXT) == SPEC
    assert ChaosSpec.parse(" latency-ms = 5 , ") == ChaosSpec(latency_ms=5)
    assert ChaosSpec.parse("") == ChaosSpec()


def test_a_spec_prints_as_text_that_parses_back() -> None:
    assert str(SPEC) == SPEC_TEXT
    assert ChaosSpec.parse(str(SPEC)) == SPEC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drop-replies=0.1", "unknown chaos key 'drop-replies'; known: drop-reply, drop-request"),
        ("drop-reply", "chaos key 'drop-reply' needs a value: drop-reply=NUMBER"),
        ("drop-reply=often", "chaos drop-reply must be a number, got 'often'"),
        ("http-503=1.5", "http-503 must be a rate between 0 and 1, got 1.5"),
        ("render-fail=-0.1", "render-fail must be a rate between 0 and 1, got -0.1"),
        ("drop-request=nan", "drop-request must be a rate between 0 and 1, got nan"),
        ("latency-ms=-1", "latency-ms must be a finite number >= 0, got -1.0"),
        ("latency-ms=inf", "latency-ms must be a finite number >= 0, got inf"),
        ("drop-reply=0.1,drop-reply=0.2", "chaos key 'drop-reply' is given twice"),
        (
            "drop-reply=0.6,http-503=0.5",
            "drop-request, http-503 and drop-reply must add up to 1 at most",
        ),
    ],
)
def test_a_bad_spec_is_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        ChaosSpec.parse(text)

    assert message in str(refused.value)


def test_the_same_seed_repeats_every_draw() -> None:
    first, again, other = Chaos(SPEC, seed=7), Chaos(SPEC, seed=7), Chaos(SPEC, seed=8)

    def draws(chaos: Chaos) -> list[object]:
        return [(chaos.next_fault(), chaos.render_fails()) for _ in range(500)]

    assert draws(first) == draws(again)
    assert draws(first) != draws(other)


def test_render_draws_do_not_shift_request_draws() -> None:
    # Renders finish in any order: their draws come from their own stream.
    quiet, busy = Chaos(SPEC, seed=7), Chaos(SPEC, seed=7)
    for _ in range(10):
        busy.render_fails()

    assert [quiet.next_fault() for _ in range(100)] == [busy.next_fault() for _ in range(100)]


def test_each_fault_comes_at_its_rate() -> None:
    chaos = Chaos(SPEC, seed=7)
    draws = 20_000

    faults = Counter(chaos.next_fault() for _ in range(draws))
    failed_renders = sum(chaos.render_fails() for _ in range(draws))

    shares = {fault: count / draws for fault, count in faults.items()}
    assert shares == pytest.approx(
        {Fault.NONE: 0.8, Fault.DROP_REPLY: 0.1, Fault.DROP_REQUEST: 0.05, Fault.HTTP_503: 0.05},
        abs=0.01,
    )
    assert failed_renders / draws == pytest.approx(0.02, abs=0.005)


def test_no_seed_picks_one_that_repeats_the_run() -> None:
    chaos = Chaos(SPEC)
    again = Chaos(SPEC, seed=chaos.seed)

    assert [chaos.next_fault() for _ in range(100)] == [again.next_fault() for _ in range(100)]


async def test_latency_delays_api_replies_only(state: SandboxState) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    app = create_app(state, sleep=sleep, chaos=Chaos(ChaosSpec(latency_ms=20), seed=7))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        call = {"jsonrpc": "2.0", "id": "1", "method": "SezionAPI.Template_List", "params": []}
        api = await http.post("/api", params=account_query(), json=call)
        control = await http.get("/sandbox/webhooks", params=account_query())

    assert (api.status_code, api.json()["result"]) == (200, [])
    assert control.status_code == 200
    assert delays == [0.02]


async def test_a_drop_without_the_servers_abort_extension_fails_in_the_app(
    state: SandboxState,
) -> None:
    app = create_app(state, chaos=Chaos(ChaosSpec(drop_request=1), seed=7))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        with pytest.raises(ConnectionAbortedError, match="cannot abort connections"):
            await http.post("/api", params=account_query(), json={})
