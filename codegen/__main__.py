"""Command line: `pirsonal-codegen json|generate|diff|check|regenerate ...` (also run as
`python -m pirsonal_async_codegen`, or `python -m codegen` in a checkout)."""

from __future__ import annotations

import argparse
import keyword
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from . import check as committed
from .diff import diff
from .docs import render_docs
from .generate import GenerationError, render_package
from .model import REFERENCE_VERSION
from .sources import Source, SourceError, load

BAD_INPUT = 2


class UsageError(Exception):
    """Bad input that is not a source problem (e.g. an invalid package name)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = command(args)
        except (SourceError, UsageError) as exc:
            _print_lines(str(exc))
            status = BAD_INPUT
        except OSError as exc:
            _print_lines(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
            status = BAD_INPUT
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pirsonal-codegen", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    json_cmd = commands.add_parser("json", help="print or write the IDL JSON of a contract")
    json_cmd.add_argument("source", metavar="FILE.idl", help=".idl, .json or http(s) URL")
    json_cmd.add_argument("-o", "--output", type=Path, help="write here (no trailing newline)")
    _meta_options(json_cmd, from_source=True)
    json_cmd.set_defaults(command=_json)

    generate = commands.add_parser("generate", help="write a Python package for a contract")
    generate.add_argument("source", metavar="SOURCE", help=".idl, .json or http(s) URL")
    generate.add_argument("--package", required=True, help="package name (a directory in --out)")
    generate.add_argument("--out", required=True, type=Path, help="directory to write it into")
    generate.add_argument("--json", type=Path, help="also write the IDL JSON here")
    generate.add_argument("--docs", type=Path, help="also write the Markdown reference here")
    _meta_options(generate, from_source=False)
    generate.set_defaults(command=_generate)

    compare = commands.add_parser("diff", help="list what changed between two contracts")
    compare.add_argument("old", metavar="OLD", help=".idl, .json or http(s) URL")
    compare.add_argument("new", metavar="NEW", help=".idl, .json or http(s) URL")
    compare.set_defaults(command=_diff)

    stale = commands.add_parser("check", help="fail when committed generated files are stale")
    stale.set_defaults(command=_check)
    rewrite = commands.add_parser("regenerate", help="rewrite the committed generated files")
    rewrite.set_defaults(command=_regenerate)
    return parser


def _meta_options(parser: argparse.ArgumentParser, *, from_source: bool) -> None:
    """`from_source`: default to the meta of an IDL JSON source (None), else the reference
    version and now; otherwise default to the reference version and 0, for stable output."""
    version, date = (None, None) if from_source else (REFERENCE_VERSION, 0)
    shown = "the source's meta, else " if from_source else ""
    parser.add_argument(
        "--barrister-version",
        default=version,
        metavar="V",
        help=f"default: {shown}{REFERENCE_VERSION}",
    )
    parser.add_argument(
        "--date-generated",
        type=int,
        default=date,
        metavar="MS",
        help=f"default: {shown}{'now' if from_source else 0}",
    )


def _json(args: argparse.Namespace) -> int:
    source = load(args.source)
    _check_meta(source)
    meta = source.contract.meta
    version = args.barrister_version
    if version is None:
        version = meta.barrister_version if meta is not None else REFERENCE_VERSION
    date = args.date_generated
    if date is None:
        date = meta.date_generated if meta is not None else int(time.time() * 1000)
    text = source.contract.dumps(barrister_version=version, date_generated=date)
    if args.output is None:
        print(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def _check_meta(source: Source) -> None:
    """An IDL JSON whose checksum does not match its elements was edited, or is corrupt."""
    meta, checksum = source.contract.meta, source.contract.checksum()
    if meta is not None and meta.checksum != checksum:
        warnings.warn(
            f"{source.name}: meta checksum {meta.checksum!r} is not the contract's ({checksum})",
            stacklevel=2,
        )


def _generate(args: argparse.Namespace) -> int:
    if not args.package.isidentifier() or keyword.iskeyword(args.package):
        raise UsageError(f"--package {args.package!r}: not a valid Python package name")
    source = load(args.source)
    _check_meta(source)
    meta = {"barrister_version": args.barrister_version, "date_generated": args.date_generated}
    try:  # render everything before writing anything
        files = render_package(source.contract, source_name=source.name, **meta)
        docs = render_docs(source.contract, source_name=source.name) if args.docs else ""
    except GenerationError as exc:
        lines = (f"{args.source}: {line}" for line in str(exc).splitlines())
        raise SourceError("\n".join(lines)) from None
    package = args.out / args.package
    package.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8", newline="\n")
    if args.json is not None:
        args.json.write_text(source.contract.dumps(**meta), encoding="utf-8")
    if args.docs is not None:
        args.docs.write_text(docs, encoding="utf-8")
    return 0


def _diff(args: argparse.Namespace) -> int:
    result = diff(load(args.old).contract, load(args.new).contract)
    print("\n".join(result.lines()))
    return 0 if result.identical else 1


def _check(args: argparse.Namespace) -> int:
    outcome = committed.check(committed.REPO_ROOT, committed.TARGETS)
    _print_lines("\n".join(outcome.errors + outcome.problems))
    if outcome.errors:
        return BAD_INPUT
    if outcome.problems:
        return 1
    print("generated files are up to date")
    return 0


def _regenerate(args: argparse.Namespace) -> int:
    outcome = committed.regenerate(committed.REPO_ROOT, committed.TARGETS)
    for line in outcome.written:
        print(f"wrote {line}")
    _print_lines("\n".join(outcome.errors + outcome.problems))
    return BAD_INPUT if outcome.errors else 0


def _print_lines(text: str) -> None:
    for line in text.splitlines():
        print(line, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
