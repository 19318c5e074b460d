"""The error hierarchy: every documented code decodes to its class and group; errors pickle."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from pirsonal_async import errors
from pirsonal_async.errors import (
    ERROR_CLASSES,
    AuthError,
    ConflictError,
    HttpStatusError,
    InvalidInputError,
    InvalidResponse,
    JsonRpcError,
    LimitError,
    NotFoundError,
    PirsonalAsyncError,
    PirsonalError,
    PirsonalServerError,
    ProtocolError,
    RequestValidationError,
    RpcError,
    ServerError,
    TransportError,
    UnspecifiedError,
    error_from_reply,
)

# The docs' table (docAPI.txt "API Error codes"): code, one documented message, class, group.
DOCUMENTED = [
    (None, "undefined", "UnspecifiedError", PirsonalServerError),
    (1000, "Template not found", "TemplateNotFound", NotFoundError),
    (1001, "Media not found", "MediaNotFound", NotFoundError),
    (1002, "MediaID not found in scripts", "MediaIdNotInScripts", InvalidInputError),
    (1003, "Inputs not allowed for this template", "InputsNotAllowed", InvalidInputError),
    (1004, "Scripts inputs and medias mismatch", "ScriptInputsMismatch", InvalidInputError),
    (1005, "Bad script", "BadScript", InvalidInputError),
    (1006, "Video file not found", "VideoFileNotFound", NotFoundError),
    (1007, "Video not found", "VideoNotFound", NotFoundError),
    (1008, "Media in use in templates", "MediaInUse", ConflictError),
    (1009, "No scripts", "NoScripts", InvalidInputError),
    (1010, "Account not found", "AccountNotFound", NotFoundError),
    (1011, "Error downloading medias", "MediaDownloadFailed", PirsonalServerError),
    (1012, "Error processing video", "VideoProcessingFailed", PirsonalServerError),
    (1013, "Error uploading to Youtube", "YoutubeUploadFailed", PirsonalServerError),
    (1014, "Youtube Account not Found", "YoutubeAccountNotFound", NotFoundError),
    (1015, "Authentication error", "AuthenticationError", AuthError),
    (1016, "Email already used", "EmailAlreadyUsed", ConflictError),
    (1017, "Bad password", "BadPassword", AuthError),
    (1018, "Bad secret", "BadSecret", AuthError),
    (1019, "No size specified (content-length)", "MissingContentLength", InvalidInputError),
    (1020, "Invalid Content-Type", "InvalidContentType", InvalidInputError),
    (1021, "Account not active", "AccountNotActive", AuthError),
    (1023, "Youtube upload bad token", "YoutubeBadToken", AuthError),
    (1025, "Account type not found", "AccountTypeNotFound", NotFoundError),
    (1026, "Payment client error", "PaymentClientError", LimitError),
    (1027, "Payment mismatch", "PaymentMismatch", LimitError),
    (1028, "Template inactive", "TemplateInactive", ConflictError),
    (1029, "Bad input media", "BadInputMedia", InvalidInputError),
    (1030, "Error deleting video files", "VideoFileDeletionFailed", PirsonalServerError),
    (1031, "Video is not in Youtube", "VideoNotInYoutube", NotFoundError),
    (
        1032,
        "This account type does not allow custom video profiles",
        "VideoProfilesError",
        InvalidInputError,
    ),
    (1032, "No video profiles in template", "VideoProfilesError", InvalidInputError),
    (1032, "Duplicated profile name", "VideoProfilesError", InvalidInputError),
    (1033, "Your account was locked after too many failed login", "AccountLocked", AuthError),
    (2000, "Stored videos size limit reached", "VideoStorageFull", LimitError),
    (2001, "Stored medias size limit reached", "MediaStorageFull", LimitError),
    (2002, "Video profile not allowed", "VideoProfileNotAllowed", LimitError),
    (2003, "Too much free objects in template", "TooManyFreeObjects", LimitError),
    (2004, "No credit", "NoCredit", LimitError),
    (2004, "Please upgrade your account to use Static Templates", "NoCredit", LimitError),
    (2005, "Max templates reached", "TemplateLimitOrMissingVariables", LimitError),
    (2005, "Not all variables defined", "TemplateLimitOrMissingVariables", InvalidInputError),
    (2006, "CTA start time cannot be empty.", "CtaStartTimeMissing", InvalidInputError),
    (2007, "Atleast one field must be specified.", "InvalidCtaElements", InvalidInputError),
    (
        2007,
        "More than one elements have the same start time.",
        "InvalidCtaElements",
        InvalidInputError,
    ),
    (
        2007,
        "More than one elements have the same end time.",
        "InvalidCtaElements",
        InvalidInputError,
    ),
    (5000, "Internal Error", "PirsonalInternalError", PirsonalServerError),
]

JSON_RPC = [
    (-32700, "ParseError"),
    (-32600, "InvalidRequest"),
    (-32601, "MethodNotFound"),
    (-32602, "InvalidParams"),
    (-32603, "InternalError"),
    (-32000, "ServerError"),
    (-32001, "InvalidResponse"),
]


@pytest.mark.parametrize(("code", "message", "name", "group"), DOCUMENTED)
def test_documented_code_decodes_to_its_class_and_group(
    code: int | None, message: str, name: str, group: type[PirsonalError]
) -> None:
    error = error_from_reply(code, message, {"k": 1}, "SezionAPI.Video_Get")

    assert type(error) is getattr(errors, name)
    assert isinstance(error, group)
    assert isinstance(error, PirsonalError)
    assert (error.code, error.message, error.data, error.method) == (
        code,
        message,
        {"k": 1},
        "SezionAPI.Video_Get",
    )


@pytest.mark.parametrize(("code", "name"), JSON_RPC)
def test_json_rpc_code_decodes_to_its_class(code: int, name: str) -> None:
    error = error_from_reply(code, "m", None, "A.add")

    assert type(error) is getattr(errors, name)
    assert isinstance(error, JsonRpcError)
    assert not isinstance(error, PirsonalError)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (-32050, ServerError),
        (-32099, ServerError),
        (-32500, JsonRpcError),
        (-32768, JsonRpcError),
        (9999, PirsonalError),
        (1, PirsonalError),
        (-5, PirsonalError),
        (-32769, PirsonalError),
    ],
)
def test_undocumented_codes_decode_by_range(code: int, cls: type[RpcError]) -> None:
    assert type(error_from_reply(code, "m", None, "A.add")) is cls


def test_every_table_entry_is_covered_by_the_tests() -> None:
    tested = {code for code, *_ in DOCUMENTED} | {code for code, _ in JSON_RPC}
    assert set(ERROR_CLASSES) == tested


def test_server_invalid_response_is_both_an_rpc_error_and_a_protocol_error() -> None:
    error = error_from_reply(-32001, "Function 'A.add' invalid response", None, "A.add")

    assert isinstance(error, InvalidResponse)
    assert isinstance(error, RpcError)
    assert isinstance(error, ProtocolError)
    assert ProtocolError("bad envelope", method="A.add").code == -32001


def test_an_account_not_found_is_also_an_auth_error() -> None:
    assert isinstance(error_from_reply(1010, "Account not found", None, None), AuthError)


def test_messages_name_the_method_code_and_server_message() -> None:
    error = error_from_reply(1007, "Video not found", None, "SezionAPI.Video_Get")

    assert str(error) == "SezionAPI.Video_Get: Video not found (code 1007)"
    assert str(UnspecifiedError(None, "no code")) == "no code (code None)"


def test_long_server_messages_are_shortened_in_str_but_kept_whole() -> None:
    error = error_from_reply(5000, "x" * 5000, None, "A.add")

    assert len(str(error)) < 400
    assert error.message == "x" * 5000


def test_request_validation_error_names_param_and_path() -> None:
    error = RequestValidationError(
        "expected string, got int", method="S.f", param="video", path="video.medias[2].type"
    )

    assert str(error) == "S.f: param 'video' (video.medias[2].type): expected string, got int"
    assert str(RequestValidationError("r", method=None, param="id", path="id")) == "param 'id': r"


def test_http_status_error_outcome_depends_on_the_status() -> None:
    refused = HttpStatusError("HTTP 429", method="S.f", status=429, retry_after=2.0)
    failed = HttpStatusError("HTTP 502", method="S.f", status=502)

    assert isinstance(refused, TransportError)
    assert not refused.outcome_unknown
    assert failed.outcome_unknown


EXAMPLES: list[PirsonalAsyncError] = [
    RequestValidationError("bad", method="S.f", param="p", path="p.x[1]"),
    TransportError("ReadTimeout", method="S.f", outcome_unknown=True, attempts=3),
    HttpStatusError("HTTP 503", method="S.f", status=503, retry_after=1.5, attempts=2),
    ProtocolError("reply is not JSON", method="S.f", data={"id": "1"}),
    *(
        error_from_reply(code, "message", {"detail": [1, 2]}, "S.f")
        for code in [*ERROR_CLASSES, 4242, -32042]
    ),
]


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_error_pickles_to_equal_attributes(error: PirsonalAsyncError) -> None:
    restored: Any = pickle.loads(pickle.dumps(error))

    assert type(restored) is type(error)
    assert vars(restored) == vars(error)
    assert restored.args == error.args
    assert str(restored) == str(error)
