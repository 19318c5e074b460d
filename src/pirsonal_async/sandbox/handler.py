"""The `SezionAPI` handler: one method per IDL function, each an operation on the sandbox state."""

from __future__ import annotations

from typing import Any

from pirsonal_async.sandbox import faults
from pirsonal_async.sandbox.rpc_server import RpcFault
from pirsonal_async.sandbox.state import Principal, SandboxState

INTERFACE = "SezionAPI"
OK = "OK"
# The one method a template secret unlocks (as Pirsonal's browser SDK uses it).
TEMPLATE_SCOPED_METHOD = f"{INTERFACE}.Template_Video_New"


class SezionHandler:
    """Serves one HTTP request's calls for the caller `access` names (or the fault it earned).

    Parameter names follow the IDL, so the methods read like the contract.
    """

    def __init__(self, state: SandboxState, access: Principal | RpcFault, files_url: str) -> None:
        self._state = state
        self._access = access
        self._files_url = files_url.rstrip("/")

    def authorize(self, method: str) -> None:
        """The guard run before every call (not `barrister-idl`, whose contract is public)."""
        if isinstance(self._access, RpcFault):
            raise self._access
        if self._access.template_id is not None and method != TEMPLATE_SCOPED_METHOD:
            raise faults.AUTHENTICATION_ERROR.fault(
                "a template secret allows Template_Video_New only"
            )

    def Template_New(self, template: dict[str, Any]) -> str:
        return self._state.template_new(template)

    def Template_Update(self, templateID: str, update: dict[str, Any]) -> str:
        self._state.template_update(templateID, update)
        return OK

    def Template_Delete(self, templateID: str, removeExternalFiles: bool) -> str:
        self._state.template_delete(templateID)
        return OK

    def Template_List(self) -> list[dict[str, Any]]:
        return self._state.template_list()

    def Template_SetStatus(self, templateID: str, status: str) -> str:
        self._state.template_set_status(templateID, status)
        return OK

    def Template_Video_New(self, templateID: str, video: dict[str, Any]) -> str:
        scope = self._access.template_id if isinstance(self._access, Principal) else None
        if scope is not None and templateID != scope:
            raise faults.AUTHENTICATION_ERROR.fault("the template secret is for another template")
        return self._state.video_new(templateID, video)

    def Template_Video_List(self, templateID: str) -> list[dict[str, Any]]:
        return self._state.template_videos(templateID)

    def Video_Get(self, videoID: str) -> dict[str, Any]:
        return self._state.video_get(videoID)

    def Video_Update(self, videoID: str, videoUpdate: dict[str, Any]) -> str:
        self._state.video_update(videoID, videoUpdate)
        return OK

    def Video_Update_Metadata(self, videoID: str, metaData: dict[str, Any]) -> str:
        self._state.video_update(videoID, metaData)
        return OK

    def Video_Delete(self, videoID: str, removeFiles: bool) -> str:
        self._state.video_delete(videoID)
        return OK

    def Video_Get_Links(self, videoID: str) -> list[dict[str, Any]]:
        return [self._link(out) for out in self._state.out_files(videoID)]

    def Video_Pirsonal_Link(self, videoID: str, pirsonalID: str) -> dict[str, Any]:
        return self._link(self._state.out_file(videoID, pirsonalID))

    def Media_List(self) -> list[dict[str, Any]]:
        return self._state.media_list()

    def Media_Delete(self, mediaID: str) -> str:
        self._state.media_delete(mediaID)
        return OK

    def Media_Apply_Pattern(self, mediaID: str, pattern: str, action: str, parameters: str) -> str:
        return self._state.media_apply_pattern(mediaID, pattern, action, parameters)

    def _link(self, out_file: dict[str, Any]) -> dict[str, Any]:
        pirsonal_id = out_file["storage"]["pirsonalID"]
        return {
            "id": pirsonal_id,
            "profile": out_file["profile"],
            "url": f"{self._files_url}/{pirsonal_id}",
        }
