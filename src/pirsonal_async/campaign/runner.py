"""Running a campaign: one video per recipient, exactly once, then optionally waiting for each
render. See `pirsonal_async.campaign` for the whole picture."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from attrs import frozen

from pirsonal_async.campaign.journal import Entry, Journal, State
from pirsonal_async.campaign.rows import Recipient, Recipients, read_recipients
from pirsonal_async.client import PirsonalClient
from pirsonal_async.errors import PirsonalAsyncError, ProtocolError, TransportError
from pirsonal_async.waiting import DEFAULT_WAIT, RenderFailedError, WaitPolicy

__all__ = ["CampaignProgress", "CampaignReport", "RowResult", "run_campaign"]

logger = logging.getLogger("pirsonal_async")

# Rounds of create-then-reconcile for creates whose outcome was unknown; rows still unsure
# after them stay `creating`, to be reconciled by the next run.
ROUNDS = 5
# What a row's state must be for it to count as finished, without and with waiting.
_FINISHED: dict[bool, frozenset[State]] = {
    False: frozenset({"created", "done", "failed"}),
    True: frozenset({"done", "failed"}),
}
_SUCCEEDED: dict[bool, frozenset[State]] = {
    False: frozenset({"created", "done"}),
    True: frozenset({"done"}),
}

T = TypeVar("T")


@frozen
class CampaignProgress:
    """Counts for a progress display; `finished` of `total` rows need nothing more."""

    total: int
    finished: int
    created: int  # rows whose key has its video
    rendered: int
    failed: int
    finished_before: int  # finished by earlier runs, for a rate of this run's work


Progress = Callable[[CampaignProgress], None]


@frozen
class RowResult:
    """One row of the recipients file, as the campaign left it.

    `status` is the journal state (`pending`, `creating`, `created`, `done`, `failed`) or
    `invalid` for a row that was never sent; `error` says why a row is not finished.
    """

    line: int
    key: str | None
    status: str
    video_id: str | None = None
    error: str | None = None
    video_status: str | None = None
    links: list[dict[str, Any]] | None = None

    def to_json(self, *, waited: bool = False) -> dict[str, Any]:
        """The `--out` line; a waited-for campaign's rows also carry `video_status`, `links`."""
        data: dict[str, Any] = {
            "line": self.line,
            "key": self.key,
            "video_id": self.video_id,
            "status": self.status,
            "error": self.error,
        }
        if waited:
            data |= {"video_status": self.video_status, "links": self.links}
        return data


@frozen
class CampaignReport:
    """Every row in file order, and whether the campaign reached its goal."""

    results: tuple[RowResult, ...]
    waited: bool
    created_now: int  # videos created by this run

    @property
    def invalid(self) -> list[RowResult]:
        return [row for row in self.results if row.status == "invalid"]

    @property
    def unfinished(self) -> list[RowResult]:
        """Valid rows without their (rendered, when waited for) video, with the reason."""
        goal = _SUCCEEDED[self.waited]
        return [row for row in self.results if row.status not in goal | {"invalid"}]

    @property
    def ok(self) -> bool:
        """True when every valid row has its video (rendered, when waited for)."""
        return not self.unfinished

    def summary(self) -> str:
        counts = Counter(row.status for row in self.results)
        valid = len(self.results) - counts["invalid"]
        with_video = (
            counts["created"]
            + counts["done"]
            + sum(1 for row in self.results if row.status == "failed" and row.video_id)
        )
        parts = [f"{valid} rows: {with_video} with a video ({self.created_now} created now)"]
        if self.waited:
            parts.append(f"{counts['done']} rendered")
        parts.append(f"{len(self.unfinished)} not finished")
        parts.append(f"{counts['invalid']} invalid")
        return ", ".join(parts)


