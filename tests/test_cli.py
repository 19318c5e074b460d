"""The `pirsonal` command line, run in-process against the sandbox, and once as a script."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import json
import logging
import os
import runpy
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from attrs import frozen

import pirsonal_async
from pirsonal_async import PirsonalClient, cli
from pirsonal_async.generated import CONTRACT
from pirsonal_async.sandbox import Sandbox, SandboxState, serve_sandbox, server
from pirsonal_async.sandbox import __main__ as sandbox_main
from pirsonal_async.types import (
    InputMedia,
    MediaType,
    TemplateNew,
    Video,
    VideoOutput,
    VideoOutputType,
)

ACCOUNT_ID = "5331000000000000000000aa"
CANARY = "canary-secret-4f1d9e"
PROFILE = "MP4_H264_AAC_640x480_24fps"
MAIN_MODULE = Path(pirsonal_async.__file__).with_name("__main__.py")
SCRIPT = json.dumps(
    [
        {"video": {"id": "clip", "play": 0, "duration": 2000}},
        {"text": {"id": "name", "play": 0, "duration": 1000}},
    ]
)
TEMPLATE = {
    "name": "Welcome",
    "description": "A welcome video",
    "inputScripts": [SCRIPT],
    "outProfiles": [PROFILE],
    "videoOutput": {"type": "sezion"},
}


@frozen
class Run:
    status: int
    out: str
    err: str


RunCli = Callable[..., Awaitable[Run]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Proxy variables too: the CLI honours them, as it should for the real API, but these
    # tests talk to a sandbox on loopback.
    for name in list(os.environ):
        if name.startswith("PIRSONAL_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    state = SandboxState(account_id=ACCOUNT_ID, account_secret=CANARY)
    async with serve_sandbox(state=state, render_delay=0) as running:
        yield running


@pytest.fixture
def env_credentials(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIRSONAL_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("PIRSONAL_ACCOUNT_ID", sandbox.account_id)
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", sandbox.account_secret)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Runs `main(argv)` in a worker thread (it calls asyncio.run) while the sandbox serves."""

    async def run(*argv: str) -> Run:
        status = await asyncio.to_thread(cli.main, list(argv))
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run


