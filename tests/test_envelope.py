"""The pure halves of a call: the edges of a reply envelope, checked without any HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pirsonal_async._envelope import decode_error, encode, to_result
from pirsonal_async._redact import Redactor
from pirsonal_async.contract import Contract
from pirsonal_async.errors import ProtocolError, RequestValidationError, UnspecifiedError

SECRET = "s3cr3t-Zq9canary"


def test_a_codeless_error_keeps_its_message_and_data() -> None:
    error = decode_error({"message": "quota", "data": {"left": 0}}, "A.b", Redactor())

    assert type(error) is UnspecifiedError
    assert (error.code, error.message, error.data, error.method) == (
        None,
        "quota",
        {"left": 0},
        "A.b",
    )


def test_a_codeless_error_without_a_string_message_says_what_it_is() -> None:
    error = decode_error({"message": 42, "data": [1]}, None, Redactor())

    assert type(error) is UnspecifiedError
    assert (error.message, error.data) == ("the server reported an error without a code", [1])


def test_a_codeless_errors_message_and_data_are_redacted() -> None:
    reply = {"message": f"bad {SECRET}", "data": {"secret": "t", "echo": SECRET}}

    error = decode_error(reply, None, Redactor([SECRET]))

    assert type(error) is UnspecifiedError
    assert (error.message, error.data) == ("bad ***", {"secret": "***", "echo": "***"})


# A bad "jsonrpc" is shown up to 40 characters, a bad id up to 60; longer ones are cut.
@pytest.mark.parametrize(
    ("field", "limit", "message"),
    [
        ("jsonrpc", 40, 'reply "jsonrpc" is {}, not "2.0"'),
        ("id", 60, "reply id {} does not match request id '1'"),
    ],
)
@pytest.mark.parametrize("over", [0, 1])
def test_a_bad_envelope_value_is_shown_up_to_its_limit(
    field: str, limit: int, message: str, over: int
) -> None:
    value = "v" * (limit - 2 + over)  # its JSON is `limit` characters long, or one more
    reply = {"jsonrpc": "2.0", "id": "1", "result": 1, field: value}

    with pytest.raises(ProtocolError) as caught:
        to_result(reply, "A.b", "1", None)

    shown = json.dumps(value) if not over else json.dumps(value)[: limit - 3] + "..."
    assert str(caught.value) == "A.b: " + message.format(shown)


CONFORM = json.loads((Path(__file__).parent / "data/barrister/conform.json").read_text())


def test_a_result_with_a_key_the_contract_does_not_know_is_accepted_unless_strict() -> None:
    contract = Contract(CONFORM)
    result = {"status": "ok", "count": 1, "items": ["a"], "addedLater": True}
    reply = {"jsonrpc": "2.0", "id": "1", "result": result}

    assert to_result(reply, "A.repeat", "1", contract) == result
    with pytest.raises(ProtocolError) as caught:
        to_result(reply, "A.repeat", "1", contract, strict=True)
    assert "addedLater" in str(caught.value)


def test_an_error_whose_message_is_not_a_string_names_its_kind() -> None:
    error = decode_error({"code": 1007, "message": 42}, "A.b", Redactor())

    assert type(error) is ProtocolError
    assert str(error) == 'A.b: reply error 1007 has a number "message", not a string'


def test_an_envelope_that_cannot_be_encoded_for_another_reason_says_so() -> None:
    envelope = {"jsonrpc": "2.0", "id": object(), "method": "A.b", "params": [1]}

    with pytest.raises(RequestValidationError) as caught:
        encode(envelope)

    assert str(caught.value) == "A.b: params are not JSON-serialisable"
