"""The sandbox's in-memory Pirsonal account and its operations, free of HTTP and timers.

Records are kept in their wire form (the contract's JSON), so what a method returns is what the
contract describes; result validation in the RPC layer checks that it stays so.
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from attrs import define, field, frozen

from pirsonal_async.sandbox import faults, outputs, scripts

DEFAULT_MEDIA_QUOTA = 1_000_000_000
# Fields of a Video that only the server sets; a client's values for them are ignored.
VIDEO_OUTPUT_ONLY = frozenset(
    {
        "id",
        "accountID",
        "templateID",
        "date",
        "duration",
        "status",
        "outFiles",
        "template_media",
        "template_type",
    }
)
# A video whose media must stay in storage until it is rendered.
PENDING = frozenset({"queued", "processing"})
# The status of a render that failed. The vendor documents only `done`; its error table calls
# 1012 "Error processing video".
RENDER_FAILED = "error"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A 24-hex-digit ID, shaped like Pirsonal's (MongoDB-style) IDs."""
    return secrets.token_hex(12)


def check_webhook_url(url: str) -> None:
    """Raises ValueError unless `url` is an absolute http(s) URL that httpx can post to.

    The message names the problem without quoting the URL, whose path or query may hold a token.
    """
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # an IDNA host that httpx accepts may still fail to decode here
    except (httpx.InvalidURL, UnicodeError) as exc:
        problem = str(exc)
    else:
        if parsed.scheme in ("http", "https") and host:
            return
        problem = "not an absolute http:// or https:// URL"
    # Raised outside the except block, so httpx's error is not chained to it.
    raise ValueError(f"bad webhook URL: {problem}")


def url_origin(url: str) -> str:
    """`scheme://host:port` of a URL: what logs and reprs may show of a webhook URL, whose
    path, query or user info may hold a token."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return "a malformed URL"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def iso_ms(moment: datetime) -> str:
    """`2014-03-25T11:21:00.047Z`: the date format of Pirsonal's videos."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@frozen
class Principal:
    """Who is calling: the whole account, or one template through its template secret."""

    template_id: str | None = None


@frozen
class Delivery:
    """One webhook call and how it went (`error` is None when the receiver answered 200)."""

    video_id: str
    template_id: str
    url: str = field(repr=url_origin)
    status_code: int | None
    error: str | None