async def run_campaign(
    client: PirsonalClient,
    template_id: str,
    recipients: str | Path | Recipients,
    journal: str | Path,
    *,
    concurrency: int = 16,
    wait: bool = False,
    wait_timeout: float = 600.0,
    wait_policy: WaitPolicy = DEFAULT_WAIT,
    progress: Progress | None = None,
    durable: bool = False,
) -> CampaignReport:
    """Makes one video of `template_id` per valid recipient, exactly once per key.

    `recipients` is a CSV or JSON Lines file (see `pirsonal_async.campaign.rows`), or rows
    already checked. `journal` is the SQLite file that makes reruns safe: a rerun skips rows
    already done, reconciles creates whose outcome was unknown, and picks up new rows. At
    most `concurrency` requests are in flight. With `wait`, each video is also waited for
    (`wait_for_video`, `wait_timeout` seconds each) and its links collected.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be 1 or more, not {concurrency}")
    if not isinstance(recipients, Recipients):
        recipients = read_recipients(recipients)
    with Journal(journal, template_id, durable=durable) as log:
        run = _Run(client, template_id, log, recipients.rows, concurrency, wait, progress)
        await run.create_all()
        if wait:
            await run.wait_all(wait_timeout, wait_policy)
        results = [_result(row.line, log_entry) for row, log_entry in run.final_entries()]
    invalid = [RowResult(p.line, p.key, "invalid", error=p.reason) for p in recipients.problems]
    ordered = sorted([*results, *invalid], key=lambda row: row.line)
    return CampaignReport(tuple(ordered), waited=wait, created_now=run.created_now)


def _result(line: int, entry: Entry) -> RowResult:
    return RowResult(
        line, entry.key, entry.state, entry.video_id, entry.error, entry.status, entry.links
    )


class _Run:
    """One run of a campaign over its journal; every state change goes through `_set`."""

    def __init__(
        self,
        client: PirsonalClient,
        template_id: str,
        journal: Journal,
        rows: Sequence[Recipient],
        concurrency: int,
        wait: bool,
        progress: Progress | None,
    ) -> None:
        self.client = client
        self.template_id = template_id
        self.journal = journal
        self.rows = rows
        self.concurrency = concurrency
        self.wait = wait
        self.progress = progress
        self.created_now = 0
        journal.add((row.key, row.line) for row in rows)
        entries = journal.entries()
        self.state: dict[str, State] = {row.key: entries[row.key].state for row in rows}
        self.counts = Counter(self.state.values())
        self.with_video = sum(1 for key in self.state if entries[key].video_id)
        self.finished_before = self._finished()
        self.media_ids: dict[str, str] = {}

    def final_entries(self) -> list[tuple[Recipient, Entry]]:
        entries = self.journal.entries()
        return [(row, entries[row.key]) for row in self.rows]

    # Creating

    async def create_all(self) -> None:
        self._report()
        # `creating` rows of any key (also keys since removed from the file) are leftovers
        # of a crash: their outcome is unknown until reconciled.
        leftovers = [e.key for e in self.journal.entries().values() if e.state == "creating"]
        await self._reconcile(leftovers)
        await self._upload_files()
        for _ in range(ROUNDS):
            pending = [row for row in self.rows if self.state[row.key] == "pending"]
            await _each(pending, self._create, self.concurrency)
            unsure = [row.key for row in self.rows if self.state[row.key] == "creating"]
            if not unsure:
                return
            await self._reconcile(unsure)

    async def _create(self, row: Recipient) -> None:
        video = row.to_video(self.media_ids)
        self.journal.creating(row.key)  # committed before the request is sent
        self._set(row.key, "creating")
        try:
            video_id = await self.client.template_video_new(self.template_id, video)
        except (TransportError, ProtocolError) as error:
            if isinstance(error, ProtocolError) or error.outcome_unknown:
                # The create may have run: it stays `creating` and is reconciled.
                logger.info("create for key %r may have run (%s): reconciling", row.key, error)
                self.journal.note(row.key, f"outcome unknown: {error}")
                return
            self._fail(row.key, str(error))
        except PirsonalAsyncError as error:  # refused by the server, or by the contract check
            self._fail(row.key, str(error))
        else:
            self.journal.created(row.key, video_id)
            self.created_now += 1
            self.with_video += 1
            self._set(row.key, "created")

    def _fail(self, key: str, error: str) -> None:
        self.journal.failed(key, error)
        self._set(key, "failed")

    async def _reconcile(self, keys: list[str]) -> None:
        """Settles rows whose create may have run: the template's video whose `data` is the key
        is theirs; with none, the row is pending again. One list call serves them all."""
        if not keys:
            return
        try:
            videos = await self.client.template_video_list(self.template_id)
        except PirsonalAsyncError as error:
            logger.warning("cannot reconcile %d row(s) now: %s", len(keys), error)
            for key in keys:
                self.journal.note(key, f"outcome unknown, not reconciled yet: {error}")
            return
        by_key: dict[str, str] = {}
        for video in videos:
            if video.data is not None and video.id is not None:
                by_key.setdefault(video.data, video.id)
        for key in keys:
            if key in by_key:
                self.journal.created(key, by_key[key])
                if key in self.state:
                    self.with_video += 1
                    self._set(key, "created")
            else:
                self.journal.not_created(key)
                if key in self.state:
                    self._set(key, "pending")

    async def _upload_files(self) -> None:
        """Uploads each distinct file of the pending rows once; a journalled file is reused."""
        pending = [row for row in self.rows if self.state[row.key] == "pending"]
        paths = sorted({path for row in pending for path in row.files})
        for path in paths:
            media_id = self.journal.media_id(path)
            if media_id is not None:
                self.media_ids[path] = media_id
        failures: dict[str, str] = {}

        async def upload(path: str) -> None:
            try:
                media = await self.client.upload_media(path)
            except (PirsonalAsyncError, OSError) as error:  # the next run tries it again
                failures[path] = f"upload of {path} failed: {error}"
            else:
                if media.id is None:
                    failures[path] = f"upload of {path} returned no media ID"
                    return
                self.journal.uploaded(path, media.id)
                self.media_ids[path] = media.id

        await _each([p for p in paths if p not in self.media_ids], upload, self.concurrency)
        for row in pending:
            failed = [failures[path] for path in sorted(row.files) if path in failures]
            if failed:
                self._fail(row.key, failed[0])

    # Waiting

    async def wait_all(self, timeout: float, policy: WaitPolicy) -> None:
        entries = self.journal.entries()
        created = [entries[row.key] for row in self.rows if self.state[row.key] == "created"]

        async def wait(entry: Entry) -> None:
            assert entry.video_id is not None  # created rows have their video
            try:
                video = await self.client.wait_for_video(entry.video_id, timeout, policy=policy)
                links = await self.client.video_get_links(entry.video_id)
            except RenderFailedError as error:
                code = error.video.status.code if error.video.status else "?"
                self.journal.render_failed(entry.key, code, str(error))
                self._set(entry.key, "failed")
            except (TimeoutError, PirsonalAsyncError) as error:
                self.journal.note(entry.key, f"not rendered: {error}")
            else:
                code = video.status.code if video.status else "done"
                self.journal.done(entry.key, code, [link.to_json() for link in links])
                self._set(entry.key, "done")

        await _each(created, wait, self.concurrency)

    # Progress

    def _set(self, key: str, state: State) -> None:
        self.counts[self.state[key]] -= 1
        self.counts[state] += 1
        self.state[key] = state
        self._report()

    def _finished(self) -> int:
        return sum(self.counts[state] for state in _FINISHED[self.wait])

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(
                CampaignProgress(
                    total=len(self.rows),
                    finished=self._finished(),
                    created=self.with_video,
                    rendered=self.counts["done"],
                    failed=self.counts["failed"],
                    finished_before=self.finished_before,
                )
            )


async def _each(items: Iterable[T], work: Callable[[T], Awaitable[None]], limit: int) -> None:
    """Runs `work` on every item, at most `limit` at a time; the first error cancels the rest."""
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await work(item)

    workers = [asyncio.ensure_future(worker()) for _ in range(limit)]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
