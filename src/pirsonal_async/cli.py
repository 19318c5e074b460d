"""The `pirsonal` command line: call API methods, upload media, run the sandbox or a receiver."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import functools
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit

from attrs import frozen

from pirsonal_async._redact import Redactor
from pirsonal_async.client import (
    DEFAULT_BASE_URL,
    ENV_ACCOUNT_ID,
    ENV_ACCOUNT_SECRET,
    ENV_BASE_URL,
    ENV_TEMPLATE_SECRET,
    PirsonalClient,
    bundled_contract,
)
from pirsonal_async.contract import Function
from pirsonal_async.errors import RequestValidationError
from pirsonal_async.generated import Media, Video
from pirsonal_async.webhooks import WebhookApp, webhook_app

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a tool that SIGPIPE ended

ENV_WEBHOOK_TOKEN = "PIRSONAL_WEBHOOK_TOKEN"
_SECRET_ENV = (ENV_ACCOUNT_SECRET, ENV_TEMPLATE_SECRET, ENV_WEBHOOK_TOKEN)

_NEEDS_SERVER = "'pirsonal {command}' needs uvicorn: pip install 'pirsonal-async[sandbox]'"
_PROGRESS_WIDTH = 20
_MEGABYTE = 1_000_000  # the upload limit is documented as 50 MB = 50,000,000 bytes


class UsageError(Exception):
    """The command line cannot be run as given (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """Turns argparse's usage errors into one-line `UsageError`s instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line and returns its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    redact = Redactor(_secrets_in(arguments))
    names: Mapping[str, str] = {}
    try:
        parser = build_parser()
        try:
            args, extra = parser.parse_known_args(arguments)
        except SystemExit as stop:  # --help
            status = stop.code if isinstance(stop.code, int) else 0
        else:
            names = args.cli_names
            status = _run(parser, args, extra)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return status
    except UsageError as error:
        return _fail(error, str(error), EXIT_USAGE, redact)
    except RequestValidationError as error:
        return _fail(error, _in_cli_terms(error, names), EXIT_USAGE, redact)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # quiet, like any Unix tool: the terminal already shows ^C
    except BrokenPipeError:
        # The reader stopped early (`pirsonal call ... | head`): end quietly like any Unix tool,
        # with the status of one killed by SIGPIPE. Output still buffered goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as error:  # one redacted line, never a traceback that may quote a URL
        return _fail(error, str(error), EXIT_ERROR, redact)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]) -> int:
    if args.command == "sandbox":
        return _run_sandbox(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    command: str = args.command
    return _COMMANDS[command](args)


def _fail(error: Exception, message: str, status: int, redact: Redactor) -> int:
    line = " ".join(redact(message).split())
    print(f"error: {type(error).__name__}: {line}", file=sys.stderr)
    return status


def _in_cli_terms(error: RequestValidationError, names: Mapping[str, str]) -> str:
    """The error's text with the parameter it names spelled as the command's option.

    The library names its Python parameters (`content_type`); the user typed `--content-type`.
    """
    name = names.get(error.param or "")
    if name is None:
        return str(error)
    return f"{error.method}: {name}: {error.reason}" if error.method else f"{name}: {error.reason}"


def _secrets_in(arguments: Sequence[str]) -> list[str]:
    """Secret values from the environment and the command line, known before parsing it, so
    even a usage error that quotes an argument cannot echo one."""
    found = [os.environ.get(name, "") for name in _SECRET_ENV]
    for index, argument in enumerate(arguments):
        option, equals, value = argument.partition("=")
        if option.startswith("--") and _looks_secret(option):
            if equals:
                found.append(value)
            elif index + 1 < len(arguments):
                found.append(arguments[index + 1])
    return found


def _looks_secret(option: str) -> bool:
    """Whether an option may hold a secret: one of a secret-looking name, mistyped
    (--account-secert) or abbreviated (--account-sec) too, since argparse echoes the value
    after an option it does not know, or reads it as the command or method."""
    words = option.lstrip("-").lower().replace("_", "-").split("-")
    return any(
        secret in word
        or secret.startswith(word)
        or difflib.SequenceMatcher(None, word, secret).ratio() >= 0.75
        for word in words
        if word
        for secret in ("secret", "token", "password")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pirsonal",
        description="Command-line client for the Pirsonal Personalized Videos API.",
        epilog=f"Credentials come from the options or from ${ENV_ACCOUNT_ID}, "
        f"${ENV_ACCOUNT_SECRET} and ${ENV_BASE_URL}; prefer the environment for secrets. "
        "Exit status: 0 ok, 1 API or transport error, 2 usage error, 130 interrupted (Ctrl-C), "
        "141 the reader of the output stopped early (as `| head` does).",
    )
    _add_global_options(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    call = commands.add_parser(
        "call",
        help="call an API method and print its JSON result",
        description="Call an API method (Video_Get, SezionAPI.Video_Get or video_get) with "
        "one JSON value per parameter. String and enum parameters may be given bare "
        "(abc123 instead of '\"abc123\"').",
    )
    call.add_argument("method", metavar="METHOD")
    call.add_argument("params", metavar="JSON_ARG", nargs="*")
    call.add_argument("--sort-keys", action="store_true", help="sort object keys in the output")
    call.add_argument(
        "--show-secrets",
        action="store_true",
        help="print secret fields (e.g. Template.secret) instead of masking them as ***",
    )
    _add_global_options(call, default=argparse.SUPPRESS)

    commands.add_parser("methods", help="list the API methods and their signatures")

    upload = commands.add_parser(
        "upload",
        help="upload a media file and print its Media JSON",
        description="Upload a video, image or audio file (at most 50 MB) to the account's "
        "storage, or as a per-video upload with --template-id and --template-secret.",
    )
    # Dests are the library's parameter names, so its errors can be told in the options' terms.
    upload.add_argument("source", metavar="FILE")
    upload.add_argument("--description", help="the media description")
    upload.add_argument("--content-type", help="e.g. video/mp4 (default: guessed from FILE)")
    upload.add_argument("--filename", help="the name stored with the media (default: FILE's)")
    upload.add_argument("--template-id", help="upload for this template's videos")
    upload.add_argument(
        "--template-secret", help=f"the template's secret (default: ${ENV_TEMPLATE_SECRET})"
    )
    _add_global_options(upload, default=argparse.SUPPRESS)

    commands.add_parser(
        "sandbox",
        add_help=False,  # --help goes to the sandbox's own parser, like its other options
        help="run a local Pirsonal sandbox (see 'pirsonal sandbox --help')",
    )

    campaign = commands.add_parser(
        "campaign",
        help="make one video per recipient of a CSV or JSON Lines file, exactly once",
        description="Make one video of TEMPLATE_ID per row of RECIPIENTS (CSV with a header, "
        "or .jsonl): columns key (unique, stored in the video's data), name, optionally "
        "description, email, first_name, last_name, keywords, and input:<inputID>:<type> "
        "(a media ID, a URL, a local file to upload, or the text of a text input). Bad rows "
        "are reported and never sent. The journal makes reruns safe: they skip rows already "
        "done and pick up new ones; no key ever gets two videos. Exit status 0 only when "
        "every valid row has its video (rendered, with --wait).",
    )
    campaign.add_argument("template_id", metavar="TEMPLATE_ID")
    campaign.add_argument("recipients", metavar="RECIPIENTS")
    campaign.add_argument("--journal", required=True, help="the SQLite journal file")
    campaign.add_argument(
        "--concurrency", type=int, default=16, help="requests in flight (default %(default)s)"
    )
    campaign.add_argument("--out", help="write one JSON line per row to this file")
    campaign.add_argument(
        "--wait", action="store_true", help="wait for every render and collect its links"
    )
    campaign.add_argument(
        "--wait-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for each render (default %(default)s)",
    )
    _add_global_options(campaign, default=argparse.SUPPRESS)

    webhook = commands.add_parser(
        "webhook",
        help="receive webhooks and print each video as one JSON line",
        description="Serve a webhook receiver that prints each delivered video as one JSON "
        "line on stdout.",
    )
    webhook.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    webhook.add_argument(
        "--port", type=int, default=8000, help="port, 0 for any free one (default: %(default)s)"
    )
    webhook.add_argument(
        "--token",
        help="require this token as ?token=... or as the URL's last path segment "
        f"(default: ${ENV_WEBHOOK_TOKEN}, else no token check)",
    )
    for command in commands.choices.values():
        command.set_defaults(cli_names=_cli_names(command))
    return parser


def _cli_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each argument's destination as the user spells the argument: its long option or its
    metavar."""
    return {
        action.dest: action.option_strings[-1]
        if action.option_strings
        else action.metavar or action.dest.upper()
        for action in parser._actions
        if isinstance(action.metavar, str | None)
    }


def _add_global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    # Added to the main parser and again to each command (with SUPPRESS, so a value given
    # before the command is kept): the options work on either side of the command name.
    # Help texts name the environment variables, never their values.
    parser.add_argument(
        "--account-id", default=default, help=f"the account ID (default: ${ENV_ACCOUNT_ID})"
    )
    parser.add_argument(
        "--account-secret",
        default=default,
        help=f"the account secret (default: ${ENV_ACCOUNT_SECRET})",
    )
    parser.add_argument(
        "--base-url",
        default=default,
        help=f"the API's base URL (default: ${ENV_BASE_URL}, else {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default if default is argparse.SUPPRESS else False,
        help="log each call, and each retry, on stderr",
    )


def _setting(given: str | None, env_name: str) -> str | None:
    return given if given else (os.environ.get(env_name) or None)


def _required(given: str | None, option: str, env_name: str, what: str) -> str:
    value = _setting(given, env_name)
    if value is None:
        raise UsageError(f"no {what}: pass {option} or set {env_name}")
    return value


def _base_url(args: argparse.Namespace) -> str:
    url = _setting(args.base_url, ENV_BASE_URL) or DEFAULT_BASE_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Shown through the redactor in main(), which masks a password in the URL.
        raise UsageError(f"the base URL must be an absolute http(s) URL, got {url!r}")
    return url


def _account_client(args: argparse.Namespace) -> PirsonalClient:
    account_id = _required(args.account_id, "--account-id", ENV_ACCOUNT_ID, "account ID")
    secret = _required(
        args.account_secret, "--account-secret", ENV_ACCOUNT_SECRET, "account secret"
    )
    return PirsonalClient(account_id, secret, base_url=_base_url(args))


@contextmanager
def _library_logging(verbose: bool) -> Iterator[None]:
    """Library logs go to stderr with --verbose only, so that an error stays one line."""
    logger = logging.getLogger("pirsonal_async")
    saved_level = logger.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    if verbose:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    else:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(saved_level)
        logger.removeHandler(handler)


# --- call and methods ---


@frozen
class Param:
    name: str
    type: str
    is_array: bool

    def __str__(self) -> str:
        return f"{self.name} {'[]' * self.is_array}{self.type}"


@frozen
class Signature:
    """One function of the bundled contract, as `methods` lists it and `call` reads its params."""

    interface: str
    name: str
    params: tuple[Param, ...]
    returns: str
    doc: str

    @property
    def method(self) -> str:
        return f"{self.interface}.{self.name}"

    def __str__(self) -> str:
        return f"{self.name}({', '.join(map(str, self.params))}) {self.returns}"

    @classmethod
    def of(cls, function: Function) -> Signature:
        returns = function.returns
        return cls(
            interface=function.interface,
            name=function.name,
            params=tuple(
                Param(name, ref.type, ref.is_array)
                for name, ref in zip(function.params, function.param_types, strict=True)
            ),
            returns="" if returns is None else "[]" * returns.is_array + returns.type,
            doc=function.comment,
        )


@functools.cache
def signatures() -> tuple[Signature, ...]:
    """Every function of the bundled contract, in IDL order."""
    return tuple(Signature.of(function) for function in bundled_contract())


def resolve_method(name: str, known: Sequence[Signature]) -> Signature:
    """The function named `Video_Get`, `SezionAPI.Video_Get` or `video_get`."""
    exact = [signature for signature in known if name in (signature.method, signature.name)]
    loose = [signature for signature in known if signature.name.lower() == name.lower()]
    for found in (exact, loose):
        if len(found) == 1:
            return found[0]
    names = [signature.name for signature in known]
    close = difflib.get_close_matches(name.rpartition(".")[2], names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise UsageError(f"unknown method {name!r}{hint} ('pirsonal methods' lists them)")


@functools.cache
def _string_types() -> frozenset[str]:
    """Types whose values are JSON strings: `string` and every enum."""
    enums = (e["name"] for e in bundled_contract().idl if e.get("type") == "enum")
    return frozenset({"string", *enums})


def parse_params(signature: Signature, arguments: Sequence[str]) -> list[Any]:
    """One JSON value per parameter; a bare word is taken as a string where one is expected.

    Types are left to the contract check, which names the parameter (and the path in it).
    """
    if len(arguments) != len(signature.params):
        names = ", ".join(param.name for param in signature.params) or "none"
        raise UsageError(
            f"{signature.name} takes {len(signature.params)} argument(s) ({names}), "
            f"{len(arguments)} given"
        )
    string_types = _string_types()
    params = []
    for index, (param, argument) in enumerate(
        zip(signature.params, arguments, strict=True), start=1
    ):
        if param.type in string_types and not param.is_array and not argument.startswith('"'):
            params.append(argument)
            continue
        try:
            params.append(json.loads(argument))
        except ValueError as error:
            raise UsageError(
                f"argument {index} ({param.name}) is not valid JSON: {error}"
            ) from None
    return params


def _run_call(args: argparse.Namespace) -> int:
    signature = resolve_method(args.method, signatures())
    params = parse_params(signature, args.params)

    async def call() -> Any:
        async with _account_client(args) as client:
            return await client.rpc.call(signature.method, params)

    with _library_logging(args.verbose):
        result = asyncio.run(call())
    if not args.show_secrets:
        account_secret = _setting(args.account_secret, ENV_ACCOUNT_SECRET) or ""
        result = Redactor([account_secret]).data(result)
    print(_json_text(result, sys.stdout, indent=2, sort_keys=args.sort_keys))
    return 0


def _run_methods(args: argparse.Namespace) -> int:
    for signature in signatures():
        summary = signature.doc.split("\n\n")[0].replace("\n", " ")
        print(f"{signature}\n    {summary}" if summary else str(signature))
    return 0


# --- upload ---


def render_progress(sent: int, total: int, width: int = _PROGRESS_WIDTH) -> str:
    """`[#####     ] 42%  21.0/50.0 MB`"""
    fraction = sent / total if total else 1.0
    filled = int(fraction * width)
    bar = "#" * filled + " " * (width - filled)
    return f"[{bar}] {int(fraction * 100):3d}%  {sent / _MEGABYTE:.1f}/{total / _MEGABYTE:.1f} MB"


class ProgressBar:
    """An upload progress callback: redrawn in place on a terminal, else just the last line."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._shown = ""
        self._last = ""

    def __call__(self, sent: int, total: int) -> None:
        self.show(render_progress(sent, total))

    def show(self, line: str) -> None:
        """Draws any one-line progress report (a campaign's, say)."""
        self._last = line
        if self._live and self._last != self._shown:
            self._stream.write("\r" + self._last)
            self._stream.flush()
            self._shown = self._last

    def finish(self) -> None:
        """Ends the bar's line: the final state, drawn once more when it was never live."""
        if self._shown:
            self._stream.write("\r" + self._last + "\n")
        elif self._last:
            self._stream.write(self._last + "\n")
        self._stream.flush()


def _upload_client(args: argparse.Namespace) -> PirsonalClient:
    if args.template_id is None:
        if args.template_secret is not None:
            raise UsageError("--template-secret needs --template-id")
        return _account_client(args)
    account_id = _required(args.account_id, "--account-id", ENV_ACCOUNT_ID, "account ID")
    template_secret = _required(
        args.template_secret, "--template-secret", ENV_TEMPLATE_SECRET, "template secret"
    )
    return PirsonalClient.for_template(
        account_id, args.template_id, template_secret, base_url=_base_url(args)
    )


def _run_upload(args: argparse.Namespace) -> int:
    progress = ProgressBar(sys.stderr)

    async def upload() -> Media:
        async with _upload_client(args) as client:
            return await client.upload_media(
                args.source,
                content_type=args.content_type,
                filename=args.filename,
                description=args.description,
                progress=progress,
            )

    try:
        with _library_logging(args.verbose):
            media = asyncio.run(upload())
    finally:
        progress.finish()  # so an error message starts on a line of its own
    print(_json_text(media.to_json(), sys.stdout, indent=2))
    return 0


# --- sandbox and webhook receiver (their server dependencies are imported only here) ---


def _run_sandbox(args: argparse.Namespace, arguments: list[str]) -> int:
    if args.base_url is not None:
        raise UsageError("--base-url is for API calls; the sandbox takes --host and --port")
    try:
        from pirsonal_async.sandbox.__main__ import main as serve_sandbox
    except ImportError:
        raise ImportError(_NEEDS_SERVER.format(command="sandbox")) from None
    # The account options given before `sandbox` (or their variables) are the account it
    # serves; its own options, placed after them, still win.
    account: list[str] = []
    for option, given, env_name in (
        ("--account-id", args.account_id, ENV_ACCOUNT_ID),
        ("--account-secret", args.account_secret, ENV_ACCOUNT_SECRET),
    ):
        value = _setting(given, env_name)
        if value is not None:
            account += [option, value]
    try:
        serve_sandbox([*account, *arguments], prog="pirsonal sandbox")
    except SystemExit as stop:  # its own --help and usage errors, or a message
        if isinstance(stop.code, str):
            print(f"error: {stop.code}", file=sys.stderr)
            return EXIT_ERROR
        return stop.code or 0
    return 0


def _json_text(value: Any, stream: IO[str], **options: Any) -> str:
    """`value` as readable JSON for `stream`, with `\\u` escapes when its encoding cannot hold
    the text: a lone surrogate (which a `\\ud800` escape in a reply or webhook gives) must not
    stop the output."""
    text = json.dumps(value, ensure_ascii=False, **options)
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, **options)
    return text


def webhook_receiver(out: IO[str], *, token: str | None) -> WebhookApp:
    """A `webhook_app` that writes each delivered video to `out` as one JSON line."""

    async def print_video(video: Video) -> None:
        # Async, so it runs on the server's loop and lines never interleave.
        out.write(_json_text(video.to_json(), out, separators=(",", ":")) + "\n")
        out.flush()

    return webhook_app(print_video, token=token)


def _run_webhook(args: argparse.Namespace) -> int:
    try:
        from pirsonal_async.sandbox.server import base_url, bind_socket, run_asgi
    except ImportError:
        raise ImportError(_NEEDS_SERVER.format(command="webhook")) from None

    token = _setting(args.token, ENV_WEBHOOK_TOKEN)
    try:
        listener = bind_socket(args.host, args.port)
    except OSError as error:
        raise OSError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    guard = "token required" if token else "no token check"
    print(f"receiving webhooks at {base_url(listener)}/ ({guard})", file=sys.stderr)
    run_asgi(webhook_receiver(sys.stdout, token=token), listener)
    return 0


def _run_campaign(args: argparse.Namespace) -> int:
    from pirsonal_async.campaign.command import run_command  # the campaign's modules, on use

    client = _account_client(args)
    with _library_logging(args.verbose):
        return run_command(args, client, ProgressBar(sys.stderr))


_COMMANDS = {
    "call": _run_call,
    "campaign": _run_campaign,
    "methods": _run_methods,
    "upload": _run_upload,
    "webhook": _run_webhook,
}
