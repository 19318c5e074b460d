"""`python -m pirsonal_async.sandbox`: serve a local Pirsonal and print how to reach it."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shlex
import sys

from pirsonal_async.client import ENV_ACCOUNT_ID, ENV_ACCOUNT_SECRET, ENV_BASE_URL
from pirsonal_async.sandbox.app import DEFAULT_RENDER_DELAY, create_app
from pirsonal_async.sandbox.chaos import ChaosSpec
from pirsonal_async.sandbox.server import base_url, bind_socket, make_chaos, run_asgi
from pirsonal_async.sandbox.state import (
    DEFAULT_MEDIA_QUOTA,
    SandboxState,
    check_webhook_url,
    new_id,
)

PROG = "python -m pirsonal_async.sandbox"


def parse_args(argv: list[str] | None, prog: str = PROG) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a stateful, in-memory Pirsonal API for development and tests.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port (default: %(default)s: any free port)"
    )
    # The client's variables: a shell that has them set serves the account it calls.
    parser.add_argument(
        "--account-id",
        default=os.environ.get(ENV_ACCOUNT_ID) or None,
        help=f"account ID (default: ${ENV_ACCOUNT_ID}, else random)",
    )
    parser.add_argument(
        "--account-secret",
        default=os.environ.get(ENV_ACCOUNT_SECRET) or None,
        help=f"account secret (default: ${ENV_ACCOUNT_SECRET}, else random)",
    )
    parser.add_argument(
        "--render-delay",
        type=float,
        default=DEFAULT_RENDER_DELAY,
        metavar="SECONDS",
        help="how long a video takes to become done (default: %(default)s)",
    )
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        type=_webhook_url,
        metavar="URL",
        help="a URL that receives every rendered video (repeatable)",
    )
    parser.add_argument(
        "--media-quota",
        type=int,
        default=DEFAULT_MEDIA_QUOTA,
        metavar="BYTES",
        help="media storage limit, error 2001 beyond it (default: %(default)s)",
    )
    parser.add_argument(
        "--chaos",
        type=_chaos_spec,
        metavar="SPEC",
        help="inject faults: drop-reply=RATE,drop-request=RATE,http-503=RATE,latency-ms=MS,"
        "render-fail=RATE (rates per request, per render for render-fail)",
    )
    parser.add_argument(
        "--chaos-seed",
        type=int,
        metavar="N",
        help="seed of the chaos draws, to repeat a run (default: random, printed)",
    )
    args = parser.parse_args(argv)
    if args.render_delay < 0:
        parser.error("--render-delay must not be negative")
    if args.chaos_seed is not None and args.chaos is None:
        parser.error("--chaos-seed needs --chaos")
    return args


def _chaos_spec(text: str) -> ChaosSpec:
    try:
        return ChaosSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _webhook_url(url: str) -> str:
    try:
        check_webhook_url(url)
    except ValueError as exc:
        # argparse prints this message alone: the URL, which may hold a token, is not echoed.
        raise argparse.ArgumentTypeError(str(exc)) from None
    return url


def main(argv: list[str] | None = None, prog: str = PROG) -> None:
    args = parse_args(argv, prog)
    state = SandboxState(
        account_id=args.account_id or new_id(),
        account_secret=args.account_secret or secrets.token_hex(16),
        media_quota=args.media_quota,
    )
    for url in args.webhook:
        state.add_webhook(url)
    chaos = make_chaos(args.chaos, args.chaos_seed)
    try:
        listener = bind_socket(args.host, args.port)
    except OSError as exc:
        sys.exit(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    # Lines a shell can `eval`; the first is machine-readable on its own, scripts wait for it.
    for name, value in (
        (ENV_BASE_URL, base_url(listener)),
        (ENV_ACCOUNT_ID, state.account_id),
        (ENV_ACCOUNT_SECRET, state.account_secret),
    ):
        print(f"export {name}={shlex.quote(value)}", flush=True)
    if chaos is not None:  # a comment to the shell
        print(f"# chaos: {chaos.spec} --chaos-seed {chaos.seed}", flush=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # httpx logs each webhook URL at INFO, and a URL may carry the receiver's token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run_asgi(create_app(state, render_delay=args.render_delay, chaos=chaos), listener)


if __name__ == "__main__":
    main()