def run_sync(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def assert_one_error_line(run: Run, status: int, *fragments: str) -> None:
    assert run.status == status
    assert run.err.count("\n") == 1
    assert run.err.startswith("error: ")
    for fragment in fragments:
        assert fragment in run.err


# --- call ---


@pytest.mark.usefixtures("env_credentials")
async def test_call_prints_the_json_result_and_masks_template_secrets(
    sandbox: Sandbox, run_cli: RunCli
) -> None:
    created = await run_cli("call", "Template_New", json.dumps(TEMPLATE))
    assert created.status == 0, created.err
    template_id = json.loads(created.out)
    assert template_id in sandbox.state.templates

    listed = await run_cli("call", "template_list", "--sort-keys")

    assert listed.status == 0
    (template,) = json.loads(listed.out)
    assert template["id"] == template_id
    assert template["secret"] == "***"
    assert list(template) == sorted(template)
    assert listed.out.startswith("[\n  {\n    ")  # pretty-printed


@pytest.mark.usefixtures("env_credentials")
async def test_show_secrets_prints_the_template_secret(sandbox: Sandbox, run_cli: RunCli) -> None:
    template_id = json.loads((await run_cli("call", "template_new", json.dumps(TEMPLATE))).out)

    listed = await run_cli("call", "template_list", "--show-secrets")

    (template,) = json.loads(listed.out)
    assert template["secret"] == sandbox.state.templates[template_id]["secret"]


@pytest.mark.parametrize("name", ["Video_Get", "SezionAPI.Video_Get", "video_get", "VIDEO_GET"])
def test_method_names_resolve_in_every_spelling(name: str) -> None:
    signature = cli.resolve_method(name, cli.signatures())
    assert signature.method == "SezionAPI.Video_Get"
    assert str(signature) == "Video_Get(videoID string) Video"


def test_signatures_are_the_bundled_contract_functions_built_once() -> None:
    functions = [
        (element["name"], function)
        for element in CONTRACT
        if element["type"] == "interface"
        for function in element["functions"]
    ]
    signatures = cli.signatures()

    assert cli.signatures() is signatures
    assert [(s.interface, s.name) for s in signatures] == [
        (interface, f["name"]) for interface, f in functions
    ]
    for signature, (_, function) in zip(signatures, functions, strict=True):
        assert [(p.name, p.type, p.is_array) for p in signature.params] == [
            (p["name"], p["type"], p["is_array"]) for p in function["params"]
        ]
        returns = function["returns"]
        assert signature.returns == "[]" * returns["is_array"] + returns["type"]
        assert signature.doc == function["comment"]
    template_list = cli.resolve_method("Template_List", signatures)
    assert str(template_list) == "Template_List() []Template"


def test_string_types_are_string_and_the_enums_found_once() -> None:
    enums = {element["name"] for element in CONTRACT if element["type"] == "enum"}

    assert cli._string_types() == {"string", *enums}
    assert cli._string_types() is cli._string_types()


@pytest.mark.usefixtures("env_credentials")
async def test_bare_words_are_strings_for_string_and_enum_params(
    sandbox: Sandbox, run_cli: RunCli
) -> None:
    template_id = json.loads((await run_cli("call", "template_new", json.dumps(TEMPLATE))).out)

    result = await run_cli("call", "Template_SetStatus", template_id, "inactive")

    assert (result.status, json.loads(result.out)) == (0, "OK")
    assert sandbox.state.templates[template_id]["status"] == "inactive"


@pytest.mark.usefixtures("env_credentials")
async def test_contract_violation_names_the_param_and_sends_nothing(
    sandbox: Sandbox, run_cli: RunCli
) -> None:
    result = await run_cli("call", "template_new", json.dumps({**TEMPLATE, "name": 7}))

    assert_one_error_line(
        result, 2, "RequestValidationError", "param 'template' (template.name)", "expected string"
    )
    assert result.out == ""
    assert sandbox.state.templates == {}


@pytest.mark.usefixtures("env_credentials")
async def test_api_error_is_one_line_with_its_class_and_exit_status_1(run_cli: RunCli) -> None:
    result = await run_cli("call", "video_get", "no-such-video")

    assert_one_error_line(result, 1, "error: VideoNotFound: SezionAPI.Video_Get: ", "code 1007")
    assert result.out == ""


async def test_options_may_follow_the_command(sandbox: Sandbox, run_cli: RunCli) -> None:
    options = ["--base-url", sandbox.base_url, "--account-id", ACCOUNT_ID]
    result = await run_cli(
        "--account-secret", CANARY, "call", "media_list", *options, "--sort-keys"
    )
    assert (result.status, json.loads(result.out)) == (0, [])


@respx.mock
async def test_library_logs_reach_stderr_only_with_verbose(
    run_cli: RunCli, caplog: pytest.LogCaptureFixture
) -> None:
    respx.post("https://pirsonal.test/api").respond(200, text="this is not JSON")
    argv = ["--base-url", "https://pirsonal.test", "--account-id", "a", "--account-secret", "sk-1"]
    caplog.set_level(logging.DEBUG)

    quiet = await run_cli(*argv, "call", "media_list")

    assert_one_error_line(quiet, 1, "error: ProtocolError: SezionAPI.Media_List: ")
    assert not [r for r in caplog.records if r.name.startswith("pirsonal_async")]

    verbose = await run_cli(*argv, "-v", "call", "media_list")

    assert verbose.status == 1
    assert "pirsonal_async: SezionAPI.Media_List id=1 failed" in verbose.err
    assert logging.getLogger("pirsonal_async").level == logging.NOTSET  # restored


# --- usage errors ---


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["frob"], "invalid choice: 'frob'"),
        (["call"], "the following arguments are required: METHOD"),
        (["call", "Video_Gte", "x"], "unknown method 'Video_Gte'; did you mean Video_Get?"),
        (["call", "video_get"], "Video_Get takes 1 argument(s) (videoID), 0 given"),
        (["call", "template_list", "x"], "Template_List takes 0 argument(s) (none), 1 given"),
        (["call", "template_new", "{oops"], "argument 1 (template) is not valid JSON"),
        (["call", "media_list", "--bogus"], "unrecognized arguments: --bogus"),
        (["call", "media_list"], "no account ID: pass --account-id or set PIRSONAL_ACCOUNT_ID"),
        (["--account-id", "a", "call", "media_list"], "no account secret: pass --account-secret"),
        (
            [
                "--account-id=a",
                "--account-secret=sekret-1",
                "--base-url=ftp://x",
                "call",
                "media_list",
            ],
            "the base URL must be an absolute http(s) URL, got 'ftp://x'",
        ),
        (
            ["--account-id", "a", "upload", "clip.mp4", "--template-secret", "sekret-2"],
            "--template-secret needs --template-id",
        ),
        (
            ["--account-id", "a", "upload", "clip.mp4", "--template-id", "t"],
            "no template secret: pass --template-secret or set PIRSONAL_TEMPLATE_SECRET",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_one_error_line(run_sync(capsys, *argv), 2, "error: UsageError: ", fragment)


def test_help_exits_0_and_names_env_variables_without_their_values(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", CANARY)
    monkeypatch.setenv("PIRSONAL_BASE_URL", f"https://user:{CANARY}@pirsonal.test")

    for argv in (["--help"], ["call", "--help"], ["upload", "--help"], ["webhook", "--help"]):
        result = run_sync(capsys, *argv)
        assert result.status == 0
        assert "(default: $PIRSONAL_" in result.out
        assert CANARY not in result.out + result.err
    webhook_help = " ".join(run_sync(capsys, "webhook", "--help").out.split())
    assert "(default: 127.0.0.1)" in webhook_help
    assert "(default: 8000)" in webhook_help


def test_ctrl_c_exits_130_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli._COMMANDS, "methods", interrupted)

    result = run_sync(capsys, "methods")

    assert (result.status, result.out, result.err) == (130, "", "")


# --- methods ---


def test_methods_lists_every_function_with_its_signature(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_sync(capsys, "methods")

    assert result.status == 0
    (interface,) = [element for element in CONTRACT if element["type"] == "interface"]
    signature_lines = [line for line in result.out.splitlines() if not line.startswith(" ")]
    assert [line.split("(")[0] for line in signature_lines] == [
        function["name"] for function in interface["functions"]
    ]
    assert "Template_Video_New(templateID string, video Video) string" in signature_lines
    assert "Video_Get_Links(videoID string) []Link" in signature_lines
    assert "    Returns one video's details, including its status and output files." in result.out


# --- upload ---


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_rendering() -> None:
    assert (
        cli.render_progress(21_000_000, 50_000_000) == "[########            ]  42%  21.0/50.0 MB"
    )
    assert cli.render_progress(50_000_000, 50_000_000).startswith("[####################] 100%")


def test_progress_bar_redraws_on_a_terminal_and_ends_its_line() -> None:
    stream = TerminalStream()
    bar = cli.ProgressBar(stream)

    for sent in (0, 100_000, 100_000, 300_000):
        bar(sent, 300_000)
    bar.finish()

    assert stream.getvalue() == (
        "\r[                    ]   0%  0.0/0.3 MB"
        "\r[######              ]  33%  0.1/0.3 MB"  # drawn once though reported twice
        "\r[####################] 100%  0.3/0.3 MB"
        "\r[####################] 100%  0.3/0.3 MB\n"
    )


@pytest.mark.usefixtures("env_credentials")
async def test_upload_on_a_terminal_draws_progress_and_prints_the_media(
    sandbox: Sandbox, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "intro.mp4"
    clip.write_bytes(b"\x00" * 300_000)
    terminal = TerminalStream()
    monkeypatch.setattr(sys, "stderr", terminal)

    result = await run_cli("upload", str(clip), "--description", "Intro")

    assert result.status == 0
    media = json.loads(result.out)
    assert (media["name"], media["size"], media["description"]) == ("intro.mp4", 300_000, "Intro")
    assert media["id"] in sandbox.state.media
    drawn = terminal.getvalue()
    assert drawn.count("\r") >= 3  # one redraw per 64 KiB chunk, then the final line
    assert drawn.endswith("\r[####################] 100%  0.3/0.3 MB\n")


@pytest.mark.usefixtures("env_credentials")
async def test_upload_off_a_terminal_prints_only_the_final_line(
    run_cli: RunCli, tmp_path: Path
) -> None:
    clip = tmp_path / "logo.png"
    clip.write_bytes(b"\x89PNG" * 1000)

    result = await run_cli("upload", str(clip))

    assert result.status == 0
    assert json.loads(result.out)["type"] == "image"
    assert result.err == "[####################] 100%  0.0/0.0 MB\n"


async def test_template_scoped_upload_needs_no_account_secret(
    sandbox: Sandbox, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template_id = sandbox.state.template_new(TEMPLATE)
    template_secret = sandbox.state.templates[template_id]["secret"]
    monkeypatch.setenv("PIRSONAL_TEMPLATE_SECRET", template_secret)
    clip = tmp_path / "face.jpg"
    clip.write_bytes(b"\xff\xd8" * 500)
    argv = ["--base-url", sandbox.base_url, "--account-id", ACCOUNT_ID]

    result = await run_cli(*argv, "upload", str(clip), "--template-id", template_id)

    assert result.status == 0, result.err
    assert json.loads(result.out)["temp"] is True
    assert template_secret not in result.out + result.err


@pytest.mark.usefixtures("env_credentials")
@pytest.mark.parametrize(
    ("argv", "status", "fragment"),
    [
        (
            ["notes.txt"],
            2,
            "RequestValidationError: upload: --content-type: 'notes.txt' does not look like "
            "video, image or audio (guessed text/plain); give its media type, such as video/mp4",
        ),
        (
            ["clip.mp4", "--content-type", "text/plain"],
            2,
            "upload: --content-type: Pirsonal accepts video/*, image/* or audio/*",
        ),
        (["clip.mp4", "--filename", "a\tb.mp4"], 2, "upload: --filename: control character"),
        (["clip.mp4", "--description", "x" * 5000], 2, "upload: --description: at most"),
        ([os.devnull, "--content-type", "video/mp4"], 2, "upload: FILE: '/dev/null' is not a"),
        (["missing.mp4"], 1, "FileNotFoundError: "),
    ],
)
async def test_upload_errors_name_the_command_line_options(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    status: int,
    fragment: str,
) -> None:
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 100)
    monkeypatch.chdir(tmp_path)

    result = await run_cli("upload", *argv)

    assert_one_error_line(result, status, fragment)
    assert "param" not in result.err
    assert "_" not in result.err.replace("_TYPE", "")  # no Python parameter name
    assert result.out == ""


def test_every_upload_option_is_named_after_the_library_parameter_it_feeds() -> None:
    names = cli.build_parser().parse_args(["upload", "x"]).cli_names
    parameters = set(inspect.signature(PirsonalClient.upload_media).parameters)

    assert {"source", "content_type", "filename", "description"} <= parameters
    for parameter in ("content_type", "filename", "description"):
        assert names[parameter] == "--" + parameter.replace("_", "-")
    assert names["source"] == "FILE"


# --- secrets ---


async def test_the_account_secret_is_never_printed(
    sandbox: Sandbox, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 1000)
    monkeypatch.setenv("PIRSONAL_ACCOUNT_ID", ACCOUNT_ID)
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", CANARY)
    base = ["--base-url", sandbox.base_url]
    runs = [
        await run_cli(*base, "call", "template_new", json.dumps(TEMPLATE)),
        await run_cli(*base, "call", "template_list", "--show-secrets"),
        await run_cli(*base, "call", "video_get", "nope"),
        await run_cli(*base, "call", "video_get", CANARY),  # the server quotes the ID back
        await run_cli(*base, "call", CANARY),  # a secret pasted as the method
        await run_cli(*base, "call", "template_new", "{}"),
        await run_cli(*base, "upload", str(tmp_path / "clip.mp4")),
        await run_cli("--base-url", f"http://user:{CANARY}@/", "call", "media_list"),
        await run_cli(*base, "--account-secret", "wrong", "call", "media_list", f"--{CANARY}"),
    ]
    monkeypatch.delenv("PIRSONAL_ACCOUNT_SECRET")
    runs.append(await run_cli(*base, f"--account-secret={CANARY}", "call", CANARY))

    assert [run.status for run in runs] == [0, 0, 1, 1, 2, 2, 0, 2, 2, 2]
    for run in runs:
        assert CANARY not in run.out + run.err
    assert "***" in runs[3].err


@pytest.mark.parametrize(
    "argv",
    [
        ["--account-secert", CANARY, "call", "media_list"],
        ["call", "media_list", "--account-secert", CANARY],
        ["call", "media_list", f"--template-sercet={CANARY}"],
        ["--account-sec", CANARY, "call", CANARY],
        ["--tokne", CANARY, "webhook"],
    ],
)
def test_a_secret_under_a_mistyped_option_is_not_echoed(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_sync(capsys, "--account-id", "a", *argv)

    assert_one_error_line(result, 2, "error: UsageError: ", "***")
    assert CANARY not in result.err


# --- webhook receiver, sandbox, python -m ---


async def test_webhook_receiver_prints_each_accepted_video_as_a_json_line() -> None:
    out = io.StringIO()
    app = cli.webhook_receiver(out, token="tok")
    video = {"id": "v1", "name": "Hi Ana", "status": {"code": "done"}, "landingInfo": {"a": 1}}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hooks.test") as http:
        accepted = await http.post("/?token=tok", json=video)
        refused = await http.post("/?token=wrong", json=video)

    assert (accepted.status_code, refused.status_code) == (200, 403)
    (line,) = out.getvalue().splitlines()
    assert json.loads(line) == video


@pytest.mark.parametrize(
    ("encoding", "name", "printed"),
    [
        ("utf-8", "Hi \ud800", '"Hi \\ud800"'),  # a lone surrogate: JSON escapes it
        ("utf-8", "José", '"José"'),  # readable when the stream can hold it
        ("ascii", "José", '"Jos\\u00e9"'),
    ],
)
async def test_webhook_receiver_prints_any_name_a_json_escape_can_hold(
    encoding: str, name: str, printed: str
) -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding, newline="\n")
    app = cli.webhook_receiver(out, token=None)
    # Sent as Pirsonal would: JSON with \u escapes (a lone surrogate is legal JSON).
    body = json.dumps({"id": "v1", "name": name}).encode("ascii")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hooks.test") as http:
        response = await http.post("/", content=body)

    assert response.status_code == 200
    out.seek(0)
    (line,) = out.read().splitlines()
    assert printed in line
    assert json.loads(line)["name"] == name


async def test_call_prints_a_reply_holding_a_lone_surrogate(
    sandbox: Sandbox, run_cli: RunCli, env_credentials: None
) -> None:
    template_id = sandbox.state.template_new(TEMPLATE | {"inputScripts": ["[]"]})
    video_id = sandbox.state.video_new(template_id, {"name": "Hi \ud800"})

    run = await run_cli("call", "video_get", video_id)

    assert run.status == 0, run.err
    assert json.loads(run.out)["name"] == "Hi \ud800"


def test_sandbox_command_delegates_to_the_sandbox_main(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_sync(capsys, "sandbox", "--help")

    assert result.status == 0
    assert result.out.startswith("usage: pirsonal sandbox ")
    assert "--render-delay SECONDS" in result.out
    help_text = " ".join(result.out.split())
    for default in ("127.0.0.1", "0: any free port", "1.0", "1000000000"):
        assert f"(default: {default})" in help_text

    refused = run_sync(capsys, "sandbox", "--render-delay", "-1")
    assert refused.status == 2
    assert "--render-delay must not be negative" in refused.err


@frozen
class Served:
    """What `run_asgi` was given: the app, and the listener's address and TCP_NODELAY."""

    app: Any
    address: tuple[str, int]
    nodelay: bool


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Served]]:
    """Replaces `run_asgi` (so commands return instead of serving) and keeps logging as is."""
    calls: list[Served] = []

    def fake_run_asgi(app: Any, listener: socket.socket) -> None:
        nodelay = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        calls.append(Served(app, listener.getsockname()[:2], nodelay))
        listener.close()

    monkeypatch.setattr(server, "run_asgi", fake_run_asgi)
    monkeypatch.setattr(sandbox_main, "run_asgi", fake_run_asgi)
    # The sandbox's main configures logging for a terminal; undo it after the test.
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    yield calls
    httpx_logger.setLevel(level)


def printed_account(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("export PIRSONAL_ACCOUNT_")]


def test_the_sandbox_serves_the_account_given_before_the_command(
    capsys: pytest.CaptureFixture[str], served: list[Served]
) -> None:
    run = run_sync(
        capsys, "--account-id", ACCOUNT_ID, "--account-secret", CANARY, "sandbox", "--port", "0"
    )

    assert run.status == 0, run.err
    assert printed_account(run.out) == [
        f"export PIRSONAL_ACCOUNT_ID={ACCOUNT_ID}",
        f"export PIRSONAL_ACCOUNT_SECRET={CANARY}",
    ]
    [serving] = served
    state = serving.app.state.sandbox
    assert (state.account_id, state.account_secret) == (ACCOUNT_ID, CANARY)


def test_the_sandbox_serves_the_account_of_the_environment(
    capsys: pytest.CaptureFixture[str], served: list[Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIRSONAL_ACCOUNT_ID", ACCOUNT_ID)
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", CANARY)

    run = run_sync(capsys, "sandbox", "--port", "0")
    sandbox_main.main(["--port", "0"])  # `python -m pirsonal_async.sandbox`
    direct = capsys.readouterr().out

    expected = [
        f"export PIRSONAL_ACCOUNT_ID={ACCOUNT_ID}",
        f"export PIRSONAL_ACCOUNT_SECRET={CANARY}",
    ]
    assert (run.status, printed_account(run.out), printed_account(direct)) == (
        0,
        expected,
        expected,
    )
    assert [s.app.state.sandbox.account_secret for s in served] == [CANARY, CANARY]


def test_the_sandbox_options_win_over_the_global_ones(
    capsys: pytest.CaptureFixture[str], served: list[Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", "from-the-environment")

    run = run_sync(
        capsys, "--account-id", "a" * 24, "sandbox", "--account-id", "b" * 24, "--port", "0"
    )

    assert printed_account(run.out) == [
        f"export PIRSONAL_ACCOUNT_ID={'b' * 24}",
        "export PIRSONAL_ACCOUNT_SECRET=from-the-environment",
    ]


def test_the_sandbox_takes_a_chaos_spec_and_seed(
    capsys: pytest.CaptureFixture[str], served: list[Served]
) -> None:
    spec = "drop-reply=0.1,drop-request=0.05,http-503=0.05,latency-ms=20,render-fail=0.02"

    run = run_sync(capsys, "sandbox", "--port", "0", "--chaos", spec, "--chaos-seed", "7")

    assert run.status == 0, run.err
    assert f"# chaos: {spec} --chaos-seed 7" in run.out.splitlines()
    [serving] = served
    [middleware] = serving.app.user_middleware
    chaos = middleware.kwargs["chaos"]
    assert (str(chaos.spec), chaos.seed) == (spec, 7)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--chaos", "drop-reply=2"], "drop-reply must be a rate between 0 and 1, got 2.0"),
        (["--chaos", "latency=5"], "unknown chaos key 'latency'"),
        (["--chaos-seed", "7"], "--chaos-seed needs --chaos"),
    ],
)
def test_the_sandbox_refuses_a_bad_chaos_spec(
    capsys: pytest.CaptureFixture[str], served: list[Served], arguments: list[str], message: str
) -> None:
    run = run_sync(capsys, "sandbox", "--port", "0", *arguments)

    assert run.status == 2
    assert message in run.err
    assert served == []


def test_the_sandbox_refuses_a_base_url_instead_of_ignoring_it(
    capsys: pytest.CaptureFixture[str], served: list[Served]
) -> None:
    run = run_sync(capsys, "--base-url", "http://127.0.0.1:9", "sandbox", "--port", "0")

    assert run.status == 2
    assert "--base-url is for API calls; the sandbox takes --host and --port" in run.err
    assert served == []


def test_the_webhook_command_listens_like_the_sandbox(
    capsys: pytest.CaptureFixture[str], served: list[Served]
) -> None:
    run = run_sync(capsys, "webhook", "--port", "0", "--token", "tok")

    [serving] = served
    host, port = serving.address
    assert run.status == 0
    assert run.err == f"receiving webhooks at http://{host}:{port}/ (token required)\n"
    # bind_socket's: without it each keep-alive reply waits for a delayed ACK.
    assert serving.nodelay


def test_the_cli_imports_and_runs_without_the_server_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Importing a module set to None fails; the sandbox's own modules may already be loaded.
    sandbox_modules = [name for name in sys.modules if name.startswith("pirsonal_async.sandbox")]
    for module in ("uvicorn", "starlette", "pirsonal_async.sandbox.__main__", *sandbox_modules):
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delitem(sys.modules, "pirsonal_async.cli")
    monkeypatch.setattr(pirsonal_async, "cli", cli)  # the import below rebinds it
    fresh_cli = importlib.import_module("pirsonal_async.cli")

    assert fresh_cli.main(["methods"]) == 0
    assert fresh_cli.main(["webhook"]) == 1
    assert capsys.readouterr().err == (
        "error: ImportError: 'pirsonal webhook' needs uvicorn: "
        "pip install 'pirsonal-async[sandbox]'\n"
    )


def test_python_dash_m_pirsonal_async_runs_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["pirsonal", "methods"])

    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(MAIN_MODULE), run_name="__main__")

    assert exit_info.value.code == 0
    assert "Video_Get(videoID string) Video" in capsys.readouterr().out


async def start_console_script(*argv: str, **options: Any) -> asyncio.subprocess.Process:
    """`pirsonal ARGV...` as a user runs it from a terminal: Ctrl-C (SIGINT) at its default
    action even when this run ignores it, as a job a non-interactive shell put in the
    background does (and a child inherits; an ignored SIGINT is rightly left ignored)."""
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("pirsonal")),
        *argv,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **options,
    )


