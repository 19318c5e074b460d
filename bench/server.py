"""A minimal fast JSON-RPC and upload server (HTTP/1.1 keep-alive) run in its own process.

It can simulate a network round-trip time (RTT): every response is then held back by one RTT,
and the first response on each new connection by one more, which the TCP handshake costs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import samples

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_PATH = ROOT / "idl" / "pirsonal.json"
MAX_HEAD = 65_536
# 2 ms is a round trip inside one cloud region, the most favourable real deployment of a client
# next to the API; over the internet to a SaaS API it is 20-100 ms. Every extra round trip a
# client pays is only more costly farther away, so the near figure is the conservative default.
DEFAULT_RTT_MS = 2.0


def canned_results(contract: list[dict[str, Any]]) -> dict[str, bytes]:
    """One pre-encoded result per wire method, shaped by the function's declared return type."""
    by_type: dict[str, Callable[[int], Any]] = {
        "string": lambda index: "OK",
        "Video": samples.video,
        "Template": samples.template,
        "Media": samples.media,
        "Link": samples.link,
    }
    results = {"barrister-idl": json.dumps(contract).encode()}
    for element in contract:
        if element.get("type") != "interface":
            continue
        for function in element["functions"]:
            returns = function.get("returns") or {"type": "string", "is_array": False}
            make = by_type[returns["type"]]
            value = [make(n) for n in range(3)] if returns["is_array"] else make(0)
            if function["name"].endswith("_New"):
                value = "5a1f00000000000000000042"
            results[f"{element['name']}.{function['name']}"] = json.dumps(value).encode()
    return results


class Answers:
    """Turns a JSON-RPC request body (single or batch) into the response body."""

    def __init__(self, results: dict[str, bytes]) -> None:
        self.results = results

    def rpc(self, body: bytes) -> bytes:
        try:
            request = json.loads(body)
        except ValueError:
            return self.error(None, -32700, "Unable to parse JSON")
        if isinstance(request, list):
            return b"[" + b",".join(self.one(item) for item in request) + b"]"
        return self.one(request)

    def one(self, request: Any) -> bytes:
        if not isinstance(request, dict):
            return self.error(None, -32600, "Invalid Request")
        result = self.results.get(request.get("method", ""))
        if result is None:
            return self.error(request.get("id"), -32601, f"Method not found: {request['method']}")
        request_id = json.dumps(request.get("id")).encode()
        return b'{"jsonrpc":"2.0","id":' + request_id + b',"result":' + result + b"}"

    @staticmethod
    def error(request_id: Any, code: int, message: str) -> bytes:
        error = {"code": code, "message": message}
        return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode()

    @staticmethod
    def upload(size: int) -> bytes:
        return json.dumps({"error": None, "media": samples.media(0, size)}).encode()


