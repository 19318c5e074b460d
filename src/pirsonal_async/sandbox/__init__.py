"""A local, stateful, in-memory Pirsonal server for development, demos and tests.

Run it with `python -m pirsonal_async.sandbox [--port 0] [--render-delay 1.0] [--webhook URL]
[--chaos SPEC [--chaos-seed N]]` (it prints `export PIRSONAL_BASE_URL=...`, then the account ID
and secret, as lines a shell can `eval`: `--account-id` and `--account-secret`, else
`$PIRSONAL_ACCOUNT_ID` and `$PIRSONAL_ACCOUNT_SECRET`, else random ones), or in-process:

    async with serve_sandbox(render_delay=0) as sandbox:
        ...  # sandbox.base_url, sandbox.account_id, sandbox.account_secret, sandbox.state
        await sandbox.state.wait_rendered(video_id)

Endpoints: `POST /api` (JSON-RPC, every `SezionAPI` method of the contract plus `barrister-idl`;
params and results are checked against the contract, results strictly), `POST /api/upload`
(raw-body media uploads with the documented header rules), `GET /files/<pirsonalID>` (a small
stand-in body for each rendered file; `Video_Get_Links` points here), and the sandbox-only
`POST`/`GET /sandbox/webhooks` and `GET /sandbox/notifications`.

Authentication is Pirsonal's: `accountID` + `accountSecret` in the query string, or `accountID`
+ `templateID` + `templateSecret` (the template's `secret`), which allows `Template_Video_New`
for that template and per-video uploads (stored with `temp: true`, deleted once the video that
uses them is rendered or deleted). `barrister-idl` needs no credentials.

Rendering (by the one app serving a `SandboxState`, while its lifespan runs; another app's
lifespan refuses to start on it): a new video is `queued`, then `processing`, and after the
render delay `done`, with one `outFiles` entry per template profile, its `duration` and `date`.
Its Video JSON is then POSTed to each webhook with Pirsonal's headers (`Accept: */*`,
`Connection: close`, `User-Agent: Pirsonal`, `Content-Type: application/json`), never through
an environment proxy; anything but HTTP 200 is recorded as a failed delivery
(`state.notifications`, `GET /sandbox/notifications`), with no retry.

Webhooks (Pirsonal's API has methods for them, but its doc does not publish their names, so
the contract and this sandbox's API leave them out): `--webhook URL` or
`serve_sandbox(webhooks=...)` for every template, `state.add_webhook(url, template_id=None)`,
or `POST /sandbox/webhooks` with `{"url": ..., "templateID": ...}` and the account credentials
in the query string. Each URL must
be an absolute http(s) URL that httpx can post to; any other is refused when it is registered.

Limits, as a public server needs: a `/api` or control body over 1,000,000 bytes is refused
unread (-32600, `Connection: close`), a batch of over 100 calls is refused whole (-32600), and a
reply stops at 16,000,000 bytes (-32003 for the call that would pass it and, unrun, the rest).

Chaos mode (`--chaos SPEC --chaos-seed N`, `serve_sandbox(chaos=..., chaos_seed=...)`, or
`create_app(state, chaos=Chaos(...))`) drops requests or replies, answers 503, delays replies
and fails renders (status `{"code": "error"}`) at seeded rates: see `sandbox.chaos`.

Errors (the vendor's codes and messages; a detail may follow the message after a colon):
1000 unknown template · 1001 unknown media (also a `sezionID`/`pirsonalID` in `inputMedias`) ·
1002 an `inputID` the script does not declare · 1003 medias for a script without inputs · 1004
a media of the wrong type, twice for one input, or missing for a script input · 1005 a script
that is not a JSON array of one-key inputs · 1006 `Video_Pirsonal_Link` for a file the video
does not have · 1007 unknown video · 1008 deleting a media a template uses as the fixed media of
an input (`state.template_media_assign`, what Pirsonal's web interface sets; a queued video's
media may be deleted, and that video's rendering then fails) · 1009 a template without scripts
· 1015 missing or unknown account, template secret used for another method or template · 1018
wrong secret · 1019 Content-Length missing, 0, over 50,000,000 or not matching the body · 1020
upload Content-Type not video/*, image/* or audio/* · 1028 new video on an inactive template ·
1029 an input media without exactly one source, text for a non-text input or a media of another
type; an upload filename over 200 or description over 1000 characters, or bad `UTF-8''`
encoding · 1032 no or duplicated output profiles · 2001 media storage quota reached · 2002 an
output profile not shaped like `MP4_H264_AAC_640x480_24fps` · 2004 no video credits left
(`SandboxState.credits`).
JSON-RPC codes are those of `rpc_server`.
"""

from pirsonal_async.sandbox.app import create_app
from pirsonal_async.sandbox.server import Sandbox, serve_asgi, serve_sandbox
from pirsonal_async.sandbox.state import Delivery, SandboxState

__all__ = ["Delivery", "Sandbox", "SandboxState", "create_app", "serve_asgi", "serve_sandbox"]
