"""The CI scripts: `make test-pythons` skips a missing interpreter locally, and fails on CI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

TEST_PYTHONS = Path(__file__).parents[1] / ".ci" / "test-pythons"
MISSING = "0.1"  # no such Python anywhere


def run_test_pythons(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXTRAS": "dev", "PYENV_ROOT": str(tmp_path)}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        ["bash", str(TEST_PYTHONS), MISSING], env=env, capture_output=True, text=True, timeout=60
    )


def test_a_missing_python_fails_loudly_under_ci(tmp_path: Path) -> None:
    result = run_test_pythons(tmp_path, ci="true")

    assert result.returncode == 1
    assert result.stderr == (
        f"error: Python {MISSING} is listed but not installed (python{MISSING}, pyenv)\n"
    )
    assert not (TEST_PYTHONS.parents[1] / f".venv-{MISSING}").exists()


@pytest.mark.parametrize("ci", [None, "false"])
def test_a_missing_python_is_skipped_with_a_note_elsewhere(tmp_path: Path, ci: str | None) -> None:
    result = run_test_pythons(tmp_path, ci)

    assert result.returncode == 0
    assert result.stderr == f"skipped: Python {MISSING} is not installed (python{MISSING}, pyenv)\n"
    assert result.stdout == ""


def test_ci_runs_the_other_pythons_after_the_main_suite() -> None:
    steps = [
        line
        for line in (TEST_PYTHONS.parent / "run").read_text().splitlines()
        if line.startswith("make")
    ]
    assert steps == ["make test", "make test-pythons"]