async def test_console_script_receives_webhooks_until_ctrl_c(sandbox: Sandbox) -> None:
    token = "hook-token-5be1"
    receiver = await start_console_script(
        "webhook",
        "--port",
        "0",
        env={**os.environ, "PIRSONAL_WEBHOOK_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert receiver.stdout is not None
    assert receiver.stderr is not None
    try:
        banner = (await asyncio.wait_for(receiver.stderr.readline(), 20)).decode()
        assert banner.startswith("receiving webhooks at http://127.0.0.1:")
        assert banner.endswith("(token required)\n")
        url = banner.split()[3]
        sandbox.state.add_webhook(f"{url}?token={token}")

        video_id = await make_video(sandbox)
        line = await asyncio.wait_for(receiver.stdout.readline(), 20)
    finally:
        receiver.send_signal(signal.SIGINT)
        await asyncio.wait_for(receiver.wait(), 20)

    delivered = json.loads(line)
    assert (delivered["id"], delivered["status"]) == (video_id, {"code": "done"})
    assert receiver.returncode == 130
    rest = (await receiver.stderr.read()).decode()
    assert rest == ""
    assert token not in banner


async def test_console_script_sandbox_prints_lines_a_shell_can_eval_and_stops_on_ctrl_c() -> None:
    secret = 'it\'s a "secret" $HOME'  # quotes and a dollar survive the shell
    sandbox = await start_console_script(
        "--account-secret",
        secret,
        "sandbox",
        "--port",
        "0",
        "--chaos",
        "latency-ms=1",  # its line too must not upset the shell
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert sandbox.stdout is not None
    try:
        lines = b"".join([await asyncio.wait_for(sandbox.stdout.readline(), 20) for _ in "abcd"])
        assert lines.startswith(b"export PIRSONAL_BASE_URL=")
        assert b"\n# chaos: " in lines
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            'eval "$(cat)" && printf "%s\\n" "$PIRSONAL_BASE_URL" "$PIRSONAL_ACCOUNT_ID" '
            '"$PIRSONAL_ACCOUNT_SECRET"',
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        evaluated, _ = await asyncio.wait_for(shell.communicate(lines), 20)
        base_url, account_id, account_secret = evaluated.decode().splitlines()
        assert account_secret == secret
        async with PirsonalClient(account_id, account_secret, base_url=base_url) as pirsonal:
            assert await pirsonal.media_list() == []  # the sandbox serves that account
    finally:
        sandbox.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(sandbox.communicate(), 20)

    assert sandbox.returncode == 130
    log = stderr.decode()  # the sandbox's own log lines, then nothing about the interrupt
    assert "shutting down" in log.lower()
    assert "error:" not in log
    assert "Traceback" not in log
    assert "Interrupt" not in log


@pytest.mark.usefixtures("env_credentials")
@pytest.mark.parametrize("argv", [["call", "template_list"], ["methods"]])
async def test_output_to_a_closed_pipe_ends_quietly_with_sigpipes_status(
    sandbox: Sandbox, argv: list[str]
) -> None:
    # `pirsonal ... | head -c 100`, made certain: the reader is gone before the first write.
    sandbox.state.template_new(TEMPLATE)
    reader, writer = os.pipe()
    os.close(reader)
    try:
        process = await start_console_script(
            *argv,
            stdout=writer,
            stderr=asyncio.subprocess.PIPE,
        )
    finally:
        os.close(writer)
    _, stderr = await asyncio.wait_for(process.communicate(), 20)

    assert (process.returncode, stderr.decode()) == (cli.EXIT_BROKEN_PIPE, "")


async def make_video(sandbox: Sandbox) -> str:
    async with PirsonalClient(ACCOUNT_ID, CANARY, base_url=sandbox.base_url) as pirsonal:
        media = await pirsonal.upload_media(b"\x00" * 100, filename="clip.mp4")
        template_id = await pirsonal.template_new(
            TemplateNew(
                name="Welcome",
                description="",
                input_scripts=[SCRIPT],
                out_profiles=[PROFILE],
                video_output=VideoOutput(type=VideoOutputType.sezion),
            )
        )
        return await pirsonal.template_video_new(
            template_id,
            Video(
                name="Hi Ana",
                input_medias=[
                    InputMedia(input_id="clip", type=MediaType.video, sezion_id=media.id),
                    InputMedia(input_id="name", type=MediaType.text, text="Ana"),
                ],
            ),
        )
