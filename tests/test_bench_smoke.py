"""The benchmark harness runs end to end at tiny sizes and yields well-shaped rows, not timings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import campaign, decoding, generation
from bench.__main__ import main
from bench.common import PACKAGES, Goal, Plan, Row, Stat, against, interleave, render, write_json
from bench.server import Answers, canned_results

TINY = Plan(runs=2, warmup=1, budget_s=60.0)
ROW_KEYS = {
    "benchmark",
    "case",
    "unit",
    "median",
    "min",
    "max",
    "runs",
    "baseline",
    "ratio",
    "goal",
    "ok",
}


def assert_compared(rows: list[Row], benchmark: str, baseline: str, case: str) -> None:
    """`rows` hold the baseline row first, then `case` with a ratio and a goal against it."""
    first, second = rows
    assert (first.benchmark, first.case, first.baseline, first.ratio) == (
        benchmark,
        baseline,
        None,
        None,
    )
    assert (second.benchmark, second.case, second.baseline) == (benchmark, case, baseline)
    assert second.ratio is not None
    assert second.goal is not None
    assert isinstance(second.ok, bool)
    for row in rows:
        assert row.stat.runs == TINY.runs
        assert 0 <= row.stat.min <= row.stat.median <= row.stat.max
        assert set(row.to_json()) == ROW_KEYS


def test_decode_benchmark_compares_generated_code_with_cattrs() -> None:
    rows = decoding.run(TINY, count=20)

    assert_compared(rows[:2], "decode", "cattrs structure", "from_json")
    assert_compared(rows[2:], "encode", "cattrs unstructure", "to_json")
    assert {row.unit for row in rows} == {"ms/20 Video"}


def test_codegen_benchmark_compares_two_sizes() -> None:
    rows = generation.run(TINY, sizes=(70, 210))

    assert_compared(rows[:2], "codegen parse+check", "70 lines", "210 lines")
    assert_compared(rows[2:], "codegen parse+check+generate", "70 lines", "210 lines")
    assert rows[1].goal == rows[3].goal == Goal("<=", 3.9)


def test_campaign_benchmark_compares_a_campaign_with_a_bare_gather() -> None:
    rows = campaign.run(TINY, rows=20)

    case = "campaign 20 rows (journal)"
    assert_compared(rows[:2], "campaign 20 rows", campaign.BASELINE, case)
    assert_compared(rows[2:], "campaign 20 rows, client CPU", campaign.BASELINE, case)
    assert rows[1].goal == rows[3].goal == Goal("<=", 1.3)
    assert {row.unit for row in rows} == {"s", "CPU s"}


@pytest.mark.parametrize("lines", [40, 500, 5000])
def test_synthetic_idl_has_exactly_the_lines_asked_for(lines: int) -> None:
    assert len(generation.synthetic_idl(lines).splitlines()) == lines


def test_main_runs_one_benchmark_and_writes_the_table_figures_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"

    assert main(["--quick", "--only", "decode", "--out", str(out)]) == 0

    document = json.loads(out.read_text())
    table = capsys.readouterr().out
    assert set(document["machine"]) == {"cpu", "cores", "python", *PACKAGES}
    assert [row["case"] for row in document["rows"]] == [
        "cattrs structure",
        "from_json",
        "cattrs unstructure",
        "to_json",
    ]
    for row in document["rows"]:
        assert set(row) == ROW_KEYS
        assert row["case"] in table
    assert f"python {document['machine']['python']}" in table


def test_interleave_discards_warmups_and_alternates_variants() -> None:
    calls: list[str] = []

    def variant(name: str, figure: float) -> Callable[[], float]:
        def run() -> float:
            calls.append(name)
            return figure + len(calls)

        return run

    stats = interleave(
        {"a": variant("a", 0.0), "b": variant("b", 100.0)},
        Plan(runs=3, warmup=1, budget_s=60.0),
    )

    assert calls == ["a", "b"] * 4
    assert stats == {"a": Stat(5.0, 3.0, 7.0, 3), "b": Stat(106.0, 104.0, 108.0, 3)}


def test_interleave_stops_after_one_round_once_the_budget_is_spent() -> None:
    stats = interleave({"only": lambda: 1.0}, Plan(runs=5, warmup=0, budget_s=-1.0))

    assert stats["only"].runs == 1


def test_rows_carry_ratios_and_goal_verdicts() -> None:
    stats = {"base": Stat(10.0, 9.0, 11.0, 3), "fast": Stat(5.0, 4.0, 6.0, 3)}

    base, fast = against("bench", "ms", stats, "base", {"fast": Goal("<=", 0.4)})
    _, value = against(
        "bench", "MB", stats, "base", {"fast": Goal("<=", 8, "value")}, with_ratio=False
    )

    assert (base.ratio, base.ok, fast.ratio, fast.ok) == (None, None, 0.5, False)
    assert (value.ratio, value.baseline, value.ok) == (None, None, True)
    assert str(fast.goal) == "≤ 0.4x"


def test_render_and_write_json_show_the_same_rows(tmp_path: Path) -> None:
    rows = against(
        "bench", "ms", {"base": Stat(2.0, 1.0, 3.0, 2), "new": Stat(1.0, 1.0, 1.0, 2)}, "base"
    )
    out = tmp_path / "results.json"

    write_json(out, {"cpu": "test"}, rows)
    table = render({"cpu": "test"}, rows)

    document = json.loads(out.read_text())
    assert [row["case"] for row in document["rows"]] == ["base", "new"]
    assert document["rows"][1]["ratio"] == 0.5
    assert "0.50x" in table
    assert table.splitlines()[0] == "cpu test"
    assert not out.with_name("results.json.tmp").exists()


def test_server_answers_single_batch_and_unknown_calls() -> None:
    contract = json.loads((Path(__file__).parent.parent / "idl" / "pirsonal.json").read_text())
    answers = Answers(canned_results(contract))

    single = json.loads(answers.rpc(b'{"jsonrpc":"2.0","id":"7","method":"SezionAPI.Video_Get"}'))
    batch = json.loads(
        answers.rpc(b'[{"id":1,"method":"SezionAPI.Media_Delete"},{"id":2,"method":"Nope.X"}]')
    )

    assert (single["id"], single["result"]["name"]) == ("7", "Hi Ana #0")
    assert batch[0] == {"jsonrpc": "2.0", "id": 1, "result": "OK"}
    assert batch[1]["error"]["code"] == -32601
