"""Command line: `python -m codegen json|generate|diff|check|regenerate ...`."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from codegen import check as committed
from codegen.diff import diff
from codegen.docs import render_docs
from codegen.generate import GenerationError, render_package
from codegen.model import REFERENCE_VERSION
from codegen.sources import SourceError, load

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
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    json_cmd = commands.add_parser("json", help="print or write the IDL JSON of a contract")
    json_cmd.add_argument("source", metavar="FILE.idl", help=".idl, .json or http(s) URL")
    json_cmd.add_argument("-o", "--output", type=Path, help="write here (no trailing newline)")
    _meta_options(json_cmd, default_date=None)
    json_cmd.set_defaults(command=_json)

    generate = commands.add_parser("generate", help="write a Python package for a contract")
    generate.add_argument("source", metavar="SOURCE", help=".idl, .json or http(s) URL")
    generate.add_argument("--package", required=True, help="package name (a directory in --out)")
    generate.add_argument("--out", required=True, type=Path, help="directory to write it into")
    generate.add_argument("--json", type=Path, help="also write the IDL JSON here")
    generate.add_argument("--docs", type=Path, help="also write the Markdown reference here")
    _meta_options(generate, default_date=0)
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


def _meta_options(parser: argparse.ArgumentParser, *, default_date: int | None) -> None:
    parser.add_argument("--barrister-version", default=REFERENCE_VERSION, metavar="V")
    when = "now" if default_date is None else str(default_date)
    parser.add_argument(
        "--date-generated", type=int, default=default_date, metavar="MS", help=f"default: {when}"
    )


def _date(args: argparse.Namespace) -> int:
    return int(time.time() * 1000) if args.date_generated is None else int(args.date_generated)


def _json(args: argparse.Namespace) -> int:
    source = load(args.source)
    text = source.contract.dumps(
        barrister_version=args.barrister_version, date_generated=_date(args)
    )
    if args.output is None:
        print(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def _generate(args: argparse.Namespace) -> int:
    if not args.package.isidentifier():
        raise UsageError(f"--package {args.package!r}: not a valid Python package name")
    source = load(args.source)
    meta = {"barrister_version": args.barrister_version, "date_generated": _date(args)}
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