@define(repr=False)
class SandboxState:
    """One Pirsonal account: templates, videos, media, webhooks and webhook deliveries."""

    account_id: str = field(factory=new_id)
    account_secret: str = field(factory=lambda: secrets.token_hex(16))
    media_quota: int = DEFAULT_MEDIA_QUOTA
    # Videos the account may still create; None means unlimited.
    credits: int | None = None
    clock: Callable[[], datetime] = utc_now
    make_id: Callable[[], str] = new_id
    templates: dict[str, dict[str, Any]] = field(factory=dict)
    videos: dict[str, dict[str, Any]] = field(factory=dict)
    media: dict[str, dict[str, Any]] = field(factory=dict)
    # SHA-256 of each upload's body: all the sandbox keeps of the bytes.
    media_sha256: dict[str, str] = field(factory=dict)
    # Template-level input medias per template ID (`template_media_assign`).
    template_media: dict[str, list[dict[str, Any]]] = field(factory=dict)
    # Webhook URLs per template ID; the key None holds URLs that apply to every template.
    webhooks: dict[str | None, list[str]] = field(factory=dict)
    deliveries: list[Delivery] = field(factory=list)
    # Called with a video ID when a video is queued, e.g. to start its rendering.
    on_video_queued: list[Callable[[str], None]] = field(factory=list)
    # Set while a sandbox app's renderer serves this state: a second would render twice.
    renderer_attached: bool = field(default=False, init=False)
    _settled: dict[str, asyncio.Event] = field(factory=dict, init=False)

    def __repr__(self) -> str:
        # Counts only: templates carry their secrets.
        return (
            f"SandboxState(account_id={self.account_id!r}, templates={len(self.templates)}, "
            f"videos={len(self.videos)}, media={len(self.media)})"
        )

    # Authentication

    def authenticate(self, query: Mapping[str, str]) -> Principal:
        """Checks `accountID` with `accountSecret`, or with `templateID` and `templateSecret`."""
        if query.get("accountID") != self.account_id:
            raise faults.AUTHENTICATION_ERROR.fault()
        if "accountSecret" in query:
            _check_secret(query["accountSecret"], self.account_secret)
            return Principal()
        template = self.templates.get(query.get("templateID", ""))
        if template is None or "templateSecret" not in query:
            raise faults.AUTHENTICATION_ERROR.fault()
        _check_secret(query["templateSecret"], template["secret"])
        return Principal(template_id=template["id"])

    # Templates

    def template_new(self, spec: Mapping[str, Any]) -> str:
        _check_template(spec["inputScripts"], spec["outProfiles"])
        template_id = self.make_id()
        self.templates[template_id] = {
            "id": template_id,
            "name": spec["name"],
            "description": spec["description"],
            "date": iso_ms(self.clock()),
            "status": "active",
            "secret": secrets.token_hex(16),
            "inputScripts": spec["inputScripts"],
            "outProfiles": spec["outProfiles"],
            "videoOutput": spec["videoOutput"],
            **({"videoInputs": spec["videoInputs"]} if spec.get("videoInputs") else {}),
        }
        return template_id

    def template_update(self, template_id: str, update: Mapping[str, Any]) -> None:
        template = self._template(template_id)
        changes = {key: value for key, value in update.items() if value is not None}
        _check_template(
            changes.get("inputScripts", template["inputScripts"]),
            changes.get("outProfiles", template["outProfiles"]),
        )
        template.update(changes)

    def template_media_assign(self, template_id: str, medias: list[dict[str, Any]]) -> None:
        """Binds fixed media to template inputs (InputMedia objects), replacing earlier ones.

        Pirsonal does this in its web interface or with `Template_Media_Assign`, a method its
        doc does not publish (so the contract lacks it). A video of the template may leave
        those inputs out; a media given here is "in use in templates" (1008 on delete).
        """
        inputs = scripts.script_inputs(self._template(template_id)["inputScripts"])
        scripts.check_input_medias(inputs, medias, self._stored_types(), partial=True)
        self.template_media[template_id] = copy.deepcopy(medias)

    def template_delete(self, template_id: str) -> None:
        """Deletes a template with the videos made from it."""
        self._template(template_id)
        del self.templates[template_id]
        self.webhooks.pop(template_id, None)
        self.template_media.pop(template_id, None)
        for video_id in [
            v for v, video in self.videos.items() if video["templateID"] == template_id
        ]:
            self.video_delete(video_id)

    def template_list(self) -> list[dict[str, Any]]:
        return copy.deepcopy(list(self.templates.values()))

    def template_set_status(self, template_id: str, status: str) -> None:
        self._template(template_id)["status"] = status

    # Videos

    def video_new(self, template_id: str, spec: Mapping[str, Any]) -> str:
        """Queues a video; listeners in `on_video_queued` are told its ID."""
        template = self._template(template_id)
        if template["status"] != "active":
            raise faults.TEMPLATE_INACTIVE.fault()
        if self.credits is not None and self.credits <= 0:
            raise faults.NO_CREDIT.fault()
        video_scripts = spec.get("inputScripts") or template["inputScripts"]
        inputs = scripts.script_inputs(video_scripts)
        # The template's fixed media fill the inputs this video leaves out.
        fixed = [m for m in self.template_media.get(template_id, []) if m["inputID"] in inputs]
        medias = spec.get("inputMedias") or []
        chosen = {m["inputID"] for m in medias}
        medias = [*medias, *(m for m in fixed if m["inputID"] not in chosen)]
        scripts.check_input_medias(inputs, medias, self._stored_types())
        video_id = self.make_id()
        given = {k: v for k, v in spec.items() if k not in VIDEO_OUTPUT_ONLY and v is not None}
        self.videos[video_id] = {
            "id": video_id,
            "accountID": self.account_id,
            "templateID": template_id,
            **given,
            "date": iso_ms(self.clock()),
            "status": {"code": "queued"},
        }
        if self.credits is not None:
            self.credits -= 1
        self._settled[video_id] = asyncio.Event()
        for listener in self.on_video_queued:
            listener(video_id)
        return video_id

    def template_videos(self, template_id: str) -> list[dict[str, Any]]:
        self._template(template_id)
        return [copy.deepcopy(v) for v in self.videos.values() if v["templateID"] == template_id]

    def video_get(self, video_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._video(video_id))

    def video_update(self, video_id: str, changes: Mapping[str, Any]) -> None:
        """Applies a VideoUpdate or VideoMetaData: the fields given (not null) replace the old."""
        self._video(video_id).update({k: v for k, v in changes.items() if v is not None})

    def video_delete(self, video_id: str) -> None:
        """Deletes a video; its per-video uploads go too, rendered or not."""
        video = self._video(video_id)
        del self.videos[video_id]
        self._release_temp_media(video)
        self.mark_settled(video_id)

    def out_files(self, video_id: str) -> list[dict[str, Any]]:
        """The rendered files of a video: none until it is done."""
        return copy.deepcopy(self._video(video_id).get("outFiles", []))

    def out_file(self, video_id: str, pirsonal_id: str) -> dict[str, Any]:
        for out in self.out_files(video_id):
            if out["storage"]["pirsonalID"] == pirsonal_id:
                return out
        raise faults.VIDEO_FILE_NOT_FOUND.fault(repr(pirsonal_id))

    def stored_file_exists(self, pirsonal_id: str) -> bool:
        video_id = pirsonal_id.partition(".")[0]
        files = self.videos.get(video_id, {}).get("outFiles", [])
        return any(out["storage"]["pirsonalID"] == pirsonal_id for out in files)

    # Rendering (driven by the renderer)

    def start_processing(self, video_id: str) -> bool:
        """Marks a queued video as processing; False if it was deleted meanwhile."""
        video = self.videos.get(video_id)
        if video is None:
            return False
        video["status"] = {"code": "processing"}
        return True

    def finish_render(self, video_id: str) -> dict[str, Any] | None:
        """Marks a video done with its output files; returns it, or None if it was deleted.

        A video whose stored media was deleted before it rendered fails instead (`RENDER_FAILED`),
        as a render that cannot download its media would. Per-video (temporary) uploads it used
        are deleted, as Pirsonal does after generation.
        """
        video = self.videos.get(video_id)
        if video is None:
            return None
        if scripts.media_references(video.get("inputMedias", [])) - self.media.keys():
            return self.fail_render(video_id, RENDER_FAILED)
        template = self.templates[video["templateID"]]
        video_scripts = video.get("inputScripts") or template["inputScripts"]
        video["duration"] = scripts.script_duration_ms(video_scripts)
        video["outFiles"] = [outputs.out_file(video_id, p) for p in template["outProfiles"]]
        video["status"] = {"code": "done"}
        self._release_temp_media(video)
        return copy.deepcopy(video)

    def fail_render(self, video_id: str, code: str) -> dict[str, Any] | None:
        """Marks a video's rendering as failed with status `code`; returns it, or None if it
        was deleted. Its per-video uploads are freed, as after a finished render."""
        video = self.videos.get(video_id)
        if video is None:
            return None
        video["status"] = {"code": code}
        self._release_temp_media(video)
        return copy.deepcopy(video)

    def webhook_urls(self, template_id: str) -> list[str]:
        return [*self.webhooks.get(None, []), *self.webhooks.get(template_id, [])]

    def add_webhook(self, url: str, template_id: str | None = None) -> None:
        """Registers a URL that receives every video of `template_id` (None: every template).

        Raises ValueError for a URL that is not an absolute http(s) URL (`check_webhook_url`).
        """
        check_webhook_url(url)
        if template_id is not None:
            self._template(template_id)
        urls = self.webhooks.setdefault(template_id, [])
        if url not in urls:
            urls.append(url)

    @property
    def notifications(self) -> list[Delivery]:
        """Failed webhook deliveries, which Pirsonal reports as account notifications."""
        return [d for d in self.deliveries if d.error is not None]

    def mark_settled(self, video_id: str) -> None:
        """Called once a video is done and its webhooks were called (or it was deleted)."""
        event = self._settled.get(video_id)
        if event is not None:
            event.set()

    async def wait_rendered(self, video_id: str) -> None:
        """Waits until the video is done and its webhooks were called.

        It also returns when the video was deleted or its rendering cancelled at shutdown.
        """
        event = self._settled.get(video_id)
        if event is None:
            raise KeyError(f"no video {video_id!r} was created in this sandbox")
        await event.wait()

    # Media

    def media_add(
        self, *, name: str, description: str, size: int, media_type: str, temp: bool, sha256: str
    ) -> dict[str, Any]:
        self.check_media_quota(size)
        media_id = self.make_id()
        self.media_sha256[media_id] = sha256
        self.media[media_id] = {
            "id": media_id,
            "name": name,
            "description": description,
            "size": size,
            "temp": temp,
            "type": media_type,
        }
        return copy.deepcopy(self.media[media_id])

    def check_media_quota(self, size: int) -> None:
        used = sum(media["size"] for media in self.media.values())
        if used + size > self.media_quota:
            raise faults.MEDIA_STORAGE_FULL.fault(f"{used} of {self.media_quota} bytes used")

    def media_list(self) -> list[dict[str, Any]]:
        return copy.deepcopy(list(self.media.values()))

    def media_delete(self, media_id: str) -> None:
        """Deletes a stored media, unless a template uses it (1008, as the doc's code says).

        A queued video that uses it may lose it: that video's rendering then fails.
        """
        self._media(media_id)
        templates = self._templates_using(media_id)
        if templates:
            raise faults.MEDIA_IN_USE.fault(f"template {templates[0]} uses it")
        self._remove_media(media_id)

    def media_apply_pattern(self, media_id: str, pattern: str, action: str, parameters: str) -> str:
        """`OK`, or (as Pirsonal does) a JSON-encoded error string inside a successful reply."""
        media = self._media(media_id)
        if not _is_json_object(parameters):
            return json.dumps({"error": "parameters must be a JSON-encoded object"})
        if media["type"] not in ("audio", "video"):
            return json.dumps({"error": f"{pattern} needs an audio or video media"})
        return "OK"

    # Lookups

    def _template(self, template_id: str) -> dict[str, Any]:
        template = self.templates.get(template_id)
        if template is None:
            raise faults.TEMPLATE_NOT_FOUND.fault(repr(template_id))
        return template

    def _video(self, video_id: str) -> dict[str, Any]:
        video = self.videos.get(video_id)
        if video is None:
            raise faults.VIDEO_NOT_FOUND.fault(repr(video_id))
        return video

    def _media(self, media_id: str) -> dict[str, Any]:
        media = self.media.get(media_id)
        if media is None:
            raise faults.MEDIA_NOT_FOUND.fault(repr(media_id))
        return media

    def _templates_using(self, media_id: str) -> list[str]:
        return sorted(
            template_id
            for template_id, medias in self.template_media.items()
            if media_id in scripts.media_references(medias)
        )

    def _stored_types(self) -> dict[str, str]:
        return {media_id: media["type"] for media_id, media in self.media.items()}

    def _media_in_use(self) -> set[str]:
        pending = [v for v in self.videos.values() if v["status"]["code"] in PENDING]
        return scripts.media_references(m for v in pending for m in v.get("inputMedias", []))

    def _remove_media(self, media_id: str) -> None:
        del self.media[media_id]
        del self.media_sha256[media_id]

    def _release_temp_media(self, video: Mapping[str, Any]) -> None:
        """Deletes the per-video uploads of a video no longer pending, unless a pending video
        still uses them: Pirsonal frees them once their video is generated (or deleted)."""
        used = scripts.media_references(video.get("inputMedias", []))
        for media_id in used - self._media_in_use():
            if self.media.get(media_id, {}).get("temp") and not self._templates_using(media_id):
                self._remove_media(media_id)


def _check_secret(given: str, expected: str) -> None:
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise faults.BAD_SECRET.fault()


def _check_template(input_scripts: list[str], out_profiles: list[str]) -> None:
    if not input_scripts:
        raise faults.NO_SCRIPTS.fault()
    scripts.script_inputs(input_scripts)
    outputs.check_profiles(out_profiles)


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
