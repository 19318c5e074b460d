"""The package's public surface, and what importing its parts loads."""

from __future__ import annotations

import subprocess
import sys

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
    # If the generated package is broken, `python -m codegen regenerate` must still start.
    probe = (
        "import sys, codegen.__main__, codegen.generate, codegen.sources, codegen.check\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pirsonal_async.generated'))\n"
        "print(loaded)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
