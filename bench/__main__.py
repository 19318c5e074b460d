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
from bench.server import DEFAULT_RTT_MS

RESULTS = Path(__file__).resolve().parent / "results.json"


# name: (module in bench/, sizes for a full run, sizes for a quick run)
BENCHMARKS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "call": ("per_call", {"calls": 500}, {"calls": 30}),
    "throughput": ("throughput", {"calls": 1000}, {"calls": 100}),
    "decode": ("decoding", {"count": 10_000}, {"count": 500}),
    "upload": ("upload", {"size": 50_000_000}, {"size": 5_000_000}),
    "codegen": ("generation", {"sizes": (500, 5000)}, {"sizes": (100, 1000)}),
    "campaign": ("campaign", {"rows": 5000}, {"rows": 500}),
}


# Benchmarks that wait on the network, so take the simulated round-trip time.
NETWORKED = {"throughput"}


def run_benchmark(name: str, plan: Plan, quick: bool, rtt_ms: float) -> tuple[list[Row], list[str]]:
    """The benchmark's rows, and the footnotes its module declares in `NOTES`."""
    # Imported on demand, so `--only decode` needs nothing that the other benchmarks import.
    module_name, full, small = BENCHMARKS[name]
    module = importlib.import_module(f"bench.{module_name}")
    run: Callable[..., list[Row]] = module.run
    options = {"rtt_ms": rtt_ms} if name in NETWORKED else {}
    rows = run(plan, **(small if quick else full), **options)
    return rows, list(getattr(module, "NOTES", ()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few iterations, small sizes")
    parser.add_argument("--only", choices=list(BENCHMARKS), help="run one benchmark")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=DEFAULT_RTT_MS,
        help="simulated network round trip for the throughput benchmark (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.rtt_ms < 0:
        parser.error(f"--rtt-ms must be 0 or more, got {args.rtt_ms:g}")

    plan = Plan.quick() if args.quick else Plan.full()
    selected = [args.only] if args.only else list(BENCHMARKS)
    rows: list[Row] = []
    notes: list[str] = []
    failed = []
    for name in selected:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            new_rows, new_notes = run_benchmark(name, plan, args.quick, args.rtt_ms)
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
            continue
        rows += new_rows
        notes += new_notes
    info = machine()
    print(render(info, rows, notes))
    write_json(args.out, info, rows, notes)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
