"""Load a contract from a `.idl` file, an IDL JSON file, or a live Barrister endpoint."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from attrs import frozen

from pirsonal_async.errors import PirsonalAsyncError
from pirsonal_async.retry import RetryPolicy
from pirsonal_async.rpc import RpcClient

from .model import Contract, ContractFormatError

# A build step fails at once and says why; whoever runs it decides whether to try again.
_ONE_ATTEMPT = RetryPolicy(max_attempts=1)


class SourceError(Exception):
    """A source that cannot be loaded; `str()` is one `problem` line per line."""


@frozen
class Source:
    contract: Contract
    name: str  # what generated files say they came from: a file name, or a URL without query


def load(source: str, *, timeout: float = 30.0) -> Source:
    """Load `source`: a path ending in `.idl` or `.json`, or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        return Source(_fetch(source, timeout), public_url(source))
    path = Path(source)
    if path.suffix in (".idl", ".json") and path.is_dir():
        raise SourceError(f"{source}: is a directory, not a {path.suffix} file")
    if path.suffix == ".idl":
        return Source(_parse_idl(path), path.name)
    if path.suffix == ".json":
        return Source(_read_json(path), path.name)
    raise SourceError(f"{source}: expected a .idl or .json file, or an http(s) URL")


def public_url(url: str) -> str:
    """The URL without query, fragment or user info: Pirsonal puts the account secret there."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # an unclosed IPv6 bracket or a bad port: cut the text instead
        scheme, _, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        shown = f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
        return re.split(r"[?#]", shown, maxsplit=1)[0]
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _parse_idl(path: Path) -> Contract:
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    try:  # imported here: the parser (and lark) are needed only for .idl sources
        from .diagnostics import IdlError
        from .parser import parse_file
    except ImportError as exc:
        raise SourceError(f"{path}: cannot read .idl files: {exc}") from None
    try:
        return parse_file(path)
    except IdlError as exc:
        raise SourceError(str(exc)) from None


def _read_json(path: Path) -> Contract:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror or exc}") from None
    try:
        return Contract.loads(text)
    except ContractFormatError as exc:
        raise SourceError(f"{path}: {exc}") from None


def _fetch(url: str, timeout: float) -> Contract:
    shown = public_url(url)
    try:
        with _no_last_resort_logging():
            idl = asyncio.run(_fetch_idl(url, timeout))
    except PirsonalAsyncError as exc:
        # Redacted by RpcClient, and led by the method: "barrister-idl: HTTP 500 ...".
        raise SourceError(f"{shown}: {exc}") from None
    try:
        return Contract.from_json(idl)
    except ContractFormatError as exc:
        raise SourceError(f"{shown}: {exc}") from None


async def _fetch_idl(url: str, timeout: float) -> list[Any]:
    """`barrister-idl` through RpcClient: envelope and id checks, redaction, guarded logs."""
    try:
        rpc = RpcClient(url, timeout=httpx.Timeout(timeout), retry=_ONE_ATTEMPT)
    except ValueError:  # its message quotes the URL, redacted only of secret-named values
        raise SourceError(f"{public_url(url)}: not a valid absolute http(s) URL") from None
    async with rpc:
        return await rpc.fetch_contract()


@contextmanager
def _no_last_resort_logging() -> Iterator[None]:
    """Keeps the library's warnings off stderr when logging is not configured.

    Python then prints them itself ("last resort"), and here they would repeat the SourceError
    that reports the failure. Configured handlers still get them: a NullHandler does not stop
    propagation.
    """
    logger = logging.getLogger("pirsonal_async")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
