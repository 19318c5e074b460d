"""The Pirsonal error codes the sandbox answers with, worded as the vendor's error-code table."""

from __future__ import annotations

from attrs import frozen

from pirsonal_async.sandbox.rpc_server import RpcFault


@frozen
class Misuse:
    """One row of the vendor's "API Error codes" table."""

    code: int
    message: str

    def fault(self, detail: str | None = None) -> RpcFault:
        """The error to answer with; `detail` (never a secret) follows the table's wording."""
        message = self.message if detail is None else f"{self.message}: {detail}"
        return RpcFault(self.code, message)


TEMPLATE_NOT_FOUND = Misuse(1000, "Template not found")
MEDIA_NOT_FOUND = Misuse(1001, "Media not found")
MEDIA_ID_NOT_IN_SCRIPTS = Misuse(1002, "MediaID not found in scripts")
INPUTS_NOT_ALLOWED = Misuse(1003, "Inputs not allowed for this template")
INPUTS_MISMATCH = Misuse(1004, "Scripts inputs and medias mismatch")
BAD_SCRIPT = Misuse(1005, "Bad script")
VIDEO_FILE_NOT_FOUND = Misuse(1006, "Video file not found")
VIDEO_NOT_FOUND = Misuse(1007, "Video not found")
MEDIA_IN_USE = Misuse(1008, "Media in use in templates")
NO_SCRIPTS = Misuse(1009, "No scripts")
AUTHENTICATION_ERROR = Misuse(1015, "Authentication error")
BAD_SECRET = Misuse(1018, "Bad secret")
NO_SIZE = Misuse(1019, "No size specified (content-length)")
INVALID_CONTENT_TYPE = Misuse(1020, "Invalid Content-Type")
TEMPLATE_INACTIVE = Misuse(1028, "Template inactive")
BAD_INPUT_MEDIA = Misuse(1029, "Bad input media")
NO_VIDEO_PROFILES = Misuse(1032, "No video profiles in template")
DUPLICATED_PROFILE = Misuse(1032, "Duplicated profile name")
MEDIA_STORAGE_FULL = Misuse(2001, "Stored medias size limit reached")
PROFILE_NOT_ALLOWED = Misuse(2002, "Video profile not allowed")
NO_CREDIT = Misuse(2004, "No credit")
