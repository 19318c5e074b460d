"""Load a contract from a `.idl` file, an IDL JSON file, or a live Barrister endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from attrs import frozen

from codegen.model import Contract, ContractFormatError

IDL_REQUEST = {"jsonrpc": "2.0", "id": "1", "method": "barrister-idl", "params": []}


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
    if path.suffix == ".idl":
        return Source(_parse_idl(path), path.name)
    if path.suffix == ".json":
        return Source(_read_json(path), path.name)
    raise SourceError(f"{source}: expected a .idl or .json file, or an http(s) URL")


def public_url(url: str) -> str:
    """The URL without query, fragment or user info: Pirsonal puts the account secret there."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _parse_idl(path: Path) -> Contract:
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    try:  # imported here: the parser (and lark) are needed only for .idl sources
        from codegen.diagnostics import IdlError
        from codegen.parser import parse_file
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
        response = httpx.post(url, json=IDL_REQUEST, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SourceError(f"{shown}: cannot fetch the contract: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise SourceError(f"{shown}: HTTP {response.status_code} for barrister-idl")
    try:
        reply = response.json()
    except (ValueError, UnicodeDecodeError):
        raise SourceError(f"{shown}: the reply to barrister-idl is not JSON") from None
    if not isinstance(reply, dict) or "result" not in reply:
        error = reply.get("error") if isinstance(reply, dict) else None
        detail = f": {json.dumps(error)}" if error is not None else ""
        raise SourceError(f"{shown}: barrister-idl returned no result{detail}")
    try:
        return Contract.from_json(reply["result"])
    except ContractFormatError as exc:
        raise SourceError(f"{shown}: {exc}") from None
