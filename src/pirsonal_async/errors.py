"""Every error the library raises, and the one table that maps JSON-RPC error codes to classes."""

from __future__ import annotations

from typing import Any

# The longest server message shown by str(); the full text stays in `.message`.
_SHOWN_MESSAGE_CHARS = 300
INVALID_RESPONSE_CODE = -32001


def _restore(cls: type[PirsonalAsyncError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class PirsonalAsyncError(Exception):
    """Base of every error raised by pirsonal_async; `.method` names the call, if any."""

    message: str
    method: str | None

    def __init__(self, message: str, *, method: str | None = None) -> None:
        Exception.__init__(self, message)
        self.message = message
        self.method = method

    def __str__(self) -> str:
        text = _shorten(self.message)
        return f"{self.method}: {text}" if self.method else text

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword-only attributes, so rebuild from state instead of cls(*args).
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _shorten(text: str) -> str:
    if len(text) <= _SHOWN_MESSAGE_CHARS:
        return text
    return text[: _SHOWN_MESSAGE_CHARS - 3] + "..."


class RequestValidationError(PirsonalAsyncError):
    """The arguments break the contract; raised before anything is sent.

    `.param` is the parameter's wire name (None when the problem is the whole call, such as
    the parameter count), `.path` the JSON path inside it, `.reason` what is wrong.
    """

    param: str | None
    path: str
    reason: str

    def __init__(
        self, reason: str, *, method: str | None, param: str | None = None, path: str = ""
    ) -> None:
        location = ""
        if param is not None:
            location = f"param '{param}'" + (f" ({path})" if path and path != param else "")
        super().__init__(f"{location}: {reason}" if location else reason, method=method)
        self.param = param
        self.path = path
        self.reason = reason


class ConfigurationError(PirsonalAsyncError, ValueError):
    """A client was made without a setting it needs (names the argument and the variable)."""


class ClientClosedError(PirsonalAsyncError, RuntimeError):
    """The client was used after `aclose()` (or its `async with` block ended); make a new one."""


class BatchNotSentError(PirsonalAsyncError, RuntimeError):
    """A batched call's result was awaited inside its `async with` block.

    A batch is sent when its block exits, so its results resolve only then: await them after
    the block.
    """


class TransportError(PirsonalAsyncError):
    """The HTTP exchange failed (connect, read, write, timeout, HTTP status).

    `.outcome_unknown` is True when the request may have reached the server and run, so a
    write may or may not have taken effect; `.attempts` counts the attempts made.
    """

    outcome_unknown: bool
    attempts: int

    def __init__(
        self, message: str, *, method: str | None, outcome_unknown: bool, attempts: int = 1
    ) -> None:
        super().__init__(message, method=method)
        self.outcome_unknown = outcome_unknown
        self.attempts = attempts


class HttpStatusError(TransportError):
    """The server answered with an HTTP status other than 200 (Barrister servers always use 200).

    `.retry_after` is the server's Retry-After in seconds, when it sent a usable one.
    """

    status: int
    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        method: str | None,
        status: int,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        # 4xx means the server refused the request; 5xx may come after it ran.
        super().__init__(message, method=method, outcome_unknown=status >= 500, attempts=attempts)
        self.status = status
        self.retry_after = retry_after


class ProtocolError(PirsonalAsyncError):
    """The reply is not valid JSON-RPC, or its result breaks the contract.

    Carries the code -32001 ("invalid response"), the code the Barrister reference client
    uses for the same failures, so it can be handled like an `RpcError`. When the server
    itself reports -32001, the error is an `InvalidResponse`, which is both an `RpcError`
    and a `ProtocolError`.
    """

    code: int | None
    data: Any

    def __init__(self, message: str, *, method: str | None, data: Any = None) -> None:
        super().__init__(message, method=method)
        self.code = INVALID_RESPONSE_CODE
        self.data = data


class RpcError(PirsonalAsyncError):
    """The server answered with a JSON-RPC error: `.code`, `.message`, `.data`, `.method`.

    `.code` is None only for Pirsonal's documented error without a code (`UnspecifiedError`).
    """

    code: int | None
    data: Any

    def __init__(
        self, code: int | None, message: str, *, data: Any = None, method: str | None = None
    ) -> None:
        PirsonalAsyncError.__init__(self, message, method=method)
        self.code = code
        self.data = data

    def __str__(self) -> str:
        return f"{super().__str__()} (code {self.code})"


# JSON-RPC and Barrister codes (-32768..-32000 is reserved by JSON-RPC 2.0).


class JsonRpcError(RpcError):
    """A code reserved by JSON-RPC 2.0 (-32768..-32000)."""


class ParseError(JsonRpcError):
    """-32700: the server could not parse the request body as JSON."""


class InvalidRequest(JsonRpcError):
    """-32600: the request is not a valid JSON-RPC request object."""


class MethodNotFound(JsonRpcError):
    """-32601: no such interface or function on the server."""


class InvalidParams(JsonRpcError):
    """-32602: wrong parameter count or a parameter of the wrong type."""


class InternalError(JsonRpcError):
    """-32603: internal JSON-RPC error."""


class ServerError(JsonRpcError):
    """-32000 (and other codes in -32099..-32000): the server failed while handling the call."""


class InvalidResponse(JsonRpcError, ProtocolError):
    """-32001: the server found its own result invalid against the contract."""


# Application errors: Pirsonal's documented codes, grouped so a whole kind can be caught.


class PirsonalError(RpcError):
    """An application error code; unknown codes (and other servers' codes) decode to this."""


class NotFoundError(PirsonalError):
    """Something the call refers to does not exist."""


class AuthError(PirsonalError):
    """Credentials or account state rejected the call."""


class InvalidInputError(PirsonalError):
    """The arguments are well-typed but not acceptable to the server."""


class LimitError(PirsonalError):
    """An account limit, credit or billing problem."""


class ConflictError(PirsonalError):
    """The call conflicts with the current state of the account or object."""


class PirsonalServerError(PirsonalError):
    """Pirsonal failed while doing the work; not caused by the arguments."""


class UnspecifiedError(PirsonalServerError):
    """The server reported an error without a code (documented as `{code: undefined}`)."""


class TemplateNotFound(NotFoundError):
    """1000: Template not found."""


class MediaNotFound(NotFoundError):
    """1001: Media not found."""


class MediaIdNotInScripts(InvalidInputError):
    """1002: MediaID not found in scripts."""


class InputsNotAllowed(InvalidInputError):
    """1003: Inputs not allowed for this template."""


class ScriptInputsMismatch(InvalidInputError):
    """1004: Scripts inputs and medias mismatch."""


class BadScript(InvalidInputError):
    """1005: Bad script."""


class VideoFileNotFound(NotFoundError):
    """1006: Video file not found."""


class VideoNotFound(NotFoundError):
    """1007: Video not found."""


class MediaInUse(ConflictError):
    """1008: Media in use in templates."""


class NoScripts(InvalidInputError):
    """1009: No scripts."""


class AccountNotFound(NotFoundError, AuthError):
    """1010: Account not found (usually a wrong account ID, hence also an `AuthError`)."""


class MediaDownloadFailed(PirsonalServerError):
    """1011: Error downloading medias."""


class VideoProcessingFailed(PirsonalServerError):
    """1012: Error processing video."""


class YoutubeUploadFailed(PirsonalServerError):
    """1013: Error uploading to Youtube."""


class YoutubeAccountNotFound(NotFoundError):
    """1014: Youtube Account not Found."""


class AuthenticationError(AuthError):
    """1015: Authentication error."""


class EmailAlreadyUsed(ConflictError):
    """1016: Email already used."""


class BadPassword(AuthError):
    """1017: Bad password."""


class BadSecret(AuthError):
    """1018: Bad secret."""


class MissingContentLength(InvalidInputError):
    """1019: No size specified (content-length)."""


class InvalidContentType(InvalidInputError):
    """1020: Invalid Content-Type."""


class AccountNotActive(AuthError):
    """1021: Account not active."""


class YoutubeBadToken(AuthError):
    """1023: Youtube upload bad token."""


class AccountTypeNotFound(NotFoundError):
    """1025: Account type not found."""


class PaymentClientError(LimitError):
    """1026: Payment client error."""


class PaymentMismatch(LimitError):
    """1027: Payment mismatch."""


class TemplateInactive(ConflictError):
    """1028: Template inactive."""


class BadInputMedia(InvalidInputError):
    """1029: Bad input media."""


class VideoFileDeletionFailed(PirsonalServerError):
    """1030: Error deleting video files."""


class VideoNotInYoutube(NotFoundError):
    """1031: Video is not in Youtube."""


class VideoProfilesError(InvalidInputError):
    """1032: custom profiles not allowed for the account type, no profiles, or a duplicate name."""


class AccountLocked(AuthError):
    """1033: the account was locked after too many failed login attempts."""


class VideoStorageFull(LimitError):
    """2000: Stored videos size limit reached."""


class MediaStorageFull(LimitError):
    """2001: Stored medias size limit reached."""


class VideoProfileNotAllowed(LimitError):
    """2002: Video profile not allowed."""


class TooManyFreeObjects(LimitError):
    """2003: Too much free objects in template."""


class NoCredit(LimitError):
    """2004: No credit, or the account must be upgraded (e.g. for Static Templates)."""


class TemplateLimitOrMissingVariables(LimitError, InvalidInputError):
    """2005: Max templates reached, or not all variables defined; the message says which."""


class CtaStartTimeMissing(InvalidInputError):
    """2006: CTA start time cannot be empty."""


class InvalidCtaElements(InvalidInputError):
    """2007: no field specified, or several elements share a start or end time."""


class PirsonalInternalError(PirsonalServerError):
    """5000: Internal Error."""


ERROR_CLASSES: dict[int | None, type[RpcError]] = {
    -32700: ParseError,
    -32600: InvalidRequest,
    -32601: MethodNotFound,
    -32602: InvalidParams,
    -32603: InternalError,
    -32000: ServerError,
    INVALID_RESPONSE_CODE: InvalidResponse,
    None: UnspecifiedError,
    1000: TemplateNotFound,
    1001: MediaNotFound,
    1002: MediaIdNotInScripts,
    1003: InputsNotAllowed,
    1004: ScriptInputsMismatch,
    1005: BadScript,
    1006: VideoFileNotFound,
    1007: VideoNotFound,
    1008: MediaInUse,
    1009: NoScripts,
    1010: AccountNotFound,
    1011: MediaDownloadFailed,
    1012: VideoProcessingFailed,
    1013: YoutubeUploadFailed,
    1014: YoutubeAccountNotFound,
    1015: AuthenticationError,
    1016: EmailAlreadyUsed,
    1017: BadPassword,
    1018: BadSecret,
    1019: MissingContentLength,
    1020: InvalidContentType,
    1021: AccountNotActive,
    1023: YoutubeBadToken,
    1025: AccountTypeNotFound,
    1026: PaymentClientError,
    1027: PaymentMismatch,
    1028: TemplateInactive,
    1029: BadInputMedia,
    1030: VideoFileDeletionFailed,
    1031: VideoNotInYoutube,
    1032: VideoProfilesError,
    1033: AccountLocked,
    2000: VideoStorageFull,
    2001: MediaStorageFull,
    2002: VideoProfileNotAllowed,
    2003: TooManyFreeObjects,
    2004: NoCredit,
    2005: TemplateLimitOrMissingVariables,
    2006: CtaStartTimeMissing,
    2007: InvalidCtaElements,
    5000: PirsonalInternalError,
}


def error_from_reply(code: int | None, message: str, data: Any, method: str | None) -> RpcError:
    """The exception for a JSON-RPC error reply; the server's message is kept as sent."""
    cls = ERROR_CLASSES.get(code)
    if cls is None:
        if code is not None and -32099 <= code <= -32000:
            cls = ServerError
        elif code is not None and -32768 <= code <= -32000:
            cls = JsonRpcError
        else:
            cls = PirsonalError
    return cls(code, message, data=data, method=method)


# Every error class, for `from pirsonal_async import VideoNotFound` and friends.
__all__ = sorted(
    name
    for name, value in list(globals().items())
    if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == __name__
)
