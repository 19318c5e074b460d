"""Run the benchmarks: print one table of figures and ratios, and write them to results.json."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Plan, Row, machine, render, write_json

RESULTS = Path(__file__).resolve().parent / "results.json"


# name: (module in bench/, sizes for a full run, sizes for a quick run)
BENCHMARKS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "call": ("per_call", {"calls": 500}, {"calls": 30}),
    "throughput": ("throughput", {"calls": 1000}, {"calls": 100}),
    "decode": ("decoding", {"count": 10_000}, {"count": 500}),
    "upload": ("upload", {"size": 50_000_000}, {"size": 5_000_000}),
    "codegen": ("generation", {"sizes": (500, 5000)}, {"sizes": (100, 1000)}),
}


def run_benchmark(name: str, plan: Plan, quick: bool) -> list[Row]:
    # Imported on demand, so `--only decode` needs nothing that the other benchmarks import.
    module_name, full, small = BENCHMARKS[name]
    run: Callable[..., list[Row]] = importlib.import_module(f"bench.{module_name}").run
    return run(plan, **(small if quick else full))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few iterations, small sizes")
    parser.add_argument("--only", choices=list(BENCHMARKS), help="run one benchmark")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)

    plan = Plan.quick() if args.quick else Plan.full()
    selected = [args.only] if args.only else list(BENCHMARKS)
    rows: list[Row] = []
    failed = []
    for name in selected:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            rows += run_benchmark(name, plan, args.quick)
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
    info = machine()
    print(render(info, rows))
    write_json(args.out, info, rows)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
