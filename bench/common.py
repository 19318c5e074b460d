"""Shared benchmark plumbing: run plans, interleaved measurement, stats, the table and JSON."""

from __future__ import annotations

import json
import os
import platform
import statistics
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

PACKAGES = ("httpx", "attrs", "cattrs", "pirsonal-async")


@dataclass(frozen=True)
class Plan:
    """How many times to measure each variant, and the wall-clock budget for doing so."""

    runs: int
    warmup: int
    budget_s: float

    @classmethod
    def full(cls) -> Plan:
        return cls(runs=7, warmup=1, budget_s=60.0)

    @classmethod
    def quick(cls) -> Plan:
        return cls(runs=2, warmup=1, budget_s=10.0)


@dataclass(frozen=True)
class Stat:
    median: float
    min: float
    max: float
    runs: int

    @classmethod
    def of(cls, samples: list[float]) -> Stat:
        if not samples:
            raise ValueError("a statistic needs at least one sample")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))


@dataclass(frozen=True)
class Goal:
    """A target for a row's ratio (against its baseline) or for its own median value."""

    op: Literal["<=", ">="]
    limit: float
    on: Literal["ratio", "value"] = "ratio"

    def met(self, figure: float) -> bool:
        return figure <= self.limit if self.op == "<=" else figure >= self.limit

    def __str__(self) -> str:
        suffix = "x" if self.on == "ratio" else ""
        return f"{'≤' if self.op == '<=' else '≥'} {self.limit:g}{suffix}"


@dataclass(frozen=True)
class Row:
    benchmark: str
    case: str
    unit: str
    stat: Stat
    baseline: str | None = None
    ratio: float | None = None
    goal: Goal | None = None

    @property
    def ok(self) -> bool | None:
        if self.goal is None:
            return None
        figure = self.ratio if self.goal.on == "ratio" else self.stat.median
        return None if figure is None else self.goal.met(figure)

    @property
    def goal_text(self) -> str:
        if self.goal is None:
            return ""
        return f"{self.goal} {self.unit}" if self.goal.on == "value" else str(self.goal)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "case": self.case,
            "unit": self.unit,
            **asdict(self.stat),
            "baseline": self.baseline,
            "ratio": self.ratio,
            "goal": self.goal_text or None,
            "ok": self.ok,
        }


def interleave(variants: Mapping[str, Callable[[], float]], plan: Plan) -> dict[str, Stat]:
    """Measure every variant in turn, round after round, so drift on a shared machine hits all.

    Each callable performs one run and returns its figure. Warm-up rounds are discarded; measured
    rounds stop at `plan.runs` or once the budget is spent (after at least one round).
    """
    for _ in range(plan.warmup):
        for run in variants.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    deadline = time.monotonic() + plan.budget_s
    for _ in range(plan.runs):
        for name, run in variants.items():
            samples[name].append(run())
        if time.monotonic() > deadline:
            break
    return {name: Stat.of(figures) for name, figures in samples.items()}


def against(
    benchmark: str,
    unit: str,
    stats: Mapping[str, Stat],
    baseline: str,
    goals: Mapping[str, Goal] | None = None,
    *,
    with_ratio: bool = True,
) -> list[Row]:
    """Rows for one benchmark: the baseline first, then each variant with its ratio to it.

    `with_ratio=False` is for figures judged on their own value, where a ratio to a near-zero
    baseline would only be noise.
    """
    base = stats[baseline].median
    rows = [Row(benchmark, baseline, unit, stats[baseline])]
    for case, stat in stats.items():
        if case == baseline:
            continue
        ratio = stat.median / base if with_ratio and base > 0 else None
        reference = baseline if ratio is not None else None
        rows.append(Row(benchmark, case, unit, stat, reference, ratio, (goals or {}).get(case)))
    return rows


def machine() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        **versions,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def render(info: Mapping[str, str], rows: list[Row], notes: Sequence[str] = ()) -> str:
    """The machine line, the table, then each note as a wrapped footnote."""
    header = ["benchmark", "case", "median", "min", "max", "unit", "ratio", "vs", "goal", "ok"]
    lines = [[*_cells(row)] for row in rows]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    numeric = {2, 3, 4, 6}

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    machine_line = ", ".join(f"{key} {value}" for key, value in info.items())
    rule = "-" * len(fmt(header))
    footnotes = [
        textwrap.fill(note, len(rule), initial_indent="* ", subsequent_indent="  ")
        for note in notes
    ]
    return "\n".join([machine_line, rule, fmt(header), rule, *map(fmt, lines), rule, *footnotes])


def _cells(row: Row) -> list[str]:
    ok = {True: "yes", False: "NO", None: ""}[row.ok]
    return [
        row.benchmark,
        row.case,
        _number(row.stat.median),
        _number(row.stat.min),
        _number(row.stat.max),
        row.unit,
        "" if row.ratio is None else f"{row.ratio:.2f}x",
        row.baseline or "",
        row.goal_text,
        ok,
    ]


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def write_json(
    path: Path, info: Mapping[str, str], rows: list[Row], notes: Sequence[str] = ()
) -> None:
    """Write atomically, so an interrupted run never leaves a half-written results file."""
    document = {
        "machine": dict(info),
        "rows": [row.to_json() for row in rows],
        "notes": list(notes),
    }
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    partial.replace(path)
