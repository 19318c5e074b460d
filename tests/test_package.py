"""The package's public surface, and what importing its parts loads."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pirsonal_async


@pytest.mark.parametrize("name", pirsonal_async.__all__)
def test_every_export_resolves(name: str) -> None:
    value = getattr(pirsonal_async, name)
    assert getattr(value, "__name__", name) == name  # functions and classes by their own name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        pirsonal_async.Nope  # noqa: B018


def test_the_code_generator_never_loads_the_bindings_it_rewrites() -> None:
    # If the generated package is broken, `pirsonal-codegen regenerate` must still start.
    probe = (
        "import sys, pirsonal_async_codegen.__main__ as m, pirsonal_async_codegen.check\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pirsonal_async.generated'))\n"
        "print(loaded)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


REPO = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_only_our_own_top_level_packages(tmp_path: Path) -> None:
    # Offline: hatchling is a dev dependency, so no isolated build environment is fetched.
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", str(tmp_path), str(REPO)], capture_output=True, check=True)
    [wheel] = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt")))
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"pirsonal_async", "pirsonal_async_codegen"}
    # The generator works from the wheel: its templates, grammar and entry point are there.
    assert "pirsonal_async_codegen/templates/types.py.jinja" in names
    assert "pirsonal_async_codegen/grammar.lark" in names
    assert b"pirsonal-codegen = pirsonal_async_codegen.__main__:main" in entry_points
    assert not [name for name in names if name.startswith("codegen/")]


def test_the_console_script_and_the_module_run_the_generator() -> None:
    script = Path(sys.executable).with_name("pirsonal-codegen")
    for command in ([str(script)], [sys.executable, "-m", "pirsonal_async_codegen"]):
        done = subprocess.run([*command, "--help"], capture_output=True, text=True, check=True)
        assert done.stdout.startswith("usage: pirsonal-codegen ")