class Connection(asyncio.Protocol):
    """One client connection: parses requests as bytes arrive and answers each in order.

    Answers wait `rtt_s` on event-loop timers (no busy waiting), so a delay costs no CPU.
    """

    def __init__(self, answers: Answers, rtt_s: float = 0.0) -> None:
        self.answers = answers
        self.rtt_s = rtt_s
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        # Answers scheduled but not yet sent: each timer sends the oldest, so order holds.
        self.outbox: collections.deque[tuple[bytes, bool]] = collections.deque()
        self.handshake_due = True
        self.last_send_at = 0.0  # loop time of the latest scheduled send
        self.reset()

    def reset(self) -> None:
        self.in_body = False
        self.path = ""
        self.close_after = False
        self.chunked = False
        self.remaining = 0  # body bytes still due (Content-Length) or of the current chunk
        self.body = bytearray()
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.step():
            pass

    def step(self) -> bool:
        """Consume what the buffer allows; true when progress was made and more may follow."""
        if not self.in_body:
            return self.read_head()
        if self.chunked:
            return self.read_chunk()
        taken = min(self.remaining, len(self.buffer))
        self.keep(self.buffer[:taken])
        del self.buffer[:taken]
        self.remaining -= taken
        if self.remaining == 0:
            self.respond()
            return bool(self.buffer)
        return False

    def read_head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self.fail()
            return False
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        _method, self.path, version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        connection = headers.get("connection", "")
        self.close_after = connection == "close" or (
            version == "HTTP/1.0" and connection != "keep-alive"
        )
        self.chunked = headers.get("transfer-encoding") == "chunked"
        self.remaining = 0 if self.chunked else int(headers.get("content-length", "0"))
        self.in_body = True
        if not self.chunked and self.remaining == 0:
            self.respond()
        return True

    def read_chunk(self) -> bool:
        if self.remaining > 0:
            taken = min(self.remaining, len(self.buffer))
            self.keep(self.buffer[:taken])
            del self.buffer[:taken]
            self.remaining -= taken
            return self.remaining == 0 and bool(self.buffer)
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        if not line:  # the CRLF closing a chunk's data
            return True
        size = int(line.split(b";", 1)[0], 16)
        if size == 0:
            if self.buffer.startswith(b"\r\n"):
                del self.buffer[:2]
            self.respond()
            return bool(self.buffer)
        self.remaining = size
        return True

    def keep(self, data: bytearray) -> None:
        self.received += len(data)
        if not self.is_upload():
            self.body += data  # uploads are only counted, so a 50 MB body costs no memory

    def is_upload(self) -> bool:
        return self.path.split("?", 1)[0].rstrip("/").endswith("/upload")

    def respond(self) -> None:
        if self.is_upload():
            payload = self.answers.upload(self.received)
        else:
            payload = self.answers.rpc(bytes(self.body))
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(payload)).encode()
            + (b"\r\nConnection: close\r\n\r\n" if self.close_after else b"\r\n\r\n")
        )
        self.outbox.append((head + payload, self.close_after))
        round_trips = 2 if self.handshake_due else 1
        self.handshake_due = False
        if self.rtt_s > 0:
            loop = asyncio.get_running_loop()
            # A pipelined answer cannot overtake the one before it.
            self.last_send_at = max(loop.time() + self.rtt_s * round_trips, self.last_send_at)
            loop.call_at(self.last_send_at, self.send_oldest)
        else:
            self.send_oldest()
        self.reset()

    def send_oldest(self) -> None:
        response, close_after = self.outbox.popleft()
        assert self.transport is not None
        if self.transport.is_closing():  # the client went away while the answer was delayed
            return
        self.transport.write(response)
        if close_after:
            self.transport.close()

    def fail(self) -> None:
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        self.transport.close()


async def serve_forever(port: int, lifetime_s: float, rtt_ms: float) -> None:
    """Serve until stdin closes (the parent went away) or the lifetime runs out."""
    contract = json.loads(CONTRACT_PATH.read_text())
    answers = Answers(canned_results(contract))
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    server = await loop.create_server(
        lambda: Connection(answers, rtt_ms / 1000), "127.0.0.1", port, backlog=512
    )
    print(server.sockets[0].getsockname()[1], flush=True)

    def stop() -> None:
        if not done.done():
            done.set_result(None)

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 1):
            stop()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    loop.call_later(lifetime_s, stop)
    async with server:
        await done


def rpc_url(base_url: str) -> str:
    return f"{base_url}/api"


@contextlib.contextmanager
def running(
    *, rtt_ms: float, lifetime_s: float = 900.0, start_timeout_s: float = 20.0
) -> Iterator[str]:
    """Start the server in a child process; yield its base URL; always stop it."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.server",
            "--lifetime",
            str(lifetime_s),
            "--rtt-ms",
            str(rtt_ms),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], start_timeout_s)
        line = process.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            raise RuntimeError(f"benchmark server did not start (exit code {process.poll()})")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=900.0, help="seconds before exiting")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=DEFAULT_RTT_MS,
        help="simulated network round trip added to each response (default %(default)s)",
    )
    args = parser.parse_args()
    asyncio.run(serve_forever(args.port, args.lifetime, args.rtt_ms))


if __name__ == "__main__":
    main()
