"""A Markdown API reference of a contract, from its IDL comments and the generated Python names."""

from __future__ import annotations

import re

from .generate import EnumView, StructView, header, render, views
from .model import Comment, Contract


def render_docs(contract: Contract, *, source_name: str) -> str:
    """Interfaces with their functions, then structs with field tables, then enums."""
    seen = views(contract)
    return render(
        "api.md.jinja",
        {
            "header": header(source_name, contract.checksum()).replace("\n# ", " "),
            "source_name": source_name,
            "overview": [_demoted(e.value) for e in contract.elements if isinstance(e, Comment)],
            "interfaces": seen.interfaces,
            "structs": [t for t in seen.types if isinstance(t, StructView)],
            "enums": [t for t in seen.types if isinstance(t, EnumView)],
        },
    )


def _demoted(text: str) -> str:
    """Headings in IDL comments move one level down, under this page's own title."""
    return re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)
